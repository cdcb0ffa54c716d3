"""Moving in: a workspace's SQLite ledger copied into a PostgreSQL ledger
(``qmsforms ledger migrate --to URL``), once per plant, several plants into one.

Everything is copied: files, records (revision chains, notes, voids), issued blanks, events,
attempts and actions, in one PostgreSQL transaction that also holds the migration lock and
locks the tables against writes, so a live watcher on the target waits instead of
interleaving. The target is migrated to the current schema first (`PostgresLedger`). How
plants' rows merge (the same content twice, one natural key at two plants, clashing action
numbers) is `qmsforms.intake.ledger.merge`; a renumbered action's outbox journal is renamed
to its new number once the copy is committed.

After copying, each table's rows are counted (the target's before plus those copied, against
those found), every source row is looked up in the target and the set of record content
hashes is compared (problems ``MIGRATE_COUNT``, ``MIGRATE_MISSING``, ``MIGRATE_SHA``): any
mismatch rolls the whole copy back (`MigrationMismatch`, ``LEDGER_MISMATCH``). A dry run reads
both ledgers and says what would be done, writing nothing (not even the target's schema).

Refused with `LedgerError`: a target that is not a PostgreSQL URL (``LEDGER_NOT_POSTGRES``),
a workspace without a SQLite ledger or a file that is not one (``LEDGER_NOT_SQLITE``),
``site`` on a target without site columns (``LEDGER_NO_SITE``), a source column the target
cannot hold (``LEDGER_NEWER``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .merge import KEYS, TABLES, Migration, Plan, Row, plan, stamp
from .sqlite_files import ledger_path
from .store import LedgerError

if TYPE_CHECKING:
    from ...workspace import Workspace
    from .postgres import PostgresLedger

log = logging.getLogger(__name__)

__all__ = ["Migration", "MigrationMismatch", "migrate_ledger", "read_source"]


class MigrationMismatch(LedgerError):
    """``LEDGER_MISMATCH``: after copying, the target did not hold what it should; nothing
    was kept (the transaction was rolled back). ``migration`` says what was compared."""

    def __init__(self, migration: Migration) -> None:
        codes = ", ".join(sorted({p["code"] for p in migration.problems}))
        super().__init__("LEDGER_MISMATCH",
                         f"迁移后核对不符({codes}),已全部撤销,目标台账未改动。",
                         f"the copy did not check out ({codes}); it was rolled back and the "
                         "target ledger is unchanged")
        self.migration = migration


def _not_sqlite(path: Path, why: object) -> LedgerError:
    return LedgerError("LEDGER_NOT_SQLITE", f"{path} 不是可读的 SQLite 台账({why})。",
                       f"{path} is not a SQLite ledger that can be read ({why})")


def read_source(path: Path) -> dict[str, list[Row]]:
    """Every row of every table of the SQLite ledger at ``path`` (read-only), as dicts.

    Raises `LedgerError` ``LEDGER_NOT_SQLITE`` for a missing file or one that is not a
    SQLite ledger."""
    if not path.is_file():
        raise _not_sqlite(path, "no such file")
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30,
                             isolation_level=None)
    except sqlite3.Error as exc:
        raise _not_sqlite(path, exc) from exc
    db.row_factory = sqlite3.Row
    try:
        db.execute("BEGIN")  # one snapshot of every table, whatever a watcher writes meanwhile
        present = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "records" not in present:
            raise _not_sqlite(path, "no records table")
        return {t: [dict(r) for r in db.execute(f"SELECT * FROM {t} ORDER BY rowid")]
                if t in present else [] for t in TABLES}
    except sqlite3.DatabaseError as exc:
        raise _not_sqlite(path, exc) from exc
    finally:
        db.close()


def _refuse_target(url: str) -> None:
    from ...config import ledger_url_problem

    problem = ledger_url_problem(url)
    if problem is not None:
        zh, _, en = problem.partition(" / ")
        raise LedgerError("LEDGER_NOT_POSTGRES", f"迁移目标不可用:{zh}",
                          f"the migration target cannot be used: {en or zh}")


def _columns(db: Any) -> dict[str, set[str]]:
    rows = db.execute("SELECT table_name, column_name FROM information_schema.columns"
                      " WHERE table_schema = current_schema() AND table_name = ANY(%s)",
                      (list(TABLES),)).fetchall()
    found: dict[str, set[str]] = {t: set() for t in TABLES}
    for r in rows:
        found[r["table_name"]].add(r["column_name"])
    return found


def _read_target(db: Any, columns: dict[str, set[str]]) -> dict[str, list[Row]]:
    return {t: db.execute(f"SELECT * FROM {t}").fetchall() if columns[t] else [] for t in TABLES}


def _digest(hashes: set[str]) -> str:
    return hashlib.sha256("\n".join(sorted(hashes)).encode()).hexdigest()


def _refuse_columns(source: dict[str, list[Row]], columns: dict[str, set[str]],
                    site: str | None) -> None:
    if site is not None and "site" not in columns["records"]:
        raise LedgerError("LEDGER_NO_SITE",
                          "目标台账还没有站点列,不能加 --site;请先升级 qmsforms。",
                          "the target ledger has no site columns yet, so --site cannot be "
                          "stamped; upgrade qmsforms first")
    for table, rows in source.items():
        lost = {k for r in rows for k, v in r.items()
                if v is not None and k not in columns[table] and not (table == "events"
                                                                      and k == "id")}
        if lost:
            raise LedgerError("LEDGER_NEWER",
                              f"目标台账的 {table} 表没有列 {sorted(lost)};请先升级 qmsforms。",
                              f"the target's {table} table has no column {sorted(lost)}; "
                              "upgrade qmsforms first")


def _insert(db: Any, table: str, rows: list[Row]) -> int:
    """Insert ``rows`` (pipelined, a statement per set of columns); how many."""
    by_columns: dict[tuple[str, ...], list[Row]] = {}
    for row in rows:
        by_columns.setdefault(tuple(row), []).append(row)
    for names, group in by_columns.items():
        with db.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES "
                               f"({', '.join(['%s'] * len(names))})",
                               [[row[n] for n in names] for row in group])
    return len(rows)


def _apply(db: Any, work: Plan) -> int:
    """Make the planned writes in transaction ``db``; how many statements changed rows."""
    writes = 0
    for record_id, receipt in work.receipts.items():
        sets = ", ".join(f"{k} = %s" for k in receipt)
        db.execute(f"UPDATE records SET {sets} WHERE record_id = %s",
                   [*receipt.values(), record_id])
        writes += 1
    writes += _insert(db, "records", [row | {"supersedes": None, "latest": False}
                                      for row in work.inserts["records"]])
    current = {r["record_id"]: (r["supersedes"], r["latest"]) for r in db.execute(
        "SELECT record_id, supersedes, latest FROM records WHERE record_id = ANY(%s)",
        (list(work.links),)).fetchall()}
    moving = [i for i, link in work.links.items() if current.get(i) != link]
    if moving:  # cleared first: no moment with two latest records or a forked chain
        db.execute("UPDATE records SET latest = FALSE, supersedes = NULL"
                   " WHERE record_id = ANY(%s)", (moving,))
        for record_id in moving:
            supersedes, latest = work.links[record_id]
            db.execute("UPDATE records SET supersedes = %s, latest = %s WHERE record_id = %s",
                       (supersedes, latest, record_id))
            writes += 1
    if work.demoted:
        db.execute("UPDATE files SET outcome = 'duplicate' WHERE claim_id = ANY(%s)",
                   (work.demoted,))
        writes += len(work.demoted)
    for table in TABLES[1:]:
        writes += _insert(db, table, work.inserts[table])
    for action_id, content in work.action_updates.items():
        sets = ", ".join(f"{k} = %s" for k in content)
        db.execute(f"UPDATE actions SET {sets} WHERE action_id = %s",
                   [*content.values(), action_id])
        writes += 1
    return writes


def _verify(db: Any, source: dict[str, list[Row]], work: Plan,
            migration: Migration) -> None:
    """Counts, every source row found, the record content hashes: problems into
    ``migration``."""
    after = _read_target(db, _columns(db))
    for table in TABLES:
        entry = migration.tables[table]
        entry["found"] = len(after[table])
        if entry["found"] != entry["expected"]:
            migration.problems.append({"code": "MIGRATE_COUNT", "table": table,
                                       "expected": entry["expected"], "found": entry["found"]})
    keys = dict(KEYS, records=("sha256",), actions=("cause_key",))
    for table in TABLES:
        held = {tuple(r[k] for k in keys[table]) for r in after[table]}
        missing = [r for r in source[table] if tuple(r[k] for k in keys[table]) not in held]
        if missing:
            migration.problems.append({"code": "MIGRATE_MISSING", "table": table,
                                       "expected": 0, "found": len(missing)})
    found = {r["sha256"] for r in after["records"]}
    migration.record_hashes["found"] = _digest(found)
    if found != work.expected_hashes or len(after["records"]) != len(found):
        migration.problems.append({"code": "MIGRATE_SHA", "table": "records",
                                   "expected": len(work.expected_hashes), "found": len(found)})


def _counts(source: dict[str, list[Row]], target: dict[str, list[Row]], work: Plan,
            migration: Migration) -> None:
    for table in TABLES:
        copied = len(work.inserts[table])
        migration.tables[table] = {
            "source": len(source[table]), "target_before": len(target[table]),
            "copied": copied, "already": len(source[table]) - copied
            - (len(migration.merged) if table == "records" else 0),
            "expected": len(target[table]) + copied, "found": None}
    work.expected_hashes |= {r["sha256"] for r in source["records"]}
    migration.record_hashes = {"count": len(work.expected_hashes),
                               "expected": _digest(work.expected_hashes), "found": None}
    migration.writes = (sum(len(v) for v in work.inserts.values()) + len(work.receipts)
                        + len(work.demoted) + len(work.action_updates) + len(migration.relinked))


def _journals(workspace: Workspace, ledger: PostgresLedger, migration: Migration,
              copied: list[str]) -> None:
    """The plant's outbox journal follows the numbers the actions have in the target (and,
    ``copied``, the site stamped on them)."""
    from ...actions.causes import SITE_MARK
    from ...actions.raising import JOURNAL_DIR, write_journal

    folder = workspace.outbox / JOURNAL_DIR
    ids = [m["action_id"] for m in migration.actions_merged if m["updated"]]
    write_journal(workspace.outbox, ledger,
                  [*ids, *copied, *(r["to"] for r in migration.renumbered)])
    for moved in migration.renumbered:
        old = folder / f"{moved['from']}.json"
        try:
            stale = json.loads(old.read_text(encoding="utf-8")).get("cause_key")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(stale, str) and \
                stale.split(SITE_MARK)[0] == moved["cause_key"].split(SITE_MARK)[0]:
            old.unlink()
            log.info("outbox journal %s renamed %s.json (renumbered in the target)", old.name,
                     moved["to"])


def migrate_ledger(workspace: Workspace, url: str, *, site: str | None = None,
                   dry_run: bool = False) -> Migration:
    """Copy ``workspace``'s SQLite ledger into the PostgreSQL ledger at ``url``.

    ``site`` is stamped on copied rows without one. ``dry_run`` writes nothing and returns
    what would be done. Raises `MigrationMismatch` when the copy does not check out (then
    nothing was written) and `LedgerError` for what is refused (see the module)."""
    _refuse_target(url)
    import psycopg
    from psycopg import errors

    from .postgres import PostgresLedger, busy_error, redact, unavailable_error

    path = ledger_path(workspace)
    source = read_source(path)
    migration = Migration(source=str(path), target=redact(url), dry_run=dry_run, site=site)
    with PostgresLedger(url, readonly=dry_run) as ledger:
        try:
            _copy(workspace, ledger, source, migration)
        except errors.LockNotAvailable as exc:
            raise busy_error(url) from exc
        except psycopg.OperationalError as exc:
            raise unavailable_error(url, exc) from exc
    log.info("ledger %s %s into %s: %s", path, "would be copied" if dry_run else "copied",
             migration.target, {t: v["copied"] for t, v in migration.tables.items()})
    return migration


def _copy(workspace: Workspace, ledger: PostgresLedger, source: dict[str, list[Row]],
          migration: Migration) -> None:
    """The copy in one transaction (rolled back when dry, or when it does not check out)."""
    from .postgres import MIGRATION_LOCK

    dry_run, site, path = migration.dry_run, migration.site, migration.source
    db = ledger.db
    version = ledger.version
    with db.transaction(force_rollback=dry_run):
        if dry_run:  # the whole copy is made, checked and rolled back
            db.execute("SET TRANSACTION READ WRITE")
            _schema(db, version)
        else:
            db.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            db.execute(f"LOCK TABLE {', '.join(TABLES)} IN EXCLUSIVE MODE")
        columns = _columns(db)
        _refuse_columns(source, columns, site)
        if site is not None:
            source = stamp(source, site, _site_forms(workspace))
        target = _read_target(db, columns)
        work = plan(source, target, columns, site, migration)
        _counts(source, target, work, migration)
        _apply(db, work)
        _verify(db, source, work, migration)
        if migration.problems:
            raise MigrationMismatch(migration)
        if migration.changed:
            db.execute("INSERT INTO events (kind, detail) VALUES ('migrated', %s)",
                       (json.dumps({"from": str(path), "site": site, "records":
                                    migration.tables["records"]["copied"]}),))
    if not dry_run and migration.changed:
        _journals(workspace, ledger, migration,
                  [a["action_id"] for a in work.inserts["actions"]] if site else [])


def _site_forms(workspace: Workspace) -> set[str]:
    """The forms whose natural key is per site in ``workspace``."""
    from ...site import key_scope

    return {form.id for form in workspace.registry if key_scope(workspace, form) == "site"}


def _schema(db: Any, version: int) -> None:
    """The target's missing migrations, inside a dry run's transaction (rolled back)."""
    from .postgres_schema import MIGRATIONS, MIGRATIONS_TABLE

    if version < len(MIGRATIONS):
        db.execute(MIGRATIONS_TABLE)
        for script in MIGRATIONS[version:]:
            db.execute(script)
