"""Validate a filled Word form: safety gate, identity, controls, model — every issue.

Mirrors `qmsforms.validate.validate_workbook` step for step, with the same codes, the same
normalisers and the one pydantic-error mapping (`issues_from_validation_error`); only the
locations differ: ``sheet`` is ``"document"``, ``cell`` a position such as
``"table 3 row 2 column 4"`` and ``field`` the content-control tag (``d3_actions.owner``).
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import replace
from datetime import date
from pathlib import Path

from lxml import etree

from ..checks import conclude, identify, issues_from_validation_error
from ..issues import Code, Issue, Report
from ..registry import FormDef
from ..safety import inspect_file
from ..workspace import Workspace
from .props import read_word_identity
from .read import SHEET, WordExtraction, read_word


def _retag(issues: list[Issue], extraction: WordExtraction) -> list[Issue]:
    """Name the content-control tag as the field of each located issue."""
    out = []
    for issue in issues:
        tag = extraction.tags.get(issue.cell or "")
        out.append(replace(issue, field=tag) if tag and issue.sheet == SHEET else issue)
    return out


def validate_word(path: str | os.PathLike[str], workspace: Workspace, report: Report,
                  today: date | None = None) -> FormDef | None:
    """Fill ``report`` with everything found in a Word form file; returns the form if known.

    Never raises for anything wrong with the file. Sets ``report.form``, ``revision``,
    ``instance_id``, ``data`` (None when invalid) and ``scores``.
    """
    path = Path(path)
    gate = inspect_file(path, expect="docx", limits=workspace.config.limits.reader_limits())
    if gate:
        report.add(gate)
        return None
    identity = read_word_identity(path)
    form, readable = identify(identity, workspace, report, today)
    if form is None or identity is None or not readable:
        return form
    try:
        extraction = read_word(path, form)
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError, ValueError, OSError) as exc:
        report.add(Issue.make(Code.CORRUPT_FILE, value=path.name,
                              detail=f"{type(exc).__name__}: {exc}"[:120]))
        return form
    report.add(extraction.issues)
    if extraction.unbound and not report.has(Code.TEMPLATE_ALTERED):
        report.add(Issue.make(Code.TEMPLATE_ALTERED, value=identity.fingerprint))
    def locate(name: str) -> tuple[str | None, str | None]:
        return extraction.where.get((name,)) or (None, None)

    conclude(form, extraction.values, report, workspace, locate,
             lambda exc: _retag(issues_from_validation_error(
                 exc, form, extraction.where, extraction.failed), extraction),
             lambda issues: _retag(issues, extraction))
    return form


def validate_word_file(path: str | os.PathLike[str], workspace: Workspace | None = None,
                       today: date | None = None) -> Report:
    """Validate one filled Word form file into a fresh `Report`."""
    report = Report(path=str(path))
    validate_word(path, workspace or Workspace(), report, today)
    return report
