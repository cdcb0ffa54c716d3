"""A complaint record read as a ticket: receipt, filing time against the SLA, its 8D state.

The rules are in `qmsforms.reports.complaints`' docstring; `ticket` applies them to one
complaint record, given the 8D reports on file (`eight_d_reports`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..intake.ledger import RecordRow
from ..scoring.complaint import complaint_rules, eight_d_status

COMPLAINT_FORM = "complaint"
EIGHT_D_FORM = "8d-report"


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _day(value: Any) -> date | None:
    when = _when(value)
    return when.date() if when else None


@dataclass(frozen=True)
class Ticket:
    """One complaint with what the report computes for it."""

    record_id: str
    ticket_no: str
    customer: str
    category: str
    received_at: datetime
    filed_at: datetime | None
    urgent: bool
    sla_hours: float
    filing_minutes: float | None
    sla_met: bool | None
    eight_d_required: bool
    eight_d: str
    eight_d_progress: int
    closed_on: date | None
    description: str

    @property
    def month(self) -> str:
        """``YYYY-MM`` of receipt."""
        return f"{self.received_at.year:04d}-{self.received_at.month:02d}"

    @property
    def eight_d_open(self) -> bool:
        """An 8D is due and not closed."""
        return self.eight_d in ("in_progress", "missing")

    def age_days(self, as_of: date) -> int:
        """Days from receipt to ``as_of``."""
        return max(0, (as_of - self.received_at.date()).days)

    def to_dict(self, as_of: date | None = None) -> dict[str, Any]:
        """JSON-ready (with ``age_days`` when ``as_of`` is given and the 8D is open)."""
        out = {
            "record_id": self.record_id, "ticket_no": self.ticket_no,
            "customer": self.customer, "category": self.category, "month": self.month,
            "received_at": self.received_at.isoformat(),
            "filed_at": self.filed_at.isoformat() if self.filed_at else None,
            "urgent": self.urgent, "sla_hours": self.sla_hours,
            "filing_minutes": self.filing_minutes, "sla_met": self.sla_met,
            "eight_d_required": self.eight_d_required, "eight_d": self.eight_d,
            "eight_d_progress": self.eight_d_progress,
            "closed_on": self.closed_on.isoformat() if self.closed_on else None,
            "description": self.description,
        }
        if as_of is not None and self.eight_d_open:
            out["age_days"] = self.age_days(as_of)
        return out



def eight_d_reports(records: Iterable[RecordRow]) -> dict[str, tuple[bool, int]]:
    """complaint no. -> (closed, disciplines done in order) from 8D report records.

    The record's computed status is used when the intake stored one, else it is worked out
    the same way (`eight_d_status`).
    """
    out: dict[str, tuple[bool, int]] = {}
    for r in records:
        if r.form != EIGHT_D_FORM or not r.data.get("complaint_no"):
            continue
        status = r.scores if r.scores and r.scores.get("kind") == "8d" else \
            eight_d_status(r.data)
        reached = str(status.get("reached") or "D0")
        out[str(r.data["complaint_no"])] = (bool(status.get("closed")), int(reached[1:]))
    return out


def ticket(r: RecordRow, reports: Mapping[str, tuple[bool, int]]) -> Ticket | None:
    """The ticket of complaint record ``r`` (None without a receipt time).

    ``reports`` are the 8D reports on file (`eight_d_reports`); the record's computed scores
    give the SLA and whether an 8D is due when the intake stored them, else `complaint_rules`.
    """
    received = _when(r.data.get("received_at"))
    if received is None:
        return None
    scores = r.scores if r.scores and r.scores.get("kind") == "complaint" else None
    rules = scores or complaint_rules(r.data)
    ticket_no = str(r.data.get("ticket_no") or r.record_id)
    required = bool(rules.get("eight_d_required"))
    closed_on = _day(r.data.get("closed_date"))
    progress = 0
    if not required:
        state = "not_required"
    elif ticket_no in reports:
        closed, progress = reports[ticket_no]
        state = "closed" if closed else "in_progress"
    else:
        state = "closed" if closed_on else "missing"
    minutes = rules.get("filing_minutes")
    return Ticket(
        record_id=r.record_id, ticket_no=ticket_no, customer=str(r.data.get("customer") or ""),
        category=str(r.data.get("category") or "other"), received_at=received,
        filed_at=_when(r.data.get("filed_at")),
        urgent=bool(rules["urgent"] if "urgent" in rules else r.data.get("urgent")),
        sla_hours=float(rules.get("sla_hours") or 0),
        filing_minutes=None if minutes is None else float(minutes),
        sla_met=rules.get("sla_met"), eight_d_required=required, eight_d=state,
        eight_d_progress=progress, closed_on=closed_on,
        description=str(r.data.get("description") or ""))
