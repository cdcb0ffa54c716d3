"""顾客满意度汇总表 — the year's customer satisfaction, from the ledger, as data.

`build_satisfaction` turns the latest records of a year into a `SatisfactionReport` (what
``qmsforms report satisfaction --json`` prints): each customer's monthly totals and annual
score by its own policy with its completeness, the company's monthly figure, every alert with
the department and action it requires, the survey item averages (weakest first) and the
on-time delivery the shipping lists show. `qmsforms.reports.satisfaction_xlsx` renders it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..customers import MASTER_KEY, canonical_records
from ..intake.ledger import RecordRow, open_ledger
from ..scoring import Alert, AnnualScore, PolicySet, split_results, year_summary
from ..scoring.policy import Band
from ..scoring.rounding import as_float, rounded
from .common import months_of
from .delivery import DeliveryMonth, delivery_performance

if TYPE_CHECKING:
    from ..workspace import Workspace

REPORT_ID = "satisfaction-report"
"""The id under which ``qmsforms.toml`` may give the report a document number."""
TITLE_ZH = "顾客满意度汇总表"
TITLE_EN = "Customer Satisfaction Summary"
SURVEY_FORM = "satisfaction-survey"


@dataclass(frozen=True)
class CustomerYear:
    """One customer's row: the monthly totals of the year and the annual score by its policy."""

    annual: AnnualScore
    monthly: Mapping[str, Decimal]
    survey_weight: Decimal
    code: str | None = None
    """The customer master's code (its name when it has none); None when it is unknown."""

    @property
    def customer(self) -> str:
        """The customer as the customer master names it (as returned when it is unknown)."""
        return self.annual.customer

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the annual score plus ``monthly`` (month -> total)."""
        return {**self.annual.to_dict(), "code": self.code,
                "survey_weight": float(self.survey_weight),
                "monthly": {m: float(v) for m, v in sorted(self.monthly.items())}}


@dataclass(frozen=True)
class ItemAverage:
    """One survey question averaged over the year's returned surveys."""

    questionnaire: str
    code: str
    zh: str
    en: str
    weight: float
    answers: int
    mean_pct: Decimal
    low_answers: int
    flag_below_pct: Decimal

    @property
    def flagged(self) -> bool:
        """The average is below the follow-up threshold (单项分数 ≥ 80 分)."""
        return self.mean_pct < self.flag_below_pct

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"questionnaire": self.questionnaire, "code": self.code, "zh": self.zh,
                "en": self.en, "weight": self.weight, "answers": self.answers,
                "mean_pct": float(self.mean_pct), "low_answers": self.low_answers,
                "flagged": self.flagged}


@dataclass(frozen=True)
class SurveyLine:
    """One returned survey counted toward the year."""

    customer: str
    period: str
    score: Decimal
    band_zh: str
    band_en: str
    csat_pct: float | None
    record_id: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"customer": self.customer, "period": self.period, "score": float(self.score),
                "band_zh": self.band_zh, "band_en": self.band_en, "csat_pct": self.csat_pct,
                "record_id": self.record_id}


