"""Scoring one validated form: the one entry point the validator and the intake use.

A questionnaire is scored by its survey policy, a monitoring sheet by the monitoring policy
configured for its customer, a complaint, an 8D and a corrective action by their rules; forms
without a score (shipping lists) have no scorer, so validating them loads no scoring code and
never needs their data dumped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..issues import Code, Issue

if TYPE_CHECKING:
    from ..registry import FormDef
    from ..workspace import Workspace

MONITORING_FORM = "satisfaction-monitoring"

Locate = Callable[[str], tuple[str | None, str | None]]


def _nowhere(_name: str) -> tuple[str | None, str | None]:
    return None, None


Scored = tuple[dict[str, Any] | None, list[Issue]]
"""The scores of one form (None when it has none or scoring refused it) and the issues found."""
Scorer = Callable[["FormDef", Mapping[str, Any], "Workspace", Locate], Scored]


def scorer(form: FormDef) -> Scorer | None:
    """The function that scores ``form``'s validated data; None for a form without scores."""
    if form.questionnaire is not None:
        return _score_survey_form
    return _SCORERS.get(form.id)


def score_form(form: FormDef, data: Mapping[str, Any], workspace: Workspace,
               locate: Locate = _nowhere) -> Scored:
    """Score one form's validated data; returns the scores and any issues scoring found.

    ``locate`` maps a field name to its (sheet, cell) so issues point at the input.
    """
    found = scorer(form)
    return (None, []) if found is None else found(form, data, workspace, locate)


def _score_survey_form(form: FormDef, data: Mapping[str, Any], workspace: Workspace,
                       _locate: Locate) -> Scored:
    from .survey import score_survey

    assert form.questionnaire is not None
    policy = workspace.policies.survey(form)
    answers = {code: data.get(code) for code in form.questionnaire.question_codes}
    return score_survey(answers, form.questionnaire, policy).to_dict(), []


def _score_complaint(_form: FormDef, data: Mapping[str, Any], _workspace: Workspace,
                     _locate: Locate) -> Scored:
    from .complaint import complaint_rules

    return {"kind": "complaint", **complaint_rules(data)}, []


def _score_eight_d(_form: FormDef, data: Mapping[str, Any], _workspace: Workspace,
                   _locate: Locate) -> Scored:
    from .complaint import eight_d_status

    return eight_d_status(data), []


def _score_capa(_form: FormDef, data: Mapping[str, Any], _workspace: Workspace,
                _locate: Locate) -> Scored:
    from .capa import capa_status

    return capa_status(data), []


def _score_monitoring_form(form: FormDef, data: Mapping[str, Any], workspace: Workspace,
                           locate: Locate) -> Scored:
    from .monthly import score_monitoring

    policy = workspace.policies.monitoring(data.get("customer"))
    score = score_monitoring(data, policy)
    issues = []
    for name in score.missing:
        spec = form.field(name)
        sheet, cell = locate(name)
        issues.append(Issue.make(Code.REQUIRED, field=name, sheet=sheet, cell=cell,
                                 label=spec.labels))
    for spec in form.fields:
        if spec.kind not in ("int", "decimal", "percent") or spec.name in policy.inputs:
            continue
        value = data.get(spec.name)
        if value not in (None, 0, "0"):
            sheet, cell = locate(spec.name)
            issues.append(Issue.make(Code.UNUSED_INPUT, field=spec.name, sheet=sheet,
                                     cell=cell, value=value, label=spec.labels,
                                     detail=policy.id))
    if any(i.severity == "error" for i in issues):
        return None, issues
    result = score.to_dict()
    result["customer"] = data.get("customer")
    result["month"] = data.get("month")
    return result, issues


_SCORERS: dict[str, Scorer] = {MONITORING_FORM: _score_monitoring_form,
                               "complaint": _score_complaint, "8d-report": _score_eight_d,
                               "corrective-action": _score_capa}
