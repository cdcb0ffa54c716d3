"""Checks both wings share: identity and revision rules, the form model and the scores.

The Excel validator (`qmsforms.excel.validate`) and the Word validator
(`qmsforms.word.validate`) run the same identity check, map the form model's errors to
located issues in the same one function and finish a file the same way (`conclude`), so a
file reports the same codes whatever its format.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from .customers.records import match_report
from .definitions import DefinitionBroken, definition_issue
from .extraction import Loc, Where
from .identity import Identity, fingerprint
from .issues import Code, Issue, Report
from .scoring.form import Locate, scorer

if TYPE_CHECKING:
    from .fields import FieldSpec
    from .registry import FormDef
    from .workspace import Workspace

_BOUNDS = {
    "greater_than": (">", "大于"),
    "greater_than_equal": ("≥", "不小于"),
    "less_than": ("<", "小于"),
    "less_than_equal": ("≤", "不大于"),
}
_NUMBER_TYPES = {"int_parsing", "int_from_float", "decimal_parsing", "float_parsing",
                 "int_type", "decimal_type", "float_type"}
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
        sheet, cell = where.locate(loc)
        field_name = spec.name if spec else None
        out.append(Issue.make(code, field=field_name, sheet=sheet, cell=cell, value=value,
                              label=spec.labels if spec else None, **ctx))
    return out


def check_revision(form: FormDef, revision: str, workspace: Workspace,
                   today: date) -> list[Issue]:
    """The issue a file's revision raises (unknown, superseded, obsolete); none if current."""
    if revision == form.revision:
        return []
    # a release in the revision history supersedes the revision before it; the
    # configuration's [forms.<id>.superseded] adds to it or overrides it
    superseded = {**workspace.history.superseded(form.id),
                  **workspace.config.control(form.id).superseded}.get(revision)
    if superseded is None:
        return [Issue.make(Code.UNKNOWN_REVISION, value=revision, form=form.id)]
    until = superseded.on + timedelta(days=superseded.grace_days)
    code = Code.OBSOLETE_REVISION if today > until else Code.SUPERSEDED_REVISION
    detail = superseded.on.isoformat() if code is Code.OBSOLETE_REVISION else until.isoformat()
    return [Issue.make(code, value=revision, form=form.id, current=form.revision,
                       detail=detail)]


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
    if identity.form in workspace.registry.broken:
        report.add(definition_issue(identity.form, workspace.registry.broken[identity.form]))
        return None, False
    if identity.form not in workspace.registry:
        report.add(Issue.make(Code.UNKNOWN_FORM, value=identity.form))
        return None, False
    form = workspace.registry.get(identity.form)
    report.add(check_revision(form, identity.revision, workspace, today or date.today()))
    if report.errors:
        return form, False
    if identity.fingerprint != fingerprint(form, identity.revision):
        report.add(Issue.make(Code.TEMPLATE_ALTERED, value=identity.fingerprint))
    return form, True


def conclude(form: FormDef, values: dict[str, Any], report: Report, workspace: Workspace,
             locate: Locate, model_issues: Callable[[ValidationError], list[Issue]],
             retag: Callable[[list[Issue]], list[Issue]] = list) -> None:
    """Validate the extracted ``values`` with the form's model, then score them.

    Sets ``report.data`` (dumped only when read) and ``report.scores`` when nothing is wrong;
    a form with a customer is matched to the customer master (`qmsforms.customers`);
    ``model_issues`` locates the model's errors, ``retag`` names the fields of the issues
    scoring finds the way the wing names them.
    """
    try:
        model = form.model.model_validate(values)
    except ValidationError as exc:
        report.add(model_issues(exc))
        return
    if report.errors:
        return
    report.set_model(model)
    match_report(form, report, workspace, locate, retag)
    score = scorer(form)
    if score is None:
        return
    try:
        scores, issues = score(form, report.data or {}, workspace, locate)
    except DefinitionBroken as broken:  # its scoring policy: only this form stops
        scores, issues = None, [definition_issue(form.id, broken.problems)]
    report.add(retag(issues))
    if report.errors:
        report.data = None
    else:
        report.scores = scores
