"""Scores computed from validated form data, by policies kept as data (SPEC §4).

`score_form` (in `form`) is the one entry point the validator and the intake use; `year`
sums a year of scored records. Each name here is imported on first use, so a form without
scores loads no scoring code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_names

_NAMES = {
    **dict.fromkeys(("Alert", "AnnualScore", "MonthlyResult", "SurveyResult", "annual_alerts",
                     "annual_score", "annual_scores", "company_monthly", "monthly_alerts"),
                    "annual"),
    **dict.fromkeys(("complaint_rules", "eight_d_status"), "complaint"),
    **dict.fromkeys(("MONITORING_FORM", "score_form", "scorer"), "form"),
    **dict.fromkeys(("MonitoringScore", "score_monitoring"), "monthly"),
    **dict.fromkeys(("MonitoringPolicy", "PolicyError", "PolicyRef", "PolicySet",
                     "SurveyPolicy", "parse_policy"), "policy"),
    **dict.fromkeys(("SurveyScore", "score_survey"), "survey"),
    **dict.fromkeys(("YearSummary", "split_results", "year_summary"), "year"),
}

__all__ = [
    "MONITORING_FORM",
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
    "complaint_rules",
    "eight_d_status",
    "monthly_alerts",
    "parse_policy",
    "score_form",
    "score_monitoring",
    "score_survey",
    "scorer",
    "split_results",
    "year_summary",
]

if TYPE_CHECKING:
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
    from .form import MONITORING_FORM, score_form, scorer
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
    from .year import YearSummary, split_results, year_summary


__getattr__, __dir__ = lazy_names(__name__, _NAMES)
