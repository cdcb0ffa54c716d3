"""A year of scored records at a glance: annual scores, the company months, the alerts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .annual import (
    Alert,
    AnnualScore,
    MonthlyResult,
    SurveyResult,
    annual_alerts,
    annual_scores,
    company_monthly,
    monthly_alerts,
)
from .policy import PolicySet


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
