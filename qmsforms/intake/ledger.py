"""The ledger: every file taken from the inbox, every record, every issued blank (SQLite).

One database per workspace (``.qmsforms/ledger.sqlite``; keep it on a local disk, never a
network share), opened with `open_ledger`. WAL mode lets ``records`` read while a watcher
writes; a busy timeout lets two watchers share it; ``BEGIN IMMEDIATE`` makes each decision
(duplicate? revision of which record?) atomic. The schema is versioned with ``PRAGMA
user_version`` and migrated forward by writers. Constraints carry the invariants: one outcome
per claimed file, one record per content hash, one latest record per natural key.

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

import ctypes
import json
import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..issues import QmsFormsError

if TYPE_CHECKING:
    from ..workspace import Workspace

log = logging.getLogger(__name__)

LEDGER_NAME = "ledger.sqlite"
"""The ledger's file name in the workspace's state folder (``.qmsforms/``)."""

SIDE_FILES = ("-wal", "-shm")
"""SQLite's companions of the ledger file in WAL mode (same name plus these suffixes)."""

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
    # 2: attempts per claim (poison files are counted, not retried for ever); a rejection's
    #    report kept with its file row, so its outputs can be rewritten without reading the file
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
    """The ledger cannot be opened, is damaged, or must not be used as it is.

    ``code`` says which (``LEDGER_MISSING``, ``LEDGER_DAMAGED``, ``LEDGER_READONLY``,
    ``LEDGER_REPLACED``, ``LEDGER_NEWER``, ``LEDGER_EXISTS``, ``LEDGER_BUSY``,
    ``LEDGER_UNAVAILABLE``); the message is given in Chinese and English.
    """

    def __init__(self, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(code, message_zh, message_en)
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en

    def __str__(self) -> str:
        return f"{self.code}: {self.message_zh}\n{self.message_en}"


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
    """A rejection's report (``Report.to_dict()``), kept so its outputs can be rewritten."""


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
    columns = row.keys()  # a schema-1 ledger read as it is has no report column
    report = row["report"] if "report" in columns else None
    return FileRow(
        claim_id=row["claim_id"], name=row["name"], sha256=row["sha256"], size=row["size"],
        received_at=row["received_at"], processed_at=row["processed_at"],
        outcome=row["outcome"], location=row["location"], record_id=row["record_id"],
        form=row["form"], codes=tuple(json.loads(row["codes"])),
        report=json.loads(report) if report else None,
    )


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _errorcode(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
    return None if code is None else int(code) & 0xFF


_CORRUPT, _NOTADB, _BUSY, _LOCKED, _READONLY, _CANTOPEN = 11, 26, 5, 6, 8, 14


def _is_damage(exc: sqlite3.Error) -> bool:
    """SQLITE_CORRUPT or SQLITE_NOTADB: the file is damaged or no database at all."""
    code = _errorcode(exc)
    if code is not None:
        return code in (_CORRUPT, _NOTADB)
    text = str(exc)
    return "malformed" in text or "not a database" in text


def _is_busy(exc: sqlite3.Error) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED: another connection holds the lock."""
    code = _errorcode(exc)
    if code is not None:
        return code in (_BUSY, _LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


def side_files(path: str | Path) -> list[Path]:
    """The ledger file and its ``-wal`` and ``-shm`` companions (present or not)."""
    return [Path(path), *(Path(f"{path}{suffix}") for suffix in SIDE_FILES)]


def ledger_path(workspace: Workspace) -> Path:
    """Where a workspace's ledger lives: ``.qmsforms/ledger.sqlite``."""
    return workspace.state_dir / LEDGER_NAME


def outbox_records(outbox: Path) -> int:
    """How many record JSON files ``outbox/records/`` holds (part files not counted)."""
    folder = outbox / "records"
    if not folder.is_dir():
        return 0
    return sum(1 for p in folder.rglob("*.json") if not p.name.startswith(".") and p.is_file())


def _unwritable(paths: list[Path]) -> Path | None:
    """The first of ``paths`` that exists and cannot be written (read-only or immutable)."""
    for path in paths:
        if path.exists() and not os.access(path, os.W_OK):
            return path
    return None


def _abandon(db: sqlite3.Connection) -> None:
    """Never close ``db``, not even when it is garbage-collected or at interpreter exit.

    Closing checkpoints the WAL through the memory mapping of the ``-shm`` file; when that
    file was made immutable under the open connection the kernel kills the process with
    SIGBUS. Left open, the connection ends with the process, which SQLite handles like a crash:
    every committed transaction is in the WAL and the next opener recovers it.
    """
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(db))


def _missing_error(path: Path, records: int, wal: bool) -> LedgerError:
    zh_what, en_what = [], []
    if records:
        zh_what.append(f"而发件箱中已有 {records} 条记录")
        en_what.append(f"while the outbox holds {records} records")
    if wal:
        zh_what.append(f"而它的 -wal 文件({path.name}-wal)仍在,只属于丢失的那个台账")
        en_what.append(f"while its -wal file ({path.name}-wal), which belongs only to the lost "
                       "ledger, is still there")
    return LedgerError(
        "LEDGER_MISSING",
        f"台账 {path} 缺失或为空,{';'.join(zh_what)}。为免重复记录或覆盖已有记录,qmsforms "
        f"不会新建台账。请从备份恢复 .qmsforms/{path.name}(连同其 -wal 文件),或运行 "
        "`qmsforms ledger rebuild` 从发件箱重建台账(原有文件会被移到一旁保留)。",
        f"the ledger {path} is missing or empty {' and '.join(en_what)}. qmsforms does not "
        "start a new ledger over them (files would be recorded again and their records "
        f"overwritten). Restore .qmsforms/{path.name} (with its -wal file) from a backup, or "
        "rebuild it from the outbox with `qmsforms ledger rebuild` (what is there is moved "
        "aside and kept).")


def _damaged_error(path: Path, detail: str) -> LedgerError:
    return LedgerError(
        "LEDGER_DAMAGED",
        f"台账 {path} 已损坏({detail})。请从备份恢复 .qmsforms/{path.name}(连同其 -wal 文件);"
        "若无备份,运行 `qmsforms ledger rebuild --force` 从发件箱重建(损坏的文件会被移到一旁"
        "保留,不会删除)。",
        f"the ledger {path} is damaged ({detail}). Restore .qmsforms/{path.name} (with its -wal "
        "file) from a backup; without one, rebuild it from the outbox with `qmsforms ledger "
        "rebuild --force` (the damaged file is moved aside and kept, never deleted).")


def _readonly_error(path: Path, *, became: bool = False) -> LedgerError:
    zh_when = "在 qmsforms 打开它之后变成了" if became else "是"
    en_when = "became" if became else "is"
    zh_what, en_what = ("台账文件夹", "the ledger's folder") if path.is_dir() else (
        "台账文件", "the ledger file")
    return LedgerError(
        "LEDGER_READONLY",
        f"{zh_what} {path} {zh_when}只读或不可变(immutable),qmsforms 无法安全地使用台账。"
        f"请用 `lsattr` 查看属性,用 `chattr -i {path}` 去除不可变属性,或授予写权限"
        "(也检查 .qmsforms 文件夹及台账的 -wal、-shm 文件),然后重新启动。",
        f"{en_what} {path} {en_when} read-only or immutable, so qmsforms cannot use the "
        f"ledger safely. Check with `lsattr`, remove the immutable flag with `chattr -i {path}` "
        "or grant write permission (check the .qmsforms folder and the ledger's -wal and -shm "
        "files too), then start again.")


class Ledger:
    """The workspace's SQLite ledger. Use as a context manager or call `close`.

    Open a workspace's ledger with `open_ledger`; ``Ledger(path)`` opens (and creates) the
    file at ``path`` as a writer without looking at any outbox. ``readonly=True`` opens an
    existing ledger for reading only: no write lock, no migration, no write.
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
            bad = _unwritable([*side_files(self.path), folder])
            if bad is not None:
                raise _readonly_error(bad)
        elif outbox is not None and self._blank_file():  # nothing to read: an empty ledger
            self._open_memory()
            return
        try:
            self.db = self._connect(timeout)
        except sqlite3.Error as exc:
            raise self._open_error(exc) from exc
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
            raise self._open_error(exc) from exc
        except BaseException:
            self.db.close()
            raise
        # what was writable now must stay writable while the connection maps it (see _guard)
        self._watched = [p for p in side_files(self.path)
                         if not p.exists() or os.access(p, os.W_OK)]
        if readonly and len(self._watched) < len(SIDE_FILES) + 1:
            bad = _unwritable(side_files(self.path))
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
            raise _missing_error(self.path, records, stale_wal)

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
            raise _damaged_error(self.path, "; ".join(rows[:3]))
        current = self.version
        if current > len(MIGRATIONS):
            raise LedgerError(
                "LEDGER_NEWER",
                f"台账 {self.path} 的结构版本 {current} 比本版 qmsforms({len(MIGRATIONS)})新;"
                "请升级 qmsforms。",
                f"{self.path}: ledger schema {current} is newer than this qmsforms "
                f"({len(MIGRATIONS)}); upgrade qmsforms")
        if current:
            return False
        if self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            return False
        records = outbox_records(outbox) if outbox is not None else 0
        if records:
            raise _missing_error(self.path, records, False)
        return True

    def _open_error(self, exc: sqlite3.Error) -> LedgerError:
        if isinstance(exc, LedgerError):
            return exc
        if _is_damage(exc):
            return _damaged_error(self.path, str(exc))
        bad = _unwritable([*side_files(self.path), self.path.parent])
        if bad is not None:
            return _readonly_error(bad)
        return LedgerError(
            "LEDGER_UNAVAILABLE",
            f"无法打开台账 {self.path}:{exc}。请检查文件、文件夹与权限。",
            f"cannot open the ledger {self.path}: {exc}. Check the file, its folder and "
            "permissions.")

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (or abandon it when closing could kill the process)."""
        if self._unsafe or _unwritable(self._watched) is not None:
            log.warning("台账文件在打开期间变为只读,连接不再关闭(如同进程崩溃,已提交的数据完好)。"
                        " / A ledger file became read-only while open; the connection is left "
                        "open (like a crash, committed data is safe).")
            _abandon(self.db)
            return
        self.db.close()

    def _guard(self) -> None:
        """Refuse to touch the database once a file it maps became read-only, or (for a
        writer) once the ledger file was deleted or replaced under the open connection."""
        if self.memory:
            return
        bad = _unwritable(self._watched)
        if bad is not None:
            self._unsafe = True
            raise _readonly_error(bad, became=True)
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
            if _is_damage(exc):
                raise _damaged_error(self.path, str(exc)) from exc
            raise

    def _one(self, sql: str, args: Any = ()) -> sqlite3.Row | None:
        rows = self._q(sql, args)
        return rows[0] if rows else None

    @property
    def version(self) -> int:
        """The schema version (number of migrations applied)."""
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

    # -- reads ---------------------------------------------------------------------------

    def file(self, claim_id: str) -> FileRow | None:
        """The outcome recorded for a claimed file, if any."""
        row = self._one("SELECT * FROM files WHERE claim_id = ?", (claim_id,))
        return _file(row) if row else None

    def files(self, outcome: str | None = None) -> list[FileRow]:
        """Every file taken from the inbox, oldest first."""
        sql = "SELECT * FROM files"
        args: tuple[Any, ...] = ()
        if outcome:
            sql, args = sql + " WHERE outcome = ?", (outcome,)
        return [_file(r) for r in self._q(sql + " ORDER BY processed_at, claim_id", args)]

    def record(self, record_id: str) -> RecordRow | None:
        """One record by id."""
        row = self._one("SELECT * FROM records WHERE record_id = ?", (record_id,))
        return _record(row) if row else None

    def record_by_sha(self, sha256: str) -> RecordRow | None:
        """The record made from byte-identical content, if any."""
        row = self._one("SELECT * FROM records WHERE sha256 = ?", (sha256,))
        return _record(row) if row else None

    def latest(self, form: str, natural_key: dict[str, Any]) -> RecordRow | None:
        """The latest record of ``form`` with this natural key."""
        row = self._one(
            "SELECT * FROM records WHERE form = ? AND natural_key = ? AND latest = 1",
            (form, _key(natural_key)))
        return _record(row) if row else None

    def by_instance(self, instance_id: str) -> list[RecordRow]:
        """Records that came back on the blank with this instance id."""
        rows = self._q("SELECT * FROM records WHERE instance_id = ?", (instance_id,))
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
        rows = self._q(f"SELECT * FROM records{where} ORDER BY processed_at, record_id", args)
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
        sql, args = "SELECT * FROM issued", ()
        if form:
            sql, args = sql + " WHERE form = ?", (form,)  # type: ignore[assignment]
        return [dict(r) for r in self._q(sql + " ORDER BY issued_at", args)]

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The event log (duplicates, recoveries, notes)."""
        sql, args = "SELECT * FROM events", ()
        if kind:
            sql, args = sql + " WHERE kind = ?", (kind,)  # type: ignore[assignment]
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
             None if row.report is None else json.dumps(row.report, ensure_ascii=False,
                                                        default=str)))

    def log(self, kind: str, claim_id: str | None = None, detail: str = "",
            db: sqlite3.Connection | None = None) -> None:
        """Append to the event log."""
        if db is None:
            self._guard()
        (db or self.db).execute("INSERT INTO events (kind, claim_id, detail) VALUES (?,?,?)",
                                (kind, claim_id, detail))

    def add_issued(self, instance_id: str, form: str, revision: str, issued_at: str,
                   customer: str | None = None, path: str | None = None) -> None:
        """Remember a blank issued from this workspace."""
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO issued VALUES (?,?,?,?,?,?)",
                       (instance_id, form, revision, issued_at, customer, path))

    # -- attempts (schema 2) -----------------------------------------------------------------

    def begin_attempt(self, claim_id: str, name: str) -> int:
        """Count one more attempt at processing a claim (own transaction); the new count."""
        now = _now()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO attempts (claim_id, name, count, first_at, last_at)"
                " VALUES (?, ?, 1, ?, ?) ON CONFLICT (claim_id) DO UPDATE SET"
                " count = count + 1, name = excluded.name, last_at = excluded.last_at",
                (claim_id, name, now, now))
            return int(db.execute("SELECT count FROM attempts WHERE claim_id = ?",
                                  (claim_id,)).fetchone()[0])

    def end_attempt(self, claim_id: str) -> None:
        """An attempt that finished, whatever it found, is taken off the count again: only
        reads that failed or never ended (the process died) count against a file."""
        with self.transaction() as db:
            db.execute("UPDATE attempts SET count = max(count - 1, 0) WHERE claim_id = ?",
                       (claim_id,))

    def fail_attempt(self, claim_id: str, error: str) -> None:
        """Remember why the last attempt at a claim failed (own transaction).

        Raises KeyError when no attempt was begun for ``claim_id``. The error text is kept to
        its first 2,000 characters.
        """
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE attempts SET last_error = ?, last_at = ? WHERE claim_id = ?",
                (error[:2000], _now(), claim_id))
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


def open_ledger(workspace: Workspace, *, write: bool = False, timeout: float = 60.0) -> Ledger:
    """Open a workspace's ledger: the one way the intake, listings and reports get at it.

    ``write=False`` (listings, reports, look-ups) opens it read-only: no write lock is ever
    taken, nothing is written, an older schema is read as it is, and a workspace without a
    ledger reads as an empty one. ``write=True`` (the intake, issuing blanks) creates it in a
    fresh workspace and migrates it. Both refuse, with a `LedgerError`, a missing or empty
    ledger while the outbox holds records (``LEDGER_MISSING``), a damaged one
    (``LEDGER_DAMAGED``) and ledger files that are read-only or immutable where that is unsafe
    (``LEDGER_READONLY``; see the module docstring).
    """
    return Ledger(ledger_path(workspace), timeout, readonly=not write, outbox=workspace.outbox)
