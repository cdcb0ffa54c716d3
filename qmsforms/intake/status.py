"""What the intake is doing and what needs a person (``qmsforms status``, SPEC §9).

Everything here is found by looking, never by asking a running watcher: the inbox and its
work folder, the claim locks, the ledger and the outbox. `intake_status` only reads; it can
run beside a watcher, from a scheduler or from monitoring, and its ``needs_person`` decides
the exit code of ``qmsforms status``.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..workspace import Workspace
from .files import (
    LOOK_ONLY,
    WORK_DIR,
    candidates,
    claim_entries,
    claim_folders,
    display_name,
    is_ignored,
    is_locked,
    kind_of,
    lock_files,
)
from .ledger import Ledger, LedgerError, open_ledger
from .locks import ClaimLock


@dataclass
class Entry:
    """One thing the status names: a file, a claim or a record, and its state."""

    name: str
    state: str  # a stable keyword (see `intake_status`)
    detail: str = ""
    since: str | None = None
    person: bool = False  # needs a person

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"name": self.name, "state": self.state, "detail": self.detail,
                "since": self.since, "needs_person": self.person}


@dataclass
class IntakeStatus:
    """The state of one workspace's intake."""

    inbox: list[Entry] = field(default_factory=list)
    claims: list[Entry] = field(default_factory=list)
    outbox: list[Entry] = field(default_factory=list)
    ledger: str = "ok"
    counts: dict[str, int] = field(default_factory=dict)
    last_record: str | None = None

    @property
    def needs_person(self) -> bool:
        """Whether anything here waits for a person (``qmsforms status`` exits 1)."""
        return self.ledger != "ok" or any(
            e.person for e in (*self.inbox, *self.claims, *self.outbox))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``status --json`` prints this."""
        return {"needs_person": self.needs_person, "ledger": self.ledger,
                "counts": self.counts, "last_record": self.last_record,
                "inbox": [e.to_dict() for e in self.inbox],
                "claims": [e.to_dict() for e in self.claims],
                "outbox": [e.to_dict() for e in self.outbox]}


STALE_LOCK = 12 * 3600.0  # an editor's lock file older than this is likely left by a crash


def _stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _readable(path: Path) -> str | None:
    """None when the intake may read ``path``, else why not (never blocks on a pipe)."""
    try:
        fd = os.open(path, LOOK_ONLY)
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    os.close(fd)
    return None


def _inbox_entry(inbox: Path, path: Path, now: float) -> Entry:
    name = "/".join(display_name(p) for p in path.relative_to(inbox).parts)
    kind = kind_of(path)
    if kind == "link":
        return Entry(name, "link", "a link: it is refused unread")
    if kind not in (None, "missing"):
        return Entry(name, kind or "other", "not a regular file: it is refused unread")
    try:
        st = os.lstat(path)
    except OSError:
        return Entry(name, "gone")
    locks = [p for p in lock_files(path) if os.path.lexists(p)]
    if locks:
        lock_time = min(os.lstat(p).st_mtime for p in locks)
        return Entry(name, "open", f"open in an editor ({locks[0].name})", _stamp(lock_time),
                     person=now - lock_time > STALE_LOCK)
    why = _readable(path)
    if why is not None:
        return Entry(name, "unreadable", why, _stamp(st.st_mtime), person=True)
    return Entry(name, "waiting", f"{st.st_size} bytes", _stamp(st.st_mtime))


def intake_status(ws: Workspace, *, locks: Path | None = None) -> IntakeStatus:
    """Look at the workspace's inbox, work folder, ledger and outbox."""
    status = IntakeStatus()
    now = time.time()
    inbox = ws.inbox
    status.inbox = [_inbox_entry(inbox, p, now) for p in candidates(inbox)]
    ledger: Ledger | None = None
    try:
        ledger = open_ledger(ws)  # read-only; checked (quick_check) as it opens
    except LedgerError as exc:
        status.ledger = str(exc)
    except (OSError, sqlite3.Error) as exc:  # reported, never raised
        status.ledger = f"cannot be read: {exc}"
    try:
        _claims(ws, status, ledger, locks or ws.state_dir / "locks")
        if ledger is not None:
            _ledger_and_outbox(ws, status, ledger)
    finally:
        if ledger is not None:
            ledger.close()
    return status


def _claims(ws: Workspace, status: IntakeStatus, ledger: Ledger | None, locks: Path) -> None:
    work = ws.inbox / WORK_DIR
    folders, strays = claim_folders(work)
    for stray in strays:
        if not stray.name.startswith("."):
            status.claims.append(Entry(f"{WORK_DIR}/{display_name(stray.name)}", "stray",
                                       "not the intake's: returned to the inbox at the next "
                                       "pass"))
    attempts = {a["claim_id"]: a for a in ledger.open_attempts()} if ledger else {}
    for folder in folders:
        entries = claim_entries(folder)
        forms = [e for e in entries if not is_ignored(e.name)]
        name = f"{WORK_DIR}/{folder.name}"
        shown = ", ".join(display_name(e.name) for e in forms) or "(empty)"
        try:
            lock = ClaimLock.acquire(locks / f"{folder.name}.lock") if locks.is_dir() else None
        except OSError:
            lock = None
        if locks.is_dir() and lock is None:
            status.claims.append(Entry(name, "in_progress", f"{shown}: being processed"))
            continue
        if lock is not None:
            lock.release()
        decided = ledger.file(folder.name) if ledger else None
        tried = attempts.get(folder.name)
        if forms and len(forms) == 1 and is_locked(forms[0]):
            status.claims.append(Entry(name, "open", f"{shown}: open in an editor; it waits",
                                       person=True))
        elif decided is not None:
            status.claims.append(Entry(name, "outputs_pending",
                                       f"{shown}: {decided.outcome} decided, outbox files not "
                                       "yet written", decided.processed_at, person=True))
        elif tried is not None and tried["last_error"]:
            status.claims.append(Entry(name, "failing",
                                       f"{shown}: {tried['count']} failed read(s), last "
                                       f"{tried['last_error']}", tried["last_at"],
                                       person=True))
        else:
            status.claims.append(Entry(name, "claimed", f"{shown}: finished at the next pass"))


def _ledger_and_outbox(ws: Workspace, status: IntakeStatus, ledger: Ledger) -> None:
    status.counts = {t: ledger.count(t) for t in ("records", "files", "issued")}
    status.counts["rejected"] = len(ledger.files("rejected"))
    rows = ledger.records(latest_only=False)
    if rows:
        status.last_record = max(r.processed_at for r in rows)
    missing = [r for r in rows if not (ws.outbox / r.path).is_file()]
    for row in missing:
        status.outbox.append(Entry(row.record_id, "record_json_missing",
                                   f"{row.path} not written yet", row.processed_at,
                                   person=True))
    # customers to follow up: unknown to the customer master, answers at 1-2 not handled
    from ..customers.follow_up import follow_ups

    status.outbox += [Entry(f.name, f.state, f.detail, f.since, person=True)
                      for f in follow_ups(ws, rows)]
