"""The ledger: every file taken from the inbox, every record, every issued blank.

`store` holds what any engine offers (`LedgerStore`, the rows, `LedgerError`). Two engines
keep it: `sqlite` by default (one database per workspace, ``.qmsforms/ledger.sqlite``), with
its schema in `schema` and its files in `sqlite_files`; and `postgres` (schema in
`postgres_schema`), one database several watchers share, chosen by a URL
(``QMSFORMS_LEDGER`` or ``[ledger] url``; see `ledger_url`). Open a workspace's ledger with
`open_ledger`.
"""

from __future__ import annotations

import os
import sqlite3
from typing import TYPE_CHECKING, Any

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
    decision_keys,
    outbox_records,
)

if TYPE_CHECKING:
    from ...workspace import Workspace

Ledger = SQLiteLedger
"""The default ledger engine; ``Ledger(path)`` opens the SQLite ledger file at ``path``."""

LEDGER_ENV = "QMSFORMS_LEDGER"
"""The environment variable that names the ledger database (overrides ``[ledger] url``)."""

UNAVAILABLE: tuple[type[BaseException], ...] = (LedgerError, sqlite3.OperationalError)
"""Errors that mean the ledger cannot be used right now (unreachable, locked too long), not
that a file is wrong: the intake is blocked and retries. The PostgreSQL engine raises its own
as `LedgerError`."""

__all__ = ["LEDGER_ENV", "LEDGER_NAME", "MIGRATIONS", "SIDE_FILES", "UNAVAILABLE", "ActionRow",
           "FileRow", "Ledger", "LedgerError", "LedgerStore", "RecordRow", "SQLiteLedger",
           "VoidRefused", "decision_keys", "ledger_location", "ledger_path", "ledger_url",
           "open_ledger", "outbox_records", "side_files"]


def ledger_url(workspace: Workspace) -> str | None:
    """The URL of the workspace's ledger database, or None for its SQLite ledger.

    ``QMSFORMS_LEDGER`` (when set and not empty) wins over ``[ledger] url``. A URL that is
    not ``postgresql://`` or holds a password is refused (`ConfigError`): the password comes
    from libpq's pgpass or service file.
    """
    from ...config import ConfigError, ledger_url_problem

    url = os.environ.get(LEDGER_ENV, "").strip()
    if url:
        problem = ledger_url_problem(url)
        if problem is not None:
            raise ConfigError(f"{LEDGER_ENV}: {problem}")
        return url
    return workspace.config.ledger.url or None


def ledger_location(workspace: Workspace) -> str:
    """Where the workspace's ledger is, as the watcher's banner and ``status`` show it."""
    url = ledger_url(workspace)
    if url is None:
        return str(ledger_path(workspace))
    from .postgres import redact

    return redact(url)


def open_ledger(workspace: Workspace, *, write: bool = False, timeout: float = 60.0,
                site: str | None = None) -> LedgerStore[Any]:
    """Open a workspace's ledger: the one way the intake, listings and reports get at it.

    The engine is SQLite (``.qmsforms/ledger.sqlite``) unless `ledger_url` names a
    PostgreSQL database (`qmsforms.intake.ledger.postgres`; psycopg 3 comes with
    ``pip install 'qmsforms[postgres]'``). A database that cannot be reached is
    ``LEDGER_UNAVAILABLE``: never a fallback to the SQLite file.

    ``write=False`` (listings, reports, look-ups) opens it read-only: no write lock is ever
    taken, nothing is written, an older schema is read as it is, and a workspace without a
    ledger reads as an empty one. ``write=True`` (the intake, issuing blanks) creates it in a
    fresh workspace and migrates it. Both refuse, with a `LedgerError`, a missing or empty
    ledger while the outbox holds records (``LEDGER_MISSING``), a damaged one
    (``LEDGER_DAMAGED``) and ledger files that are read-only or immutable where that is unsafe
    (``LEDGER_READONLY``; see `qmsforms.intake.ledger.sqlite`).

    ``site`` narrows what the ledger reads to one site's files, records, actions and issued
    blanks (`LedgerStore.only_site`: ``--site`` on listings and reports).
    """
    ledger = _open(workspace, write, timeout)
    ledger.only_site = site
    return ledger


def _open(workspace: Workspace, write: bool, timeout: float) -> LedgerStore[Any]:
    url = ledger_url(workspace)
    if url is None:
        return SQLiteLedger(ledger_path(workspace), timeout, readonly=not write,
                            outbox=workspace.outbox)
    try:
        from .postgres import PostgresLedger
    except ImportError as exc:
        raise LedgerError(
            "LEDGER_UNAVAILABLE",
            "台账设为 PostgreSQL 数据库,但未安装 psycopg:请运行 pip install 'qmsforms[postgres]'。",
            "the ledger is a PostgreSQL database but psycopg is not installed: "
            "pip install 'qmsforms[postgres]'") from exc
    return PostgresLedger(url, timeout, readonly=not write, outbox=workspace.outbox)
