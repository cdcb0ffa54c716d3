"""Scoring one monthly satisfaction monitoring sheet (SPEC §4.2, §4.3).

Each part of each category is computed by one of three mechanisms (see `Part`) and floored at
0; the monthly total is the sum of the categories, 0–100, unless the policy lets a value the
customer gave (its own scorecard) replace the internal result.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .policy import Band, Category, MonitoringPolicy, Part, PolicyRef
from .rounding import as_float, rounded, to_decimal


@dataclass(frozen=True)
class Deduction:
    """Points lost to one input: ``count`` events (or PPM steps) × ``each``."""

    field: str
    count: Decimal
    each: Decimal

    @property
    def points(self) -> Decimal:
        """The points this input costs before the floor at 0."""
        return self.count * self.each


@dataclass(frozen=True)
class PartScore:
    """One part of a category: its score, floored at 0, and what it lost points to."""

    key: str
    zh: str
    en: str
    points: Decimal
    score: Decimal
    deductions: tuple[Deduction, ...] = ()
    blank: bool = False
    detail: Mapping[str, Any] | None = None

    @property
    def lost(self) -> Decimal:
        """Points below full marks."""
        return self.points - self.score


@dataclass(frozen=True)
class CategoryScore:
    """A category (质量表现, 交期 D ...): the sum of its parts."""

    category: Category
    parts: tuple[PartScore, ...]

    @property
    def key(self) -> str:
        """The category key from the policy."""
        return self.category.key

    @property
    def points(self) -> Decimal:
        """Full marks of the category."""
        return self.category.points

    @property
    def score(self) -> Decimal:
        """The category's score."""
        return sum((p.score for p in self.parts), Decimal(0))

    @property
    def lost(self) -> Decimal:
        """Points below full marks."""
        return self.points - self.score

    @property
    def deducted(self) -> bool:
        """Whether any event or shortfall cost the category points this month."""
        return self.lost > 0


@dataclass(frozen=True)
class MonitoringScore:
    """The score of one customer's month."""

    policy: PolicyRef
    decimals: int
    categories: tuple[CategoryScore, ...]
    internal: Decimal
    total: Decimal
    band: Band
    target: Decimal
    customer_value: Decimal | None = None
    missing: tuple[str, ...] = ()

    kind = "monitoring"

    @property
    def source(self) -> str:
        """``customer`` when the customer's own value replaced the internal result."""
        return "internal" if self.customer_value is None else "customer"

    @property
    def below_target(self) -> bool:
        """A month below target needs an improvement action (SPEC §4.2 alerts)."""
        return self.total < self.target

    def category(self, key: str) -> CategoryScore:
        """One category's result by key."""
        for cat in self.categories:
            if cat.key == key:
                return cat
        raise KeyError(key)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, as stored in a record and printed by ``--json``."""
        d = self.decimals

        def num(value: Decimal) -> float | None:
            return as_float(rounded(value, d))

        return {
            "kind": self.kind,
            "policy": self.policy.to_dict(),
            "total": num(self.total),
            "band": {"key": self.band.key, "zh": self.band.zh, "en": self.band.en},
            "source": self.source,
            "internal": num(self.internal),
            "customer_value": None if self.customer_value is None else num(
                self.customer_value),
            "target": float(self.target),
            "below_target": self.below_target,
            "missing": list(self.missing),
            "categories": [
                {
                    "key": cat.key, "zh": cat.category.zh, "en": cat.category.en,
                    "points": float(cat.points), "score": num(cat.score),
                    "lost": num(cat.lost),
                    "responsible_zh": cat.category.responsible_zh,
                    "responsible_en": cat.category.responsible_en,
                    "parts": [
                        {
                            "key": part.key, "points": float(part.points),
                            "score": num(part.score), "blank": part.blank,
                            "deductions": [
                                {"field": x.field, "count": float(x.count),
                                 "each": float(x.each), "points": float(x.points)}
                                for x in part.deductions if x.count
                            ],
                            **({"detail": dict(part.detail)} if part.detail else {}),
                        }
                        for part in cat.parts
                    ],
                }
                for cat in self.categories
            ],
        }


def _floor(points: Decimal, lost: Decimal) -> Decimal:
    return max(Decimal(0), points - lost)


def _score_part(part: Part, data: Mapping[str, Any], missing: list[str]) -> PartScore:
    if part.deductions:
        lines = tuple(Deduction(name, to_decimal(data.get(name)) or Decimal(0), each)
                      for name, each in part.deductions.items())
        lost = sum((x.points for x in lines), Decimal(0))
        return PartScore(part.key, part.zh, part.en, part.points,
                         _floor(part.points, lost), lines)
    if part.rate is not None:
        pct = to_decimal(data.get(part.rate))
        if pct is None:
            if part.blank == "required":
                missing.append(part.rate)
            full = part.blank == "full"
            return PartScore(part.key, part.zh, part.en, part.points,
                             part.points if full else Decimal(0), blank=True)
        pct = min(max(pct, Decimal(0)), Decimal(100))
        return PartScore(part.key, part.zh, part.en, part.points,
                         pct * part.points / Decimal(100))
    assert part.ppm is not None
    rule = part.ppm
    actual, target = to_decimal(data.get(rule.actual)), to_decimal(data.get(rule.target))
    if actual is None:
        return PartScore(part.key, part.zh, part.en, part.points, part.points, blank=True)
    if target is None or target <= 0:
        missing.append(rule.target)
        return PartScore(part.key, part.zh, part.en, part.points, Decimal(0), blank=True)
    over_pct = (actual - target) * 100 / target
    steps = Decimal(math.floor(over_pct / rule.step_pct)) if over_pct > 0 else Decimal(0)
    line = Deduction(rule.actual, steps, rule.points_per_step)
    return PartScore(part.key, part.zh, part.en, part.points,
                     _floor(part.points, line.points), (line,),
                     detail={"actual": float(actual), "target": float(target),
                             "over_pct": float(rounded(max(over_pct, Decimal(0)), 1)),
                             "steps": int(steps)})


def score_monitoring(data: Mapping[str, Any], policy: MonitoringPolicy) -> MonitoringScore:
    """Score one monitoring sheet's values with ``policy``.

    Inputs the policy needs but finds blank are listed in ``missing`` (the caller reports
    them as REQUIRED at their cells); they score 0 so a missing figure never flatters.
    """
    missing: list[str] = []
    categories = tuple(
        CategoryScore(cat, tuple(_score_part(p, data, missing) for p in cat.parts))
        for cat in policy.categories
    )
    internal = min(sum((c.score for c in categories), Decimal(0)), Decimal(100))
    customer_value = None
    if policy.override:
        customer_value = to_decimal(data.get(policy.override))
        if customer_value is not None:
            customer_value = min(max(customer_value, Decimal(0)), Decimal(100))
    total = rounded(internal if customer_value is None else customer_value, policy.decimals)
    return MonitoringScore(
        policy=policy.ref, decimals=policy.decimals, categories=categories,
        internal=internal, total=total, band=policy.band(total),
        target=policy.alerts.monthly_target, customer_value=customer_value,
        missing=tuple(dict.fromkeys(missing)),
    )
