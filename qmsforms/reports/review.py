"""管理评审输入 — the management-review pack of a year or half-year, as data.

`build_review` turns the latest records (and the corrective actions, as
``ActionView.to_dict()`` dicts) into a `ReviewPack` (what ``qmsforms report review --json``
prints): the KPI scorecard against the targets of policy ``review-000`` [seed 004], each
customer's annual satisfaction beside the previous year's, the complaints (Pareto by category
and by responsible department, PPM per customer, this month against last month as seed 004's
售后问题汇总分析表) and the actions raised in the period by source and department.
`qmsforms.reports.review_xlsx` renders it.

The figures come from the other reports' builders, so the pack never disagrees with them: the
on-time rate from `delivery_performance`, complaints by category and the filing-time lines
from `build_complaints`, the company's monthly satisfaction and the annual scores from
`build_satisfaction`, the return rate from `campaign_status`.

Rules of the pack's own figures:

- the period is the year, or its first (``H1``, January–June) or second half (``H2``);
- complaint PPM = Σ ``qty_complained`` of the complaints received in the period ÷ Σ line
  quantities of the shipping lists shipped (``ship_date``) in the period × 10⁶, customers
  grouped under their master name;
- "this month" is the last month of the period in which a complaint was received (the
  period's last month when none was), "last month" the month before it;
- excess freight: no form records it in 元 yet; a record carrying ``excess_freight_amount``
  (元, with its ``month``) is counted, otherwise the KPI is "not recorded" (null);
- an action counts in the period when its ``raised_on`` falls in it; ``open`` counts
  ``open`` and ``in_progress``.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..config import package_defaults
from ..customers import canonical_records
from ..definitions import problems_of, read_toml
from ..forms.complaint import CATEGORIES
from ..intake.ledger import RecordRow, open_ledger
from ..issues import UsageError
from ..scoring.policy import PolicyBroken, PolicySet
from ..scoring.rounding import as_float, rounded
from .common import months_of
from .complaints import build_complaints
from .delivery import SHIPPING_FORM, delivery_performance
from .satisfaction import SatisfactionReport, build_satisfaction
from .tickets import COMPLAINT_FORM, eight_d_reports, ticket

if TYPE_CHECKING:
    from ..campaign import CampaignStatus
    from ..workspace import Workspace

log = logging.getLogger(__name__)

REPORT_ID = "review-report"
"""The id under which ``qmsforms.toml`` may give the pack a document number."""
TITLE_ZH = "管理评审输入报告"
TITLE_EN = "Management Review Pack"
POLICY_ID = "review-000"
KPI_KEYS = ("on_time_delivery", "complaint_ppm", "excess_freight", "complaint_sla",
            "satisfaction", "survey_return_rate")
"""The scorecard's KPIs, in the order it shows them."""
HALVES = {"H1": range(1, 7), "H2": range(7, 13)}
FREIGHT_FIELD = "excess_freight_amount"
"""The data field (元, with the record's ``month``) excess freight is read from."""
UNASSIGNED = ("unassigned", "未指定", "Unassigned")
STATUSES = ("raised", "open", "overdue", "closed", "verified")
"""The action counts, per source and per department."""


# -- the policy --------------------------------------------------------------------------------

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KpiTarget(_Strict):
    """One KPI's labels and target."""

    zh: str
    en: str
    unit: str
    target: Decimal
    comparison: Literal["min", "max"]
    """``min``: met at or above the target; ``max``: met at or below it."""

    def met(self, value: Decimal | None) -> bool | None:
        """Whether ``value`` meets the target (None without a value)."""
        if value is None:
            return None
        return value >= self.target if self.comparison == "min" else value <= self.target


class ReviewPolicy(_Strict):
    """The targets of the management-review scorecard (``schemas/policies/review-000.toml``)."""

    id: str
    version: str
    kind: Literal["review"]
    title_zh: str = ""
    title_en: str = ""
    source: str = ""
    kpis: dict[str, KpiTarget] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _every_kpi(self) -> ReviewPolicy:
        missing = [k for k in KPI_KEYS if k not in self.kpis]
        unknown = [k for k in self.kpis if k not in KPI_KEYS]
        if missing or unknown:
            raise ValueError(f"kpis must be exactly {', '.join(KPI_KEYS)}"
                             + (f"; missing {', '.join(missing)}" if missing else "")
                             + (f"; unknown {', '.join(unknown)}" if unknown else ""))
        return self


