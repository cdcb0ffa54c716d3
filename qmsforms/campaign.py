"""The annual survey campaign: who is asked, their personalised blanks, who answered.

[seed 002 QP-14 4.1, 顾客满意度评价控制程序 5.3–5.4, LX-QP-11; SPEC §4.6]

1. `read_customer_list` (`qmsforms.customer_list`) reads the customer list workbook
   (客户一览表): customer, code, annual order value, automotive yes/no, Chinese or English
   headers, values normalised as on the forms.
2. `plan_campaign` applies the sampling rule of the survey policy's ``[campaign]`` table:
   each customer falls in the first tier its order value reaches (> 500,000; 200,000–500,000
   inclusive; below); a tier's sample is its rate × its customers **rounded up**, so the share
   surveyed is never below the rate and a non-empty tier is never skipped. Automotive customers
   are always surveyed and count toward their tier's sample; the rest of the sample is drawn
   with ``random.Random(seed)`` from the tier's customers sorted by code and name, so the same
   list and seed give the same choice. When the total is below the minimum (10), the largest
   customers by order value not yet chosen are added until it is reached or nobody is left.
   The plan — seed, rule, the list's SHA-256 and every decision — is written to
   ``outbox/campaigns/<year>/plan.json``.
3. `issue_campaign` issues one personalised blank per chosen customer (customer, code and
   period pre-filled) into ``outbox/campaigns/<year>/blanks/``, records each instance id as
   issued in the ledger and in the plan.
4. `campaign_status` matches returned survey records to the issued blanks by instance id and
   gives the return rate against the policy's target, and who to chase.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .customer_list import CustomerEntry, read_customer_list
from .issues import QmsFormsError, UsageError
from .safe_text import safe_filename
from .scoring.policy import Campaign
from .scoring.rounding import as_float, rounded

if TYPE_CHECKING:
    from .workspace import Workspace

SURVEY_FORM = "satisfaction-survey"
PLAN_VERSION = 1


class CampaignError(QmsFormsError, ValueError):
    """A campaign plan is missing, damaged or inconsistent."""


# -- the plan ----------------------------------------------------------------------------------


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
    tier_of = {c.customer: rule.tier(c.order_value) for c in entries}
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
        for c in sorted(entries, key=lambda c: (-c.order_value, c.customer)):
            if len(reasons) >= rule.minimum:
                break
            reasons.setdefault(c.customer, "minimum")
    choices = tuple(Choice(c.customer, c.code, c.order_value, c.automotive,
                           tier_of[c.customer].key, reasons.get(c.customer))
                    for c in sorted(entries, key=lambda c: (-c.order_value, c.customer)))
    tiers = tuple(TierSummary(t.key, t.zh, t.en, t.rate, n, need,
                              sum(1 for c in choices if c.tier == t.key and c.chosen))
                  for t, n, need in summaries)
    return CampaignPlan(year=year, seed=seed, created_at=_now(), source=source,
                        source_sha256=source_sha256, rule=rule, tiers=tiers, choices=choices)


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def campaign_rule(workspace: Workspace) -> Campaign:
    """The ``[campaign]`` settings of the survey form's policy in this workspace."""
    return workspace.policies.survey(workspace.registry.get(SURVEY_FORM)).campaign


def campaign_dir(workspace: Workspace, year: int) -> Path:
    """``outbox/campaigns/<year>/``: the plan and the issued blanks."""
    return workspace.outbox / "campaigns" / str(year)


def plan_path(workspace: Workspace, year: int) -> Path:
    """Where the year's plan is kept."""
    return campaign_dir(workspace, year) / "plan.json"


