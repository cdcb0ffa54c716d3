"""The SQLite engine's operations on the tables added after the first schema: the attempts
at each claim (schema 2) and the corrective actions (schema 4). `SQLiteLedger` takes them
in as a base class; they use its guarded queries and its transactions."""

from __future__ import annotations

import json
import sqlite3
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from typing import Any

from .schema import INSERT_ACTION, WITH_ACTIONS, action_of, action_params, select
from .store import ActionRow, now, site_of


class SQLiteTables(ABC):
    """Attempts and actions, on the connection and guards of `SQLiteLedger`."""

    only_site: str | None

    @property
    @abstractmethod
    def version(self) -> int:
        """The schema version."""

    @abstractmethod
    def _q(self, sql: str, args: Any = ()) -> list[sqlite3.Row]: ...

    @abstractmethod
    def _one(self, sql: str, args: Any = ()) -> sqlite3.Row | None: ...

    @abstractmethod
    def _bookkeeping(self) -> AbstractContextManager[sqlite3.Connection]: ...

    # -- actions (schema 4) ------------------------------------------------------------------

    def actions(self, scope: str | None = None, site: str | None = None) -> list[ActionRow]:
        """The actions raised (those of one ``scope``, of ``site``), by number."""
        if self.version < WITH_ACTIONS:
            return []
        sql, args = select("actions", "action_id", self.version, scope=scope,
                           site=site_of(self.only_site, site))
        return [action_of(r) for r in self._q(sql, args)]

    def action_ids(self, prefix: str) -> list[str]:
        """The numbers of the actions starting with ``prefix``."""
        if self.version < WITH_ACTIONS:
            return []
        rows = self._q("SELECT action_id FROM actions WHERE substr(action_id, 1, ?) = ?",
                       (len(prefix), prefix))
        return [str(r[0]) for r in rows]

    def action(self, action_id: str) -> ActionRow | None:
        """One action by its number."""
        if self.version < WITH_ACTIONS:
            return None
        row = self._one("SELECT * FROM actions WHERE action_id = ?", (action_id,))
        return action_of(row) if row else None

    def add_action(self, db: sqlite3.Connection, row: ActionRow) -> None:
        """Insert an action (its number and cause key are unique)."""
        db.execute(INSERT_ACTION, action_params(row))

    def update_action(self, db: sqlite3.Connection, action_id: str,
                      cause_removed_by: str | None, updated_at: str,
                      cause: dict[str, Any] | None = None,
                      problem: tuple[str, str] | None = None) -> None:
        """Set or clear the record that removed an action's cause (and its new details)."""
        db.execute("UPDATE actions SET cause_removed_by = ?, updated_at = ? WHERE action_id = ?",
                   (cause_removed_by, updated_at, action_id))
        if cause is not None:
            db.execute("UPDATE actions SET cause = ? WHERE action_id = ?",
                       (json.dumps(cause, ensure_ascii=False, sort_keys=True, default=str),
                        action_id))
        if problem is not None:
            db.execute("UPDATE actions SET problem_zh = ?, problem_en = ? WHERE action_id = ?",
                       (*problem, action_id))

    # -- attempts (schema 2) -----------------------------------------------------------------

    def begin_attempt(self, claim_id: str, name: str) -> int:
        """Count one more attempt at processing a claim (own transaction); the new count."""
        stamp = now()
        with self._bookkeeping() as db:
            db.execute(
                "INSERT INTO attempts (claim_id, name, count, first_at, last_at)"
                " VALUES (?, ?, 1, ?, ?) ON CONFLICT (claim_id) DO UPDATE SET"
                " count = count + 1, name = excluded.name, last_at = excluded.last_at",
                (claim_id, name, stamp, stamp))
            return int(db.execute("SELECT count FROM attempts WHERE claim_id = ?",
                                  (claim_id,)).fetchone()[0])

    def end_attempt(self, claim_id: str) -> None:
        """An attempt that finished, whatever it found, is taken off the count again: only
        reads that failed or never ended (the process died) count against a file."""
        with self._bookkeeping() as db:
            db.execute("UPDATE attempts SET count = max(count - 1, 0) WHERE claim_id = ?",
                       (claim_id,))

    def fail_attempt(self, claim_id: str, error: str) -> None:
        """Remember why the last attempt at a claim failed (own transaction).

        Raises KeyError when no attempt was begun for ``claim_id``. The error text is kept to
        its first 2,000 characters.
        """
        with self._bookkeeping() as db:
            cursor = db.execute(
                "UPDATE attempts SET last_error = ?, last_at = ? WHERE claim_id = ?",
                (error[:2000], now(), claim_id))
            if cursor.rowcount == 0:
                raise KeyError(claim_id)

    def attempt(self, claim_id: str) -> dict[str, Any] | None:
        """The attempts counted for a claim (``claim_id``, ``name``, ``count``, ``first_at``,
        ``last_at``, ``last_error``), or None."""
        if self.version < 2:
            return None
        row = self._one("SELECT * FROM attempts WHERE claim_id = ?", (claim_id,))
        return dict(row) if row else None

    def open_attempts(self) -> list[dict[str, Any]]:
        """Attempts at claims not decided yet (no ``files`` row), oldest first."""
        if self.version < 2:
            return []
        rows = self._q(
            "SELECT a.* FROM attempts a LEFT JOIN files f ON f.claim_id = a.claim_id"
            " WHERE f.claim_id IS NULL ORDER BY a.first_at, a.claim_id")
        return [dict(r) for r in rows]

