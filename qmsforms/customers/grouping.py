"""Records regrouped under their master customer, for the reports.

A customer whom two plants evaluate each under their own per-site key (two monitoring sheets
for one month, `qmsforms.site`) is two satisfaction series, never one sheet hiding the other:
in a report over every site, such a customer's monitoring sheets and surveys are named
``Customer [SITE]``, one row per site. Complaints and deliveries keep the plain name (a
complaint is the company's; PPM compares it with every plant's deliveries).
"""

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
    return per_site(_by_master(list(records), workspace))


def _evaluation_site(row: RecordRow) -> str | None:
    """The site of a monitoring sheet or survey filed per site, else None."""
    from ..site import SITE_KEY

    site = row.natural_key.get(SITE_KEY)
    kind = (row.scores or {}).get("kind")
    if site is None or kind not in ("monitoring", "survey") or not row.data.get("customer"):
        return None
    return str(site)


def per_site(rows: list[RecordRow]) -> list[RecordRow]:
    """``rows`` with the monitoring sheets and surveys of a customer evaluated at more than
    one site named ``Customer [SITE]`` (its own series at each plant); the rest as they are."""
    sites: dict[str, set[str]] = {}
    for row in rows:
        site = _evaluation_site(row)
        if site is not None:
            sites.setdefault(str(row.data["customer"]), set()).add(site)
    shared = {name for name, found in sites.items() if len(found) > 1}
    if not shared:
        return rows
    out = []
    for row in rows:
        site = _evaluation_site(row)
        name = str(row.data.get("customer") or "")
        if site is None or name not in shared:
            out.append(row)
            continue
        named = f"{name} [{site}]"
        out.append(replace(row, customer=named, data={**row.data, "customer": named}))
    return out


def _by_master(rows: list[RecordRow], workspace: Workspace) -> list[RecordRow]:
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
