"""The PostgreSQL ledger's advisory locks: per-key decision locks and per-claim session locks.

**Decisions** (`xact_lock`, behind `PostgresLedger.lock`): a transaction that decides what a
file is locks the keys of what it is about to read before reading it — ``record:<form>:<natural
key>`` and ``sha:<sha256>`` for the intake's decision, ``scope:<scope>`` and
``number:<CA-YYYY->`` for the actions it raises — with ``pg_advisory_xact_lock`` on a 64-bit
hash of each key, in one order (so two transactions never wait for each other in a circle),
held until it commits or rolls back. Decisions about different keys run side by side; two
about one key run one after the other, and the second reads what the first committed (each
statement of a ``READ COMMITTED`` transaction sees what was committed before it began).
There is no lock of the whole ledger: moving a ledger in (`qmsforms.intake.ledger.migrate`)
locks the tables it copies, and waits for the decisions under way.

**Claims** (`PostgresClaimLocks`): a session advisory lock per claim id
(``pg_try_advisory_lock``), held on a connection of its own, seen by every machine using the
ledger and freed by the server when the holder's session ends (the process died, or its
machine or network went silent past the TCP keepalives). The connection's
``application_name`` names the host (`qmsforms.site.host_id`) and the process id, so
`PostgresClaimLocks.holder` can tell ``qmsforms status`` who holds a claim from ``pg_locks``
and ``pg_stat_activity``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterable
from typing import Any, Protocol

import psycopg

from ...site import host_id
from .postgres_errors import unavailable_error

log = logging.getLogger(__name__)

_APP = re.compile(r"^qmsforms (\S+) pid (\d+)$")


def application_name() -> str:
    """The ``application_name`` of this process's connections: ``qmsforms <host> pid <pid>``
    (at most 63 characters, PostgreSQL's limit)."""
    return f"qmsforms {host_id()} pid {os.getpid()}"[:63]


def advisory_key(text: str) -> int:
    """The 64-bit advisory lock number of a text key (the first 8 bytes of its SHA-256)."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big",
                          signed=True)


def xact_lock(db: psycopg.Connection[Any], keys: Iterable[str]) -> None:
    """Lock ``keys`` until the end of ``db``'s transaction, waiting for other holders (up to
    the connection's ``lock_timeout``), in ascending order of their numbers."""
    for number in sorted({advisory_key(k) for k in keys}):
        db.execute("SELECT pg_advisory_xact_lock(%s)", (number,))


class Ledger(Protocol):
    """What the claim locks use of `PostgresLedger`: its URL, new connections with its
    settings, and queries on its own connection."""

    url: str

    def connect(self) -> psycopg.Connection[dict[str, Any]]:
        """A new connection with the ledger's settings."""

    def _q(self, sql: str, args: Any = ()) -> list[dict[str, Any]]: ...


class PostgresClaim:
    """One claim lock held on a `PostgresClaimLocks` session."""

    def __init__(self, owner: PostgresClaimLocks, number: int,
                 session: psycopg.Connection[Any]) -> None:
        self.owner = owner
        self.number = number
        self.session = session

    def release(self) -> None:
        """Unlock the claim (nothing to do when its session was lost: the lock went with it)."""
        self.owner.release(self)


class PostgresClaimLocks:
    """Claim locks of a PostgreSQL ledger: a session advisory lock per claim on a connection
    opened (with the ledger's settings and keepalives) at the first `acquire`."""

    what = ("PostgreSQL session locks: several machines may watch this inbox / PostgreSQL "
            "会话锁:多台机器可同时监视此收件箱")

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._session: psycopg.Connection[Any] | None = None
        self._held: set[int] = set()

    def _connection(self) -> psycopg.Connection[Any]:
        session = self._session
        if session is not None and not (session.closed or session.broken):
            return session
        if session is not None:
            if self._held:
                log.warning("认领锁连接已断开,%d 个认领不再受保护 / the claim lock connection was "
                            "lost; %d claims are no longer held", len(self._held),
                            len(self._held))
            session.close()
        self._held.clear()
        self._session = None
        self._session = self.ledger.connect()
        return self._session

    def acquire(self, claim_id: str) -> PostgresClaim | None:
        """Take the lock of ``claim_id`` without waiting; None when another session (or this
        one, for a claim it holds already) has it. ``LEDGER_UNAVAILABLE`` when the database
        cannot be reached."""
        number = advisory_key(f"claim:{claim_id}")
        if number in self._held:
            return None
        try:
            got = self._try(number)
        except psycopg.OperationalError:
            try:  # a session lost since its last use (the server restarted): once more, anew
                got = self._try(number)
            except psycopg.OperationalError as exc:
                raise unavailable_error(self.ledger.url, exc) from exc
        if not got:
            return None
        self._held.add(number)
        assert self._session is not None
        return PostgresClaim(self, number, self._session)

    def _try(self, number: int) -> bool:
        row = self._connection().execute("SELECT pg_try_advisory_lock(%s) AS got",
                                         (number,)).fetchone()
        return bool(row and row["got"])

    def release(self, claim: PostgresClaim) -> None:
        """Unlock ``claim`` (see `PostgresClaim.release`)."""
        if claim.session is not self._session or claim.number not in self._held:
            return  # its session is gone, and the lock with it
        self._held.discard(claim.number)
        try:
            claim.session.execute("SELECT pg_advisory_unlock(%s)", (claim.number,))
        except psycopg.OperationalError:
            log.warning("认领锁连接已断开 / the claim lock connection was lost while "
                        "releasing a claim; the server frees it with the session")

    def holder(self, claim_id: str) -> dict[str, Any] | None:
        """Who holds the lock of ``claim_id`` (read on the ledger's own connection)."""
        number = advisory_key(f"claim:{claim_id}") & 0xFFFF_FFFF_FFFF_FFFF
        rows = self.ledger._q(
            "SELECT a.application_name, to_char(a.state_change AT TIME ZONE 'UTC',"
            " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS since FROM pg_locks l"
            " JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND l.classid::bigint = %s AND l.objid::bigint = %s",
            (number >> 32, number & 0xFFFF_FFFF))
        if not rows:
            return None
        found: dict[str, Any] = {}
        named = _APP.match(rows[0]["application_name"] or "")
        if named:
            found.update(host=named.group(1), pid=int(named.group(2)))
        if rows[0]["since"]:
            found["since"] = rows[0]["since"]
        return found

    def close(self) -> None:
        """Close the lock connection: every claim lock it held is released."""
        if self._session is not None:
            self._session.close()
        self._session = None
        self._held.clear()
