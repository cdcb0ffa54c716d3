"""Who answered: returned surveys matched to the issued blanks by instance id (step 4 of
`qmsforms.campaign`).

A blank that came back and was rejected (and not yet sent again valid) is "returned, needs
correction" with the rejection's reasons, not "waiting": the customer answered, the file needs
mending. Returns on blanks from outside the campaign are matched to the chosen customers through
the customer master (`qmsforms.customers`) when the workspace has one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..scoring.rounding import as_float, rounded
from .plan import IssuedBlank
from .store import load_plan

if TYPE_CHECKING:
    from ..intake.ledger import FileRow
    from ..workspace import Workspace


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
    rejections: tuple[Rejection, ...] = ()

    @property
    def state(self) -> str:
        """``not_issued``, ``issued`` (waiting), ``needs_correction`` (came back rejected,
        not yet sent again valid) or ``returned``."""
        if self.returned:
            return "returned"
        if self.rejections:
            return "needs_correction"
        return "issued" if self.instance_ids else "not_issued"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"customer": self.customer, "code": self.code,
                "order_value": float(self.order_value), "automotive": self.automotive,
                "reason": self.reason, "state": self.state,
                "instance_ids": list(self.instance_ids), "issued_at": self.issued_at,
                "returned": list(self.returned), "score": self.score,
                "other_returns": list(self.other_returns),
                "rejections": [r.to_dict() for r in self.rejections]}


@dataclass(frozen=True)
class Rejection:
    """A returned blank that was rejected: the file, when, and why (zh + en)."""

    name: str
    at: str
    location: str
    codes: tuple[str, ...]
    reason_zh: str
    reason_en: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"name": self.name, "at": self.at, "location": self.location,
                "codes": list(self.codes), "reason_zh": self.reason_zh,
                "reason_en": self.reason_en}

    @classmethod
    def of(cls, row: FileRow) -> Rejection:
        """From the ledger's row of a rejected file."""
        issues = [i for i in (row.report or {}).get("issues", [])
                  if i.get("severity") == "error"]
        return cls(row.name, row.processed_at, row.location, row.codes,
                   " ".join(str(i.get("message_zh") or "") for i in issues),
                   " ".join(str(i.get("message_en") or "") for i in issues))


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
    def to_correct(self) -> tuple[CustomerStatus, ...]:
        """Returned but rejected, not yet sent again valid: who to ask for a corrected file."""
        return tuple(c for c in self.customers if c.state == "needs_correction")

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
                "needs_correction": [c.customer for c in self.to_correct],
                "not_issued": [c.customer for c in self.customers if c.state == "not_issued"],
                "customers": [c.to_dict() for c in self.customers],
                "unexpected": list(self.unexpected)}


def campaign_status(workspace: Workspace, year: int | None = None,
                    as_of: date | None = None) -> CampaignStatus:
    """Match returned surveys (and rejected returns) to the campaign's blanks by instance id."""
    from ..customers import current_master
    from ..intake.ledger import open_ledger

    plan = load_plan(workspace, year)
    blanks: dict[str, list[IssuedBlank]] = {}
    for blank in plan.issued:
        blanks.setdefault(blank.customer, []).append(blank)
    owner = {b.instance_id: b.customer for b in plan.issued}
    with open_ledger(workspace) as ledger:
        records = ledger.records(plan.form)
        known = {row["instance_id"] for row in ledger.issued(plan.form)}
        rejected = ledger.files("rejected")
    master = current_master(workspace)

    def same(a: str | None, b: str) -> bool:
        if (a or "").casefold() == b.casefold():
            return True
        found, other = master.match(a), master.match(b)
        return found is not None and other is not None and found.customer == other.customer

    returned: dict[str, list[Any]] = {}
    other: dict[str, list[str]] = {}
    unexpected = []
    for r in records:
        if str(r.data.get("period") or "")[:4] != str(plan.year):
            continue
        if r.instance_id in owner:
            returned.setdefault(owner[r.instance_id], []).append(r)
            if not same(r.customer, owner[r.instance_id]):
                unexpected.append(f"{r.record_id}: blank of {owner[r.instance_id]} returned "
                                  f"as {r.customer}")
            continue
        name = next((c.customer for c in plan.chosen if same(r.customer, c.customer)), None)
        if name is not None:
            other.setdefault(name, []).append(r.record_id)
    refused: dict[str, list[Rejection]] = {}
    for f in rejected:
        instance = (f.report or {}).get("instance_id")
        if instance in owner:
            refused.setdefault(owner[instance], []).append(Rejection.of(f))
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
            tuple(r.record_id for r in back), score, tuple(other.get(c.customer, ())),
            tuple(refused.get(c.customer, ()))))
    return CampaignStatus(plan.year, as_of or date.today(), plan.rule.return_target,
                          tuple(customers), tuple(unexpected))
