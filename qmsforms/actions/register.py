"""The action register: every action raised, with where it stands (``qmsforms actions``).

An action's status is read from what answers it, never typed into the ledger:

- a complaint action from its 8D report (``8d-report`` whose complaint number is the ticket):
  D8 done → closed, D6 done → verified, D3 done → in progress, else open;
- every other action from the latest ``corrective-action`` record whose ``action_no`` is the
  action's number (its stored ``scores.status`` and ``scores.effective``), else open.

``overdue``: past its due date and neither verified nor closed; ``age_days``: days since it
was raised. Both are relative to ``today`` (default: the UTC date now).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..intake.ledger import ActionRow, LedgerStore
    from ..workspace import Workspace

CAPA_FORM = "corrective-action"
EIGHT_D_FORM = "8d-report"
STATUSES = ("open", "in_progress", "verified", "closed")
"""An action's statuses, in the order it moves through them."""
DONE = ("verified", "closed")
VIEW_KEYS = ("action_id", "source", "cause_key", "cause", "source_record", "customer",
             "problem_zh", "problem_en", "department_zh", "department_en", "raised_on", "due",
             "status", "overdue", "age_days", "link", "effective", "cause_removed_by", "site")
"""The keys of one action in ``qmsforms actions --json``, in order."""


@dataclass(frozen=True)
class ActionView:
    """One action as the register shows it (`to_dict` is one element of ``actions --json``)."""

    row: ActionRow
    status: str
    due: str | None
    overdue: bool
    age_days: int
    link: dict[str, Any] | None
    effective: bool | None

    @property
    def action_id(self) -> str:
        """The action's number, ``CA-YYYY-NNNN``."""
        return self.row.action_id

    @property
    def is_open(self) -> bool:
        """Open or in progress."""
        return self.status in ("open", "in_progress")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: exactly the keys of the register's contract (`VIEW_KEYS`)."""
        known = {**self.row.to_dict(), "due": self.due, "status": self.status,
                 "overdue": self.overdue, "age_days": self.age_days, "link": self.link,
                 "effective": self.effective}
        return {k: known[k] for k in VIEW_KEYS}


def utc_today() -> date:
    """Today's date in UTC (what ``today`` defaults to)."""
    return datetime.now(timezone.utc).date()


def _eight_d(ledger: LedgerStore[Any], row: ActionRow) -> tuple[str, dict[str, Any] | None,
                                                                 bool | None]:
    ticket = row.cause.get("ticket_no")
    report = ledger.latest(EIGHT_D_FORM, {"complaint_no": ticket}) if ticket else None
    if report is None:
        return "open", None, None
    scores = report.scores or {}
    reached_text = str(scores.get("reached") or "D0")
    reached = int(reached_text[1:]) if reached_text[1:].isdigit() else 0
    if scores.get("closed") or reached >= 8:
        status = "closed"
    elif reached >= 6:
        status = "verified"
    elif reached >= 3:
        status = "in_progress"
    else:
        status = "open"
    link = {"form": EIGHT_D_FORM, "record_id": report.record_id,
            "reached": scores.get("reached"), "closed": bool(scores.get("closed"))}
    return status, link, (True if reached >= 6 else None)


def _capa(ledger: LedgerStore[Any], row: ActionRow) -> tuple[str, dict[str, Any] | None,
                                                             bool | None]:
    record = ledger.latest(CAPA_FORM, {"action_no": row.action_id})
    if record is None:
        return "open", None, None
    scores = record.scores or {}
    status = str(scores.get("status") or "open")
    if status not in STATUSES:
        status = "open"
    effective = scores.get("effective")
    return status, {"form": CAPA_FORM, "record_id": record.record_id, "status": status}, (
        effective if isinstance(effective, bool) else None)


def view_of(ledger: LedgerStore[Any], row: ActionRow, today: date) -> ActionView:
    """One action with its status, link, due date and age as of ``today``."""
    due = row.due
    if row.source == "complaint":
        status, link, effective = _eight_d(ledger, row)
        ticket = row.cause.get("ticket_no")
        complaint = ledger.latest("complaint", {"ticket_no": ticket}) if ticket else None
        if complaint is not None and complaint.data.get("due_date"):
            due = str(complaint.data["due_date"])[:10]  # the ticket's own date, as revised
    else:
        status, link, effective = _capa(ledger, row)
    overdue = due is not None and date.fromisoformat(due) < today and status not in DONE
    age = (today - date.fromisoformat(row.raised_on)).days
    return ActionView(row, status, due, overdue, age, link, effective)


def action_views(workspace: Workspace, ledger: LedgerStore[Any],
                 today: date | None = None) -> list[ActionView]:
    """Every action raised in ``workspace``'s ``ledger``, in the order raised, with its
    status (from its corrective-action record or 8D report), ``overdue`` and ``age_days``
    as of ``today`` (default: the UTC date now)."""
    del workspace  # the register reads the ledger only; kept for the shared signature
    day = today or utc_today()
    return [view_of(ledger, row, day) for row in ledger.actions()]


def select(views: list[ActionView], *, open_only: bool = False, overdue: bool = False,
           customer: str | None = None) -> list[ActionView]:
    """The views an ``actions`` listing keeps: open ones, overdue ones, a customer's
    (any whose customer contains ``customer``, ignoring case)."""
    out = views
    if open_only:
        out = [v for v in out if v.is_open]
    if overdue:
        out = [v for v in out if v.overdue]
    if customer:
        needle = customer.casefold()
        out = [v for v in out if needle in (v.row.customer or "").casefold()]
    return out
