"""A customer's year, the company's months, and the alerts that need an action.

monitoring-000 [seed 000 §7.2]: annual = mean of the monthly totals; when the customer also
returned a survey that year, annual = 0.5 × monthly mean + 0.5 × survey score.
automotive-qdo [seed 002 5.9.1]: annual = 0.2 × survey average + 0.8 × monthly mean.
Both are one formula with the policy's ``survey_weight``. A year with fewer months than the
policy expects is marked incomplete; a customer with surveys but no monthly sheets is scored on
the survey alone and marked so.

Alerts [seed 000 §7.1 说明, seed 002 5.7.5]: a category losing points in N consecutive
calendar months, a month below target, a year below target.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from .monthly import MonitoringScore
from .policy import Band, MonitoringPolicy, PolicyRef
from .rounding import as_float, rounded, to_decimal

PolicyFor = Callable[[str], MonitoringPolicy]


@dataclass(frozen=True)
class MonthlyResult:
    """One customer's scored month, as kept in the ledger: what annual figures are built from."""

    customer: str
    month: str
    total: Decimal
    lost: Mapping[str, Decimal] = field(default_factory=dict)

    @classmethod
    def from_score(cls, customer: str, month: str, score: MonitoringScore) -> MonthlyResult:
        """From a fresh `MonitoringScore`."""
        return cls(customer, month, score.total, {c.key: c.lost for c in score.categories})

    @classmethod
    def from_dict(cls, customer: str, month: str, scores: Mapping[str, Any]) -> MonthlyResult:
        """From the ``scores`` stored in a record (`MonitoringScore.to_dict`)."""
        lost = {c["key"]: to_decimal(c["lost"]) or Decimal(0) for c in scores["categories"]}
        return cls(customer, month, to_decimal(scores["total"]) or Decimal(0), lost)


@dataclass(frozen=True)
class SurveyResult:
    """One returned survey's score for a customer and a period (``2026``, ``2026-H2`` ...)."""

    customer: str
    period: str
    score: Decimal


@dataclass(frozen=True)
class AnnualScore:
    """A customer's satisfaction for one year by its policy."""

    customer: str
    year: int
    policy: PolicyRef
    months: tuple[str, ...]
    months_expected: int
    monthly_mean: Decimal | None
    survey_score: Decimal | None
    surveys: int
    score: Decimal
    band: Band
    target: Decimal
    basis: Literal["monthly", "monthly+survey", "survey"]

    @property
    def complete(self) -> bool:
        """Whether every expected month was evaluated."""
        return len(self.months) >= self.months_expected

    @property
    def missing_months(self) -> tuple[str, ...]:
        """The months of the year with no monitoring sheet."""
        have = set(self.months)
        return tuple(m for m in _months_of(self.year) if m not in have)

    @property
    def below_target(self) -> bool:
        """A year below target goes to the management review."""
        return self.score < self.target

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "customer": self.customer, "year": self.year, "policy": self.policy.to_dict(),
            "score": float(self.score),
            "band": {"key": self.band.key, "zh": self.band.zh, "en": self.band.en},
            "basis": self.basis, "complete": self.complete,
            "months_evaluated": len(self.months), "months_expected": self.months_expected,
            "missing_months": list(self.missing_months),
            "monthly_mean": as_float(self.monthly_mean),
            "survey_score": as_float(self.survey_score), "surveys": self.surveys,
            "target": float(self.target), "below_target": self.below_target,
        }


AlertKind = Literal["consecutive_deduction", "month_below_target", "year_below_target"]


@dataclass(frozen=True)
class Alert:
    """Something that needs an improvement action by the responsible department."""

    kind: AlertKind
    customer: str
    months: tuple[str, ...]
    value: Decimal | None = None
    target: Decimal | None = None
    category: str | None = None
    category_zh: str = ""
    category_en: str = ""
    responsible_zh: str = ""
    responsible_en: str = ""

    @property
    def message_zh(self) -> str:
        """What happened and what to do, in Chinese."""
        span = _span(self.months)
        if self.kind == "consecutive_deduction":
            return (f"{self.customer}:{self.category_zh}连续 {len(self.months)} 个月扣分"
                    f"({span}),由{self.responsible_zh or '责任部门'}分析原因并拿出改进措施。")
        if self.kind == "month_below_target":
            return (f"{self.customer}:{span} 月度得分 {self.value} 低于目标 {self.target},"
                    "营业部分析主要扣分点并书面通知责任部门采取临时及长期措施。")
        return (f"{self.customer}:{span} 年度满意度 {self.value} 低于目标 {self.target},"
                "应在管理评审中提出改善措施。")

    @property
    def message_en(self) -> str:
        """What happened and what to do, in English."""
        span = _span(self.months)
        if self.kind == "consecutive_deduction":
            return (f"{self.customer}: {self.category_en} lost points {len(self.months)} months "
                    f"running ({span}); {self.responsible_en or 'the responsible department'} "
                    "analyses the cause and takes improvement action.")
        if self.kind == "month_below_target":
            return (f"{self.customer}: {span} monthly score {self.value} is below the target "
                    f"{self.target}; sales analyses the main deductions and notifies the "
                    "responsible department in writing.")
        return (f"{self.customer}: the {span} annual satisfaction {self.value} is below the "
                f"target {self.target}; raise improvement actions in the management review.")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "kind": self.kind, "customer": self.customer, "months": list(self.months),
            "category": self.category, "category_zh": self.category_zh,
            "category_en": self.category_en, "responsible_zh": self.responsible_zh,
            "responsible_en": self.responsible_en, "value": as_float(self.value),
            "target": as_float(self.target), "message_zh": self.message_zh,
            "message_en": self.message_en,
        }