@dataclass(frozen=True)
class SatisfactionReport:
    """Everything the satisfaction report shows, as data."""

    year: int
    as_of: date
    customers: tuple[CustomerYear, ...]
    company: Mapping[str, Decimal]
    alerts: tuple[Alert, ...]
    items: tuple[ItemAverage, ...]
    surveys: tuple[SurveyLine, ...]
    delivery: tuple[DeliveryMonth, ...]
    bands: tuple[Band, ...]
    monthly_target: Decimal
    annual_target: Decimal
    policies: tuple[str, ...] = field(default_factory=tuple)

    @property
    def months(self) -> tuple[str, ...]:
        """The twelve months of the year."""
        return months_of(self.year)

    @property
    def company_mean(self) -> Decimal | None:
        """The mean of the company's monthly figures (months with any evaluation)."""
        values = list(self.company.values())
        return rounded(sum(values, Decimal(0)) / len(values), 1) if values else None

    @property
    def below_target(self) -> tuple[CustomerYear, ...]:
        """Customers whose annual score is below target: for the management review."""
        return tuple(c for c in self.customers if c.annual.below_target)

    def band_counts(self) -> list[tuple[Band, int]]:
        """How many customers fall in each band of their annual score."""
        counts = {b.key: 0 for b in self.bands}
        for c in self.customers:
            counts[c.annual.band.key] = counts.get(c.annual.band.key, 0) + 1
        return [(b, counts[b.key]) for b in self.bands]

    def key_figures(self) -> dict[str, Any]:
        """The summary's numbers (also printed by ``--json`` as ``summary``)."""
        scores = [c.annual.score for c in self.customers]
        kinds = Counter(a.kind for a in self.alerts)
        weakest = self.items[0] if self.items else None
        delivered = sum(d.deliveries for d in self.delivery)
        on_time = sum(d.on_time for d in self.delivery)
        survey_scores = [s.score for s in self.surveys]
        return {
            "customers": len(self.customers),
            "complete": sum(c.annual.complete for c in self.customers),
            "incomplete": sum(not c.annual.complete for c in self.customers),
            "company_mean": as_float(self.company_mean),
            "annual_mean": as_float(rounded(sum(scores, Decimal(0)) / len(scores), 1))
            if scores else None,
            "below_target": [c.customer for c in self.below_target],
            "surveys": len(self.surveys),
            "survey_mean": as_float(rounded(sum(survey_scores, Decimal(0))
                                            / len(survey_scores), 1))
            if survey_scores else None,
            "alerts": len(self.alerts),
            "alerts_by_kind": dict(sorted(kinds.items())),
            "weakest_item": None if weakest is None else {
                "code": weakest.code, "zh": weakest.zh, "en": weakest.en,
                "mean_pct": float(weakest.mean_pct)},
            "deliveries": delivered,
            "on_time_rate": as_float(rounded(Decimal(100) * on_time / delivered, 1))
            if delivered else None,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: what ``qmsforms report satisfaction --json`` prints."""
        return {
            "year": self.year, "as_of": self.as_of.isoformat(),
            "monthly_target": float(self.monthly_target),
            "annual_target": float(self.annual_target),
            "policies": list(self.policies),
            "summary": self.key_figures(),
            "bands": [{"key": b.key, "zh": b.zh, "en": b.en, "min": float(b.min),
                       "customers": n} for b, n in self.band_counts()],
            "customers": [c.to_dict() for c in self.customers],
            "company_monthly": {m: float(v) for m, v in self.company.items()},
            "company_mean": as_float(self.company_mean),
            "alerts": [a.to_dict() for a in self.alerts],
            "survey_items": [i.to_dict() for i in self.items],
            "surveys": [s.to_dict() for s in self.surveys],
            "delivery": [d.to_dict() for d in self.delivery],
        }


def _survey_records(records: Iterable[RecordRow], year: int) -> list[RecordRow]:
    """Returned surveys that count toward ``year``: scored, with a customer and the period."""
    return [r for r in records
            if r.scores and r.scores.get("kind") == "survey" and r.scores.get("score") is not None
            and r.data.get("customer") and str(r.data.get("period") or "")[:4] == str(year)]


def _survey_line(r: RecordRow) -> SurveyLine:
    """A counted survey (`_survey_records`) as a line of the report."""
    scores = r.scores or {}
    band = scores.get("band") or {}
    return SurveyLine(str(r.data["customer"]), str(r.data["period"]),
                      Decimal(str(scores["score"])), band.get("zh", ""), band.get("en", ""),
                      scores.get("csat_pct"), r.record_id)


def _item_averages(surveys: Sequence[RecordRow], flag_below_pct: Decimal) -> list[ItemAverage]:
    answers: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in surveys:
        scores = r.scores or {}
        for item in scores["items"]:
            if item.get("pct") is not None:
                answers[scores["questionnaire"], item["code"]].append(item)
    out = []
    for (questionnaire, code), items in answers.items():
        mean = sum((Decimal(str(i["pct"])) for i in items), Decimal(0)) / len(items)
        first = items[0]
        out.append(ItemAverage(questionnaire, code, first["zh"], first["en"],
                               float(first["weight"]), len(items), rounded(mean, 1),
                               sum(bool(i.get("complaint")) for i in items), flag_below_pct))
    return sorted(out, key=lambda i: (i.mean_pct, -i.weight, i.code))


def build_satisfaction(records: Iterable[RecordRow], year: int, policies: PolicySet, *,
                       flag_below_pct: Decimal = Decimal(80),
                       as_of: date | None = None) -> SatisfactionReport:
    """The satisfaction report of ``year`` from records (pass the latest revision of each)."""
    rows = list(records)
    monthly, surveys = split_results((r.form, r.data, r.scores) for r in rows)
    summary = year_summary(monthly, surveys, year, policies)
    totals: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for m in monthly:
        if m.month.startswith(f"{year}-"):
            totals[m.customer][m.month] = m.total
    codes = {str(r.data["customer"]): str(r.data[MASTER_KEY]) for r in rows
             if r.data.get("customer") and r.data.get(MASTER_KEY)}
    customers = tuple(
        CustomerYear(a, dict(sorted(totals.get(a.customer, {}).items())),
                     policies.monitoring(a.customer).annual.survey_weight,
                     codes.get(a.customer))
        for a in summary.annual)
    counted = _survey_records(rows, year)
    lines = tuple(sorted((_survey_line(r) for r in counted),
                         key=lambda s: (s.customer, s.period)))
    default = policies.monitoring()
    used = sorted({f"{c.annual.policy.id} v{c.annual.policy.version}" for c in customers})
    return SatisfactionReport(
        year=year, as_of=as_of or date.today(), customers=customers,
        company=dict(summary.company), alerts=summary.alerts,
        items=tuple(_item_averages(counted, flag_below_pct)), surveys=lines,
        delivery=tuple(delivery_performance(rows, year)), bands=default.bands,
        monthly_target=default.alerts.monthly_target,
        annual_target=default.alerts.annual_target, policies=tuple(used))


def satisfaction_report(workspace: Workspace, year: int, as_of: date | None = None, *,
                        site: str | None = None) -> SatisfactionReport:
    """The satisfaction report of ``year`` from the workspace's ledger (of one ``site``, or
    of all)."""
    with open_ledger(workspace, site=site) as ledger:
        rows = canonical_records(ledger.records(), workspace)  # one row per master customer
    flag = Decimal(80)
    if SURVEY_FORM in workspace.registry:
        flag = workspace.policies.survey(workspace.registry.get(SURVEY_FORM)).flag_below_pct
    return build_satisfaction(rows, year, workspace.policies, flag_below_pct=flag, as_of=as_of)