def save_plan(workspace: Workspace, plan: CampaignPlan) -> Path:
    """Write the plan atomically; returns its path."""
    path = plan_path(workspace, plan.year)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(plan.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_plan(workspace: Workspace, year: int | None = None) -> CampaignPlan:
    """The plan of ``year`` (default: the latest year planned in this workspace)."""
    if year is None:
        folder = workspace.outbox / "campaigns"
        years = sorted(int(p.parent.name) for p in folder.glob("*/plan.json")
                       if p.parent.name.isdigit()) if folder.is_dir() else []
        if not years:
            raise CampaignError("no survey campaign planned yet: run qmsforms survey plan "
                                "--customers LIST.xlsx --year YYYY first")
        year = years[-1]
    path = plan_path(workspace, year)
    if not path.is_file():
        raise CampaignError(f"no survey campaign planned for {year} ({path} is missing)")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CampaignError(f"{path}: cannot read the plan: {exc}") from exc
    return CampaignPlan.from_dict(raw)


def plan_from_list(workspace: Workspace, customer_list: str | os.PathLike[str], year: int, *,
                   seed: int | None = None, replace_existing: bool = False) -> CampaignPlan:
    """Read the list, apply the workspace's rule, save and return the plan.

    An existing plan of the year is kept (it may have blanks issued against it) unless
    ``replace_existing``.
    """
    if plan_path(workspace, year).is_file() and not replace_existing:
        raise UsageError(f"a survey campaign for {year} is already planned "
                         f"({plan_path(workspace, year)}); use --force to plan it again")
    source = Path(customer_list)
    entries = read_customer_list(source)
    plan = plan_campaign(entries, year, campaign_rule(workspace), seed=seed,
                         source=source.name,
                         source_sha256=hashlib.sha256(source.read_bytes()).hexdigest())
    save_plan(workspace, plan)
    return plan


# -- issuing -----------------------------------------------------------------------------------


def issue_campaign(workspace: Workspace, year: int | None = None, *,
                   out_dir: str | os.PathLike[str] | None = None, lang: str | None = None,
                   progress: Callable[[IssuedBlank], None] | None = None,
                   ) -> tuple[CampaignPlan, list[IssuedBlank]]:
    """Issue a personalised blank to every chosen customer not issued one yet.

    Returns the updated plan (saved) and the blanks issued now. Running it again issues only
    to customers added since (none, normally), so it is safe to repeat.
    """
    from .blanks import issue_blank
    from .identity import read_identity
    from .intake.ledger import open_ledger

    plan = load_plan(workspace, year)
    folder = Path(out_dir) if out_dir else campaign_dir(workspace, plan.year) / "blanks"
    have = {i.customer for i in plan.issued}
    todo = [c for c in plan.chosen if c.customer not in have]
    issued: list[IssuedBlank] = []
    if not todo:
        return plan, issued
    with open_ledger(workspace, write=True) as ledger:
        for choice in todo:
            values = {"customer": choice.customer, "period": str(plan.year)}
            if choice.code:
                values["customer_code"] = choice.code
            name = safe_filename(f"{choice.code + ' ' if choice.code else ''}"
                                 f"{choice.customer}", "customer", 70)
            path = issue_blank(workspace, plan.form, folder / f"{name} {plan.year}.xlsx",
                               lang=lang, values=values, record=True, ledger=ledger)
            identity = read_identity(_open(path))
            if identity is None or not identity.instance_id:  # pragma: no cover - defensive
                raise CampaignError(f"{path}: the issued blank carries no instance id")
            blank = IssuedBlank(choice.customer, identity.instance_id, str(path), _now())
            issued.append(blank)
            plan = replace(plan, issued=(*plan.issued, blank))
            save_plan(workspace, plan)  # after each blank, so an interruption loses none
            if progress:
                progress(blank)
    return plan, issued


def _open(path: Path) -> Any:
    from openpyxl import load_workbook

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_workbook(path)


# -- status ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerStatus:
    """One chosen customer: issued, returned, and the survey's score if it came back."""

    customer: str
    code: str | None
    order_value: Decimal
    automotive: bool
    reason: str
    instance_ids: tuple[str, ...]
    issued_at: str | None
    returned: tuple[str, ...]
    score: float | None = None
    other_returns: tuple[str, ...] = ()

    @property
    def state(self) -> str:
        """``not_issued``, ``issued`` (waiting) or ``returned``."""
        if self.returned:
            return "returned"
        return "issued" if self.instance_ids else "not_issued"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"customer": self.customer, "code": self.code,
                "order_value": float(self.order_value), "automotive": self.automotive,
                "reason": self.reason, "state": self.state,
                "instance_ids": list(self.instance_ids), "issued_at": self.issued_at,
                "returned": list(self.returned), "score": self.score,
                "other_returns": list(self.other_returns)}