def review_policy_path(workspace: Workspace | None = None) -> Path:
    """The policy file in use: the workspace's ``schemas/policies/review-000.toml`` when it
    has one (it replaces the shipped file as a whole), else the shipped one."""
    if workspace is not None:
        own = workspace.schemas_dir / "policies" / f"{POLICY_ID}.toml"
        if own.is_file():
            return own
    return package_defaults() / "schemas" / "policies" / f"{POLICY_ID}.toml"


def load_review_policy(workspace: Workspace | None = None,
                       path: Path | None = None) -> ReviewPolicy:
    """Read the review targets strictly; a broken file raises `PolicyBroken` naming its
    file, line and key in Chinese and English."""
    path = path or review_policy_path(workspace)
    found = read_toml("policy", path)
    if isinstance(found, list):
        raise PolicyBroken(POLICY_ID, found)
    raw, text = found
    try:
        return ReviewPolicy.model_validate(raw)
    except ValidationError as exc:
        raise PolicyBroken(POLICY_ID, problems_of("policy", POLICY_ID, path, exc, text)) from exc


# -- the data ----------------------------------------------------------------------------------

def period_months(year: int, half: str | None = None) -> tuple[str, ...]:
    """``YYYY-MM`` of the year, or of its half ``H1`` / ``H2``."""
    if half is None:
        return months_of(year)
    if half not in HALVES:
        raise UsageError(f"half must be H1 or H2, not {half!r}",
                         f"半年应为 H1 或 H2,而不是 {half!r}")
    return tuple(f"{year}-{m:02d}" for m in HALVES[half])


def _pct(part: int, whole: int) -> Decimal | None:
    return rounded(Decimal(100) * part / whole, 1) if whole else None


def _ppm(complained: int, delivered: int) -> Decimal | None:
    return rounded(Decimal(complained) * 1_000_000 / delivered, 1) if delivered else None


def _number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _month_of(value: Any) -> str | None:
    text = str(value or "")
    return text[:7] if len(text) >= 7 and text[4] == "-" else None


@dataclass(frozen=True)
class Kpi:
    """One line of the scorecard: the KPI, its target, the period's value and each month's."""

    key: str
    zh: str
    en: str
    unit: str
    target: Decimal
    comparison: str
    value: Decimal | None
    met: bool | None
    by_month: Mapping[str, Decimal | None]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"key": self.key, "zh": self.zh, "en": self.en, "unit": self.unit,
                "target": as_float(self.target), "comparison": self.comparison,
                "value": as_float(self.value), "met": self.met,
                "by_month": {m: as_float(v) for m, v in self.by_month.items()}}


@dataclass(frozen=True)
class CustomerTrend:
    """One master customer's annual satisfaction against the previous year's."""

    customer: str
    score: Decimal | None
    previous: Decimal | None
    below_target: bool

    @property
    def change(self) -> Decimal | None:
        """This year's score minus the previous year's (None when either is missing)."""
        if self.score is None or self.previous is None:
            return None
        return self.score - self.previous

    @property
    def trend(self) -> str | None:
        """``up``, ``down``, ``same`` or None."""
        change = self.change
        if change is None:
            return None
        return "up" if change > 0 else "down" if change < 0 else "same"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"customer": self.customer, "score": as_float(self.score),
                "previous": as_float(self.previous), "change": as_float(self.change),
                "trend": self.trend, "below_target": self.below_target}


@dataclass(frozen=True)
class Pareto:
    """One row of a Pareto table."""

    key: str
    zh: str
    en: str
    count: int
    share: Decimal
    cumulative: Decimal

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"key": self.key, "zh": self.zh, "en": self.en, "count": self.count,
                "share": float(self.share), "cumulative": float(self.cumulative)}


@dataclass(frozen=True)
class CustomerPpm:
    """Quantity complained against quantity delivered of one master customer."""

    customer: str
    complained: int
    delivered: int

    @property
    def ppm(self) -> Decimal | None:
        """Complained ÷ delivered × 10⁶ (None when nothing was delivered)."""
        return _ppm(self.complained, self.delivered)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"customer": self.customer, "complained": self.complained,
                "delivered": self.delivered, "ppm": as_float(self.ppm)}


@dataclass(frozen=True)
class MonthCompare:
    """One category: complaints this month against last month."""

    key: str
    zh: str
    en: str
    this: int
    last: int

    @property
    def change(self) -> int:
        """This month minus last month."""
        return self.this - self.last

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"key": self.key, "zh": self.zh, "en": self.en, "this": self.this,
                "last": self.last, "change": self.change}


