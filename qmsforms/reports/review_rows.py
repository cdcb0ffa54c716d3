"""The rows of the management-review pack (`qmsforms.reports.review`): KPIs, customers beside
the previous year, Pareto rows, PPM per customer, this month against last, action counts."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ..scoring.rounding import as_float, rounded

UNASSIGNED = ("unassigned", "未指定", "Unassigned")
STATUSES = ("raised", "open", "overdue", "closed", "verified")
"""The action counts, per source and per department."""


def percent(part: int, whole: int) -> Decimal | None:
    return rounded(Decimal(100) * part / whole, 1) if whole else None


def ppm_of(complained: int, delivered: int) -> Decimal | None:
    return rounded(Decimal(complained) * 1_000_000 / delivered, 1) if delivered else None


def decimal_of(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def month_of(value: Any) -> str | None:
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
        return ppm_of(self.complained, self.delivered)

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
