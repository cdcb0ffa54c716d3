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
from typing import Any

from lxml import etree
from pydantic import ValidationError

from ..checks import identify, issues_from_validation_error
from ..issues import Code, Issue, Report
from ..registry import FormDef
from ..safety import inspect_file
from ..scoring import score_form
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


def _model_data(form: FormDef, extraction: WordExtraction,
                report: Report) -> dict[str, Any] | None:
    try:
        model = form.model.model_validate(extraction.values)
    except ValidationError as exc:
        found = issues_from_validation_error(exc, form, extraction.where, extraction.failed)
        report.add(_retag(found, extraction))
        return None
    if report.errors:
        return None
    return model.model_dump(mode="json")


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
    report.data = _model_data(form, extraction, report)
    if report.data is not None:
        def locate(name: str) -> tuple[str | None, str | None]:
            return extraction.where.get((name,)) or (None, None)

        scores, issues = score_form(form, report.data, workspace, locate)
        report.add(_retag(issues, extraction))
        report.scores = scores if not report.errors else None
        if report.errors:
            report.data = None
    return form


def validate_word_file(path: str | os.PathLike[str], workspace: Workspace | None = None,
                       today: date | None = None) -> Report:
    """Validate one filled Word form file into a fresh `Report`."""
    report = Report(path=str(path))
    validate_word(path, workspace or Workspace(), report, today)
    return report
