"""Scores computed from validated form data, by policies kept as data (SPEC §4).

`score_form` is the one entry point the validator and the intake use: a questionnaire is scored
by its survey policy, a monitoring sheet by the monitoring policy configured for its customer.
Forms without a score (shipping lists) give ``None``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..issues import Code, Issue
from .annual import (
    Alert,
    AnnualScore,
    MonthlyResult,
    SurveyResult,
    annual_alerts,
    annual_score,
    annual_scores,
    company_monthly,
    monthly_alerts,
)
from .complaint import complaint_rules, eight_d_status
from .monthly import MonitoringScore, score_monitoring
from .policy import (
    MonitoringPolicy,
    PolicyError,
    PolicyRef,
    PolicySet,
    SurveyPolicy,
    parse_policy,
)
from .survey import SurveyScore, score_survey

if TYPE_CHECKING:
    from ..registry import FormDef
    from ..workspace import Workspace

__all__ = [
    "Alert",
    "AnnualScore",
    "MonitoringPolicy",
    "MonitoringScore",
    "MonthlyResult",
    "PolicyError",
    "PolicyRef",
    "PolicySet",
    "SurveyPolicy",
    "SurveyResult",
    "SurveyScore",
    "YearSummary",
    "annual_alerts",
    "annual_score",
    "annual_scores",
    "company_monthly",
    "monthly_alerts",
    "parse_policy",
    "score_form",
    "score_monitoring",
    "score_survey",
    "split_results",
    "year_summary",
]

MONITORING_FORM = "satisfaction-monitoring"

Locate = Callable[[str], tuple[str | None, str | None]]


def _nowhere(_name: str) -> tuple[str | None, str | None]:
    return None, None


def score_form(form: FormDef, data: Mapping[str, Any], workspace: Workspace,
               locate: Locate = _nowhere) -> tuple[dict[str, Any] | None, list[Issue]]:
    """Score one form's validated data; returns the scores and any issues scoring found.

    ``locate`` maps a field name to its (sheet, cell) so issues point at the input.
    """
    if form.questionnaire is not None:
        policy = workspace.policies.survey(form)
        answers = {code: data.get(code) for code in form.questionnaire.question_codes}
        return score_survey(answers, form.questionnaire, policy).to_dict(), []
    if form.id == MONITORING_FORM:
        return _score_monitoring_form(form, data, workspace, locate)
    if form.id == "complaint":
        return {"kind": "complaint", **complaint_rules(data)}, []
    if form.id == "8d-report":
        return eight_d_status(data), []
    return None, []


def _score_monitoring_form(form: FormDef, data: Mapping[str, Any], workspace: Workspace,
                           locate: Locate) -> tuple[dict[str, Any] | None, list[Issue]]:
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


def split_results(records: Iterable[tuple[str, Mapping[str, Any], Mapping[str, Any] | None]],
                  ) -> tuple[list[MonthlyResult], list[SurveyResult]]:
    """Monthly and survey results from scored records given as (form id, data, scores).

    Surveys count toward a customer's year when they carry a ``customer`` and a ``period``
    (the satisfaction survey does; a per-service evaluation does not).
    """
    monthly: list[MonthlyResult] = []
    surveys: list[SurveyResult] = []
    for _form, data, scores in records:
        if not scores:
            continue
        if scores.get("kind") == "monitoring" and data.get("customer") and data.get("month"):
            monthly.append(MonthlyResult.from_dict(data["customer"], data["month"], scores))
        elif (scores.get("kind") == "survey" and scores.get("score") is not None
              and data.get("customer") and data.get("period")):
            surveys.append(SurveyResult(data["customer"], str(data["period"]),
                                        Decimal(str(scores["score"]))))
    return monthly, surveys


@dataclass(frozen=True)
class YearSummary:
    """A year at a glance: every customer's annual score, the company months, the alerts."""

    year: int
    annual: tuple[AnnualScore, ...]
    company: Mapping[str, Decimal]
    alerts: tuple[Alert, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "year": self.year,
            "annual": [a.to_dict() for a in self.annual],
            "company_monthly": {m: float(v) for m, v in self.company.items()},
            "alerts": [a.to_dict() for a in self.alerts],
        }


def year_summary(monthly: Iterable[MonthlyResult], surveys: Iterable[SurveyResult], year: int,
                 policies: PolicySet) -> YearSummary:
    """Annual scores, the company's monthly figure and every alert of ``year``."""
    in_year = [m for m in monthly if m.month.startswith(f"{year}-")]
    annual = annual_scores(in_year, surveys, year, policies.monitoring)
    decimals = policies.monitoring().decimals
    alerts = monthly_alerts(in_year, policies.monitoring) + annual_alerts(annual)
    return YearSummary(year, tuple(annual), company_monthly(in_year, year, decimals),
                       tuple(alerts))
