"""客户投诉汇总分析表 — complaints by category and month, causes, filing time and open 8Ds.

`build_complaints` turns complaint (and 8D) records into a `ComplaintReport` for a year or one
month of it (what ``qmsforms report complaints --json`` prints): the comparison of seed 004's
售后问题汇总分析表 (this period against the previous one, per cause, with example cases), the
category × month counts with their month-over-month change, the Pareto of causes, the
filing-time (SLA) compliance, open 8Ds by age, the customers with the most complaints and every
ticket of the period (each record read by `qmsforms.reports.tickets`).
`qmsforms.reports.complaints_xlsx` renders it.

Rules:

- a complaint belongs to the month it was received (``received_at``); its cause is its
  category;
- SLA [seed 000 §5.3]: the ticket filed within 2 h of receipt, 1 h when urgent — taken from
  the record's scores when the intake computed them, else from `complaint_rules`;
- an 8D is due for a quality-related complaint; it is **closed** when an 8D report for the
  ticket is closed (D1–D8 done), or — no 8D report on file — when the ticket itself carries a
  closed date; otherwise it is open (``in_progress`` with the disciplines done so far, or
  ``missing`` when no 8D report came back). Age of an open 8D = days from receipt to ``as_of``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..customers import canonical_records
from ..forms.complaint import CATEGORIES
from ..intake.ledger import RecordRow, open_ledger
from ..scoring.rounding import as_float, rounded
from .common import months_of
from .tickets import COMPLAINT_FORM, EIGHT_D_FORM, Ticket, eight_d_reports, ticket

if TYPE_CHECKING:
    from ..workspace import Workspace

REPORT_ID = "complaint-report"
"""The id under which ``qmsforms.toml`` may give the report a document number."""
TITLE_ZH = "客户投诉汇总分析表"
TITLE_EN = "Customer Complaint Analysis"
AGE_BUCKETS: tuple[tuple[int, int | None], ...] = ((0, 7), (8, 30), (31, 60), (61, 90),
                                                    (91, None))
"""Ages of open 8Ds in days: (from, to inclusive); None = no upper limit."""
TOP = 10
"""How many customers the top-customers table lists."""


def _pct(part: int, whole: int) -> Decimal | None:
    return rounded(Decimal(100) * part / whole, 1) if whole else None


@dataclass(frozen=True)
class CategoryTrend:
    """One cause (category): complaints per month and the change against the month before."""

    key: str
    zh: str
    en: str
    counts: tuple[int, ...]
    changes: tuple[int, ...]

    @property
    def total(self) -> int:
        """Complaints over the months shown."""
        return sum(self.counts)

    def to_dict(self, months: tuple[str, ...]) -> dict[str, Any]:
        """JSON-ready, keyed by month."""
        return {"key": self.key, "zh": self.zh, "en": self.en, "total": self.total,
                "counts": dict(zip(months, self.counts, strict=True)),
                "changes": dict(zip(months, self.changes, strict=True))}


@dataclass(frozen=True)
class CompareRow:
    """A row of 售后问题汇总分析表: a cause, this period, the previous one, examples."""

    key: str
    zh: str
    en: str
    current: int
    previous: int
    remarks: str

    @property
    def change(self) -> int:
        """This period minus the previous one."""
        return self.current - self.previous

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"key": self.key, "zh": self.zh, "en": self.en, "current": self.current,
                "previous": self.previous, "change": self.change, "remarks": self.remarks}


@dataclass(frozen=True)
class ParetoRow:
    """A cause in the Pareto order: count, share and cumulative share in %."""

    key: str
    zh: str
    en: str
    count: int
    pct: Decimal
    cumulative_pct: Decimal

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"key": self.key, "zh": self.zh, "en": self.en, "count": self.count,
                "pct": float(self.pct), "cumulative_pct": float(self.cumulative_pct)}


@dataclass(frozen=True)
class SlaLine:
    """Filing-time compliance of a group of tickets (all, urgent, normal, one month)."""

    label: str
    limit_hours: float | None
    tickets: int
    decided: int
    met: int

    @property
    def rate(self) -> Decimal | None:
        """Share of decided tickets filed in time, in %."""
        return _pct(self.met, self.decided)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"label": self.label, "limit_hours": self.limit_hours, "tickets": self.tickets,
                "decided": self.decided, "met": self.met, "missed": self.decided - self.met,
                "rate": as_float(self.rate)}


@dataclass(frozen=True)
class AgeBucket:
    """Open 8Ds whose age falls in ``[low, high]`` days."""

    low: int
    high: int | None
    count: int

    @property
    def label(self) -> str:
        """``0–7 天 days`` or ``> 90 天 days``."""
        return f"> {self.low - 1} 天 days" if self.high is None else \
            f"{self.low}–{self.high} 天 days"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"low": self.low, "high": self.high, "label": self.label, "count": self.count}


@dataclass(frozen=True)
class CustomerCount:
    """A customer's complaints in the period."""

    customer: str
    count: int
    quality_related: int
    pct: Decimal

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"customer": self.customer, "count": self.count,
                "quality_related": self.quality_related, "pct": float(self.pct)}


