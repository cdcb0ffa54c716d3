"""The PostgreSQL ledger: one database that several watchers (and machines) share.

Chosen by a URL (``QMSFORMS_LEDGER=postgresql://…`` or ``[ledger] url`` in ``qmsforms.toml``;
the password comes from libpq's pgpass or service file, never from either) and opened with
`open_ledger`. It keeps the SQLite ledger's invariants with the same kind of constraints (see
`qmsforms.intake.ledger.postgres_schema`) and raises `LedgerError` with the same codes:

- a decision (duplicate? revision of which record? which actions?) first locks the keys of
  what it reads (`lock`: transaction-level advisory locks per natural key, content hash, action
  scope and numbering; `qmsforms.intake.ledger.postgres_locks`), so decisions about different
  keys run side by side and two about one key one after the other; a writer that waits longer
  than its timeout gets ``LEDGER_BUSY``. Claims are held by session advisory locks
  (`postgres_locks.PostgresClaimLocks`): several machines may watch one inbox;
- writers migrate the schema under a session advisory lock: of two watchers starting at once
  one migrates, the other waits and finds the schema done;
- a database that cannot be reached, or is lost while in use, is ``LEDGER_UNAVAILABLE`` (the
  intake is then blocked: nothing is claimed, files wait in the inbox); the next operation
  connects again. There is never a fallback to a local ledger;
- TCP keepalives let a dead server (or network) be noticed instead of waited for;
- readers (``open_ledger(ws)``) run every statement read-only and never migrate; a database
  that holds no ledger yet reads as an empty one;
- an empty database while the outbox holds records is refused (``LEDGER_MISSING``), as an
  empty SQLite file is.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors
from psycopg.rows import dict_row

from .postgres_errors import busy_error, redact, unavailable_error
from .postgres_locks import application_name, xact_lock
from .postgres_schema import (
    INDEXES,
    MIGRATION_LOCK,
    MIGRATIONS,
    MIGRATIONS_TABLE,
    PG_INSERT_FILE,
    PG_INSERT_RECORD,
    VOID,
    pg,
    pg_record_params,
    pg_records_query,
)
from .postgres_tables import PostgresTables
from .schema import INSERT_ISSUED, WITH_SITES, file_of, file_params, record_of, select
from .store import (
    FileRow,
    LedgerError,
    LedgerStore,
    RecordRow,
    VoidRefused,
    decision_keys,
    key_text,
    now,
    outbox_records,
    site_of,
)

log = logging.getLogger(__name__)

KEEPALIVE_IDLE = 30
"""TCP keepalives after 30 s of silence, every 10 s, three unanswered: a server or network
gone silent is noticed within a minute instead of waited for."""

CONNECT_TIMEOUT = 10
"""Seconds to wait for the server to answer a connection."""

_TABLES = ("records", "files", "issued", "events", "attempts")


class PostgresLedger(PostgresTables, LedgerStore[psycopg.Connection[dict[str, Any]]]):
    """A ledger kept in a PostgreSQL database. Use as a context manager or call `close`.

    ``PostgresLedger(url)`` opens it as a writer (migrating it); ``readonly=True`` for reading
    only. ``outbox``: refuse an empty database while this outbox holds records. ``timeout``
    is how long a write waits for another writer (then ``LEDGER_BUSY``).
    """

    def __init__(self, url: str, timeout: float = 60.0, *, readonly: bool = False,
                 outbox: Path | None = None) -> None:
        self.url = url
        self.readonly = readonly
        self.timeout = timeout
        self._db: psycopg.Connection[dict[str, Any]] | None = None
        self._empty = False
        self._connection()
        try:
            self._check(outbox)
            if not readonly:
                self._migrate()
        except BaseException:
            self.close()
            raise

    # -- connecting --------------------------------------------------------------------------

    def connect(self) -> psycopg.Connection[dict[str, Any]]:
        """A new connection with this ledger's settings (keepalives, lock timeout, read-only
        for a reader), named `postgres_locks.application_name`; ``LEDGER_UNAVAILABLE``."""
        try:
            db = psycopg.connect(self.url, autocommit=True, row_factory=dict_row,
                                 connect_timeout=CONNECT_TIMEOUT,
                                 application_name=application_name(),
                                 keepalives=1, keepalives_idle=KEEPALIVE_IDLE,
                                 keepalives_interval=10, keepalives_count=3)
        except psycopg.Error as exc:
            raise unavailable_error(self.url, exc) from exc
        try:
            db.execute("SELECT set_config('lock_timeout', %s, false)",
                       (f"{int(self.timeout * 1000)}ms",))
            if self.readonly:
                db.execute("SET default_transaction_read_only = on")
        except psycopg.Error as exc:
            db.close()
            raise unavailable_error(self.url, exc) from exc
        return db

    def _connection(self) -> psycopg.Connection[dict[str, Any]]:
        """The open connection; a closed or broken one is replaced (or `LedgerError`)."""
        if self._db is None or self._db.closed or self._db.broken:
            if self._db is not None:
                log.warning("台账数据库连接已断开,重新连接 / the ledger database connection "
                            "was lost; connecting again")
                self._db.close()
            self._db = None
            self._db = self.connect()
        return self._db

    @property
    def db(self) -> psycopg.Connection[dict[str, Any]]:
        """The connection (connected again when it was lost)."""
        return self._connection()

    def close(self) -> None:
        """Close the connection."""
        if self._db is not None:
            self._db.close()

    def _q(self, sql: str, args: Any = ()) -> list[dict[str, Any]]:
        """Run a query; a database lost meanwhile is a `LedgerError`."""
        if self._empty:
            return []
        try:
            return self.db.execute(sql, args).fetchall()
        except errors.ReadOnlySqlTransaction as exc:
            raise self._readonly_error() from exc
        except psycopg.OperationalError as exc:
            raise unavailable_error(self.url, exc) from exc

    def _one(self, sql: str, args: Any = ()) -> dict[str, Any] | None:
        rows = self._q(sql, args)
        return rows[0] if rows else None

    # -- opening -----------------------------------------------------------------------------

    def _check(self, outbox: Path | None) -> None:
        """A schema from a newer qmsforms; an empty database beside a filled outbox."""
        current = self.version
        if current > len(MIGRATIONS):
            raise LedgerError(
                "LEDGER_NEWER",
                f"台账数据库 {redact(self.url)} 的结构版本 {current} 比本版 qmsforms"
                f"({len(MIGRATIONS)})新;请升级 qmsforms。",
                f"{redact(self.url)}: ledger schema {current} is newer than this qmsforms "
                f"({len(MIGRATIONS)}); upgrade qmsforms")
        if current:
            return
        records = outbox_records(outbox) if outbox is not None else 0
        if records:
            raise LedgerError(
                "LEDGER_MISSING",
                f"台账数据库 {redact(self.url)} 中没有台账,而发件箱中已有 {records} 条记录。"
                "为免重复记录或覆盖已有记录,qmsforms 不会在其中新建台账。请检查 URL 是否指向"
                "正确的数据库,或从备份(pg_dump)恢复。",
                f"the ledger database {redact(self.url)} holds no ledger while the outbox "
                f"holds {records} records. qmsforms does not start a new ledger over them "
                "(files would be recorded again and their records overwritten). Check that "
                "the URL names the right database, or restore it from a backup (pg_dump).")
        if self.readonly:
            self._empty = True  # nothing to read yet: an empty ledger

    def _migrate(self) -> None:
        """Apply missing migrations, under the session advisory lock: one writer migrates,
        the others wait for it and find the schema done."""
        if self.version == len(MIGRATIONS):
            return
        db = self.db
        try:
            db.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
            try:
                db.execute(MIGRATIONS_TABLE)
                current = self.version
                by = f"{application_name()} backend {db.info.backend_pid}"
                for number, script in enumerate(MIGRATIONS[current:], start=current + 1):
                    with db.transaction():
                        db.execute(script)
                        db.execute("INSERT INTO ledger_migrations (version, applied_by)"
                                   " VALUES (%s, %s)", (number, by))
                    log.info("台账数据库已迁移到版本 %d / ledger database migrated to schema %d",
                             number, number)
            finally:
                db.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
        except errors.LockNotAvailable as exc:
            raise busy_error(self.url) from exc
        except psycopg.OperationalError as exc:
            raise unavailable_error(self.url, exc) from exc

    @property
    def version(self) -> int:
        """The schema version (number of migrations applied; 0 for an empty database)."""
        row = self._one("SELECT to_regclass('ledger_migrations') IS NOT NULL AS present")
        if row is None or not row["present"]:
            return 0
        found = self._one("SELECT coalesce(max(version), 0) AS version FROM ledger_migrations")
        return int(found["version"]) if found else 0

    def integrity(self) -> str:
        """``ok`` when the indexes that carry the invariants are there and valid."""
        if self._empty:
            return "ok"
        rows = self._q("SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c"
                       " ON c.oid = i.indexrelid WHERE c.relname = ANY(%s)", (list(INDEXES),))
        valid = {r["relname"] for r in rows if r["indisvalid"]}
        missing = [name for name in INDEXES if name not in valid]
        return "ok" if not missing else f"missing or invalid indexes: {', '.join(missing)}"

    # -- transactions ------------------------------------------------------------------------

    def _readonly_error(self) -> LedgerError:
        return LedgerError(
            "LEDGER_UNAVAILABLE",
            "台账以只读方式打开,不能写入(请用 open_ledger(..., write=True))。",
            "the ledger was opened for reading; open it with open_ledger(..., write=True) "
            "to write")

    @contextmanager
    def _write(self, *, durable: bool = True) -> Iterator[psycopg.Connection[dict[str, Any]]]:
        if self.readonly:
            raise self._readonly_error()
        db = self.db
        try:
            with db.transaction():
                if not durable:
                    db.execute("SET LOCAL synchronous_commit = off")
                yield db
        except errors.LockNotAvailable as exc:
            raise busy_error(self.url) from exc
        except psycopg.OperationalError as exc:
            raise unavailable_error(self.url, exc) from exc

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[dict[str, Any]]]:
        """A write transaction: committed on success, else rolled back. What it decides on
        it locks first (`lock`)."""
        with self._write() as db:
            yield db

    def lock(self, db: psycopg.Connection[dict[str, Any]], *keys: str) -> None:
        """Lock ``keys`` until transaction ``db`` ends (`postgres_locks.xact_lock`)."""
        xact_lock(db, keys)

    # -- reads ---------------------------------------------------------------------------

    def _by(self, table: str, column: str, value: str) -> dict[str, Any] | None:
        """The row of ``table`` whose (unique) ``column`` is ``value``."""
        return self._one(f"SELECT * FROM {table} WHERE {column} = %s", (value,))

    def file(self, claim_id: str) -> FileRow | None:
        """The outcome recorded for a claimed file, if any."""
        found = self._by("files", "claim_id", claim_id)
        return None if found is None else file_of(found)

    def files(self, outcome: str | None = None, site: str | None = None) -> list[FileRow]:
        """Every file taken from the inbox (with ``outcome``, of ``site``), oldest first."""
        sql, args = select("files", "processed_at, claim_id", WITH_SITES,
                           outcome=outcome or None, site=site_of(self.only_site, site))
        return list(map(file_of, self._q(pg(sql), args)))

    def record(self, record_id: str) -> RecordRow | None:
        """One record by id."""
        found = self._by("records", "record_id", record_id)
        return None if found is None else record_of(found)

    def record_by_sha(self, sha256: str) -> RecordRow | None:
        """The record made from byte-identical content, if any."""
        found = self._by("records", "sha256", sha256)
        return None if found is None else record_of(found)

    def latest(self, form: str, natural_key: dict[str, Any]) -> RecordRow | None:
        """The latest record of ``form`` with this natural key."""
        row = self._one("SELECT * FROM records WHERE form = %s AND natural_key = %s AND latest",
                        (form, key_text(natural_key)))
        return record_of(row) if row else None

    def by_instance(self, instance_id: str) -> list[RecordRow]:
        """Records that came back on the blank with this instance id."""
        rows = self._q("SELECT * FROM records WHERE instance_id = %s ORDER BY processed_at,"
                       " record_id", (instance_id,))
        return [record_of(r) for r in rows]

    def records(self, form: str | None = None, customer: str | None = None,
                latest_only: bool = True, voided: bool = False,
                site: str | None = None) -> list[RecordRow]:
        """Records, oldest first; by default only the latest revision of each, none voided."""
        sql, args = pg_records_query(form, customer, latest_only, voided,
                                     site_of(self.only_site, site))
        return [record_of(r) for r in self._q(sql, args)]

    def customers(self, form: str) -> list[str]:
        """The customer names, as typed, of the latest records of ``form`` (none voided)."""
        site = "" if self.only_site is None else " AND site = %s"
        rows = self._q("SELECT DISTINCT customer COLLATE \"C\" AS customer FROM records"
                       f" WHERE form = %s AND latest AND customer IS NOT NULL{site} ORDER BY 1",
                       (form,) if self.only_site is None else (form, self.only_site))
        return [str(r["customer"]) for r in rows]

    def count(self, table: str) -> int:
        """Rows in ``records``, ``files``, ``issued``, ``events`` or ``attempts``."""
        if table not in _TABLES:
            raise ValueError(table)
        row = self._one(f"SELECT count(*) AS n FROM {table}")
        return int(row["n"]) if row else 0

    def is_issued(self, instance_id: str) -> bool:
        """Whether ``qmsforms new`` issued this blank in this workspace."""
        return self._by("issued", "instance_id", instance_id) is not None

    def issued(self, form: str | None = None) -> list[dict[str, Any]]:
        """The blanks issued here."""
        sql, args = select("issued", "issued_at, instance_id", WITH_SITES, form=form,
                           site=self.only_site)
        return self._q(pg(sql), args)

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The event log (duplicates, recoveries, notes)."""
        sql = "SELECT * FROM events" + (" WHERE kind = %s" if kind else "")
        args: tuple[Any, ...] = (kind,) if kind else ()
        return self._q(sql + " ORDER BY id", args)

    # -- writes (inside `transaction`) -----------------------------------------------------

    def add_record(self, db: psycopg.Connection[dict[str, Any]], row: RecordRow) -> None:
        """Insert a record; when it supersedes one, that one stops being the latest."""
        if row.supersedes:
            db.execute("UPDATE records SET latest = FALSE WHERE record_id = %s",
                       (row.supersedes,))
        db.execute(PG_INSERT_RECORD, pg_record_params(row))

    def add_file(self, db: psycopg.Connection[dict[str, Any]], row: FileRow) -> None:
        """Record the outcome of a claimed file."""
        db.execute(PG_INSERT_FILE, file_params(row))

    def log(self, kind: str, claim_id: str | None = None, detail: str = "",
            db: psycopg.Connection[dict[str, Any]] | None = None) -> None:
        """Append to the event log (in transaction ``db``, or on its own)."""
        sql = "INSERT INTO events (kind, claim_id, detail) VALUES (%s, %s, %s)"
        if db is not None:
            db.execute(sql, (kind, claim_id, detail))
            return
        with self._write() as own:
            own.execute(sql, (kind, claim_id, detail))

    def void(self, record_id: str, reason: str, by: str, at: str | None = None,
             then: Callable[[psycopg.Connection[dict[str, Any]], RecordRow], None] | None = None
             ) -> RecordRow:
        """Void a record (see `LedgerStore.void`); ``then(db, row)`` runs in its
        transaction once it is voided."""
        with self.transaction() as db:
            before = self.record(record_id)
            if before is not None:  # what a decision about its key or content would lock
                self.lock(db, *decision_keys(before.form, before.natural_key, before.sha256))
            found = db.execute("SELECT * FROM records WHERE record_id = %s FOR UPDATE",
                               (record_id,)).fetchone()
            row = record_of(found) if found else None
            if row is None or row.voided is not None:
                raise VoidRefused(record_id, None if row is None else row.voided)
            db.execute("UPDATE records SET latest = FALSE, voided_at = %s, voided_by = %s,"
                       " void_reason = %s WHERE record_id = %s",
                       (at or now(), by, reason, record_id))
            if row.latest and row.supersedes:
                db.execute(VOID, {"previous": row.supersedes})
            self.log("voided", None, json.dumps({"record_id": record_id, "by": by,
                                                  "reason": reason}, ensure_ascii=False), db=db)
            voided = self.record(record_id)
            assert voided is not None
            if then is not None:
                then(db, voided)
        return voided

    def add_issued(self, instance_id: str, form: str, revision: str, issued_at: str,
                   customer: str | None = None, path: str | None = None,
                   site: str | None = None) -> None:
        """Remember a blank issued from this workspace (once per id)."""
        with self._write() as db:
            db.execute(pg(INSERT_ISSUED),
                       (instance_id, form, revision, issued_at, customer, path, site))
