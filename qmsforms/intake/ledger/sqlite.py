"""The SQLite ledger: every file taken from the inbox, every record, every issued blank.

One database per workspace (``.qmsforms/ledger.sqlite``; keep it on a local disk, never a
network share), opened with `open_ledger`. With SQLite one inbox is watched from one machine:
its claims are locked by files on that machine's disk (`qmsforms.intake.claims`); with the
PostgreSQL ledger several machines may watch one inbox. WAL mode lets ``records`` read while a
watcher writes; a busy timeout lets two watchers of one machine share it; ``BEGIN IMMEDIATE``
makes each decision (duplicate? revision of which record?) atomic. The schema is versioned with
``PRAGMA user_version`` and migrated forward by writers. Constraints carry the invariants: one
outcome per claimed file, one record per content hash, one latest record per natural key.

What opening guards against:

- a ledger that is missing, empty or holds no tables while the outbox already holds records is
  never replaced by a fresh one (a re-dropped file would be recorded again under the same record
  id, overwriting its JSON): `LedgerError` ``LEDGER_MISSING``, restore it or rebuild it;
- damage (``PRAGMA quick_check`` at every open, by writers and readers): ``LEDGER_DAMAGED``;
- read-only or immutable ledger files: a writer checks the ledger, its ``-wal`` and ``-shm`` and
  their folder before opening (``LEDGER_READONLY``). SQLite maps the ``-shm`` file into memory,
  and the kernel answers a write through a mapping of a file made immutable with SIGBUS, which
  kills the process without a word; so every query and the close check again that nothing
  became read-only under an open connection, and a connection that can no longer be closed
  safely is abandoned (SQLite recovers from that as from a crash).

Readers (``open_ledger(ws)``) open the file read-only (``mode=ro``): they never take the write
lock, never migrate and never write the database. A read-only or immutable ``-shm`` does not
stop them: SQLite opens it read-only and maps it read-only (or, with no other connection, reads
the WAL into private memory), and a read-only mapping cannot fault on a write. An older schema
is read as it is (what a later migration adds reads as absent) until a writer migrates it.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .schema import (
    INSERT_FILE,
    INSERT_ISSUED,
    INSERT_RECORD,
    MIGRATIONS,
    customers_query,
    file_of,
    file_params,
    record_of,
    record_params,
    records_query,
    select,
    void_record,
)
from .sqlite_files import (
    SIDE_FILES,
    abandon,
    damaged_error,
    is_damage,
    missing_error,
    newer_error,
    open_error,
    readonly_error,
    side_files,
    unwritable,
)
from .sqlite_tables import SQLiteTables
from .store import (
    FileRow,
    LedgerError,
    LedgerStore,
    RecordRow,
    key_text,
    now,
    outbox_records,
    site_of,
)

log = logging.getLogger(__name__)


class SQLiteLedger(SQLiteTables, LedgerStore[sqlite3.Connection]):
    """The workspace's SQLite ledger. Use as a context manager or call `close`.

    Open a workspace's ledger with `open_ledger`; ``SQLiteLedger(path)`` (also importable as
    ``Ledger``) opens (and creates) the file at ``path`` as a writer without looking at any
    outbox. ``readonly=True`` opens an existing ledger for reading only: no write lock, no
    migration, no write.
    """

    def __init__(self, path: str | Path, timeout: float = 60.0, *, readonly: bool = False,
                 outbox: Path | None = None) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self.memory = False
        self._unsafe = False
        self._ident: tuple[int, int] | None = None
        self._watched: list[Path] = []
        folder = self.path.parent
        if outbox is not None:
            self._refuse_blank(outbox)
        if not readonly:
            folder.mkdir(parents=True, exist_ok=True)
            bad = unwritable([*side_files(self.path), folder])
            if bad is not None:
                raise readonly_error(bad)
        elif outbox is not None and self._blank_file():  # nothing to read: an empty ledger
            self._open_memory()
            return
        try:
            self.db = self._connect(timeout)
        except sqlite3.Error as exc:
            raise open_error(self.path, exc) from exc
        try:
            blank = self._check(outbox)
            if readonly and blank:  # a writer is creating it, or one died doing so
                self.db.close()
                self._open_memory()
                return
            if not readonly:
                self.db.execute("PRAGMA journal_mode = WAL")
                self.db.execute("PRAGMA synchronous = FULL")
                self.db.execute("PRAGMA foreign_keys = ON")
                self._migrate()
                stat = os.stat(self.path)
                self._ident = (stat.st_dev, stat.st_ino)
        except sqlite3.Error as exc:
            self.db.close()
            raise open_error(self.path, exc) from exc
        except BaseException:
            self.db.close()
            raise
        # what was writable now must stay writable while the connection maps it (see _guard)
        self._watched = [p for p in side_files(self.path)
                         if not p.exists() or os.access(p, os.W_OK)]
        if readonly and len(self._watched) < len(SIDE_FILES) + 1:
            bad = unwritable(side_files(self.path))
            log.warning("台账文件 %s 为只读或不可变:可以查询,但收件无法记录。 / The ledger file "
                        "%s is read-only or immutable: it can be read, but the intake cannot "
                        "record anything.", bad, bad)

    # -- opening ---------------------------------------------------------------------------

    def _blank_file(self) -> bool:
        try:
            return self.path.stat().st_size == 0
        except FileNotFoundError:
            return True

    def _refuse_blank(self, outbox: Path) -> None:
        """Before connecting: a missing or empty ledger file is only created in a fresh
        workspace, and never beside a WAL file left by a lost one."""
        if not self._blank_file():
            return
        wal = Path(f"{self.path}-wal")
        stale_wal = wal.exists() and wal.stat().st_size > 0
        records = outbox_records(outbox)
        if records or stale_wal:
            raise missing_error(self.path, records, stale_wal)

    def _connect(self, timeout: float) -> sqlite3.Connection:
        if self.readonly:
            target, uri = f"{self.path.resolve().as_uri()}?mode=ro", True
        else:
            target, uri = str(self.path), False
        db = sqlite3.connect(target, timeout=timeout, isolation_level=None,
                             check_same_thread=False, uri=uri)
        db.row_factory = sqlite3.Row
        db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        return db

    def _open_memory(self) -> None:
        """An empty ledger in memory, for reading a workspace that has none yet."""
        self.memory = True
        self.db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        for number, script in enumerate(MIGRATIONS, start=1):
            self.db.executescript(script)
            self.db.execute(f"PRAGMA user_version = {number}")

    def _check(self, outbox: Path | None) -> bool:
        """Damage, an empty database beside a filled outbox, a schema from a newer qmsforms.

        True when the database holds nothing at all yet (schema version 0, no tables).
        """
        rows = [str(r[0]) for r in self.db.execute("PRAGMA quick_check").fetchall()]
        if rows != ["ok"]:
            raise damaged_error(self.path, "; ".join(rows[:3]))
        current = self.version
        if current > len(MIGRATIONS):
            raise newer_error(self.path, current, len(MIGRATIONS))
        if current:
            return False
        if self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            return False
        records = outbox_records(outbox) if outbox is not None else 0
        if records:
            raise missing_error(self.path, records, False)
        return True

    def close(self) -> None:
        """Close the connection (or abandon it when closing could kill the process)."""
        if self._unsafe or unwritable(self._watched) is not None:
            log.warning("台账文件在打开期间变为只读,连接不再关闭(如同进程崩溃,已提交的数据完好)。"
                        " / A ledger file became read-only while open; the connection is left "
                        "open (like a crash, committed data is safe).")
            abandon(self.db)
            return
        self.db.close()

    def _guard(self) -> None:
        """Refuse to touch the database once a file it maps became read-only, or (for a
        writer) once the ledger file was deleted or replaced under the open connection."""
        if self.memory:
            return
        bad = unwritable(self._watched)
        if bad is not None:
            self._unsafe = True
            raise readonly_error(bad, became=True)
        if self._ident is not None:
            try:
                stat = os.stat(self.path)
                same = (stat.st_dev, stat.st_ino) == self._ident
            except FileNotFoundError:
                same = False
            if not same:
                raise LedgerError(
                    "LEDGER_REPLACED",
                    f"台账 {self.path} 在 qmsforms 打开期间被删除或替换。请停止 qmsforms,"
                    "确认台账文件(必要时从备份恢复)后重新启动。",
                    f"the ledger {self.path} was deleted or replaced while qmsforms had it "
                    "open. Stop qmsforms, check the ledger file (restore it from a backup if "
                    "needed) and start again.")

    def _q(self, sql: str, args: Any = ()) -> list[sqlite3.Row]:
        """Run a query with the guard; damage found while reading is a `LedgerError`."""
        self._guard()
        try:
            return self.db.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            if is_damage(exc):
                raise damaged_error(self.path, str(exc)) from exc
            raise

    def _one(self, sql: str, args: Any = ()) -> sqlite3.Row | None:
        rows = self._q(sql, args)
        return rows[0] if rows else None

    @property
    def version(self) -> int:
        """The schema version (number of migrations applied); read under the guard, as every
        read is (a pragma touches the shared-memory file too)."""
        self._guard()
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        """Apply missing migrations; the write lock is taken only when one is missing."""
        if self.version == len(MIGRATIONS):
            return
        with self.transaction() as db:
            current = int(db.execute("PRAGMA user_version").fetchone()[0])
            for number, script in enumerate(MIGRATIONS[current:], start=current + 1):
                for statement in script.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An immediate (write-locking) transaction: committed on success, else rolled back."""
        if self.readonly:
            raise LedgerError(
                "LEDGER_UNAVAILABLE",
                "台账以只读方式打开,不能写入(请用 open_ledger(..., write=True))。",
                "the ledger was opened for reading; open it with open_ledger(..., write=True) "
                "to write")
        self._guard()
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def lock(self, db: sqlite3.Connection, *keys: str) -> None:
        """Nothing to lock: a `transaction` is exclusive (``BEGIN IMMEDIATE``)."""

    @contextmanager
    def _bookkeeping(self) -> Iterator[sqlite3.Connection]:
        """A `transaction` whose commit is not fsynced (``synchronous = NORMAL``), for the
        attempt counts. They count reads that killed or stalled a process, and a commit in WAL
        mode survives the process dying; only an OS crash or a power cut may lose the last
        ones, and the next outcome's fsynced commit makes them durable with it."""
        self.db.execute("PRAGMA synchronous = NORMAL")
        try:
            with self.transaction() as db:
                yield db
        finally:
            self.db.execute("PRAGMA synchronous = FULL")

    # -- reads ---------------------------------------------------------------------------

    def file(self, claim_id: str) -> FileRow | None:
        """The outcome recorded for a claimed file, if any."""
        row = self._one("SELECT * FROM files WHERE claim_id = ?", (claim_id,))
        return file_of(row) if row else None

    def files(self, outcome: str | None = None, site: str | None = None) -> list[FileRow]:
        """Every file taken from the inbox (with ``outcome``, of ``site``), oldest first."""
        sql, args = select("files", "processed_at, claim_id", self.version,
                           outcome=outcome or None, site=site_of(self.only_site, site))
        return [file_of(r) for r in self._q(sql, args)]

    def record(self, record_id: str) -> RecordRow | None:
        """One record by id."""
        row = self._one("SELECT * FROM records WHERE record_id = ?", (record_id,))
        return record_of(row) if row else None

    def record_by_sha(self, sha256: str) -> RecordRow | None:
        """The record made from byte-identical content, if any."""
        row = self._one("SELECT * FROM records WHERE sha256 = ?", (sha256,))
        return record_of(row) if row else None

    def latest(self, form: str, natural_key: dict[str, Any]) -> RecordRow | None:
        """The latest record of ``form`` with this natural key."""
        row = self._one(
            "SELECT * FROM records WHERE form = ? AND natural_key = ? AND latest = 1",
            (form, key_text(natural_key)))
        return record_of(row) if row else None

    def by_instance(self, instance_id: str) -> list[RecordRow]:
        """Records that came back on the blank with this instance id."""
        rows = self._q("SELECT * FROM records WHERE instance_id = ?", (instance_id,))
        return [record_of(r) for r in rows]

    def blank_reused(self, instance_id: str, form: str, natural_key: dict[str, Any]) -> bool:
        """As `LedgerStore.blank_reused`, reading only the natural keys."""
        rows = self._q("SELECT natural_key FROM records WHERE instance_id = ? AND form = ?",
                       (instance_id, form))
        return any(json.loads(row[0]) != natural_key for row in rows)

    def records(self, form: str | None = None, customer: str | None = None,
                latest_only: bool = True, voided: bool = False,
                site: str | None = None) -> list[RecordRow]:
        """Records, oldest first; by default only the latest revision of each, none voided."""
        sql, args = records_query(form, customer, latest_only, voided, self.version,
                                  site_of(self.only_site, site))
        return [record_of(r) for r in self._q(sql, args)]

    def customers(self, form: str) -> list[str]:
        """The customer names, as typed, of the latest records of ``form`` (none voided)."""
        sql, args = customers_query(form, self.version, self.only_site)
        return [str(r[0]) for r in self._q(sql, args)]

    def count(self, table: str) -> int:
        """Rows in ``records``, ``files``, ``issued``, ``events`` or ``attempts``."""
        if table not in ("records", "files", "issued", "events", "attempts"):
            raise ValueError(table)
        if table == "attempts" and self.version < 2:
            return 0
        row = self._one(f"SELECT count(*) FROM {table}")
        return int(row[0]) if row else 0

    def is_issued(self, instance_id: str) -> bool:
        """Whether ``qmsforms new`` issued this blank in this workspace."""
        return self._one("SELECT 1 FROM issued WHERE instance_id = ?", (instance_id,)) is not None

    def issued(self, form: str | None = None) -> list[dict[str, Any]]:
        """The blanks issued here."""
        sql, args = select("issued", "issued_at", self.version, form=form,
                           site=self.only_site)
        return [{"site": None, **dict(r)} for r in self._q(sql, args)]

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The event log (duplicates, recoveries, notes)."""
        sql = "SELECT * FROM events" + (" WHERE kind = ?" if kind else "")
        args: tuple[Any, ...] = (kind,) if kind else ()
        return [dict(r) for r in self._q(sql + " ORDER BY id", args)]

    def integrity(self) -> str:
        """``PRAGMA integrity_check``: ``ok`` when the database is sound."""
        row = self._one("PRAGMA integrity_check")
        return str(row[0]) if row else ""

    # -- writes (inside `transaction`) -----------------------------------------------------

    def add_record(self, db: sqlite3.Connection, row: RecordRow) -> None:
        """Insert a record; when it supersedes one, that one stops being the latest."""
        if row.supersedes:
            db.execute("UPDATE records SET latest = 0 WHERE record_id = ?", (row.supersedes,))
        db.execute(INSERT_RECORD, record_params(row))

    def add_file(self, db: sqlite3.Connection, row: FileRow) -> None:
        """Record the outcome of a claimed file."""
        db.execute(INSERT_FILE, file_params(row))

    def log(self, kind: str, claim_id: str | None = None, detail: str = "",
            db: sqlite3.Connection | None = None) -> None:
        """Append to the event log."""
        if db is None:
            self._guard()
        (db or self.db).execute("INSERT INTO events (kind, claim_id, detail) VALUES (?,?,?)",
                                (kind, claim_id, detail))

    def void(self, record_id: str, reason: str, by: str, at: str | None = None,
             then: Callable[[sqlite3.Connection, RecordRow], None] | None = None) -> RecordRow:
        """Void a record (see `LedgerStore.void`)."""
        with self.transaction() as db:
            void_record(db, record_id, reason, by, at or now())
            row = self.record(record_id)
            assert row is not None
            if then is not None:
                then(db, row)
        return row

    def add_issued(self, instance_id: str, form: str, revision: str, issued_at: str,
                   customer: str | None = None, path: str | None = None,
                   site: str | None = None) -> None:
        """Remember a blank issued from this workspace."""
        with self.transaction() as db:
            db.execute(INSERT_ISSUED, (instance_id, form, revision, issued_at, customer, path,
                                       site))