@dataclass(frozen=True)
class ComplaintSection:
    """The complaints of the period."""

    by_category: tuple[Pareto, ...]
    by_cause: tuple[Pareto, ...]
    ppm: tuple[CustomerPpm, ...]
    this_month: str
    last_month: str
    month_compare: tuple[MonthCompare, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"by_category": [p.to_dict() for p in self.by_category],
                "by_cause": [p.to_dict() for p in self.by_cause],
                "ppm": [p.to_dict() for p in self.ppm], "this_month": self.this_month,
                "last_month": self.last_month,
                "month_compare": [m.to_dict() for m in self.month_compare]}


@dataclass(frozen=True)
class ActionCounts:
    """Actions raised in the period: raised, open (or in progress), overdue, closed, verified."""

    raised: int = 0
    open: int = 0
    overdue: int = 0
    closed: int = 0
    verified: int = 0

    @classmethod
    def of(cls, actions: Sequence[Mapping[str, Any]]) -> ActionCounts:
        """The counts of ``actions`` (``ActionView.to_dict()`` dicts)."""
        status = Counter(str(a.get("status")) for a in actions)
        return cls(raised=len(actions), open=status["open"] + status["in_progress"],
                   overdue=sum(bool(a.get("overdue")) for a in actions),
                   closed=status["closed"], verified=status["verified"])

    def to_dict(self) -> dict[str, int]:
        """JSON-ready."""
        return {"raised": self.raised, "open": self.open, "overdue": self.overdue,
                "closed": self.closed, "verified": self.verified}


@dataclass(frozen=True)
class ActionSection:
    """The actions raised in the period, in all and by source and department."""

    total: ActionCounts
    by_source: Mapping[str, ActionCounts]
    by_department: Mapping[str, ActionCounts]

    @classmethod
    def of(cls, actions: Iterable[Mapping[str, Any]], months: Sequence[str]) -> ActionSection:
        """Count the actions whose ``raised_on`` falls in ``months``."""
        period = set(months)
        chosen = [a for a in actions if str(a.get("raised_on") or "")[:7] in period]
        sources: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        departments: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for a in chosen:
            sources[str(a.get("source") or "other")].append(a)
            departments[str(a.get("department_zh") or UNASSIGNED[1])].append(a)
        return cls(ActionCounts.of(chosen),
                   {k: ActionCounts.of(v) for k, v in sorted(sources.items())},
                   {k: ActionCounts.of(v) for k, v in sorted(departments.items())})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the totals at the top level, then ``by_source``, ``by_department``."""
        return {**self.total.to_dict(),
                "by_source": {k: v.to_dict() for k, v in self.by_source.items()},
                "by_department": {k: v.to_dict() for k, v in self.by_department.items()}}


@dataclass(frozen=True)
class ReviewPack:
    """Everything the management-review pack shows, as data."""

    year: int
    half: str | None
    months: tuple[str, ...]
    as_of: date
    kpis: tuple[Kpi, ...]
    satisfaction: tuple[CustomerTrend, ...]
    complaints: ComplaintSection
    actions: ActionSection
    policy: str

    @property
    def previous_year(self) -> int:
        """The year the satisfaction is compared with."""
        return self.year - 1

    @property
    def period(self) -> str:
        """``2026`` or ``2026-H1``."""
        return f"{self.year}-{self.half}" if self.half else str(self.year)

    def kpi(self, key: str) -> Kpi:
        """The scorecard line of ``key``."""
        return next(k for k in self.kpis if k.key == key)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: what ``qmsforms report review --json`` prints."""
        return {"year": self.year, "half": self.half, "months": list(self.months),
                "previous_year": self.previous_year, "as_of": self.as_of.isoformat(),
                "policy": self.policy, "kpis": [k.to_dict() for k in self.kpis],
                "satisfaction": [c.to_dict() for c in self.satisfaction],
                "complaints": self.complaints.to_dict(), "actions": self.actions.to_dict(),
                "signoff": {"prepared_by": None, "reviewed_by": None, "approved_by": None}}


def _kpi(policy: ReviewPolicy, key: str, value: Decimal | None,
         by_month: Mapping[str, Decimal | None]) -> Kpi:
    t = policy.kpis[key]
    return Kpi(key, t.zh, t.en, t.unit, t.target, t.comparison, value, t.met(value),
               dict(by_month))


