"""The PostgreSQL engine's operations on the corrective actions (migration 2) and the
attempts at each claim: `PostgresLedger` takes them in as a base class, as `SQLiteLedger`
takes `sqlite_tables`; they use its queries (a lost server is ``LEDGER_UNAVAILABLE``) and
its transactions."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from typing import Any

import psycopg

from .postgres_schema import PG_INSERT_ACTION, pg
from .schema import WITH_SITES, action_of, action_params, select
from .store import ActionRow, now, site_of

Connection = psycopg.Connection[dict[str, Any]]
"""The engine's transaction handle: a connection whose rows are dicts."""


class PostgresTables(ABC):
    """Actions and attempts, on the connection and transactions of `PostgresLedger`."""

    only_site: str | None

    @abstractmethod
    def _q(self, sql: str, args: Any = ()) -> list[dict[str, Any]]: ...

    @abstractmethod
    def _one(self, sql: str, args: Any = ()) -> dict[str, Any] | None: ...

    @abstractmethod
    def _by(self, table: str, column: str, value: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def _write(self, *, durable: bool = True) -> AbstractContextManager[Connection]: ...

    # -- actions (migration 2) ---------------------------------------------------------------

    def actions(self, scope: str | None = None, site: str | None = None) -> list[ActionRow]:
        """The actions raised (those of one ``scope``, of ``site``), by number."""
        sql, args = select("actions", 'action_id COLLATE "C"', WITH_SITES, scope=scope,
                           site=site_of(self.only_site, site))
        return [action_of(r) for r in self._q(pg(sql), args)]

    def action_ids(self, prefix: str) -> list[str]:
        """The numbers of the actions starting with ``prefix``."""
        rows = self._q("SELECT action_id FROM actions WHERE left(action_id, %s) = %s",
                       [len(prefix), prefix])
        return [str(r["action_id"]) for r in rows]

    def action(self, action_id: str) -> ActionRow | None:
        """One action by its number."""
        found = self._by("actions", "action_id", action_id)
        return None if found is None else action_of(found)

    def add_action(self, db: Connection, row: ActionRow) -> None:
        """Insert an action (its number and cause key are unique)."""
        db.execute(PG_INSERT_ACTION, action_params(row))

    def update_action(self, db: Connection, action_id: str,
                      cause_removed_by: str | None, updated_at: str,
                      cause: dict[str, Any] | None = None,
                      problem: tuple[str, str] | None = None) -> None:
        """Set or clear the record that removed an action's cause (and its new details)."""
        text = None if cause is None else json.dumps(cause, ensure_ascii=False, sort_keys=True,
                                                     default=str)
        zh, en = problem if problem is not None else (None, None)
        db.execute("UPDATE actions SET cause_removed_by = %s, updated_at = %s,"
                   " cause = coalesce(%s, cause), problem_zh = coalesce(%s, problem_zh),"
                   " problem_en = coalesce(%s, problem_en) WHERE action_id = %s",
                   (cause_removed_by, updated_at, text, zh, en, action_id))

    # -- attempts: bookkeeping, committed without waiting for the disk ------------------------

    def begin_attempt(self, claim_id: str, name: str) -> int:
        """Count one more attempt at processing a claim (own transaction); the new count.

        Committed with ``synchronous_commit = off`` (as SQLite's ``synchronous = NORMAL``):
        a server crash may lose the last counts, never the outcomes."""
        stamp = now()
        with self._write(durable=False) as db:
            row = db.execute(
                "INSERT INTO attempts AS a (claim_id, name, count, first_at, last_at)"
                " VALUES (%s, %s, 1, %s, %s) ON CONFLICT (claim_id) DO UPDATE SET"
                " count = a.count + 1, name = excluded.name, last_at = excluded.last_at"
                " RETURNING count", (claim_id, name, stamp, stamp)).fetchone()
        assert row is not None
        return int(row["count"])

    def end_attempt(self, claim_id: str) -> None:
        """An attempt that finished, whatever it found, is taken off the count again."""
        with self._write(durable=False) as db:
            db.execute("UPDATE attempts SET count = greatest(count - 1, 0)"
                       " WHERE claim_id = %s", (claim_id,))

    def fail_attempt(self, claim_id: str, error: str) -> None:
        """Remember why the last attempt at a claim failed (own transaction).

        Raises KeyError when no attempt was begun for ``claim_id``. The error text is kept to
        its first 2,000 characters.
        """
        with self._write(durable=False) as db:
            updated = db.execute("UPDATE attempts SET last_error = %s, last_at = %s"
                                 " WHERE claim_id = %s RETURNING claim_id",
                                 (error[:2000], now(), claim_id)).fetchone()
        if updated is None:
            raise KeyError(claim_id)

    def attempt(self, claim_id: str) -> dict[str, Any] | None:
        """The attempts counted for a claim, or None."""
        return self._by("attempts", "claim_id", claim_id)

    def open_attempts(self) -> list[dict[str, Any]]:
        """Attempts at claims not decided yet (no ``files`` row), oldest first."""
        return self._q(
            "SELECT a.* FROM attempts a LEFT JOIN files f ON f.claim_id = a.claim_id"
            " WHERE f.claim_id IS NULL ORDER BY a.first_at, a.claim_id")