@dataclass(frozen=True)
class CampaignStatus:
    """Issued versus returned, the return rate against the target, who to chase."""

    year: int
    as_of: date
    target: Decimal
    customers: tuple[CustomerStatus, ...]
    unexpected: tuple[str, ...] = ()

    @property
    def issued(self) -> int:
        """Customers a blank was issued to."""
        return sum(c.state != "not_issued" for c in self.customers)

    @property
    def returned(self) -> int:
        """Customers whose issued blank came back as a record."""
        return sum(c.state == "returned" for c in self.customers)

    @property
    def rate(self) -> Decimal | None:
        """Return rate in % of the blanks issued."""
        return rounded(Decimal(100) * self.returned / self.issued, 1) if self.issued else None

    @property
    def target_met(self) -> bool:
        """Whether the return rate reaches the policy's target."""
        return self.rate is not None and self.rate >= self.target

    @property
    def still_needed(self) -> int:
        """More returns needed to reach the target."""
        need = math.ceil(Decimal(self.issued) * self.target / 100)
        return max(0, need - self.returned)

    @property
    def chase(self) -> tuple[CustomerStatus, ...]:
        """Issued and not returned, largest customer first: who to chase."""
        return tuple(sorted((c for c in self.customers if c.state == "issued"),
                            key=lambda c: (-c.order_value, c.customer)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: what ``survey status --json`` prints."""
        return {"year": self.year, "as_of": self.as_of.isoformat(),
                "chosen": len(self.customers), "issued": self.issued,
                "returned": self.returned, "rate": as_float(self.rate),
                "target": float(self.target), "target_met": self.target_met,
                "still_needed": self.still_needed,
                "chase": [c.customer for c in self.chase],
                "not_issued": [c.customer for c in self.customers if c.state == "not_issued"],
                "customers": [c.to_dict() for c in self.customers],
                "unexpected": list(self.unexpected)}


def campaign_status(workspace: Workspace, year: int | None = None,
                    as_of: date | None = None) -> CampaignStatus:
    """Match returned surveys to the campaign's blanks by instance id."""
    from .intake.ledger import open_ledger

    plan = load_plan(workspace, year)
    blanks: dict[str, list[IssuedBlank]] = {}
    for blank in plan.issued:
        blanks.setdefault(blank.customer, []).append(blank)
    owner = {b.instance_id: b.customer for b in plan.issued}
    with open_ledger(workspace) as ledger:
        records = ledger.records(plan.form)
        known = {row["instance_id"] for row in ledger.issued(plan.form)}
    returned: dict[str, list[Any]] = {}
    other: dict[str, list[str]] = {}
    unexpected = []
    chosen_names = {c.customer.casefold() for c in plan.chosen}
    for r in records:
        if str(r.data.get("period") or "")[:4] != str(plan.year):
            continue
        if r.instance_id in owner:
            returned.setdefault(owner[r.instance_id], []).append(r)
            if (r.customer or "").casefold() != owner[r.instance_id].casefold():
                unexpected.append(f"{r.record_id}: blank of {owner[r.instance_id]} returned "
                                  f"as {r.customer}")
        elif (r.customer or "").casefold() in chosen_names:
            name = next(c.customer for c in plan.chosen
                        if c.customer.casefold() == (r.customer or "").casefold())
            other.setdefault(name, []).append(r.record_id)
    missing = [b.instance_id for b in plan.issued if b.instance_id not in known]
    unexpected += [f"{i}: in the plan but not in the ledger's issued blanks" for i in missing]
    customers = []
    for c in plan.chosen:
        mine = blanks.get(c.customer, [])
        back = returned.get(c.customer, [])
        scores = [r.scores.get("score") for r in back if r.scores]
        score = next((s for s in reversed(scores) if s is not None), None)
        customers.append(CustomerStatus(
            c.customer, c.code, c.order_value, c.automotive, c.reason or "",
            tuple(b.instance_id for b in mine), mine[0].issued_at if mine else None,
            tuple(r.record_id for r in back), score, tuple(other.get(c.customer, ()))))
    return CampaignStatus(plan.year, as_of or date.today(), plan.rule.return_target,
                          tuple(customers), tuple(unexpected))
