"""Claim locks: who works on a claim, chosen by the ledger's engine (SPEC §10).

A claim (``inbox/.qmsforms-work/<claim id>/``) is processed only under its lock, and a lock
whose holder dies is free again at once, so recovery takes over what a dead run left and never
what a live one holds. Where the lock lives decides who can see it:

- **SQLite** (`FileClaimLocks`): an ``flock`` on ``.qmsforms/locks/<claim id>.lock`` on the
  watcher's local disk. Only processes on this machine see it, so with SQLite **one inbox is
  watched from one machine** (any number of watchers and ``process`` runs on that machine);
  a second machine on the same share would take the first one's live claims.
- **PostgreSQL** (`qmsforms.intake.ledger.postgres_locks.PostgresClaimLocks`): a session
  advisory lock per claim on a connection of its own, seen by every machine using the ledger,
  so **several machines may watch one inbox**. A holder that dies (or whose machine or network
  goes) frees its locks when the server ends its session; TCP keepalives make that happen
  within about a minute. A lock connection that is lost is ``LEDGER_UNAVAILABLE``: nothing is
  claimed until it is back.

`claim_locks` chooses; both kinds answer `ClaimLocks.holder` (``pid``, ``host``, ``since``)
without taking anything, for ``qmsforms status``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from .ledger import LedgerStore, SQLiteLedger
from .locks import ClaimLock


class Held(Protocol):
    """A claim lock held by this process."""

    def release(self) -> None:
        """Give the lock up (removing what it left behind)."""


class ClaimLocks(Protocol):
    """The claim locks of one intake (or of ``qmsforms status``, which only looks)."""

    what: str
    """How the locks are kept and who sees them, as the watcher's banner says it."""

    def acquire(self, claim_id: str) -> Held | None:
        """Take the lock of ``claim_id`` without waiting; None when another process holds it.

        Raises `LedgerError` (``LEDGER_UNAVAILABLE``) when the locks cannot be reached: then
        nothing may be claimed."""

    def holder(self, claim_id: str) -> dict[str, Any] | None:
        """Who holds the lock of ``claim_id`` (``pid``, ``host``, ``since``; those it cannot
        tell are missing), or None when nobody does. Takes, creates and removes nothing."""

    def close(self) -> None:
        """Release every lock still held and what keeps them (a connection)."""


class FileClaimLocks:
    """Claim locks as ``flock`` files in ``folder`` (``.qmsforms/locks``): the SQLite way,
    seen by the processes of this machine only."""

    what = ("flock files on this machine: with SQLite one inbox is watched from one machine "
            "only / 本机锁文件:SQLite 台账时一个收件箱只能由一台机器监视")

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, claim_id: str) -> Path:
        return self.folder / f"{claim_id}.lock"

    def acquire(self, claim_id: str) -> ClaimLock | None:
        """Take the lock file of ``claim_id``; None when another process holds it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return ClaimLock.acquire(self._path(claim_id))

    def holder(self, claim_id: str) -> dict[str, Any] | None:
        """Who holds the lock file of ``claim_id``, or None (see `ClaimLock.holder`)."""
        return ClaimLock.holder(self._path(claim_id))

    def close(self) -> None:
        """Nothing to close: each lock is released by its holder (or by the OS)."""


def claim_locks(ledger: LedgerStore[Any], folder: Path) -> ClaimLocks:
    """The claim locks that go with ``ledger``: `FileClaimLocks` in ``folder`` for SQLite,
    session advisory locks in the database for PostgreSQL."""
    if isinstance(ledger, SQLiteLedger):
        return FileClaimLocks(folder)
    from .ledger.postgres import PostgresLedger
    from .ledger.postgres_locks import PostgresClaimLocks

    if isinstance(ledger, PostgresLedger):
        return PostgresClaimLocks(ledger)
    raise TypeError(f"no claim locks for a {type(ledger).__name__}")
