"""The ledger: every file taken from the inbox, every record, every issued blank.

`store` holds what any engine offers (`LedgerStore`, the rows, `LedgerError`); `sqlite` is the
engine in use (one database per workspace, ``.qmsforms/ledger.sqlite``), with its schema in
`schema` and its files in `sqlite_files`. Open a workspace's ledger with `open_ledger`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .schema import MIGRATIONS
from .sqlite import SQLiteLedger
from .sqlite_files import LEDGER_NAME, SIDE_FILES, ledger_path, side_files
from .store import (
    ActionRow,
    FileRow,
    LedgerError,
    LedgerStore,
    RecordRow,
    VoidRefused,
    outbox_records,
)

if TYPE_CHECKING:
    from ...workspace import Workspace

Ledger = SQLiteLedger
"""The ledger engine in use; ``Ledger(path)`` opens the SQLite ledger file at ``path``."""

__all__ = [
    "LEDGER_NAME",
    "MIGRATIONS",
    "SIDE_FILES",
    "ActionRow",
    "FileRow",
    "Ledger",
    "LedgerError",
    "LedgerStore",
    "RecordRow",
    "SQLiteLedger",
    "VoidRefused",
    "ledger_path",
    "open_ledger",
    "outbox_records",
    "side_files",
]


def open_ledger(workspace: Workspace, *, write: bool = False, timeout: float = 60.0) -> Ledger:
    """Open a workspace's ledger: the one way the intake, listings and reports get at it.

    ``write=False`` (listings, reports, look-ups) opens it read-only: no write lock is ever
    taken, nothing is written, an older schema is read as it is, and a workspace without a
    ledger reads as an empty one. ``write=True`` (the intake, issuing blanks) creates it in a
    fresh workspace and migrates it. Both refuse, with a `LedgerError`, a missing or empty
    ledger while the outbox holds records (``LEDGER_MISSING``), a damaged one
    (``LEDGER_DAMAGED``) and ledger files that are read-only or immutable where that is unsafe
    (``LEDGER_READONLY``; see `qmsforms.intake.ledger.sqlite`).
    """
    return SQLiteLedger(ledger_path(workspace), timeout, readonly=not write,
                        outbox=workspace.outbox)