def _shipped(records: Sequence[RecordRow], months: Sequence[str]
             ) -> dict[tuple[str, str], int]:
    """(customer, month) -> quantity shipped, from the lines of shipping lists."""
    period = set(months)
    out: dict[tuple[str, str], int] = defaultdict(int)
    for r in records:
        month = _month_of(r.data.get("ship_date"))
        if r.form != SHIPPING_FORM or month not in period or not r.data.get("customer"):
            continue
        for line in r.data.get("lines") or ():
            qty = _number(line.get("quantity")) if isinstance(line, Mapping) else None
            if qty is not None:
                out[str(r.data["customer"]), str(month)] += int(qty)
    return out


def _pareto(counts: Mapping[str, int], labels: Mapping[str, tuple[str, str]],
            order: Sequence[str]) -> tuple[Pareto, ...]:
    """Rows most frequent first (ties in ``order``), with share and cumulative %."""
    total = sum(counts.values())
    rows, running = [], 0
    ranked = sorted((k for k, n in counts.items() if n),
                    key=lambda k: (-counts[k], order.index(k) if k in order else len(order), k))
    for key in ranked:
        running += counts[key]
        zh, en = labels.get(key, (key, key))
        rows.append(Pareto(key, zh, en, counts[key], rounded(Decimal(100) * counts[key] / total, 1),
                           rounded(Decimal(100) * running / total, 1)))
    return tuple(rows)


def _previous_month(month: str) -> str:
    year, m = int(month[:4]), int(month[5:7])
    return f"{year - 1}-12" if m == 1 else f"{year}-{m - 1:02d}"


def _satisfaction(now: SatisfactionReport, before: SatisfactionReport
                  ) -> tuple[CustomerTrend, ...]:
    previous = {c.customer: c.annual.score for c in before.customers}
    rows = [CustomerTrend(c.customer, c.annual.score, previous.get(c.customer),
                          c.annual.below_target) for c in now.customers]
    seen = {c.customer for c in now.customers}
    rows += [CustomerTrend(c.customer, None, c.annual.score, False) for c in before.customers
             if c.customer not in seen]
    return tuple(sorted(rows, key=lambda c: c.customer))


