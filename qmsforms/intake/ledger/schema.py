"""The SQLite ledger's schema, migrated forward by writers, and its rows read back.

The schema is versioned with ``PRAGMA user_version``: migration *n* brings a ledger from version
*n - 1* to *n*. Constraints carry the invariants: one outcome per claimed file, one record per
content hash, one latest record per natural key.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .store import ActionRow, FileRow, RecordRow, VoidRefused, key_text

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
    # 3: voided records: kept with who, when and why; no longer the latest of their key
    """
    ALTER TABLE records ADD COLUMN voided_at TEXT;
    ALTER TABLE records ADD COLUMN voided_by TEXT;
    ALTER TABLE records ADD COLUMN void_reason TEXT;
    CREATE INDEX records_voided ON records(voided_at) WHERE voided_at IS NOT NULL;
    """,
    # 4: corrective/preventive actions raised by the records' causes (qmsforms.actions)
    """
    CREATE TABLE actions (
        action_id        TEXT PRIMARY KEY,
        cause_key        TEXT NOT NULL UNIQUE,
        scope            TEXT NOT NULL,
        source           TEXT NOT NULL,
        cause            TEXT NOT NULL,
        source_record    TEXT,
        customer         TEXT,
        problem_zh       TEXT NOT NULL,
        problem_en       TEXT NOT NULL,
        department_zh    TEXT NOT NULL,
        department_en    TEXT NOT NULL,
        raised_on        TEXT NOT NULL,
        due              TEXT,
        cause_removed_by TEXT,
        raised_at        TEXT NOT NULL,
        updated_at       TEXT NOT NULL
    );
    CREATE INDEX actions_scope ON actions(scope);
    """,
    # 5: the site of every file, record, action and issued blank (SPEC §10); revision chains
    #    that cannot fork (a record has at most one successor that counts), as PostgreSQL's
    """
    ALTER TABLE records ADD COLUMN site TEXT;
    ALTER TABLE files ADD COLUMN site TEXT;
    ALTER TABLE actions ADD COLUMN site TEXT;
    ALTER TABLE issued ADD COLUMN site TEXT;
    CREATE UNIQUE INDEX records_one_successor ON records(supersedes)
        WHERE supersedes IS NOT NULL AND voided_at IS NULL;
    CREATE INDEX records_site ON records(site) WHERE site IS NOT NULL;
    """,
)

VOIDABLE = 3
"""The schema version from which records can be voided."""
WITH_ACTIONS = 4
"""The schema version from which the ledger holds actions."""
WITH_SITES = 5
"""The schema version from which files, records, actions and issued blanks name their site."""


def _site(row: sqlite3.Row | dict[str, Any]) -> str | None:
    """A row's site (a ledger read as it is, before schema 5, has no site column)."""
    return row["site"] if "site" in row.keys() else None  # noqa: SIM118 - Row's in: values


def select(table: str, order: str, version: int,
           **equal: str | None) -> tuple[str, tuple[Any, ...]]:
    """``SELECT * FROM table`` with ``column = ?`` for each of ``equal`` given (not None),
    ordered by ``order``; a ``site`` asked of a ledger before schema 5 matches nothing."""
    clauses: list[str] = []
    args: list[Any] = []
    for column, value in equal.items():
        if value is None:
            continue
        if column == "site" and version < WITH_SITES:
            clauses.append("0 = 1")
            continue
        clauses.append(f"{column} = ?")
        args.append(value)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    return f"SELECT * FROM {table}{where} ORDER BY {order}", tuple(args)


def customers_query(form: str, version: int, site: str | None) -> tuple[str, tuple[Any, ...]]:
    """The customer names, as typed, of the latest records of ``form`` (of ``site``)."""
    sql = ("SELECT DISTINCT customer FROM records WHERE form = ? AND latest = 1"
           " AND customer IS NOT NULL")
    if site is None:
        return sql + " ORDER BY customer", (form,)
    if version < WITH_SITES:  # no site yet: nothing is of any site
        return sql + " AND 0 = 1", (form,)
    return sql + " AND site = ? ORDER BY customer", (form, site)