@dataclass(frozen=True)
class ComplaintReport:
    """Everything the complaint report shows, as data."""

    year: int
    month: int | None
    as_of: date
    months: tuple[str, ...]
    tickets: tuple[Ticket, ...]
    trend: tuple[CategoryTrend, ...]
    compare: tuple[CompareRow, ...]
    pareto: tuple[ParetoRow, ...]
    sla: tuple[SlaLine, ...]
    sla_months: tuple[SlaLine, ...]
    open_8d: tuple[Ticket, ...]
    ages: tuple[AgeBucket, ...]
    top_customers: tuple[CustomerCount, ...]

    @property
    def period(self) -> str:
        """``2026`` or ``2026-03``."""
        return str(self.year) if self.month is None else f"{self.year}-{self.month:02d}"

    @property
    def previous_period(self) -> str:
        """The period compared against: the year before, or the month before."""
        if self.month is None:
            return str(self.year - 1)
        return f"{self.year - 1}-12" if self.month == 1 else f"{self.year}-{self.month - 1:02d}"

    @property
    def totals(self) -> tuple[int, ...]:
        """All complaints per month shown."""
        return tuple(sum(t.counts[i] for t in self.trend) for i in range(len(self.months)))

    @property
    def total_changes(self) -> tuple[int, ...]:
        """Month-over-month change of all complaints."""
        return tuple(sum(t.changes[i] for t in self.trend) for i in range(len(self.months)))

    def key_figures(self) -> dict[str, Any]:
        """The summary's numbers (``summary`` in ``--json``)."""
        current = sum(r.current for r in self.compare)
        previous = sum(r.previous for r in self.compare)
        overall = self.sla[0] if self.sla else None
        oldest = max((t.age_days(self.as_of) for t in self.open_8d), default=None)
        return {
            "complaints": current, "previous": previous, "change": current - previous,
            "change_pct": as_float(rounded(Decimal(100) * (current - previous) / previous, 1))
            if previous else None,
            "quality_related": sum(t.eight_d_required for t in self.tickets),
            "sla_rate": as_float(overall.rate) if overall else None,
            "sla_missed": overall.decided - overall.met if overall else 0,
            "open_8d": len(self.open_8d), "oldest_open_8d_days": oldest,
            "top_cause": self.pareto[0].to_dict() if self.pareto else None,
            "top_customer": self.top_customers[0].to_dict() if self.top_customers else None,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: what ``qmsforms report complaints --json`` prints."""
        return {
            "year": self.year, "month": self.month, "period": self.period,
            "previous_period": self.previous_period, "as_of": self.as_of.isoformat(),
            "months": list(self.months), "summary": self.key_figures(),
            "by_category": [t.to_dict(self.months) for t in self.trend],
            "monthly_totals": dict(zip(self.months, self.totals, strict=True)),
            "monthly_changes": dict(zip(self.months, self.total_changes, strict=True)),
            "compare": [r.to_dict() for r in self.compare],
            "pareto": [p.to_dict() for p in self.pareto],
            "sla": [s.to_dict() for s in self.sla],
            "sla_by_month": [s.to_dict() for s in self.sla_months],
            "open_8d": [t.to_dict(self.as_of) for t in self.open_8d],
            "open_8d_by_age": [b.to_dict() for b in self.ages],
            "top_customers": [c.to_dict() for c in self.top_customers],
            "tickets": [t.to_dict(self.as_of) for t in self.tickets],
        }


def _previous_month(month: str) -> str:
    year, m = int(month[:4]), int(month[5:7])
    return f"{year - 1}-12" if m == 1 else f"{year}-{m - 1:02d}"


def _remarks(tickets: list[Ticket]) -> str:
    """Examples for the remarks column, as in seed 004 (北京:床箱缺少立板一块)."""
    shown = [f"{t.customer}:{' '.join(t.description.split())[:30]}" for t in tickets[:2]]
    more = f" …(+{len(tickets) - 2})" if len(tickets) > 2 else ""
    return ";".join(shown) + more


def _sla_line(label: str, tickets: list[Ticket], limit: float | None) -> SlaLine:
    decided = [t for t in tickets if t.sla_met is not None]
    return SlaLine(label, limit, len(tickets), len(decided), sum(bool(t.sla_met)
                                                                 for t in decided))


def build_complaints(records: Iterable[RecordRow], year: int, month: int | None = None, *,
                     as_of: date | None = None) -> ComplaintReport:
    """The complaint report of ``year`` (or one ``month`` of it) from the latest records.

    ``as_of`` (for the age of open 8Ds) defaults to the end of the period or today,
    whichever is earlier.
    """
    if month is not None and not 1 <= month <= 12:
        raise ValueError(f"month must be 1–12, not {month}")
    rows = list(records)
    reports = eight_d_reports(rows)
    tickets = sorted((t for r in rows if r.form == COMPLAINT_FORM
                      if (t := ticket(r, reports)) is not None),
                     key=lambda t: (t.received_at, t.ticket_no))
    months = months_of(year, month or 12)
    scope = {months[-1]} if month else set(months)
    end = date(year, 12, 31) if month is None else \
        date(year + month // 12, month % 12 + 1, 1) - date.resolution
    as_of = as_of or min(end, date.today())
    previous_scope = {_previous_month(months[-1])} if month else set(months_of(year - 1))

    by_month: dict[tuple[str, str], int] = Counter((t.category, t.month) for t in tickets)
    keys = list(CATEGORIES) + sorted({t.category for t in tickets} - set(CATEGORIES))

    def labels(key: str) -> tuple[str, str]:
        return CATEGORIES.get(key, (key, key))

    trend = []
    for key in keys:
        counts = tuple(by_month.get((key, m), 0) for m in months)
        changes = tuple(c - by_month.get((key, _previous_month(m)), 0)
                        for m, c in zip(months, counts, strict=True))
        trend.append(CategoryTrend(key, *labels(key), counts, changes))

    in_scope = [t for t in tickets if t.month in scope]
    before = [t for t in tickets if t.month in previous_scope]
    compare = tuple(
        CompareRow(key, *labels(key), sum(t.category == key for t in in_scope),
                   sum(t.category == key for t in before),
                   _remarks([t for t in in_scope if t.category == key]))
        for key in keys)

    counted = Counter(t.category for t in in_scope)
    pareto, running = [], 0
    for key, count in sorted(counted.items(), key=lambda kv: (-kv[1], keys.index(kv[0]))):
        running += count
        pareto.append(ParetoRow(key, *labels(key), count, rounded(
            Decimal(100) * count / len(in_scope), 1), rounded(
            Decimal(100) * running / len(in_scope), 1)))

    urgent = [t for t in in_scope if t.urgent]
    normal = [t for t in in_scope if not t.urgent]
    sla = (_sla_line("全部 All", in_scope, None),
           _sla_line("紧急 Urgent", urgent, urgent[0].sla_hours if urgent else None),
           _sla_line("一般 Normal", normal, normal[0].sla_hours if normal else None))
    sla_months = tuple(_sla_line(m, [t for t in tickets if t.month == m], None)
                       for m in months)

    open_8d = tuple(sorted((t for t in tickets if t.eight_d_open
                            and t.received_at.date() <= end),
                           key=lambda t: (t.received_at, t.ticket_no)))
    ages = tuple(AgeBucket(lo, hi, sum(1 for t in open_8d
                                       if lo <= t.age_days(as_of) and
                                       (hi is None or t.age_days(as_of) <= hi)))
                 for lo, hi in AGE_BUCKETS)

    per_customer = Counter(t.customer for t in in_scope)
    quality = Counter(t.customer for t in in_scope if t.eight_d_required)
    top = tuple(CustomerCount(c, n, quality.get(c, 0), rounded(
        Decimal(100) * n / len(in_scope), 1))
        for c, n in sorted(per_customer.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP])

    return ComplaintReport(
        year=year, month=month, as_of=as_of, months=months, tickets=tuple(in_scope),
        trend=tuple(trend), compare=compare, pareto=tuple(pareto), sla=sla,
        sla_months=sla_months, open_8d=open_8d, ages=ages, top_customers=top)


def complaint_report(workspace: Workspace, year: int, month: int | None = None,
                     as_of: date | None = None, *, site: str | None = None) -> ComplaintReport:
    """The complaint report from the workspace's ledger (of one ``site``, or of all)."""
    with open_ledger(workspace, site=site) as ledger:
        rows = ledger.records(COMPLAINT_FORM) + ledger.records(EIGHT_D_FORM)
    return build_complaints(canonical_records(rows, workspace), year, month, as_of=as_of)
