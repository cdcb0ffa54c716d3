"""Complaint rules [SPEC §4.4, seed 000 §5.3 a–b]: filing deadline and whether an 8D is due.

"接到客户投诉的信息,在2小时内填写 … 紧急时 … 在1小时内填报客户反馈投诉处理单": a ticket is filed
within 2 hours of receiving the complaint, within 1 hour when urgent. The limit is inclusive —
filed exactly 2 h after receipt meets it, 2 h 1 min does not.

"属产品质量问题的投诉时 … 采取8D方法": a quality-related complaint needs an 8D report. The
ticket's *quality-related* box is the judgement of the person handling it and wins when it is
answered either way (a complaint filed under *quality* may turn out not to be ours, which the
procedure explicitly allows for). Only when it is left blank does the category decide: a
complaint in the ``quality`` category then needs an 8D.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from .. import normalize as nz

SLA_HOURS = 2
"""Hours allowed from receiving a complaint to filing its ticket."""
URGENT_SLA_HOURS = 1
"""Hours allowed when the complaint is urgent."""
QUALITY_CATEGORY = "quality"


def _when(value: Any) -> datetime | None:
    try:
        return nz.to_datetime(value)
    except nz.NormalizeError:
        return None


def _flag(value: Any) -> bool | None:
    try:
        return nz.to_bool(value)
    except nz.NormalizeError:
        return None


def eight_d_required(data: Mapping[str, Any]) -> bool:
    """Whether the complaint needs an 8D report (see the module docstring for blank answers)."""
    quality_related = _flag(data.get("quality_related"))
    if quality_related is not None:
        return quality_related
    return data.get("category") == QUALITY_CATEGORY


def complaint_rules(data: Mapping[str, Any], *, sla_hours: float = SLA_HOURS,
                    urgent_sla_hours: float = URGENT_SLA_HOURS) -> dict[str, Any]:
    """The computed fields of a complaint ticket, from its validated data.

    Returns ``sla_hours`` (the limit that applies), ``filing_minutes`` (received → filed, None
    when either time is missing), ``sla_met`` (None when it cannot be decided) and
    ``eight_d_required``. ``data`` may hold datetimes or their ISO text (a record's JSON).
    """
    urgent = bool(_flag(data.get("urgent")))
    limit = urgent_sla_hours if urgent else sla_hours
    received, filed = _when(data.get("received_at")), _when(data.get("filed_at"))
    elapsed: timedelta | None = None
    if received is not None and filed is not None:
        elapsed = filed - received
    return {
        "urgent": urgent,
        "sla_hours": limit,
        "filing_minutes": None if elapsed is None else elapsed.total_seconds() / 60,
        "sla_met": None if elapsed is None else elapsed <= timedelta(hours=limit),
        "eight_d_required": eight_d_required(data),
    }


def eight_d_status(data: Mapping[str, Any]) -> dict[str, Any]:
    """Where an 8D report stands: the disciplines marked done and whether it is closed."""
    done = [n for n in range(1, 9) if _flag(data.get(f"d{n}_done"))]
    reached = 0
    for n in range(1, 9):
        if n not in done:
            break
        reached = n
    return {"kind": "8d", "complaint_no": data.get("complaint_no"), "done": done,
            "reached": f"D{reached}" if reached else None, "closed": reached == 8}
