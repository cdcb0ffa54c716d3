"""Controlled workbook templates: issue blanks from them, check restyled ones.

A workspace's ``templates/`` holds one template per form and language (``<form>.xlsx`` is the
bilingual one, ``<form>.zh.xlsx`` and ``<form>.en.xlsx`` the single-language ones;
`qmsforms.blanks.build_templates` writes the defaults). A quality engineer may restyle them in
Excel; `check_template` tells whether one still binds every field. `issue_workbook` copies a
template with a fresh instance id and optional pre-filled values (`qmsforms.blanks.issue_blank`
records and saves it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from openpyxl.workbook.workbook import Workbook

from ..control import control_block, control_config, stale_template, template_form
from ..identity import Identity, identity_for
from ..issues import Report
from ..registry import FormDef
from ..workspace import Workspace
from .binding import bind
from .blank import build_blank
from .book import Book
from .control import stamp_control
from .fill import fill_workbook
from .history_sheet import drop_history_sheet
from .identity import read_identity, write_identity
from .page_check import page_issues
from .validate import open_workbook
from .workbook import load_quietly


def issue_workbook(workspace: Workspace, form: FormDef, lang: str,
                   values: Mapping[str, Any]) -> tuple[Workbook, Identity]:
    """A blank workbook of ``form`` with a fresh instance id and ``values`` filled in, and its
    identity; `qmsforms.blanks.issue_blank` records and saves it.

    The workspace template is used when there is one, its control block stamped with what the
    configuration says now (`qmsforms.control`); otherwise the blank is built from the form
    definition. A template of another revision than the current one is refused: a new
    revision is released with ``qmsforms templates release``.
    """
    template = workspace.template_path(form.id, lang)
    if template is None:
        wb = build_blank(form, control_config(workspace, form), lang)
    else:
        wb = load_quietly(template)
        stale_template(read_identity(wb), form, template)
        stamp_control(wb, control_block(workspace, form), lang)
        drop_history_sheet(wb)
    identity = (read_identity(wb) or identity_for(form, lang)).issued()
    write_identity(wb, identity)
    if values:
        fill_workbook(wb, form, dict(values), lang)
    return wb, identity


def check_template(path: str | os.PathLike[str], workspace: Workspace) -> Report:
    """Does a (possibly restyled) template still identify itself as the current revision,
    bind every field and print as a controlled form (`qmsforms.excel.page_check`)?"""
    report = Report(path=str(path))
    book, issues = open_workbook(Path(path))
    report.add(issues)
    if book is None:
        return report
    with book:
        form = _check_book(book, workspace, report)
        print_areas = book.print_areas
    if form is not None:
        report.add(page_issues(load_quietly(path), form, print_areas))
    return report


def _check_book(book: Book, workspace: Workspace, report: Report) -> FormDef | None:
    form = template_form(read_identity(book), workspace, report)
    if form is not None:
        report.add(bind(book, form, table_part=True)[1])
    return form
