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
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..customers import canonical_records
from ..forms.complaint import CATEGORIES
from ..intake.ledger import RecordRow, open_ledger
from ..issues import UsageError
from ..scoring.policy import PolicySet
from ..scoring.rounding import rounded
from .common import months_of
from .complaints import build_complaints
from .delivery import SHIPPING_FORM, delivery_performance
from .review_policy import ReviewPolicy, load_review_policy
from .review_rows import (
    UNASSIGNED,
    ActionSection,
    ComplaintSection,
    CustomerPpm,
    CustomerTrend,
    Kpi,
    MonthCompare,
    Pareto,
    decimal_of,
    month_of,
    percent,
    ppm_of,
)
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
HALVES = {"H1": range(1, 7), "H2": range(7, 13)}
FREIGHT_FIELD = "excess_freight_amount"
"""The data field (元, with the record's ``month``) excess freight is read from."""


# -- the data ----------------------------------------------------------------------------------

def period_months(year: int, half: str | None = None) -> tuple[str, ...]:
    """``YYYY-MM`` of the year, or of its half ``H1`` / ``H2``."""
    if half is None:
        return months_of(year)
    if half not in HALVES:
        raise UsageError(f"half must be H1 or H2, not {half!r}",
                         f"半年应为 H1 或 H2,而不是 {half!r}")
    return tuple(f"{year}-{m:02d}" for m in HALVES[half])


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
        month = month_of(r.data.get("ship_date"))
        if r.form != SHIPPING_FORM or month not in period or not r.data.get("customer"):
            continue
        for line in r.data.get("lines") or ():
            qty = decimal_of(line.get("quantity")) if isinstance(line, Mapping) else None
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
    otd_month = {m: percent(sum(d.on_time for d in deliveries if d.month == m),
                         sum(d.deliveries for d in deliveries if d.month == m))
                 for m in months}
    otd = percent(sum(d.on_time for d in deliveries), sum(d.deliveries for d in deliveries))

    # complaints: the tickets as the complaint report reads them
    reports = eight_d_reports(rows)
    tickets = [(t, r) for r in rows if r.form == COMPLAINT_FORM
               if (t := ticket(r, reports)) is not None]
    in_period = [(t, r) for t, r in tickets if t.month in period]
    complained: dict[tuple[str, str], int] = defaultdict(int)
    for t, r in in_period:
        qty = decimal_of(r.data.get("qty_complained"))
        complained[t.customer, t.month] += int(qty) if qty is not None else 0
    shipped = _shipped(rows, months)
    ppm_month = {m: ppm_of(sum(n for (_, mm), n in complained.items() if mm == m),
                         sum(n for (_, mm), n in shipped.items() if mm == m))
                 for m in months}
    ppm = ppm_of(sum(complained.values()), sum(shipped.values()))
    customers = sorted({c for c, _ in complained} | {c for c, _ in shipped})
    per_customer = [CustomerPpm(c, sum(n for (cc, _), n in complained.items() if cc == c),
                                sum(n for (cc, _), n in shipped.items() if cc == c))
                    for c in customers]
    per_customer.sort(key=lambda p: (p.ppm is None, -(p.ppm or 0), p.customer))

    report = build_complaints(rows, year, as_of=min(today, date(year, 12, 31)))
    sla_lines = [s for s in report.sla_months if s.label in period]
    sla_month = {s.label: percent(s.met, s.decided) for s in sla_lines}
    sla = percent(sum(s.met for s in sla_lines), sum(s.decided for s in sla_lines))

    freight: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        amount = decimal_of(r.data.get(FREIGHT_FIELD))
        month = month_of(r.data.get("month"))
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


def actions_for_report(workspace: Workspace, site: str | None = None) -> list[dict[str, Any]]:
    """The corrective actions of the workspace (of one ``site``, or of all) as
    ``ActionView.to_dict()`` dicts (the action register, `qmsforms.actions.action_views`, as
    of today)."""
    from ..actions import action_views

    with open_ledger(workspace, site=site) as ledger:
        return [v.to_dict() for v in action_views(workspace, ledger)]


def review_pack(workspace: Workspace, year: int, half: str | None = None, *,
                actions: Sequence[Mapping[str, Any]] | None = None,
                today: date | None = None, site: str | None = None) -> ReviewPack:
    """The review pack from the workspace's ledger, targets and survey campaign (the records
    and actions of one ``site``, or of all; the survey campaign is the company's).

    ``actions`` default to the workspace's (`actions_for_report`).
    """
    from ..campaign import campaign_status
    from ..campaign.plan import CampaignError

    policy = load_review_policy(workspace)
    with open_ledger(workspace, site=site) as ledger:
        rows = canonical_records(ledger.records(), workspace)  # one row per master customer
    try:
        campaign: CampaignStatus | None = campaign_status(workspace, year)
    except CampaignError as exc:
        log.info("no survey campaign for %s: %s", year, exc)
        campaign = None
    if actions is None:
        actions = actions_for_report(workspace, site)
    return build_review(rows, year, half, policies=workspace.policies, policy=policy,
                        campaign=campaign, actions=actions, today=today)
