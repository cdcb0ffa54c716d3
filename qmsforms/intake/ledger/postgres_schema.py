"""The PostgreSQL ledger's schema, numbered for this engine, and the statements that differ
from SQLite's.

Migration *n* brings a database from version *n - 1* to *n*; ``ledger_migrations`` holds one
row per migration applied (when, by which backend), so a migration applied twice would show.
Migration 1 is the whole schema the SQLite ledger reached in its migrations 1-3 (a PostgreSQL
ledger starts there); migration 2 is SQLite's 4, the corrective actions. The columns and
their text are SQLite's (JSON as text, timestamps as ISO text, natural keys as sorted JSON),
so the rows read back the same from both engines and `record_of` / `file_of` /
`action_of` of `qmsforms.intake.ledger.schema` turn them into the same rows.
Text that is ordered or compared is ``COLLATE "C"``: byte order, as SQLite's, whatever the
database's locale.

Constraints carry the invariants, as in SQLite: one outcome per claimed file (``files``
primary key), one record per content hash (``records.sha256`` unique), one latest record per
natural key (a partial unique index); and here also revision chains that cannot fork (a
partial unique index on ``supersedes``: a record has at most one successor that counts).
"""

from __future__ import annotations

from typing import Any

from .schema import (
    INSERT_ACTION,
    INSERT_FILE,
    INSERT_RECORD,
    WITH_ACTIONS,
    WITH_SITES,
    record_params,
    records_query,
)
from .schema import MIGRATIONS as SQLITE_MIGRATIONS

MIGRATIONS: tuple[str, ...] = (
    # 1: files, records (with their voids), issued blanks, attempts per claim, event log
    """
    CREATE TABLE records (
        record_id    TEXT COLLATE "C" PRIMARY KEY,
        form         TEXT COLLATE "C" NOT NULL,
        revision     TEXT NOT NULL,
        instance_id  TEXT,
        sha256       TEXT NOT NULL UNIQUE,
        natural_key  TEXT COLLATE "C" NOT NULL,
        customer     TEXT,
        period       TEXT,
        supersedes   TEXT COLLATE "C" REFERENCES records(record_id),
        latest       BOOLEAN NOT NULL DEFAULT TRUE,
        notes        TEXT NOT NULL DEFAULT '[]',
        data         TEXT NOT NULL,
        scores       TEXT,
        source_name  TEXT NOT NULL,
        received_at  TEXT NOT NULL,
        processed_at TEXT COLLATE "C" NOT NULL,
        path         TEXT NOT NULL,
        voided_at    TEXT,
        voided_by    TEXT,
        void_reason  TEXT,
        CHECK (supersedes <> record_id),
        CHECK (voided_at IS NULL OR NOT latest)
    );
    CREATE UNIQUE INDEX records_one_latest ON records(form, natural_key) WHERE latest;
    CREATE UNIQUE INDEX records_one_successor ON records(supersedes)
        WHERE supersedes IS NOT NULL AND voided_at IS NULL;
    CREATE INDEX records_form ON records(form, customer, period);
    CREATE INDEX records_instance ON records(instance_id);
    CREATE INDEX records_voided ON records(voided_at) WHERE voided_at IS NOT NULL;

    CREATE TABLE files (
        claim_id     TEXT COLLATE "C" PRIMARY KEY,
        name         TEXT NOT NULL,
        sha256       TEXT NOT NULL,
        size         BIGINT NOT NULL,
        received_at  TEXT NOT NULL,
        processed_at TEXT COLLATE "C" NOT NULL,
        outcome      TEXT NOT NULL CHECK (outcome IN ('record', 'rejected', 'duplicate')),
        record_id    TEXT COLLATE "C" REFERENCES records(record_id),
        form         TEXT,
        codes        TEXT NOT NULL DEFAULT '[]',
        location     TEXT NOT NULL,
        report       TEXT,
        CHECK ((outcome = 'rejected') = (record_id IS NULL))
    );
    CREATE INDEX files_sha ON files(sha256);

    CREATE TABLE issued (
        instance_id  TEXT COLLATE "C" PRIMARY KEY,
        form         TEXT NOT NULL,
        revision     TEXT NOT NULL,
        issued_at    TEXT COLLATE "C" NOT NULL,
        customer     TEXT,
        path         TEXT
    );

    CREATE TABLE attempts (
        claim_id     TEXT COLLATE "C" PRIMARY KEY,
        name         TEXT NOT NULL,
        count        INTEGER NOT NULL DEFAULT 0,
        first_at     TEXT COLLATE "C" NOT NULL,
        last_at      TEXT NOT NULL,
        last_error   TEXT NOT NULL DEFAULT ''
    );

    CREATE TABLE events (
        id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at           TEXT NOT NULL DEFAULT to_char(clock_timestamp() AT TIME ZONE 'UTC',
                                                   'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        kind         TEXT NOT NULL,
        claim_id     TEXT,
        detail       TEXT NOT NULL DEFAULT ''
    );
    """,
    # 2: corrective/preventive actions raised by the records' causes (qmsforms.actions):
    #    SQLite's migration 4 as it is (its ORDER BY names the byte order)
    SQLITE_MIGRATIONS[WITH_ACTIONS - 1],
    # 3: the site of every file, record, action and issued blank (SPEC §10)
    """
    ALTER TABLE records ADD COLUMN site TEXT COLLATE "C";
    ALTER TABLE files ADD COLUMN site TEXT COLLATE "C";
    ALTER TABLE actions ADD COLUMN site TEXT COLLATE "C";
    ALTER TABLE issued ADD COLUMN site TEXT COLLATE "C";
    CREATE INDEX records_site ON records(site) WHERE site IS NOT NULL;
    """,
)