INSERT_ISSUED = ("INSERT INTO issued (instance_id, form, revision, issued_at, customer, path,"
                 " site) VALUES (?,?,?,?,?,?,?) ON CONFLICT (instance_id) DO NOTHING")
"""Remember one issued blank (once per instance id; SQLite and PostgreSQL alike)."""


def record_of(row: sqlite3.Row | dict[str, Any]) -> RecordRow:
    """A ``records`` row (of either engine) as a `RecordRow` (a ledger before schema 3 has no
    void columns)."""
    voided = None
    columns = row.keys()  # sqlite3.Row's own ``in`` looks at values, not names
    if "voided_at" in columns and row["voided_at"]:
        voided = {"at": row["voided_at"], "by": row["voided_by"], "reason": row["void_reason"]}
    return RecordRow(
        record_id=row["record_id"], form=row["form"], revision=row["revision"],
        instance_id=row["instance_id"], sha256=row["sha256"],
        natural_key=json.loads(row["natural_key"]), data=json.loads(row["data"]),
        scores=json.loads(row["scores"]) if row["scores"] else None,
        source_name=row["source_name"], received_at=row["received_at"],
        processed_at=row["processed_at"], path=row["path"], customer=row["customer"],
        period=row["period"], supersedes=row["supersedes"], latest=bool(row["latest"]),
        notes=tuple(json.loads(row["notes"])), voided=voided, site=_site(row),
    )


def records_query(form: str | None, customer: str | None, latest_only: bool, voided: bool,
                  version: int, site: str | None = None) -> tuple[str, list[Any]]:
    """The query of `SQLiteLedger.records`: voided records only when ``voided`` is asked for
    (what every report reads leaves them out); ``site``'s only when it is given."""
    clauses, args = [], []
    if site is not None:
        if version < WITH_SITES:  # no site yet: nothing is of any site
            clauses.append("0 = 1")
        else:
            clauses.append("site = ?")
            args.append(site)
    if form:
        clauses.append("form = ?")
        args.append(form)
    if customer:
        clauses.append("customer LIKE ?")
        args.append(f"%{customer}%")
    voidable = version >= VOIDABLE
    if latest_only:  # a voided record is never the latest: asked for, it is listed anyway
        clauses.append("(latest = 1 OR voided_at IS NOT NULL)" if voided and voidable
                       else "latest = 1")
    if not voided and voidable:
        clauses.append("voided_at IS NULL")
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    return f"SELECT * FROM records{where} ORDER BY processed_at, record_id", args


def void_record(db: sqlite3.Connection, record_id: str, reason: str, by: str,
                at: str) -> None:
    """Void a record in transaction ``db``; when it was the latest of its natural key, the
    revision it superseded (the nearest not voided) is the latest again.

    Raises `VoidRefused` for an unknown or already voided record.
    """
    found = db.execute("SELECT * FROM records WHERE record_id = ?", (record_id,)).fetchone()
    row = record_of(found) if found else None
    if row is None or row.voided is not None:
        raise VoidRefused(record_id, None if row is None else row.voided)
    db.execute("UPDATE records SET latest = 0, voided_at = ?, voided_by = ?, void_reason = ?"
               " WHERE record_id = ?", (at, by, reason, record_id))
    previous = row.supersedes if row.latest else None
    while previous:
        before = db.execute("SELECT supersedes, voided_at FROM records WHERE record_id = ?",
                            (previous,)).fetchone()
        if before is None or before["voided_at"] is None:
            db.execute("UPDATE records SET latest = 1 WHERE record_id = ?", (previous,))
            break
        previous = before["supersedes"]
    db.execute("INSERT INTO events (kind, claim_id, detail) VALUES ('voided', NULL, ?)",
               (json.dumps({"record_id": record_id, "by": by, "reason": reason},
                           ensure_ascii=False),))


