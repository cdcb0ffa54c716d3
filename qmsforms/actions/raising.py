"""Raising actions: the causes of a record's scopes reconciled with the actions raised.

`reconcile` runs inside the transaction that adds a record (`qmsforms.intake.pipeline`) or
voids one (`qmsforms.intake.voids`), so a record never stands in the ledger without its
actions. For each scope the record can change it reads the causes the records show now
(`qmsforms.actions.causes`) and compares them with the actions of that scope:

- a cause without an action raises one, numbered ``CA-YYYY-NNNN``: the year of the day raised
  (the raising record's ``received_at``, never the clock), the next number of that year; the
  raising record is the newest received of the records that show the cause;
- a cause with an action leaves it alone (the same file again, a duplicate, a revision that
  changes nothing raise nothing); one whose cause had gone is cleared again, and its details
  follow the records (a streak a fourth month made longer names that month too);
- an action whose cause is gone (a revision removed the deductions, a survey was corrected, a
  record was voided) keeps its number and gets ``cause_removed_by`` = that record's id.

Every action raised or changed is also written to ``outbox/actions/<action_id>.json`` once
the transaction is committed (`write_journal`): a ledger rebuilt from the outbox replays the
raising record by record (`Replay`) and gives each cause the number its journal names, so the
numbers survive even where two records were processed in the same second.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..intake.ledger import ActionRow
from ..intake.ledger.store import key_text
from ..intake.outputs import write_json
from ..issues import QmsFormsError
from .causes import Cause, Context, LedgerRecords, RecordSource, causes_of, scopes_of
from .policy import load_action_policy

if TYPE_CHECKING:
    from ..intake.ledger import LedgerStore, RecordRow
    from ..workspace import Workspace

log = logging.getLogger(__name__)

JOURNAL_DIR = "actions"
"""The outbox folder holding one JSON file per action (``outbox/actions/<action_id>.json``)."""


def context_of(workspace: Workspace) -> Context | None:
    """The raising context of ``workspace``; None (logged) when the action policy is broken:
    records are still taken in, and their causes are reconciled once it is mended."""
    try:
        return Context.of(workspace, load_action_policy(workspace))
    except QmsFormsError as exc:
        log.warning("纠正措施策略有误,本次不立项 / the action policy is broken, no action is "
                    "raised: %s", exc)
        return None


def _plain(cause: Cause) -> dict[str, Any]:
    """A cause's details as the ledger gives them back (JSON)."""
    return dict(json.loads(json.dumps(cause.details, ensure_ascii=False, default=str)))