MIGRATIONS_TABLE = """
    CREATE TABLE IF NOT EXISTS ledger_migrations (
        version      INTEGER PRIMARY KEY,
        applied_at   TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
        applied_by   TEXT NOT NULL
    )"""
"""Created (under the migration lock) before the first migration: one row per migration."""

MIGRATION_LOCK = 0x716D_7366_6D69_6700
"""The session advisory lock a writer holds while it migrates (``qmsfmig`` in ASCII)."""

INDEXES = ("records_one_latest", "records_one_successor", "records_sha256_key",
           "records_pkey", "files_pkey")
"""The indexes that carry the invariants; `PostgresLedger.integrity` checks they are valid."""


def pg(sql: str) -> str:
    """An SQLite statement of `qmsforms.intake.ledger.schema` in PostgreSQL's words: ``%s``
    placeholders, and ``LIKE`` without regard to case (SQLite's ``LIKE`` ignores ASCII case)."""
    return sql.replace("?", "%s").replace(" LIKE ", " ILIKE ")


PG_INSERT_RECORD = pg(INSERT_RECORD)
"""Insert one record; its parameters are `pg_record_params`."""

PG_INSERT_FILE = pg(INSERT_FILE)
"""Insert one file's outcome; its parameters are `schema.file_params`."""

PG_INSERT_ACTION = pg(INSERT_ACTION)
"""Insert one action; its parameters are `schema.action_params`."""


def pg_record_params(row: Any) -> tuple[Any, ...]:
    """The parameters of `PG_INSERT_RECORD` for a `RecordRow` (``latest`` a boolean)."""
    params = list(record_params(row))
    params[9] = bool(row.latest)
    return tuple(params)


def pg_records_query(form: str | None, customer: str | None, latest_only: bool,
                     voided: bool, site: str | None = None) -> tuple[str, list[Any]]:
    """The query of `PostgresLedger.records` (voids exist from migration 1 on, sites from 3,
    which every PostgreSQL writer reaches before it writes)."""
    sql, args = records_query(form, customer, latest_only, voided, WITH_SITES, site)
    return pg(sql).replace("latest = 1", "latest"), args


VOID = """
    WITH RECURSIVE chain AS (
        SELECT record_id, supersedes, voided_at, 1 AS depth FROM records
         WHERE record_id = %(previous)s
        UNION ALL
        SELECT r.record_id, r.supersedes, r.voided_at, c.depth + 1
          FROM records r JOIN chain c ON r.record_id = c.supersedes
         WHERE c.voided_at IS NOT NULL
    )
    UPDATE records SET latest = TRUE
     WHERE record_id = (SELECT record_id FROM chain WHERE voided_at IS NULL
                         ORDER BY depth LIMIT 1)"""
"""After a latest record was voided: the revision it superseded, the nearest not voided, is
the latest again (``previous`` is the voided record's ``supersedes``)."""
