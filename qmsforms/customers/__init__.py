"""The customer master (SPEC §9): one customer is one customer.

The customer list workbook (客户一览表) that ``survey plan`` reads is also the master: code, name,
aliases, automotive yes/no, monitoring policy. ``qmsforms customers import LIST.xlsx`` stores
it in the workspace as ``customers.toml`` (`.master`), ``customers export`` writes it back as a
workbook (`.sheet`: `import_master`, `export_master`). Returned forms are matched to it as they
are validated (`qmsforms.checks.conclude`): a matched record stores the master's key (code,
else name) as ``master_customer`` in its data; an unknown customer is an ``UNKNOWN_CUSTOMER``
warning at the customer cell. Reports group records by master customer
(`.grouping.canonical_records`), and the master's policy (or automotive flag) chooses the
monitoring policy before ``qmsforms.toml``'s ``[scoring.customers]`` does.
"""

from __future__ import annotations

from .grouping import canonical_records
from .master import (
    MASTER_NAME,
    Customer,
    CustomerMaster,
    CustomerMasterError,
    Match,
    MatchSettings,
    load_master,
    master_path,
    save_master,
)
from .records import MASTER_KEY, current_master

# ``.sheet`` (import and export) is imported where it is used: validating a form loads only
# the master and its matching.

__all__ = [
    "MASTER_KEY",
    "MASTER_NAME",
    "Customer",
    "CustomerMaster",
    "CustomerMasterError",
    "Match",
    "MatchSettings",
    "canonical_records",
    "current_master",
    "load_master",
    "master_path",
    "save_master",
]
