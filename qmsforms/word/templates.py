"""``templates check`` of a Word template (.docx).

A Word template passes when it carries the identity of a known form at its current revision
with the fingerprint of that revision (`qmsforms.control.template_form`), binds every field
to a content control (or the bookmark of one) exactly once, and every section's page is A4.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import docx
from docx.opc.exceptions import PackageNotFoundError
from lxml import etree

from ..control import template_form
from ..issues import Code, Issue, Report
from ..workspace import Workspace
from .layout import PAGE_HEIGHT, PAGE_WIDTH
from .props import read_word_identity
from .read import read_word

_TOLERANCE = 60
"""Twips (about 1 mm) a page may differ from A4 and still be A4."""
_BINDING = ("FIELD_NOT_BOUND", "FIELD_AMBIGUOUS")


def _page_issues(document: docx.document.Document) -> list[Issue]:
    issues = []
    for index, section in enumerate(document.sections, start=1):
        width, height = section.page_width, section.page_height
        if width is None or height is None:
            continue
        size = sorted((width.twips, height.twips))
        if abs(size[0] - PAGE_WIDTH) > _TOLERANCE or abs(size[1] - PAGE_HEIGHT) > _TOLERANCE:
            issues.append(Issue.make(
                Code.PAGE_SETUP, sheet=f"section {index}",
                detail=f"the page is {width.mm:.0f} × {height.mm:.0f} mm, not A4",
                detail_zh=f"纸张为 {width.mm:.0f} × {height.mm:.0f} mm,不是 A4"))
    return issues


def check_word_template(path: str | os.PathLike[str], workspace: Workspace) -> Report:
    """Does a (possibly restyled) Word template still identify itself, bind every field and
    print on A4?"""
    report = Report(path=str(path))
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError,
            etree.XMLSyntaxError) as exc:
        report.add(Issue.make(Code.UNREADABLE, detail=f"{Path(path).name}: {exc}"))
        return report
    form = template_form(read_word_identity(document), workspace, report)
    if form is None:
        return report
    report.add([i for i in read_word(Path(path), form).issues if i.code in _BINDING])
    report.add(_page_issues(document))
    return report