def _months_of(year: int) -> tuple[str, ...]:
    return tuple(f"{year}-{m:02d}" for m in range(1, 13))


def _span(months: tuple[str, ...]) -> str:
    if not months:
        return ""
    return months[0] if len(months) == 1 else f"{months[0]} – {months[-1]}"


def _next_month(month: str) -> str:
    year, m = int(month[:4]), int(month[5:7])
    return f"{year + m // 12}-{m % 12 + 1:02d}"


def _runs(months: list[str]) -> list[tuple[str, ...]]:
    """Split sorted ``YYYY-MM`` months into runs of consecutive calendar months."""
    runs: list[list[str]] = []
    for month in months:
        if runs and _next_month(runs[-1][-1]) == month:
            runs[-1].append(month)
        else:
            runs.append([month])
    return [tuple(r) for r in runs]


def _mean(values: Iterable[Decimal]) -> Decimal | None:
    items = list(values)
    return sum(items, Decimal(0)) / len(items) if items else None


def _latest_per_month(results: Iterable[MonthlyResult]) -> dict[str, dict[str, MonthlyResult]]:
    """customer -> month -> result; a later result for the same month replaces the earlier."""
    out: dict[str, dict[str, MonthlyResult]] = defaultdict(dict)
    for r in results:
        out[r.customer][r.month] = r
    return out


def annual_score(customer: str, year: int, months: Mapping[str, Decimal],
                 surveys: Iterable[Decimal], policy: MonitoringPolicy) -> AnnualScore | None:
    """One customer's year: ``months`` maps ``YYYY-MM`` -> monthly total (only that year's)."""
    totals = {m: v for m, v in months.items() if m.startswith(f"{year}-")}
    survey_list = list(surveys)
    monthly_mean = _mean(totals.values())
    survey = _mean(survey_list)
    weight = policy.annual.survey_weight
    if monthly_mean is None and survey is None:
        return None
    basis: Literal["monthly", "monthly+survey", "survey"]
    if monthly_mean is None:
        assert survey is not None
        value, basis = survey, "survey"
    elif survey is None or weight == 0:
        value, basis = monthly_mean, "monthly"
    else:
        value, basis = (1 - weight) * monthly_mean + weight * survey, "monthly+survey"
    score = rounded(value, policy.decimals)
    return AnnualScore(
        customer=customer, year=year, policy=policy.ref, months=tuple(sorted(totals)),
        months_expected=policy.annual.months,
        monthly_mean=None if monthly_mean is None else rounded(monthly_mean, policy.decimals),
        survey_score=None if survey is None else rounded(survey, policy.decimals),
        surveys=len(survey_list), score=score, band=policy.band(score),
        target=policy.alerts.annual_target, basis=basis,
    )


def annual_scores(monthly: Iterable[MonthlyResult], surveys: Iterable[SurveyResult], year: int,
                  policy_for: PolicyFor) -> list[AnnualScore]:
    """Every customer's year (customers with a monthly sheet or a survey that year)."""
    by_customer = _latest_per_month(monthly)
    survey_scores: dict[str, list[Decimal]] = defaultdict(list)
    for s in surveys:
        if s.period[:4] == str(year):
            survey_scores[s.customer].append(s.score)
    out = []
    for customer in sorted(set(by_customer) | set(survey_scores)):
        months = {m: r.total for m, r in by_customer.get(customer, {}).items()}
        result = annual_score(customer, year, months, survey_scores.get(customer, ()),
                              policy_for(customer))
        if result is not None:
            out.append(result)
    return out


def company_monthly(monthly: Iterable[MonthlyResult], year: int,
                    decimals: int = 1) -> dict[str, Decimal]:
    """The company figure per month: the mean over the customers evaluated that month."""
    per_month: dict[str, list[Decimal]] = defaultdict(list)
    for months in _latest_per_month(monthly).values():
        for month, result in months.items():
            if month.startswith(f"{year}-"):
                per_month[month].append(result.total)
    return {m: rounded(_mean(v) or Decimal(0), decimals) for m, v in sorted(per_month.items())}


def monthly_alerts(monthly: Iterable[MonthlyResult], policy_for: PolicyFor) -> list[Alert]:
    """Categories losing points N calendar months running, and months below target.

    A run longer than N is reported once, naming all its months.
    """
    alerts: list[Alert] = []
    for customer, months in sorted(_latest_per_month(monthly).items()):
        policy = policy_for(customer)
        rules = policy.alerts
        for month in sorted(months):
            total = months[month].total
            if total < rules.monthly_target:
                alerts.append(Alert("month_below_target", customer, (month,), total,
                                    rules.monthly_target))
        for key in rules.categories:
            cat = policy.category(key)
            hits = [m for m in sorted(months) if months[m].lost.get(key, Decimal(0)) > 0]
            for run in _runs(hits):
                if len(run) >= rules.consecutive_months:
                    alerts.append(Alert(
                        "consecutive_deduction", customer, run, category=key,
                        category_zh=cat.zh, category_en=cat.en,
                        responsible_zh=cat.responsible_zh, responsible_en=cat.responsible_en))
    return alerts


def annual_alerts(scores: Iterable[AnnualScore]) -> list[Alert]:
    """Years below target, for the management review."""
    return [Alert("year_below_target", s.customer, (str(s.year),), s.score, s.target)
            for s in scores if s.below_target]
