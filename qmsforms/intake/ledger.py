"""The ledger: every file taken from the inbox, every record, every issued blank (SQLite).

One database per workspace (``.qmsforms/ledger.sqlite``; keep it on a local disk, never a
network share). WAL mode lets ``records`` read while a watcher writes; a busy timeout lets two
watchers share it; ``BEGIN IMMEDIATE`` makes each decision (duplicate? revision of which
record?) atomic. The schema is versioned with ``PRAGMA user_version`` and migrated forward on
open. Constraints carry the invariants: one outcome per claimed file, one record per content
hash, one latest record per natural key.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..issues import QmsFormsError

MIGRATIONS: tuple[str, ...] = (
    # 1: files, records, issued blanks, event log
    """
    CREATE TABLE records (
        record_id    TEXT PRIMARY KEY,
        form         TEXT NOT NULL,
        revision     TEXT NOT NULL,
        instance_id  TEXT,
        sha256       TEXT NOT NULL UNIQUE,
        natural_key  TEXT NOT NULL,
        customer     TEXT,
        period       TEXT,
        supersedes   TEXT REFERENCES records(record_id),
        latest       INTEGER NOT NULL DEFAULT 1 CHECK (latest IN (0, 1)),
        notes        TEXT NOT NULL DEFAULT '[]',
        data         TEXT NOT NULL,
        scores       TEXT,
        source_name  TEXT NOT NULL,
        received_at  TEXT NOT NULL,
        processed_at TEXT NOT NULL,
        path         TEXT NOT NULL
    );
    CREATE UNIQUE INDEX records_one_latest ON records(form, natural_key) WHERE latest = 1;
    CREATE INDEX records_form ON records(form, customer, period);
    CREATE INDEX records_instance ON records(instance_id);

    CREATE TABLE files (
        claim_id     TEXT PRIMARY KEY,
        name         TEXT NOT NULL,
        sha256       TEXT NOT NULL,
        size         INTEGER NOT NULL,
        received_at  TEXT NOT NULL,
        processed_at TEXT NOT NULL,
        outcome      TEXT NOT NULL CHECK (outcome IN ('record', 'rejected', 'duplicate')),
        record_id    TEXT REFERENCES records(record_id),
        form         TEXT,
        codes        TEXT NOT NULL DEFAULT '[]',
        location     TEXT NOT NULL,
        CHECK ((outcome = 'rejected') = (record_id IS NULL))
    );
    CREATE INDEX files_sha ON files(sha256);

    CREATE TABLE issued (
        instance_id  TEXT PRIMARY KEY,
        form         TEXT NOT NULL,
        revision     TEXT NOT NULL,
        issued_at    TEXT NOT NULL,
        customer     TEXT,
        path         TEXT
    );

    CREATE TABLE events (
        id           INTEGER PRIMARY KEY,
        at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        kind         TEXT NOT NULL,
        claim_id     TEXT,
        detail       TEXT NOT NULL DEFAULT ''
    );
    """,
    # 2: read attempts per claim (poison files), the report kept with a rejection
    """
    CREATE TABLE attempts (
        claim_id     TEXT PRIMARY KEY,
        name         TEXT NOT NULL,
        count        INTEGER NOT NULL DEFAULT 0,
        first_at     TEXT NOT NULL,
        last_at      TEXT NOT NULL,
        last_error   TEXT NOT NULL DEFAULT ''
    );
    ALTER TABLE files ADD COLUMN report TEXT;
    """,
)


class LedgerError(QmsFormsError):
    """The ledger cannot be opened or is damaged."""


@dataclass(frozen=True)
class RecordRow:
    """One record: a valid form as accepted, with its place in the revision chain."""

    record_id: str
    form: str
    revision: str
    instance_id: str | None
    sha256: str
    natural_key: dict[str, Any]
    data: dict[str, Any]
    scores: dict[str, Any] | None
    source_name: str
    received_at: str
    processed_at: str
    path: str
    customer: str | None = None
    period: str | None = None
    supersedes: str | None = None
    latest: bool = True
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "record_id": self.record_id, "form": self.form, "revision": self.revision,
            "instance_id": self.instance_id, "sha256": self.sha256,
            "natural_key": self.natural_key, "customer": self.customer, "period": self.period,
            "supersedes": self.supersedes, "latest": self.latest, "notes": list(self.notes),
            "data": self.data, "scores": self.scores, "source_name": self.source_name,
            "received_at": self.received_at, "processed_at": self.processed_at,
            "path": self.path,
        }


@dataclass(frozen=True)
class FileRow:
    """The outcome of one file taken from the inbox."""

    claim_id: str
    name: str
    sha256: str
    size: int
    received_at: str
    processed_at: str
    outcome: str
    location: str
    record_id: str | None = None
    form: str | None = None
    codes: tuple[str, ...] = ()
    report: dict[str, Any] | None = None


def _key(values: dict[str, Any]) -> str:
    return json.dumps(values, sort_keys=True, ensure_ascii=False, default=str)


def _record(row: sqlite3.Row) -> RecordRow:
    return RecordRow(
        record_id=row["record_id"], form=row["form"], revision=row["revision"],
        instance_id=row["instance_id"], sha256=row["sha256"],
        natural_key=json.loads(row["natural_key"]), data=json.loads(row["data"]),
        scores=json.loads(row["scores"]) if row["scores"] else None,
        source_name=row["source_name"], received_at=row["received_at"],
        processed_at=row["processed_at"], path=row["path"], customer=row["customer"],
        period=row["period"], supersedes=row["supersedes"], latest=bool(row["latest"]),
        notes=tuple(json.loads(row["notes"])),
    )


def _file(row: sqlite3.Row) -> FileRow:
    return FileRow(
        claim_id=row["claim_id"], name=row["name"], sha256=row["sha256"], size=row["size"],
        received_at=row["received_at"], processed_at=row["processed_at"],
        outcome=row["outcome"], location=row["location"], record_id=row["record_id"],
        form=row["form"], codes=tuple(json.loads(row["codes"])),
        report=json.loads(row["report"]) if row["report"] else None,
    )


class Ledger:
    """The workspace's SQLite ledger. Use as a context manager or call `close`."""

    def __init__(self, path: str | Path, timeout: float = 60.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None,
                                      check_same_thread=False)
            self.db.row_factory = sqlite3.Row
            self.db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = FULL")
            self.db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"{self.path}: cannot open the ledger: {exc}") from exc

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    @property
    def version(self) -> int:
        """The schema version (number of migrations applied)."""
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        with self.transaction() as db:
            current = int(db.execute("PRAGMA user_version").fetchone()[0])
            if current > len(MIGRATIONS):
                raise LedgerError(f"{self.path}: ledger schema {current} is newer than this "
                                  f"qmsforms ({len(MIGRATIONS)}); upgrade qmsforms")
            for number, script in enumerate(MIGRATIONS[current:], start=current + 1):
                for statement in script.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An immediate (write-locking) transaction: committed on success, else rolled back."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- reads ---------------------------------------------------------------------------

    def file(self, claim_id: str) -> FileRow | None:
        """The outcome recorded for a claimed file, if any."""
        row = self.db.execute("SELECT * FROM files WHERE claim_id = ?", (claim_id,)).fetchone()
        return _file(row) if row else None

    def files(self, outcome: str | None = None) -> list[FileRow]:
        """Every file taken from the inbox, oldest first."""
        sql = "SELECT * FROM files"
        args: tuple[Any, ...] = ()
        if outcome:
            sql, args = sql + " WHERE outcome = ?", (outcome,)
        return [_file(r) for r in self.db.execute(sql + " ORDER BY processed_at, claim_id",
                                                  args)]

    def record(self, record_id: str) -> RecordRow | None:
        """One record by id."""
        row = self.db.execute("SELECT * FROM records WHERE record_id = ?",
                              (record_id,)).fetchone()
        return _record(row) if row else None

    def record_by_sha(self, sha256: str) -> RecordRow | None:
        """The record made from byte-identical content, if any."""
        row = self.db.execute("SELECT * FROM records WHERE sha256 = ?", (sha256,)).fetchone()
        return _record(row) if row else None

    def latest(self, form: str, natural_key: dict[str, Any]) -> RecordRow | None:
        """The latest record of ``form`` with this natural key."""
        row = self.db.execute(
            "SELECT * FROM records WHERE form = ? AND natural_key = ? AND latest = 1",
            (form, _key(natural_key))).fetchone()
        return _record(row) if row else None

    def by_instance(self, instance_id: str) -> list[RecordRow]:
        """Records that came back on the blank with this instance id."""
        rows = self.db.execute("SELECT * FROM records WHERE instance_id = ?", (instance_id,))
        return [_record(r) for r in rows]

    def records(self, form: str | None = None, customer: str | None = None,
                latest_only: bool = True) -> list[RecordRow]:
        """Records, oldest first; by default only the latest revision of each."""
        clauses, args = [], []
        if form:
            clauses.append("form = ?")
            args.append(form)
        if customer:
            clauses.append("customer LIKE ?")
            args.append(f"%{customer}%")
        if latest_only:
            clauses.append("latest = 1")
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self.db.execute(f"SELECT * FROM records{where} ORDER BY processed_at, record_id",
                               args)
        return [_record(r) for r in rows]

    def links(self, row: RecordRow) -> dict[str, Any]:
        """Records linked to ``row``: a complaint's 8D (with its status), an 8D's complaint."""
        if row.form == "complaint" and row.data.get("ticket_no"):
            report = self.latest("8d-report", {"complaint_no": row.data["ticket_no"]})
            status = (report.scores or {}) if report else {}
            return {"eight_d": None if report is None else {
                "record_id": report.record_id, "reached": status.get("reached"),
                "closed": status.get("closed", False)}}
        if row.form == "8d-report" and row.data.get("complaint_no"):
            complaint = self.latest("complaint", {"ticket_no": row.data["complaint_no"]})
            return {"complaint": complaint.record_id if complaint else None}
        return {}

    def count(self, table: str) -> int:
        """Rows in ``records``, ``files``, ``issued`` or ``events``."""
        if table not in ("records", "files", "issued", "events"):
            raise ValueError(table)
        return int(self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    def is_issued(self, instance_id: str) -> bool:
        """Whether ``qmsforms new`` issued this blank in this workspace."""
        return self.db.execute("SELECT 1 FROM issued WHERE instance_id = ?",
                               (instance_id,)).fetchone() is not None

    def issued(self, form: str | None = None) -> list[dict[str, Any]]:
        """The blanks issued here."""
        sql, args = "SELECT * FROM issued", ()
        if form:
            sql, args = sql + " WHERE form = ?", (form,)  # type: ignore[assignment]
        return [dict(r) for r in self.db.execute(sql + " ORDER BY issued_at", args)]

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The event log (duplicates, recoveries, notes)."""
        sql, args = "SELECT * FROM events", ()
        if kind:
            sql, args = sql + " WHERE kind = ?", (kind,)  # type: ignore[assignment]
        return [dict(r) for r in self.db.execute(sql + " ORDER BY id", args)]

    def integrity(self) -> str:
        """``PRAGMA integrity_check``: ``ok`` when the database is sound."""
        return str(self.db.execute("PRAGMA integrity_check").fetchone()[0])

    # -- writes (inside `transaction`) -----------------------------------------------------

    def add_record(self, db: sqlite3.Connection, row: RecordRow) -> None:
        """Insert a record; when it supersedes one, that one stops being the latest."""
        if row.supersedes:
            db.execute("UPDATE records SET latest = 0 WHERE record_id = ?", (row.supersedes,))
        db.execute(
            "INSERT INTO records (record_id, form, revision, instance_id, sha256, natural_key,"
            " customer, period, supersedes, latest, notes, data, scores, source_name,"
            " received_at, processed_at, path) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (row.record_id, row.form, row.revision, row.instance_id, row.sha256,
             _key(row.natural_key), row.customer, row.period, row.supersedes, int(row.latest),
             json.dumps(list(row.notes)), json.dumps(row.data, ensure_ascii=False),
             json.dumps(row.scores, ensure_ascii=False) if row.scores is not None else None,
             row.source_name, row.received_at, row.processed_at, row.path))

    def add_file(self, db: sqlite3.Connection, row: FileRow) -> None:
        """Record the outcome of a claimed file."""
        db.execute(
            "INSERT INTO files (claim_id, name, sha256, size, received_at, processed_at,"
            " outcome, record_id, form, codes, location, report)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (row.claim_id, row.name, row.sha256, row.size, row.received_at, row.processed_at,
             row.outcome, row.record_id, row.form, json.dumps(list(row.codes)), row.location,
             json.dumps(row.report, ensure_ascii=False, default=str) if row.report else None))

    # -- read attempts (poison files) -----------------------------------------------------

    def begin_attempt(self, claim_id: str, name: str) -> int:
        """Count a read of a claimed file about to start; returns the reads counted so far.

        A read that ends (`end_attempt`) is taken off again; one that fails (`fail_attempt`)
        or never ends (the process died) stays counted, so a file that keeps killing its
        reader is refused after a bounded number of reads.
        """
        with self.transaction() as db:
            db.execute(
                "INSERT INTO attempts (claim_id, name, count, first_at, last_at)"
                " VALUES (?, ?, 1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'),"
                " strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))"
                " ON CONFLICT(claim_id) DO UPDATE SET count = count + 1,"
                " last_at = excluded.last_at", (claim_id, name))
            return int(db.execute("SELECT count FROM attempts WHERE claim_id = ?",
                                  (claim_id,)).fetchone()[0])

    def end_attempt(self, claim_id: str) -> None:
        """A read finished (whatever it found): it does not count against the file."""
        with self.transaction() as db:
            db.execute("UPDATE attempts SET count = max(count - 1, 0) WHERE claim_id = ?",
                       (claim_id,))

    def fail_attempt(self, claim_id: str, error: str) -> None:
        """A read failed (the reader died, ran out of memory or time, or raised)."""
        with self.transaction() as db:
            db.execute("UPDATE attempts SET last_error = ? WHERE claim_id = ?",
                       (error, claim_id))

    def attempt(self, claim_id: str) -> dict[str, Any] | None:
        """The attempts counted for one claim."""
        row = self.db.execute("SELECT * FROM attempts WHERE claim_id = ?",
                              (claim_id,)).fetchone()
        return dict(row) if row else None

    def open_attempts(self) -> list[dict[str, Any]]:
        """Claims with failed or unfinished reads and no outcome yet."""
        rows = self.db.execute(
            "SELECT a.* FROM attempts a LEFT JOIN files f ON f.claim_id = a.claim_id"
            " WHERE f.claim_id IS NULL AND (a.count > 0 OR a.last_error != '')"
            " ORDER BY a.first_at")
        return [dict(r) for r in rows]

    def log(self, kind: str, claim_id: str | None = None, detail: str = "",
            db: sqlite3.Connection | None = None) -> None:
        """Append to the event log."""
        (db or self.db).execute("INSERT INTO events (kind, claim_id, detail) VALUES (?,?,?)",
                                (kind, claim_id, detail))

    def add_issued(self, instance_id: str, form: str, revision: str, issued_at: str,
                   customer: str | None = None, path: str | None = None) -> None:
        """Remember a blank issued from this workspace."""
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO issued VALUES (?,?,?,?,?,?)",
                       (instance_id, form, revision, issued_at, customer, path))
