"""The campaign plan: who is surveyed in a year and why (step 2 of `qmsforms.campaign`).

`plan_campaign` applies the survey policy's sampling rule to the customer list; the plan
is plain data that goes to ``plan.json`` and comes back (`CampaignPlan.to_dict`/`from_dict`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from ..issues import QmsFormsError
from ..scoring.policy import Campaign
from .customer_list import CustomerEntry

SURVEY_FORM = "satisfaction-survey"
PLAN_VERSION = 1


class CampaignError(QmsFormsError, ValueError):
    """A campaign plan is missing, damaged or inconsistent."""


@dataclass(frozen=True)
class Choice:
    """One customer's place in the campaign: its tier and why it is (or is not) surveyed."""

    customer: str
    code: str | None
    order_value: Decimal
    automotive: bool
    tier: str
    reason: str | None
    """``automotive``, ``all`` (the tier's rate is 100 %), ``sampled``, ``minimum``; None when
    not chosen."""

    @property
    def chosen(self) -> bool:
        """Whether the customer is surveyed."""
        return self.reason is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"customer": self.customer, "code": self.code,
                "order_value": str(self.order_value), "automotive": self.automotive,
                "tier": self.tier, "reason": self.reason}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Choice:
        """Back from the plan file."""
        return cls(raw["customer"], raw.get("code"), Decimal(str(raw["order_value"])),
                   bool(raw["automotive"]), raw["tier"], raw.get("reason"))


@dataclass(frozen=True)
class IssuedBlank:
    """A blank issued to a chosen customer."""

    customer: str
    instance_id: str
    path: str
    issued_at: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"customer": self.customer, "instance_id": self.instance_id, "path": self.path,
                "issued_at": self.issued_at}


@dataclass(frozen=True)
class TierSummary:
    """A tier of the rule: how many customers fall in it, how many it asks, how many chosen."""

    key: str
    zh: str
    en: str
    rate: Decimal
    customers: int
    quota: int
    chosen: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"key": self.key, "zh": self.zh, "en": self.en, "rate": float(self.rate),
                "customers": self.customers, "quota": self.quota, "chosen": self.chosen}


@dataclass(frozen=True)
class CampaignPlan:
    """Who is surveyed in a year and why; saved as ``plan.json`` and read back."""

    year: int
    seed: int
    created_at: str
    source: str
    source_sha256: str
    rule: Campaign
    tiers: tuple[TierSummary, ...]
    choices: tuple[Choice, ...]
    issued: tuple[IssuedBlank, ...] = field(default_factory=tuple)
    form: str = SURVEY_FORM

    @property
    def chosen(self) -> tuple[Choice, ...]:
        """The customers to survey, largest order value first."""
        return tuple(sorted((c for c in self.choices if c.chosen),
                            key=lambda c: (-c.order_value, c.customer)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: what ``plan.json`` holds and ``survey plan --json`` prints."""
        return {
            "version": PLAN_VERSION, "year": self.year, "form": self.form, "seed": self.seed,
            "created_at": self.created_at, "source": self.source,
            "source_sha256": self.source_sha256, "rule": self.rule.model_dump(mode="json"),
            "customers": len(self.choices), "chosen": len(self.chosen),
            "tiers": [t.to_dict() for t in self.tiers],
            "choices": [c.to_dict() for c in self.choices],
            "issued": [i.to_dict() for i in self.issued],
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> CampaignPlan:
        """Back from ``plan.json``."""
        try:
            return cls(
                year=int(raw["year"]), seed=int(raw["seed"]), created_at=raw["created_at"],
                source=raw["source"], source_sha256=raw["source_sha256"],
                rule=Campaign.model_validate(raw["rule"]),
                tiers=tuple(TierSummary(t["key"], t["zh"], t["en"], Decimal(str(t["rate"])),
                                        t["customers"], t["quota"], t["chosen"])
                            for t in raw["tiers"]),
                choices=tuple(Choice.from_dict(c) for c in raw["choices"]),
                issued=tuple(IssuedBlank(**i) for i in raw.get("issued", [])),
                form=raw.get("form", SURVEY_FORM))
        except (KeyError, TypeError, ValueError) as exc:
            raise CampaignError(f"the campaign plan is damaged: {exc}") from exc


def quota(customers: int, rate: Decimal) -> int:
    """How many of a tier's ``customers`` to survey at ``rate`` %: rounded up."""
    return min(customers, math.ceil(Decimal(customers) * rate / 100))


def plan_campaign(customers: Iterable[CustomerEntry], year: int, rule: Campaign, *,
                  seed: int | None = None, source: str = "", source_sha256: str = "",
                  ) -> CampaignPlan:
    """Apply the sampling rule to the customer list (see the module docstring).

    ``seed`` defaults to ``year``, so planning the same list twice gives the same choice.
    """
    seed = year if seed is None else seed
    rng = random.Random(seed)
    entries = sorted(customers, key=lambda c: (c.code or "", c.customer))
    reasons: dict[str, str] = {}
    tier_of = {c.customer: rule.tier(_value(c)) for c in entries}
    summaries: list[tuple[Any, int, int]] = []
    for tier in rule.tiers:
        members = [c for c in entries if tier_of[c.customer].key == tier.key]
        need = quota(len(members), tier.rate)
        forced = [c for c in members if rule.automotive_always and c.automotive]
        for c in forced:
            reasons[c.customer] = "automotive"
        rest = [c for c in members if c.customer not in reasons]
        extra = max(0, need - len(forced))
        reason = "all" if tier.rate >= 100 else "sampled"
        for c in rng.sample(rest, min(extra, len(rest))):
            reasons[c.customer] = reason
        summaries.append((tier, len(members), need))
    if len(reasons) < rule.minimum:
        for c in sorted(entries, key=lambda c: (-_value(c), c.customer)):
            if len(reasons) >= rule.minimum:
                break
            reasons.setdefault(c.customer, "minimum")
    choices = tuple(Choice(c.customer, c.code, _value(c), c.automotive,
                           tier_of[c.customer].key, reasons.get(c.customer))
                    for c in sorted(entries, key=lambda c: (-_value(c), c.customer)))
    tiers = tuple(TierSummary(t.key, t.zh, t.en, t.rate, n, need,
                              sum(1 for c in choices if c.tier == t.key and c.chosen))
                  for t, n, need in summaries)
    return CampaignPlan(year=year, seed=seed, created_at=now(), source=source,
                        source_sha256=source_sha256, rule=rule, tiers=tiers, choices=choices)


def _value(entry: CustomerEntry) -> Decimal:
    """The order value a plan uses (`read_customer_list` refuses a row without one)."""
    return entry.order_value if entry.order_value is not None else Decimal(0)


def now() -> str:
    """The time a plan is made or a blank issued, UTC to the second."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