def build_review(records: Iterable[RecordRow], year: int, half: str | None = None, *,
                 policies: PolicySet, policy: ReviewPolicy,
                 campaign: CampaignStatus | None = None,
                 actions: Sequence[Mapping[str, Any]] | None = None,
                 today: date | None = None) -> ReviewPack:
    """The review pack of ``year`` (or its ``half``) from the latest records, customers named
    by the master (`canonical_records`); ``campaign`` gives the survey return rate,
    ``actions`` the corrective actions (``ActionView.to_dict()`` dicts; None: no actions)."""
    months = period_months(year, half)
    period = set(months)
    rows = list(records)
    today = today or date.today()

    # on-time delivery, by the planned month (as the delivery report counts it)
    deliveries = [d for d in delivery_performance(rows, year) if d.month in period]
    otd_month = {m: _pct(sum(d.on_time for d in deliveries if d.month == m),
                         sum(d.deliveries for d in deliveries if d.month == m))
                 for m in months}
    otd = _pct(sum(d.on_time for d in deliveries), sum(d.deliveries for d in deliveries))

    # complaints: the tickets as the complaint report reads them
    reports = eight_d_reports(rows)
    tickets = [(t, r) for r in rows if r.form == COMPLAINT_FORM
               if (t := ticket(r, reports)) is not None]
    in_period = [(t, r) for t, r in tickets if t.month in period]
    complained: dict[tuple[str, str], int] = defaultdict(int)
    for t, r in in_period:
        qty = _number(r.data.get("qty_complained"))
        complained[t.customer, t.month] += int(qty) if qty is not None else 0
    shipped = _shipped(rows, months)
    ppm_month = {m: _ppm(sum(n for (_, mm), n in complained.items() if mm == m),
                         sum(n for (_, mm), n in shipped.items() if mm == m))
                 for m in months}
    ppm = _ppm(sum(complained.values()), sum(shipped.values()))
    customers = sorted({c for c, _ in complained} | {c for c, _ in shipped})
    per_customer = [CustomerPpm(c, sum(n for (cc, _), n in complained.items() if cc == c),
                                sum(n for (cc, _), n in shipped.items() if cc == c))
                    for c in customers]
    per_customer.sort(key=lambda p: (p.ppm is None, -(p.ppm or 0), p.customer))

    report = build_complaints(rows, year, as_of=min(today, date(year, 12, 31)))
    sla_lines = [s for s in report.sla_months if s.label in period]
    sla_month = {s.label: _pct(s.met, s.decided) for s in sla_lines}
    sla = _pct(sum(s.met for s in sla_lines), sum(s.decided for s in sla_lines))

    freight: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        amount = _number(r.data.get(FREIGHT_FIELD))
        month = _month_of(r.data.get("month"))
        if amount is not None and month in period:
            freight[str(month)] += amount
    freight_value = rounded(sum(freight.values(), Decimal(0)) / len(freight), 1) \
        if freight else None

    now = build_satisfaction(rows, year, policies, as_of=today)
    before = build_satisfaction(rows, year - 1, policies, as_of=today)
    company = {m: now.company.get(m) for m in months}
    known = [v for v in company.values() if v is not None]
    satisfaction = rounded(sum(known, Decimal(0)) / len(known), 1) if known else None

    return_rate = campaign.rate if campaign is not None else None
    kpis = (
        _kpi(policy, "on_time_delivery", otd, otd_month),
        _kpi(policy, "complaint_ppm", ppm, ppm_month),
        _kpi(policy, "excess_freight", freight_value, {m: freight.get(m) for m in months}),
        _kpi(policy, "complaint_sla", sla, sla_month),
        _kpi(policy, "satisfaction", satisfaction, company),
        _kpi(policy, "survey_return_rate", return_rate, {m: None for m in months}),
    )

    order = [*CATEGORIES, *sorted({t.key for t in report.trend} - set(CATEGORIES))]
    index = {m: i for i, m in enumerate(report.months)}
    by_category = {t.key: sum(t.counts[index[m]] for m in months) for t in report.trend}
    causes = Counter(str(r.data.get("responsible_dept") or "").strip() or UNASSIGNED[0]
                     for _, r in in_period)
    cause_labels = {k: (k, k) for k in causes}
    cause_labels[UNASSIGNED[0]] = UNASSIGNED[1:]
    with_records = [m for m in months if any(t.month == m for t, _ in tickets)]
    this_month = with_records[-1] if with_records else months[-1]
    last_month = _previous_month(this_month)
    compare = tuple(
        MonthCompare(t.key, t.zh, t.en, t.counts[index[this_month]],
                     t.counts[index[this_month]] - t.changes[index[this_month]])
        for t in report.trend)
    complaints = ComplaintSection(
        by_category=_pareto(by_category, CATEGORIES, order),
        by_cause=_pareto(causes, cause_labels,
                         [*sorted(set(causes) - {UNASSIGNED[0]}), UNASSIGNED[0]]),
        ppm=tuple(per_customer), this_month=this_month, last_month=last_month,
        month_compare=compare)

    return ReviewPack(
        year=year, half=half, months=months, as_of=today, kpis=kpis,
        satisfaction=_satisfaction(now, before), complaints=complaints,
        actions=ActionSection.of(actions or (), months),
        policy=f"{policy.id} v{policy.version}")


def actions_for_report(workspace: Workspace) -> list[dict[str, Any]]:
    """The corrective actions of the workspace as ``ActionView.to_dict()`` dicts.

    The action register (`qmsforms.actions.action_views`) is built separately; until it is
    wired in here this returns no actions, so the review pack shows empty action counts and
    ``qmsforms report actions`` an empty register.
    """
    del workspace
    return []


def review_pack(workspace: Workspace, year: int, half: str | None = None, *,
                actions: Sequence[Mapping[str, Any]] | None = None,
                today: date | None = None) -> ReviewPack:
    """The review pack from the workspace's ledger, targets and survey campaign.

    ``actions`` default to the workspace's (`actions_for_report`).
    """
    from ..campaign import campaign_status
    from ..campaign.plan import CampaignError

    policy = load_review_policy(workspace)
    with open_ledger(workspace) as ledger:
        rows = canonical_records(ledger.records(), workspace)  # one row per master customer
    try:
        campaign: CampaignStatus | None = campaign_status(workspace, year)
    except CampaignError as exc:
        log.info("no survey campaign for %s: %s", year, exc)
        campaign = None
    if actions is None:
        actions = actions_for_report(workspace)
    return build_review(rows, year, half, policies=workspace.policies, policy=policy,
                        campaign=campaign, actions=actions, today=today)
