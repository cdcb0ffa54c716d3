"""Validate a filled form: safety gate, identity, binding, extraction, model — every issue.

`validate_file` never raises for bad input: whatever is wrong with the file ends up in the
returned `Report` as issues with a code, a location and a message in Chinese and English.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .excel.binding import bind
from .excel.book import Book, BookError, open_book
from .excel.extract import Extraction, Loc, Where, extract
from .fields import FieldSpec
from .identity import Identity, fingerprint, read_identity
from .issues import Code, Issue, Report
from .registry import FormDef
from .safety import Limits, inspect_file
from .scoring import score_form
from .workspace import Workspace

_BOUNDS = {
    "greater_than": (">", "大于"),
    "greater_than_equal": ("≥", "不小于"),
    "less_than": ("<", "小于"),
    "less_than_equal": ("≤", "不大于"),
}
_NUMBER_TYPES = {"int_parsing", "int_from_float", "decimal_parsing", "float_parsing",
                 "int_type", "decimal_type", "float_type"}
WORD_SUFFIXES = (".docx", ".docm")
_DATE_TYPES = {"date_parsing", "date_type", "date_from_datetime_inexact", "datetime_parsing",
               "datetime_type"}


def _spec_at(form: FormDef, loc: Loc) -> FieldSpec | None:
    """The field (or table column) a pydantic location points at."""
    names = [part for part in loc if isinstance(part, str)]
    if not names:
        return None
    try:
        spec = form.field(names[0])
    except KeyError:
        return None
    if len(names) > 1 and spec.kind == "table":
        return next((c for c in spec.columns if c.name == names[1]), spec)
    return spec


def issues_from_validation_error(
    exc: ValidationError, form: FormDef, where: Where,
    skip: Iterable[Loc] = (),
) -> list[Issue]:
    """Turn pydantic's errors into issues located at the field's sheet and cell.

    The one place that maps ``ValidationError.loc`` to field and cell. Errors at locations in
    ``skip`` (values that already failed normalisation) are dropped.
    """
    skipped = set(skip)
    out: list[Issue] = []
    for err in exc.errors():
        loc: Loc = tuple(err["loc"])
        ctx: dict[str, Any] = dict(err.get("ctx") or {})
        if "field" in ctx and ctx["field"] not in loc:
            loc = (*loc, ctx.pop("field"))
        if loc in skipped:
            continue
        kind = err["type"]
        value = err.get("input")
        if isinstance(value, (dict, list)):
            value = None
        if kind in Code.__members__:
            code = Code[kind]
            value = ctx.pop("value", value)
        elif kind == "missing":
            code, value = Code.REQUIRED, None
        elif kind == "too_short" and ctx.get("min_length", 0) >= 1:
            code = Code.NO_LINES
        elif kind == "string_too_long":
            code, ctx = Code.TOO_LONG, {"detail": ctx.get("max_length")}
        elif kind in _BOUNDS:
            sign, words = _BOUNDS[kind]
            bound = next(iter(v for k, v in ctx.items() if k in ("gt", "ge", "lt", "le")), "")
            code, ctx = Code.OUT_OF_RANGE, {"detail": f"{sign} {bound}",
                                            "detail_zh": f"{words} {bound}"}
        elif kind in _NUMBER_TYPES:
            code = Code.NOT_A_NUMBER
        elif kind in _DATE_TYPES:
            code = Code.NOT_A_DATE
        else:
            code, ctx = Code.INVALID_VALUE, {"detail": err.get("msg", kind)}
        spec = _spec_at(form, loc)
        sheet, cell = _where(where, loc)
        field_name = spec.name if spec else None
        out.append(Issue.make(code, field=field_name, sheet=sheet, cell=cell, value=value,
                              label=spec.labels if spec else None, **ctx))
    return out


def _where(where: Where, loc: Loc) -> tuple[str | None, str | None]:
    for length in range(len(loc), -1, -1):
        found = where.get(loc[:length])
        if found:
            return found
    return None, None


def _check_revision(form: FormDef, revision: str, workspace: Workspace,
                    today: date) -> list[Issue]:
    if revision == form.revision:
        return []
    control = workspace.config.control(form.id)
    superseded = control.superseded.get(revision)
    if superseded is None:
        return [Issue.make(Code.UNKNOWN_REVISION, value=revision, form=form.id)]
    until = superseded.on + timedelta(days=superseded.grace_days)
    code = Code.OBSOLETE_REVISION if today > until else Code.SUPERSEDED_REVISION
    detail = superseded.on.isoformat() if code is Code.OBSOLETE_REVISION else until.isoformat()
    return [Issue.make(code, value=revision, form=form.id, current=form.revision,
                       detail=detail)]


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


def identify(identity: Identity | None, workspace: Workspace, report: Report,
             today: date | None = None) -> tuple[FormDef | None, bool]:
    """Check a file's identity (form, revision, fingerprint) into ``report``.

    Returns the form when it is known, and whether its fields should be read: an unknown or
    obsolete revision stops there, an altered template is reported and read anyway. Shared by
    the xlsx and docx readers.
    """
    if identity is None:
        report.add(Issue.make(Code.NO_IDENTITY))
        return None, False
    report.form, report.revision = identity.form, identity.revision
    report.instance_id = identity.instance_id or None
    if identity.form not in workspace.registry:
        report.add(Issue.make(Code.UNKNOWN_FORM, value=identity.form))
        return None, False
    form = workspace.registry.get(identity.form)
    report.add(_check_revision(form, identity.revision, workspace, today or date.today()))
    if report.errors:
        return form, False
    if identity.fingerprint != fingerprint(form, identity.revision):
        report.add(Issue.make(Code.TEMPLATE_ALTERED, value=identity.fingerprint))
    return form, True


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
    report.data = _model_data(form, extraction, report)
    if report.data is not None:
        scores, issues = score_form(form, report.data, workspace,
                                    lambda name: _where(extraction.where, (name,)))
        report.add(issues)
        report.scores = scores if not report.errors else None
        if report.errors:
            report.data = None
    return form


def _model_data(form: FormDef, extraction: Extraction, report: Report) -> dict[str, Any] | None:
    try:
        model = form.model.model_validate(extraction.values)
    except ValidationError as exc:
        report.add(issues_from_validation_error(exc, form, extraction.where, extraction.failed))
        return None
    if report.errors:
        return None
    return model.model_dump(mode="json")


def validate_path(path: Path, workspace: Workspace, report: Report,
                  today: date | None = None) -> FormDef | None:
    """Validate an .xlsx or .docx file into ``report``; returns the form when it is known."""
    if path.suffix.lower() in WORD_SUFFIXES:
        from .word.validate import validate_word

        return validate_word(path, workspace, report, today)
    book, issues = open_workbook(path, workspace.config.limits.reader_limits())
    report.add(issues)
    if book is None:
        return None
    with book, collector_paused():
        try:
            return validate_workbook(book, workspace, report, today)
        except BookError as error:  # a part found broken only when it was needed
            report.add(error.issue)
            report.data = report.scores = None
            return None


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a workbook is read.

    Reading a large sheet allocates hundreds of thousands of small objects and no reference
    cycles; left on, the collector walks them all again and again (a fifth of the time on a
    50,000-line list). It is switched back on afterwards, and anything cyclic is collected
    then.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def validate_file(path: str | os.PathLike[str], workspace: Workspace | None = None,
                  today: date | None = None) -> Report:
    """Validate one filled form file (.xlsx or .docx); never raises for anything wrong with it."""
    workspace = workspace or Workspace()
    path = Path(path)
    report = Report(path=str(path))
    validate_path(path, workspace, report, today)
    return report


def validate_files(paths: Iterable[str | os.PathLike[str]],
                   workspace: Workspace | None = None) -> list[Report]:
    """Validate several files; one report each, in order."""
    workspace = workspace or Workspace()
    return [validate_file(p, workspace) for p in paths]
