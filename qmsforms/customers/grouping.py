"""Records regrouped under their master customer, for the reports."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from .master import CustomerMasterError
from .records import MASTER_KEY, current_master

if TYPE_CHECKING:
    from ..intake.ledger import RecordRow
    from ..workspace import Workspace

log = logging.getLogger(__name__)


def canonical_records(records: Iterable[RecordRow], workspace: Workspace) -> list[RecordRow]:
    """``records`` with each customer named as the master names it (by the key stored at
    intake, else matched now, which also sets the key), so one customer is one row in a
    report. Records of customers the master does not know keep the name they came with."""
    rows = list(records)
    try:
        master = current_master(workspace)
    except CustomerMasterError as exc:
        log.error("%s; the report groups customers as returned", exc)
        return rows
    if not master:
        return rows
    out = []
    for row in rows:
        name = row.data.get("customer")
        if not name:
            out.append(row)
            continue
        customer = master.by_key(row.data.get(MASTER_KEY))
        if customer is None:
            found = master.match(str(name), row.data.get("customer_code"))
            customer = found.customer if found else None
        if customer is None or (customer.name, customer.key) == (name, row.data.get(MASTER_KEY)):
            out.append(row)
        else:
            out.append(replace(row, customer=customer.name, data={
                **row.data, "customer": customer.name, MASTER_KEY: customer.key}))
    return out
