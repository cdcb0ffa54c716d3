"""Validate a returned workbook: safety gate, identity, binding, extraction, model, scores.

The Excel half of `qmsforms.validate`; the Word half is `qmsforms.word.validate`. Both run the
shared checks of `qmsforms.checks`, so a file reports the same codes whatever its format.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from ..checks import conclude, identify, issues_from_validation_error
from ..issues import Code, Issue, Report
from ..safety import Limits, inspect_file
from .binding import bind
from .book import Book, open_book
from .extract import extract
from .identity import read_identity

if TYPE_CHECKING:
    from ..registry import FormDef
    from ..workspace import Workspace

WORD_SUFFIXES = (".docx", ".docm")
"""Suffixes of the files read as Word forms."""


def open_workbook(path: Path, limits: Limits | None = None) -> tuple[Book | None, list[Issue]]:
    """Run the safety gate, then open the file for reading (formulas seen, never evaluated)."""
    limits = limits or Limits()
    word = path.suffix.lower() in WORD_SUFFIXES
    inflated: dict[str, bytes] = {}
    issues = inspect_file(path, expect="docx" if word else "xlsx", limits=limits,
                          inflated=inflated)
    if issues:
        return None, issues
    if word:
        return None, [Issue.make(Code.UNREADABLE, value=path.name,
                                 detail="a Word form is read by qmsforms.word")]
    return open_book(path, limits, inflated)


def validate_workbook(book: Book, workspace: Workspace, report: Report,
                      today: date | None = None) -> FormDef | None:
    """Fill ``report`` with everything found in an opened workbook; returns the form if known."""
    identity = read_identity(book)
    form, readable = identify(identity, workspace, report, today)
    if form is None or identity is None or not readable:
        return form
    binding, bind_issues = bind(book, form)
    report.add(bind_issues)
    if any(i.severity == "error" for i in bind_issues) and not report.has(
            Code.TEMPLATE_ALTERED):
        report.add(Issue.make(Code.TEMPLATE_ALTERED, value=identity.fingerprint))
    extraction = extract(book, form, binding)
    book.release()  # the values are in the extraction; the cell grid can go before pydantic
    report.add(extraction.issues)
    conclude(form, extraction.values, report, workspace,
             lambda name: extraction.where.locate((name,)),
             lambda exc: issues_from_validation_error(exc, form, extraction.where,
                                                      extraction.failed))
    return form