def file_of(row: sqlite3.Row | dict[str, Any]) -> FileRow:
    """A ``files`` row (of either engine) as a `FileRow` (a schema-1 ledger has no report
    column)."""
    columns = row.keys()  # a schema-1 ledger read as it is has no report column
    report = row["report"] if "report" in columns else None
    return FileRow(
        claim_id=row["claim_id"], name=row["name"], sha256=row["sha256"], size=row["size"],
        received_at=row["received_at"], processed_at=row["processed_at"],
        outcome=row["outcome"], location=row["location"], record_id=row["record_id"],
        form=row["form"], codes=tuple(json.loads(row["codes"])),
        report=json.loads(report) if report else None, site=_site(row),
    )



INSERT_RECORD = (
    "INSERT INTO records (record_id, form, revision, instance_id, sha256, natural_key,"
    " customer, period, supersedes, latest, notes, data, scores, source_name,"
    " received_at, processed_at, path, site) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
"""Insert one record; its parameters are `record_params`."""

INSERT_FILE = (
    "INSERT INTO files (claim_id, name, sha256, size, received_at, processed_at,"
    " outcome, record_id, form, codes, location, report, site)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)")
"""Insert one file's outcome; its parameters are `file_params`."""


def record_params(row: RecordRow) -> tuple[Any, ...]:
    """The parameters of `INSERT_RECORD` for ``row``."""
    return (row.record_id, row.form, row.revision, row.instance_id, row.sha256,
            key_text(row.natural_key), row.customer, row.period, row.supersedes,
            int(row.latest), json.dumps(list(row.notes)), json.dumps(row.data, ensure_ascii=False),
            json.dumps(row.scores, ensure_ascii=False) if row.scores is not None else None,
            row.source_name, row.received_at, row.processed_at, row.path, row.site)


def file_params(row: FileRow) -> tuple[Any, ...]:
    """The parameters of `INSERT_FILE` for ``row``."""
    return (row.claim_id, row.name, row.sha256, row.size, row.received_at, row.processed_at,
            row.outcome, row.record_id, row.form, json.dumps(list(row.codes)), row.location,
            None if row.report is None else json.dumps(row.report, ensure_ascii=False,
                                                       default=str), row.site)


INSERT_ACTION = (
    "INSERT INTO actions (action_id, cause_key, scope, source, cause, source_record, customer,"
    " problem_zh, problem_en, department_zh, department_en, raised_on, due, cause_removed_by,"
    " raised_at, updated_at, site) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
"""Insert one action; its parameters are `action_params`."""


def action_params(row: ActionRow) -> tuple[Any, ...]:
    """The parameters of `INSERT_ACTION` for ``row``."""
    return (row.action_id, row.cause_key, row.scope, row.source,
            json.dumps(row.cause, ensure_ascii=False, sort_keys=True, default=str),
            row.source_record, row.customer, row.problem_zh, row.problem_en,
            row.department_zh, row.department_en, row.raised_on, row.due, row.cause_removed_by,
            row.raised_at, row.updated_at, row.site)


def action_of(row: sqlite3.Row | dict[str, Any]) -> ActionRow:
    """An ``actions`` row (of either engine) as an `ActionRow`."""
    return ActionRow(
        action_id=row["action_id"], cause_key=row["cause_key"], scope=row["scope"],
        source=row["source"], cause=json.loads(row["cause"]),
        source_record=row["source_record"], customer=row["customer"],
        problem_zh=row["problem_zh"], problem_en=row["problem_en"],
        department_zh=row["department_zh"], department_en=row["department_en"],
        raised_on=row["raised_on"], due=row["due"], raised_at=row["raised_at"],
        updated_at=row["updated_at"], cause_removed_by=row["cause_removed_by"],
        site=_site(row))
