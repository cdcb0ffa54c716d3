"""What a person has to follow up per customer: returned forms naming a customer the master
does not know, and survey answers at level 1–2 not yet handled as a complaint.

"Handled" [seed 001 §4.6.2: an item at level 1 or 2 is handled as a complaint]: a complaint
record (客户反馈投诉处理单) for the same master customer, received on or after the day the
survey was received, or processed after it. Corrective actions will refine this; until then
the complaint ticket is the evidence that the answer was taken up.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..issues import Code, Report
from .master import CustomerMaster, CustomerMasterError, master_path
from .records import current_master

if TYPE_CHECKING:
    from ..intake.ledger import RecordRow
    from ..workspace import Workspace

UNKNOWN_NOTE = "unknown_customer"
"""The note of a record whose customer the master did not know when it came in."""
LOW_NOTE = "low_answers"
"""The note of a survey with answers at level 1–2: ``low_answers:code,code``."""
COMPLAINT_FORM = "complaint"


def low_items(scores: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The answered items of a survey's scores to be handled as complaints (level 1–2)."""
    if not scores or scores.get("kind") != "survey":
        return []
    return [i for i in scores.get("items") or [] if i.get("complaint")]


def record_notes(report: Report) -> tuple[str, ...]:
    """The notes a valid report adds to its record (shown on the ``process`` line)."""
    notes = [UNKNOWN_NOTE] if report.has(Code.UNKNOWN_CUSTOMER) else []
    low = low_items(report.scores)
    if low:
        notes.append(f"{LOW_NOTE}:" + ",".join(str(i["code"]) for i in low))
    return tuple(notes)


@dataclass(frozen=True)
class FollowUp:
    """One thing to follow up: what it is named by, a stable state keyword, the details."""

    name: str
    state: str  # unknown_customer | low_answers | customer_master_broken
    detail: str
    since: str | None = None


def _handled(survey: RecordRow, customer: str, complaints: Iterable[RecordRow],
             master: CustomerMaster) -> bool:
    day = survey.received_at[:10]
    for c in complaints:
        name = master.canonical(str(c.data.get("customer") or ""),
                                c.data.get("master_customer")) if master else \
            c.data.get("customer")
        if name != customer:
            continue
        if str(c.data.get("received_at") or "")[:10] >= day or c.processed_at > \
                survey.processed_at:
            return True
    return False


def follow_ups(workspace: Workspace, records: Iterable[RecordRow]) -> list[FollowUp]:
    """Unknown customers (one entry per name, with its records) and unhandled low answers
    among the latest ``records``; a master that cannot be read is one entry itself."""
    rows = [r for r in records if r.latest]
    try:
        master = current_master(workspace)
    except CustomerMasterError as exc:
        return [FollowUp(master_path(workspace).name, "customer_master_broken", str(exc))]
    out: list[FollowUp] = []
    if master:
        unknown: dict[str, list[RecordRow]] = defaultdict(list)
        for r in rows:
            name = r.data.get("customer")
            if name and master.match(str(name), r.data.get("customer_code")) is None:
                unknown[str(name)].append(r)
        for name, found in sorted(unknown.items()):
            ids = ", ".join(r.record_id for r in found[:5]) + (" …" if len(found) > 5 else "")
            out.append(FollowUp(name, UNKNOWN_NOTE, f"不在客户主数据中 not in the customer "
                                f"master: {len(found)} record(s) {ids}; add the customer or "
                                "an alias to the list and import it again",
                                min(r.processed_at for r in found)))
    complaints = [r for r in rows if r.form == COMPLAINT_FORM]
    for r in rows:
        low = low_items(r.scores)
        if not low:
            continue
        raw = str(r.data.get("customer") or "")
        customer = master.canonical(raw, r.data.get("master_customer")) if master else raw
        if _handled(r, str(customer), complaints, master):
            continue
        items = ", ".join(f"{i.get('zh')} {i.get('en')} ({i.get('answer')})" for i in low)
        out.append(FollowUp(r.record_id, LOW_NOTE, f"{customer}: 1–2 分项须按投诉处理 answers "
                            f"at 1–2 to handle as a complaint: {items}; open a complaint "
                            "ticket for this customer", r.processed_at))
    return out