def _sequence(action_id: str) -> int:
    try:
        return int(action_id.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return 0


class Raiser:
    """Reconciles scopes in one ledger transaction; ``reserved`` maps cause keys to the
    numbers an outbox journal gave them (a rebuild)."""

    def __init__(self, ledger: LedgerStore[Any], db: Any, ctx: Context,
                 records: RecordSource | None = None,
                 reserved: dict[str, str] | None = None) -> None:
        self.ledger = ledger
        self.db = db
        self.ctx = ctx
        self.records = records or LedgerRecords(ledger)
        self.reserved = reserved or {}

    def reconcile(self, trigger: RecordRow, at: str) -> list[str]:
        """Reconcile every scope ``trigger`` can change (``at``: when it was received, or
        voided); the ids of the actions raised or changed.

        The scopes are locked before their records and actions are read, and the numbering
        of each year before a number is counted (`LedgerStore.lock`): two records of one
        scope decided at once are reconciled one after the other, the second seeing the
        first (three months of a streak decided together raise it once, by the last)."""
        scopes = scopes_of(trigger, self.ctx)
        self.ledger.lock(self.db, *(f"scope:{scope}" for scope in scopes))
        found: list[tuple[str, list[Cause], dict[str, ActionRow]]] = []
        for scope in scopes:
            try:
                causes = causes_of(scope, self.records, self.ctx, trigger)
            except QmsFormsError as exc:  # a broken monitoring policy: leave the scope be
                log.error("%s: causes not read, actions left as they are: %s", scope, exc)
                continue
            found.append((scope, causes, {a.cause_key: a for a in self.ledger.actions(scope)}))
        self.ledger.lock(self.db, *(
            f"number:{self._prefix(date.fromisoformat(c.record.received_at[:10]).year)}"
            for _scope, causes, existing in found for c in causes if c.key not in existing))
        changed: list[str] = []
        for _scope, causes, existing in found:
            changed += self._scope(causes, existing, trigger, at)
        return changed

    def _scope(self, causes: list[Cause], existing: dict[str, ActionRow], trigger: RecordRow,
               at: str) -> list[str]:
        wanted = {c.key: c for c in causes}
        changed = []
        for key in sorted(wanted):
            action = existing.get(key)
            if action is None:
                action = self._raise(wanted[key], at)
                self.ledger.add_action(self.db, action)
                changed.append(action.action_id)
            elif action.cause_removed_by is not None or action.cause != _plain(wanted[key]):
                cause = wanted[key]
                self.ledger.update_action(self.db, action.action_id, None, at, _plain(cause),
                                          (cause.problem_zh, cause.problem_en))
                changed.append(action.action_id)
        for key, action in existing.items():
            if key not in wanted and action.cause_removed_by is None \
                    and self.ctx.policy.of(action.source) is not None:  # not one disabled
                self.ledger.update_action(self.db, action.action_id, trigger.record_id, at)
                changed.append(action.action_id)
        return changed

    def _raise(self, cause: Cause, at: str) -> ActionRow:
        policy = self.ctx.policy
        raised = date.fromisoformat(cause.record.received_at[:10])
        due = cause.due or policy.due(cause.source, raised)
        department = policy.department(cause.source, cause.category)
        return ActionRow(
            action_id=self._number(cause.key, raised.year), cause_key=cause.key,
            scope=cause.scope, source=cause.source, cause=cause.details,
            source_record=cause.record.record_id, customer=cause.customer,
            problem_zh=cause.problem_zh, problem_en=cause.problem_en,
            department_zh=department.department_zh, department_en=department.department_en,
            raised_on=raised.isoformat(), due=due.isoformat() if due else None,
            raised_at=at, updated_at=at, site=cause.record.site)

    def _prefix(self, year: int) -> str:
        return f"{self.ctx.policy.prefix}-{year}-"

    def _number(self, cause_key: str, year: int) -> str:
        prefix = self._prefix(year)
        kept = self.reserved.get(cause_key)
        if kept is not None and self.ledger.action(kept) is None:
            return kept
        used = [_sequence(i) for i in (*self.ledger.action_ids(prefix), *self.reserved.values())
                if i.startswith(prefix)]
        return f"{prefix}{max(used, default=0) + 1:04d}"


def reconcile(workspace: Workspace, ledger: LedgerStore[Any], db: Any, trigger: RecordRow,
              at: str) -> list[str]:
    """Reconcile the actions of the scopes ``trigger`` can change, in transaction ``db``
    (``at``: the record's ``received_at``, or when it was voided); the ids raised or
    changed. Nothing happens (logged) while the action policy is broken."""
    ctx = context_of(workspace)
    if ctx is None:
        return []
    return Raiser(ledger, db, ctx).reconcile(trigger, at)


def write_journal(outbox: Path, ledger: LedgerStore[Any], action_ids: Iterable[str]) -> None:
    """Write the outbox journal of these actions (after their transaction committed)."""
    for action_id in dict.fromkeys(action_ids):
        row = ledger.action(action_id)
        if row is not None:
            write_json(outbox / JOURNAL_DIR / f"{action_id}.json", row.to_dict())


def touched_by(ledger: LedgerStore[Any], record_id: str) -> list[str]:
    """The actions that record ``record_id`` raised or whose cause it removed."""
    return [a.action_id for a in ledger.actions()
            if record_id in (a.source_record, a.cause_removed_by)]


def read_journal(outbox: Path) -> dict[str, str]:
    """Cause key -> action id, from the outbox journal (unreadable files left out)."""
    found: dict[str, str] = {}
    folder = outbox / JOURNAL_DIR
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            row = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if (isinstance(row, dict) and isinstance(row.get("cause_key"), str)
                and row.get("action_id") == path.stem):
            found[row["cause_key"]] = path.stem
    return found


class Replay(RecordSource):
    """The records as they stood while the intake took them in, for a rebuild: added one by
    one in the order processed, voided in the order voided."""

    def __init__(self) -> None:
        self.rows: dict[str, RecordRow] = {}
        self._latest: dict[tuple[str, str], str] = {}

    def add(self, row: RecordRow) -> RecordRow:
        """Take ``row`` in as the latest of its natural key; the row as it stands now."""
        key = (row.form, key_text(row.natural_key))
        before = self._latest.get(key)
        if before is not None:
            self.rows[before] = replace(self.rows[before], latest=False)
        row = replace(row, latest=True, voided=None)
        self.rows[row.record_id] = row
        self._latest[key] = row.record_id
        return row

    def void(self, record_id: str, void: dict[str, str]) -> RecordRow:
        """Void a record; the revision it superseded (nearest not voided) is the latest again."""
        row = self.rows[record_id]
        key = (row.form, key_text(row.natural_key))
        self.rows[record_id] = replace(row, latest=False, voided=void)
        if self._latest.get(key) == record_id:
            del self._latest[key]
            previous = row.supersedes
            while previous and previous in self.rows:
                before = self.rows[previous]
                if before.voided is None:
                    self.rows[previous] = replace(before, latest=True)
                    self._latest[key] = previous
                    break
                previous = before.supersedes
        return self.rows[record_id]

    def latest_of(self, forms: Iterable[str],
                  customer: Callable[[str], bool] | None = None) -> list[RecordRow]:
        """The latest records of ``forms``, oldest first (all customers: the caller filters)."""
        wanted = set(forms)
        rows = [self.rows[i] for i in self._latest.values() if self.rows[i].form in wanted]
        return sorted(rows, key=lambda r: (r.processed_at, r.record_id))

    def latest(self, form: str, natural_key: dict[str, Any]) -> RecordRow | None:
        """The latest record of ``form`` with this natural key."""
        found = self._latest.get((form, key_text(natural_key)))
        return None if found is None else self.rows[found]


def replay_actions(workspace: Workspace, ledger: LedgerStore[Any], db: Any,
                   rows: list[RecordRow], voids: dict[str, dict[str, str]]) -> int:
    """Raise again, in transaction ``db`` of a rebuilt ledger, the actions the intake raised:
    ``rows`` replayed in the order processed and ``voids`` (record id -> at, by, reason) at
    the time they were made; numbers from the outbox journal. The number of actions."""
    ctx = context_of(workspace)
    if ctx is None:
        return 0
    replay = Replay()
    raiser = Raiser(ledger, db, ctx, replay, read_journal(workspace.outbox))
    by_id = {r.record_id: r for r in rows}

    def depth(row: RecordRow) -> int:  # a revision comes after what it revises, same second
        n, seen = 0, {row.record_id}
        while row.supersedes in by_id and row.supersedes not in seen:
            row = by_id[row.supersedes]
            seen.add(row.record_id)
            n += 1
        return n

    events: list[tuple[str, int, int, str, Any]] = [
        (r.processed_at, 0, depth(r), r.record_id, r) for r in rows]
    events += [(v["at"], 1, 0, record_id, v) for record_id, v in voids.items()
               if record_id in by_id]
    for _at, kind, _depth, record_id, item in sorted(events, key=lambda e: e[:4]):
        if kind == 0:
            row = replay.add(item)
            raiser.reconcile(row, row.received_at)
        else:
            raiser.reconcile(replay.void(record_id, item), item["at"])
    return len(ledger.actions())
