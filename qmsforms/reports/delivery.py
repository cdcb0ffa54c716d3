"""On-time delivery from shipping lists, and monthly monitoring sheets pre-filled with it.

A shipping list (发货单) that carries both a planned and an actual delivery date counts as one
delivery of its customer in the month of the **planned** date (the month the delivery was due);
it is on time when the actual date is on or before the planned one. Lists without both dates
are left out of the rate (they are not yet delivered, or the clerk did not record it).

The monthly monitoring sheet [seed 000 §7.1] asks for the customer-required performance rate
and counts late deliveries; `monitoring_prefill` offers what the shipping lists know for both:
the on-time rate as ``performance_rate`` (the assessor confirms it or replaces it with the
customer's own measure), the count of late deliveries as ``a_late_delivery`` for customers on
the automotive QDO policy, and a remark naming the late lists so the delay counts can be filled
in (whether the customer was told in advance is not on the shipping list).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..intake.ledger import RecordRow, open_ledger
from ..safe_text import safe_filename
from ..scoring.policy import MonitoringPolicy
from ..scoring.rounding import rounded

if TYPE_CHECKING:
    from ..workspace import Workspace

SHIPPING_FORM = "shipping-list"
MONITORING_FORM = "satisfaction-monitoring"


@dataclass(frozen=True)
class DeliveryMonth:
    """One customer's deliveries due in one month."""

    customer: str
    month: str
    deliveries: int
    on_time: int
    late_lists: tuple[str, ...] = ()

    @property
    def late(self) -> int:
        """Deliveries after their planned date."""
        return self.deliveries - self.on_time

    @property
    def rate(self) -> Decimal:
        """On-time delivery rate in %, rounded half-up to 0.1."""
        return rounded(Decimal(100) * self.on_time / self.deliveries, 1)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"customer": self.customer, "month": self.month,
                "deliveries": self.deliveries, "on_time": self.on_time, "late": self.late,
                "rate": float(self.rate), "late_lists": list(self.late_lists)}


def _date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def delivery_performance(records: Iterable[RecordRow],
                         year: int | None = None) -> list[DeliveryMonth]:
    """Deliveries per customer and month (of the planned date), from shipping-list records.

    Only the latest revision of each list should be passed (`Ledger.records` default).
    """
    due: dict[tuple[str, str], list[tuple[str, bool]]] = defaultdict(list)
    for r in records:
        if r.form != SHIPPING_FORM or not r.data.get("customer"):
            continue
        planned = _date(r.data.get("planned_delivery_date"))
        actual = _date(r.data.get("actual_delivery_date"))
        if planned is None or actual is None or (year is not None and planned.year != year):
            continue
        month = f"{planned.year:04d}-{planned.month:02d}"
        due[str(r.data["customer"]), month].append((str(r.data.get("doc_no") or r.record_id),
                                                    actual <= planned))
    return [DeliveryMonth(customer, month, len(lists), sum(ok for _, ok in lists),
                          tuple(sorted(doc for doc, ok in lists if not ok)))
            for (customer, month), lists in sorted(due.items())]


def on_time_rate(records: Iterable[RecordRow],
                 year: int | None = None) -> dict[tuple[str, str], Decimal]:
    """``{(customer, "YYYY-MM"): on-time rate in %}`` from shipping-list records."""
    return {(d.customer, d.month): d.rate for d in delivery_performance(records, year)}


def monitoring_prefill(delivery: DeliveryMonth | None,
                       policy: MonitoringPolicy) -> dict[str, str]:
    """Values a monitoring sheet can be issued with, from one customer's month of deliveries.

    Only inputs the customer's policy reads are offered (plus the remark); the values are
    strings as ``qmsforms new --set`` takes them.
    """
    if delivery is None:
        return {}
    values: dict[str, str] = {}
    if "performance_rate" in policy.inputs:
        values["performance_rate"] = str(delivery.rate)
    if "a_late_delivery" in policy.inputs:
        values["a_late_delivery"] = str(delivery.late)
    late = "、".join(delivery.late_lists) or "无"
    late_en = ", ".join(delivery.late_lists) or "none"
    values["remarks"] = (
        f"发货单:到期交付 {delivery.deliveries} 批,准时 {delivery.on_time} 批,准时交付率 "
        f"{delivery.rate}%;延误:{late}。Shipping lists: {delivery.deliveries} deliveries "
        f"due, {delivery.on_time} on time ({delivery.rate} %); late: {late_en}.")
    return values


@dataclass(frozen=True)
class IssuedSheet:
    """A monitoring sheet issued for one customer and month, with what was pre-filled."""

    customer: str
    month: str
    path: Path
    values: Mapping[str, str]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"customer": self.customer, "month": self.month, "path": str(self.path),
                "values": dict(self.values)}


def issue_monitoring_sheets(workspace: Workspace, month: str,
                            customers: Iterable[str] | None = None,
                            out_dir: str | os.PathLike[str] | None = None, *,
                            lang: str | None = None,
                            progress: Callable[[IssuedSheet], None] | None = None,
                            ) -> list[IssuedSheet]:
    """Issue one monitoring sheet per customer for ``month`` (``YYYY-MM``), pre-filled.

    ``customers`` defaults to every customer with a delivery due that month. Each sheet is
    written to ``out_dir`` (default ``outbox/monitoring/<month>/``) and recorded as issued.
    """
    from ..blanks import issue_blank

    with open_ledger(workspace) as ledger:
        rows = ledger.records(SHIPPING_FORM)
    by_customer = {d.customer: d for d in delivery_performance(rows)
                   if d.month == month}
    chosen = list(dict.fromkeys(customers)) if customers else sorted(by_customer)
    folder = Path(out_dir) if out_dir else workspace.outbox / "monitoring" / month
    issued: list[IssuedSheet] = []
    if not chosen:
        return issued
    with open_ledger(workspace, write=True) as ledger:
        for customer in chosen:
            policy = workspace.policies.monitoring(customer)
            values = {"customer": customer, "month": month,
                      **monitoring_prefill(by_customer.get(customer), policy)}
            path = folder / f"{safe_filename(customer, 'customer', 60)} {month}.xlsx"
            issue_blank(workspace, MONITORING_FORM, path, lang=lang, values=values,
                        record=True, ledger=ledger)
            sheet = IssuedSheet(customer, month, path, values)
            issued.append(sheet)
            if progress:
                progress(sheet)
    return issued
