"""The master meets the forms: the master of a workspace (read again when it changed), the
monitoring policy it gives a customer, and a validated form's customer matched as it is
concluded."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..issues import Code, Issue, Report
from .master import CustomerMaster, CustomerMasterError, Workspace, load_master, master_path

if TYPE_CHECKING:
    from ..registry import FormDef

log = logging.getLogger(__name__)

MASTER_KEY = "master_customer"
"""The key a matched record's data carries: the master customer's code (its name without)."""
_CACHE: dict[str, tuple[tuple[int, int] | None, CustomerMaster]] = {}


def current_master(workspace: Workspace) -> CustomerMaster:
    """The workspace's master, read again whenever ``customers.toml`` changed on disk (a
    running watcher takes a new import without a restart)."""
    path = master_path(workspace)
    try:
        st = os.stat(path)
        stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = None
    cached = _CACHE.get(str(path))
    if cached is None or cached[0] != stamp:
        cached = (stamp, load_master(workspace))
        _CACHE[str(path)] = cached
    return cached[1]


def master_policy(workspace: Workspace, customer: str) -> str | None:
    """The monitoring policy of ``customer`` as the master decides it: the master's own (its
    policy, or the automotive policy when automotive), else a ``[scoring.customers]`` entry of
    ``qmsforms.toml`` written under any name of the same master customer. None: the master
    does not know the customer or cannot be read (which ``qmsforms status`` reports)."""
    try:
        master = current_master(workspace)
    except CustomerMasterError as exc:
        log.error("%s", exc)
        return None
    found = master.match(customer)
    if found is None:
        return None
    own = master.policy_of(found.customer.name)
    if own is not None:
        return own
    for name, pid in workspace.config.scoring.customers.items():
        other = master.match(name)
        if other is not None and other.customer == found.customer:
            return pid
    return None


def match_report(form: FormDef, report: Report, workspace: Workspace,
                 locate: Callable[[str], tuple[str | None, str | None]],
                 retag: Callable[[list[Issue]], list[Issue]] = list) -> None:
    """Match a valid report's customer to the master: store its key in the data, or warn
    ``UNKNOWN_CUSTOMER`` at the customer cell. Nothing happens without a master."""
    if not any(f.name == "customer" for f in form.fields):
        return
    try:
        master = current_master(workspace)
    except CustomerMasterError as exc:
        log.error("%s; customers are not matched", exc)
        return
    customer = report.peek("customer") if master else None
    if not customer:
        return
    found = master.match(customer, report.peek("customer_code"))
    if found is not None:
        report.put(MASTER_KEY, found.customer.key)
        return
    sheet, cell = locate("customer")
    spec = form.field("customer")
    report.add(retag([Issue.make(Code.UNKNOWN_CUSTOMER, field="customer", sheet=sheet,
                                 cell=cell, value=customer, label=spec.labels)]))
