"""The PostgreSQL ledger's own behaviour: choosing it, the migration lock, a server out of
reach, a URL with a password, an empty database, a revision chain that would fork.

What both engines must do is tested in test_ledger.py (parametrised); the intake and the
watchers on PostgreSQL in test_postgres_intake.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qmsforms.config import ConfigError
from qmsforms.intake import WORK_DIR, Intake, LedgerError, open_ledger
from qmsforms.intake.ledger import LEDGER_ENV, SQLiteLedger, decision_keys, ledger_path
from qmsforms.intake.status import intake_status
from qmsforms.workspace import Workspace

from ..conftest import REPO
from .test_ledger import INTEGRITY, file_row, record
from .test_watch import WatchProcess, wait_for

pytestmark = pytest.mark.postgres

psycopg = pytest.importorskip("psycopg")

from qmsforms.intake.ledger.postgres import PostgresLedger  # noqa: E402
from qmsforms.intake.ledger.postgres_locks import advisory_key  # noqa: E402
from qmsforms.intake.ledger.postgres_schema import MIGRATION_LOCK, MIGRATIONS  # noqa: E402


@pytest.fixture
def pg_ws(ws: Workspace, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A workspace whose ledger is a fresh PostgreSQL database (``QMSFORMS_LEDGER``)."""
    monkeypatch.setenv(LEDGER_ENV, pg_url)
    return ws


def admin(url: str, sql: str, args: Any = ()) -> list[Any]:
    with psycopg.connect(url, autocommit=True) as db:
        cursor = db.execute(sql, args)
        return cursor.fetchall() if cursor.description else []


def closed_port() -> str:
    """A URL of a localhost port nothing listens on."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"postgresql://postgres@127.0.0.1:{port}/qmsforms"


# -- choosing the engine -----------------------------------------------------------------------

def test_a_url_chooses_postgresql_and_sqlite_is_never_touched(pg_ws: Workspace) -> None:
    with open_ledger(pg_ws, write=True) as led:
        assert isinstance(led, PostgresLedger) and led.version == len(MIGRATIONS)
        led.add_issued("u1", "complaint", "A", "2026-11-21T08:00:00Z")
    with open_ledger(pg_ws) as led:
        assert led.readonly and led.is_issued("u1")
    assert not ledger_path(pg_ws).exists()


def test_the_url_in_qmsforms_toml_and_the_environment_wins(ws: Workspace, pg_url: str,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.delenv(LEDGER_ENV, raising=False)
    config = ws.root / "qmsforms.toml"
    config.write_text(config.read_text(encoding="utf-8")
                      + f'\n[ledger]\nurl = "{closed_port()}"\n', encoding="utf-8")
    ws = Workspace(ws.root)
    with pytest.raises(LedgerError) as err:
        open_ledger(ws)
    assert err.value.code == "LEDGER_UNAVAILABLE"
    monkeypatch.setenv(LEDGER_ENV, pg_url)
    with open_ledger(ws, write=True) as led:
        assert isinstance(led, PostgresLedger)
    monkeypatch.setenv(LEDGER_ENV, "")
    config.write_text(config.read_text(encoding="utf-8").replace("[ledger]", "[ledger.x]"))
    with pytest.raises(ConfigError):
        open_ledger(Workspace(ws.root))


@pytest.mark.parametrize("url", [
    "postgresql://qms:s3cret@db.example/qmsforms",
    "postgresql://qms@db.example/qmsforms?password=s3cret",
    "postgres://:s3cret@/qmsforms",
])
def test_a_url_with_a_password_is_refused(ws: Workspace, url: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LEDGER_ENV, url)
    with pytest.raises(ConfigError) as env_err:
        open_ledger(ws)
    monkeypatch.delenv(LEDGER_ENV)
    config = ws.root / "qmsforms.toml"
    config.write_text(config.read_text(encoding="utf-8") + f'\n[ledger]\nurl = "{url}"\n',
                      encoding="utf-8")
    with pytest.raises(ConfigError) as toml_err:
        Workspace(ws.root).config  # noqa: B018
    for err in (env_err, toml_err):
        assert "s3cret" not in str(err.value) and "pgpass" in str(err.value)
    assert not ledger_path(ws).exists()


def test_a_url_that_is_not_postgresql_is_refused(ws: Workspace,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LEDGER_ENV, "mysql://qms@db.example/qmsforms")
    with pytest.raises(ConfigError):
        open_ledger(ws, write=True)


# -- migrations under the advisory lock -------------------------------------------------------

OPEN_AT_ONCE = """
import sys
from qmsforms.intake.ledger.postgres import PostgresLedger
sys.stdin.readline()  # every process is started and imported before any opens
with PostgresLedger(sys.argv[1]) as led:
    print(led.version, flush=True)
"""


def test_writers_opening_a_fresh_database_at_once_migrate_it_once(pg_url: str) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", OPEN_AT_ONCE, pg_url], text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for _ in range(4)]
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = [proc.communicate(timeout=300) for proc in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in results]
    assert [out.split() for out, _ in results] == [[str(len(MIGRATIONS))]] * 4
    rows = admin(pg_url, "SELECT version, applied_by FROM ledger_migrations ORDER BY version")
    assert [r[0] for r in rows] == list(range(1, len(MIGRATIONS) + 1))
    assert len({r[1] for r in rows}) == 1  # one process applied them all


def test_a_writer_waits_for_the_migration_lock(pg_url: str) -> None:
    holder = psycopg.connect(pg_url, autocommit=True)
    holder.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    proc = subprocess.Popen([sys.executable, "-c", OPEN_AT_ONCE, pg_url], text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
        waiting = ("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        while admin(pg_url, waiting)[0][0] == 0:
            assert proc.poll() is None, "the writer did not wait for the lock"
            time.sleep(0.05)
        assert admin(pg_url, "SELECT to_regclass('records')") == [(None,)]
    finally:
        holder.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
        holder.close()
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0 and out.split() == [str(len(MIGRATIONS))]


def test_a_newer_schema_is_refused(pg_url: str) -> None:
    with PostgresLedger(pg_url):
        pass
    admin(pg_url, "INSERT INTO ledger_migrations (version, applied_by) VALUES (%s, 'later')",
          (len(MIGRATIONS) + 1,))
    for readonly in (False, True):
        with pytest.raises(LedgerError) as err:
            PostgresLedger(pg_url, readonly=readonly)
        assert err.value.code == "LEDGER_NEWER"


# -- readers, an empty database ---------------------------------------------------------------

def test_a_reader_of_an_empty_database_reads_nothing_and_creates_nothing(
        pg_ws: Workspace, pg_url: str) -> None:
    with open_ledger(pg_ws) as led:
        assert led.version == 0 and led.records() == [] and led.count("files") == 0
        assert led.open_attempts() == [] and led.integrity() == "ok"
        with pytest.raises(LedgerError) as err, led.transaction():
            pass
        assert err.value.code == "LEDGER_UNAVAILABLE"
    assert admin(pg_url, "SELECT to_regclass('ledger_migrations')") == [(None,)]


def test_a_reader_writes_nothing(pg_ws: Workspace) -> None:
    with open_ledger(pg_ws, write=True) as led, led.transaction() as db:
        led.add_record(db, record(1))
    with open_ledger(pg_ws) as led:
        for write in (lambda: led.log("x"), lambda: led.begin_attempt("c1", "f"),
                      lambda: led.add_issued("u", "complaint", "A", "t")):
            with pytest.raises(LedgerError) as err:
                write()
            assert err.value.code == "LEDGER_UNAVAILABLE"
        assert led.count("events") == led.count("attempts") == led.count("issued") == 0


def test_an_empty_database_is_not_used_while_the_outbox_holds_records(pg_ws: Workspace,
                                                                      pg_url: str) -> None:
    record_json = pg_ws.outbox / "records" / "complaint" / "R-1.json"
    record_json.parent.mkdir(parents=True)
    record_json.write_text("{}")
    for write in (True, False):
        with pytest.raises(LedgerError) as err:
            open_ledger(pg_ws, write=write)
        assert err.value.code == "LEDGER_MISSING"
    assert admin(pg_url, "SELECT to_regclass('records')") == [(None,)]


# -- invariants only PostgreSQL's constraints carry -------------------------------------------

def test_a_revision_chain_cannot_fork(pg_url: str) -> None:
    with PostgresLedger(pg_url) as led:
        with led.transaction() as db:
            led.add_record(db, record(1))
            led.add_record(db, record(2, supersedes="R-1"))
        with pytest.raises(INTEGRITY), led.transaction() as db:
            led.add_record(db, record(3, supersedes="R-1"))  # a second successor of R-1
        led.void("R-2", "wrong", "me")  # R-1 is the latest again: it may be revised anew
        with led.transaction() as db:
            led.add_record(db, record(3, natural_key=record(1).natural_key, supersedes="R-1"))
        assert led.latest("satisfaction-survey", record(1).natural_key).record_id == "R-3"


WAITING = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
"""How many advisory locks some session waits for."""


def test_a_decision_waits_only_for_one_of_its_own_keys(pg_url: str) -> None:
    a = record(1)
    b = record(2)
    keys_a = decision_keys(a.form, a.natural_key, a.sha256)
    keys_b = decision_keys(b.form, b.natural_key, b.sha256)
    seen: dict[str, Any] = {}
    started, locked = threading.Event(), threading.Event()

    def decide_a_again() -> None:  # a second decision about key A, on a connection of its own
        with PostgresLedger(pg_url) as other, other.transaction() as db:
            started.set()
            other.lock(db, *keys_a)
            locked.set()
            seen["latest"] = other.latest(a.form, a.natural_key)

    with PostgresLedger(pg_url) as first, PostgresLedger(pg_url) as second:
        with first.transaction() as db:
            first.lock(db, *keys_a)
            first.add_record(db, a)
            with second.transaction() as other:  # key B: not held up by key A
                second.lock(other, *keys_b)
                second.add_record(other, b)
            assert second.record("R-2") is not None and first.record("R-2") is not None
            thread = threading.Thread(target=decide_a_again)
            thread.start()
            assert started.wait(60)
            while admin(pg_url, WAITING)[0][0] == 0:  # until it waits for key A
                assert thread.is_alive(), "the second decision about key A did not wait"
                time.sleep(0.02)
            assert not locked.is_set()
        thread.join(120)  # key A free with the commit: it goes on, and sees what was committed
        assert locked.is_set() and not thread.is_alive()
    assert seen["latest"] is not None and seen["latest"].record_id == "R-1"


def test_bookkeeping_and_rejections_wait_for_no_decision(pg_url: str) -> None:
    with PostgresLedger(pg_url) as first, PostgresLedger(pg_url, timeout=0.2) as second, \
            first.transaction() as db:
        first.lock(db, "record:A", "scope:customer:A")
        first.add_file(db, file_row("c1", "rejected", None))
        second.begin_attempt("c2", "f.xlsx")
        with second.transaction() as other:
            second.add_file(other, file_row("c3", "rejected", None))
        second.add_issued("u1", "satisfaction-survey", "A", "2026-11-21T08:00:00Z")
        second.log("note", "c3")
        with pytest.raises(LedgerError) as err, second.transaction() as other:
            second.lock(other, "scope:customer:A")
        assert err.value.code == "LEDGER_BUSY"


DECIDE = """
import sys
from pathlib import Path
from qmsforms.intake import Intake
from qmsforms.workspace import Workspace

with Intake(Workspace(sys.argv[1]), settle=0.05) as intake:
    sys.stdin.readline()  # every process is started and ready before any decides
    outcome = intake.take(Path(sys.argv[2]), copy=True)
print(outcome.outcome if outcome else None, flush=True)
"""


def decide_while_held(ws: Workspace, url: str, files: list[Path], key: str) -> list[str]:
    """Start a process deciding each of ``files`` while this test holds lock ``key``, let
    them go once every one waits for it, and return their outcomes."""
    procs = [subprocess.Popen([sys.executable, "-c", DECIDE, str(ws.root), str(f)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              cwd=REPO) for f in files]
    held = psycopg.connect(url, autocommit=True)
    try:
        held.execute("SELECT pg_advisory_lock(%s)", (advisory_key(key),))
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        while admin(url, WAITING)[0][0] < len(procs):
            assert all(p.poll() is None for p in procs), f"a decision did not wait for {key}"
            time.sleep(0.05)
    finally:
        held.close()
    return [" ".join(proc.communicate(timeout=600)[0].split()) for proc in procs]


def test_months_of_one_customer_decided_at_once_raise_one_streak(
        pg_ws: Workspace, pg_url: str, make_filled: Any) -> None:
    """Three processes decide a month each while the customer's scope is held: each has added
    its record and waits; let go, they reconcile one after the other and the last sees all
    three months."""
    from ..actions.conftest import sheet
    from ..actions.test_raising import ACME

    files = [sheet(make_filled, ACME, f"2026-0{m}", q_partial_return=1) for m in (3, 4, 5)]
    with PostgresLedger(pg_url):
        pass  # migrated before the processes start
    # each has its record and waits for the scope
    assert decide_while_held(pg_ws, pg_url, files, f"scope:customer:{ACME}") == ["record"] * 3
    with open_ledger(pg_ws) as led:
        actions = led.actions()
        assert [a.source for a in actions] == ["monitoring_streak"]
        assert actions[0].cause["months"] == ["2026-03", "2026-04", "2026-05"]
        assert actions[0].action_id.endswith("-0001")


def test_two_customers_raising_at_once_get_two_numbers(
        pg_ws: Workspace, pg_url: str, make_filled: Any) -> None:
    """Two processes each decide the third month of a streak, of two customers (two scopes),
    while the year's numbering is held: both wait for it, and then count one after the
    other."""
    from datetime import datetime, timezone

    from ..actions.conftest import sheet

    customers = ("甲方 A", "乙方 B")
    with Intake(pg_ws, settle=0.05) as intake:
        for customer in customers:
            for month in ("2026-03", "2026-04"):
                path = sheet(make_filled, customer, month, q_partial_return=1)
                assert intake.take(path, copy=True) is not None
    last = [sheet(make_filled, c, "2026-05", q_partial_return=1) for c in customers]
    year = datetime.now(timezone.utc).year
    # both have read their causes and wait to count the numbers
    assert decide_while_held(pg_ws, pg_url, last, f"number:CA-{year}-") == ["record"] * 2
    with open_ledger(pg_ws) as led:
        actions = led.actions()
    assert sorted(a.action_id for a in actions) == [f"CA-{year}-0001", f"CA-{year}-0002"]
    assert sorted(a.customer or "" for a in actions) == sorted(customers)


def test_a_void_waits_for_a_decision_about_its_record(pg_url: str) -> None:
    a = record(1)
    with PostgresLedger(pg_url) as first, PostgresLedger(pg_url, timeout=0.2) as second:
        with first.transaction() as db:
            first.add_record(db, a)
        with first.transaction() as db:
            first.lock(db, *decision_keys(a.form, a.natural_key, a.sha256))
            with pytest.raises(LedgerError) as err:
                second.void("R-1", "wrong", "me")
            assert err.value.code == "LEDGER_BUSY"
        assert second.void("R-1", "wrong", "me").voided is not None


# -- a server out of reach ---------------------------------------------------------------------

def test_an_unreachable_database_is_ledger_unavailable_and_claims_nothing(
        ws: Workspace, make_filled: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LEDGER_ENV, closed_port())
    dropped = ws.inbox / "s.xlsx"
    shutil.copyfile(make_filled("satisfaction-survey"), dropped)
    for opening in (lambda: open_ledger(ws, write=True), lambda: Intake(ws)):
        with pytest.raises(LedgerError) as err:
            opening()
        assert err.value.code == "LEDGER_UNAVAILABLE"
    assert dropped.exists() and not ledger_path(ws).exists()
    assert not (ws.inbox / WORK_DIR).exists() or not any(
        (ws.inbox / WORK_DIR).iterdir())
    assert intake_status(ws).ledger.startswith("LEDGER_UNAVAILABLE")
    from click.testing import CliRunner

    from qmsforms.cli import cli

    shown = CliRunner().invoke(cli, ["--root", str(ws.root), "status", "--json"])
    assert shown.exit_code == 1  # a person is needed
    assert json.loads(shown.output)["ledger"].startswith("LEDGER_UNAVAILABLE")


def test_a_database_lost_while_watching_blocks_the_intake_and_files_wait(
        pg_ws: Workspace, pg_url: str, make_filled: Any) -> None:
    name = pg_url.rsplit("/", 1)[-1]
    first = pg_ws.inbox / "first.xlsx"
    shutil.copyfile(make_filled("satisfaction-survey"), first)
    with Intake(pg_ws, settle=0.05) as intake:
        assert [o.outcome for o in intake.process().outcomes] == ["record"]
        later = pg_ws.inbox / "later.xlsx"
        shutil.copyfile(make_filled("complaint"), later)
        admin(pg_url.rsplit("/", 1)[0] + "/postgres",
              f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        admin(pg_url.rsplit("/", 1)[0] + "/postgres",
              "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
              (name,))
        result = intake.process()
        assert result.blocked and "LEDGER_UNAVAILABLE" in result.blocked
        assert result.outcomes == [] and later.exists()
        assert not any((pg_ws.inbox / WORK_DIR).iterdir())
        admin(pg_url.rsplit("/", 1)[0] + "/postgres",
              f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
        again = intake.process()  # connected again: the file waited and is taken now
        assert again.blocked is None and [o.outcome for o in again.outcomes] == ["record"]
    assert not later.exists() and not ledger_path(pg_ws).exists()
    with open_ledger(pg_ws) as led:
        assert led.count("records") == 2


def test_a_watcher_started_while_the_database_is_away_waits_for_it(
        ws: Workspace, pg_url: str, make_filled: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    server, name = pg_url.rsplit("/", 1)
    later = f"{name}_later"
    monkeypatch.setenv(LEDGER_ENV, f"{server}/{later}")  # a database not created yet
    dropped = ws.inbox / "s.xlsx"
    shutil.copyfile(make_filled("satisfaction-survey"), dropped)
    watcher = WatchProcess(ws, ["--poll", "0.2"], tmp_path, "away")
    try:
        wait_for(lambda: "LEDGER_UNAVAILABLE" in watcher.stderr() or "cannot be reached"
                 in watcher.stderr(), 60, "the watcher to say the ledger is away", (watcher,))
        assert dropped.exists()  # nothing claimed while the ledger is away
        assert not (ws.inbox / WORK_DIR).exists() or not any((ws.inbox / WORK_DIR).iterdir())
        admin(f"{server}/postgres", f"CREATE DATABASE {later}")
        wait_for(lambda: watcher.marks()["REC"] == 1, 120, "the file to be recorded",
                 (watcher,))
        assert not dropped.exists() and not ledger_path(ws).exists()
    finally:
        assert watcher.terminate() == 0
        admin(f"{server}/postgres", f"DROP DATABASE IF EXISTS {later} WITH (FORCE)")


def test_a_watcher_stopped_while_it_waits_for_the_database_claims_nothing(
        ws: Workspace, make_filled: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LEDGER_ENV, closed_port())
    dropped = ws.inbox / "s.xlsx"
    shutil.copyfile(make_filled("satisfaction-survey"), dropped)
    watcher = WatchProcess(ws, [], tmp_path, "stopped")
    wait_for(lambda: "cannot be reached" in watcher.stderr(), 60,
             "the watcher to say the ledger is away", (watcher,))
    assert watcher.terminate() == 0
    assert dropped.exists() and watcher.marks() == Counter()


def test_the_sqlite_ledger_is_never_a_fallback(pg_ws: Workspace, monkeypatch: pytest.MonkeyPatch
                                               ) -> None:
    with SQLiteLedger(ledger_path(pg_ws)) as local, local.transaction() as db:
        local.add_record(db, record(1))
    monkeypatch.setenv(LEDGER_ENV, closed_port())
    with pytest.raises(LedgerError) as err:
        open_ledger(pg_ws)
    assert err.value.code == "LEDGER_UNAVAILABLE"


def test_keepalives_are_set(pg_url: str) -> None:
    with PostgresLedger(pg_url) as led:
        params = led.db.info.get_parameters()
        assert params.get("keepalives") == "1" and int(params["keepalives_idle"]) > 0



def test_rebuild_never_makes_a_sqlite_ledger_beside_postgresql(pg_ws: Workspace) -> None:
    from click.testing import CliRunner

    from qmsforms.cli import cli

    result = CliRunner().invoke(cli, ["--root", str(pg_ws.root), "ledger", "rebuild", "--force"])
    assert result.exit_code == 2, result.output
    assert not ledger_path(pg_ws).exists()


# -- a watcher waiting for its database, as status shows it -------------------------------------

def _watchers_seen(ws: Workspace) -> tuple[int, list[dict[str, Any]]]:
    from click.testing import CliRunner

    from qmsforms.cli import cli

    shown = CliRunner().invoke(cli, ["--root", str(ws.root), "status", "--json"])
    return shown.exit_code, json.loads(shown.output)["watchers"]


@pytest.fixture
def database_later(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    """``QMSFORMS_LEDGER`` names a database the test creates later: (server URL, its name);
    dropped at the end."""
    server, name = pg_url.rsplit("/", 1)
    monkeypatch.setenv(LEDGER_ENV, f"{server}/{name}_later")
    yield server, f"{name}_later"
    admin(f"{server}/postgres", f"DROP DATABASE IF EXISTS {name}_later WITH (FORCE)")


def test_status_shows_a_watcher_waiting_for_its_database_and_one_that_lost_it(
        ws: Workspace, database_later: tuple[str, str], make_filled: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    server, later = database_later
    monkeypatch.setenv("QMSFORMS_HOST", "plant-a-pc")
    monkeypatch.setenv("QMSFORMS_SITE", "plant-a")
    watcher = WatchProcess(ws, ["--poll", "0.2"], tmp_path, "waiting")
    try:
        wait_for(lambda: [w["state"] for w in _watchers_seen(ws)[1]] == ["waiting_for_ledger"],
                 60, "status to show the watcher waiting", (watcher,))
        code, (seen,) = _watchers_seen(ws)
        assert code == 1 and seen["needs_person"] is True
        assert (seen["host"], seen["site"], seen["pid"]) == ("plant-a-pc", "plant-a",
                                                            watcher.pid)
        assert seen["last_error"].startswith("LEDGER_UNAVAILABLE")
        assert seen["since"] and seen["started_at"] and seen["heartbeat_at"]
        heartbeat = json.loads(next((ws.state_dir / "watchers").glob("*.json")).read_text())
        assert heartbeat["state"] == "waiting_for_ledger" and heartbeat["since"]

        admin(f"{server}/postgres", f"CREATE DATABASE {later}")
        shutil.copyfile(make_filled("satisfaction-survey"), ws.inbox / "first.xlsx")
        wait_for(lambda: watcher.marks()["REC"] == 1, 120, "the file to be recorded",
                 (watcher,))
        code, (seen,) = _watchers_seen(ws)
        assert (code, seen["state"], seen["needs_person"]) == (0, "running", False)

        # the database is lost while watching: the next file blocks the intake
        admin(f"{server}/postgres", f"ALTER DATABASE {later} ALLOW_CONNECTIONS false")
        admin(f"{server}/postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
              "WHERE datname = %s", (later,))
        second = ws.inbox / "second.xlsx"
        shutil.copyfile(make_filled("complaint"), second)
        wait_for(lambda: [w["state"] for w in _watchers_seen(ws)[1]] == ["waiting_for_ledger"],
                 120, "status to show the watcher lost its ledger", (watcher,))
        code, (seen,) = _watchers_seen(ws)
        assert code == 1 and seen["last_error"].startswith("LEDGER_UNAVAILABLE")
        assert second.exists()  # it waits in the inbox

        admin(f"{server}/postgres", f"ALTER DATABASE {later} ALLOW_CONNECTIONS true")
        wait_for(lambda: watcher.marks()["REC"] == 2, 180, "the waiting file to be recorded",
                 (watcher,))
        wait_for(lambda: [w["state"] for w in _watchers_seen(ws)[1]] == ["running"], 60,
                 "status to show the watcher watching again", (watcher,))
    finally:
        assert watcher.terminate() == 0
    assert _watchers_seen(ws)[1] == []


def test_a_watcher_stopped_while_it_waits_leaves_no_heartbeat(
        ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LEDGER_ENV, closed_port())
    watcher = WatchProcess(ws, [], tmp_path, "stopped")
    wait_for(lambda: [w["state"] for w in _watchers_seen(ws)[1]] == ["waiting_for_ledger"],
             60, "status to show the watcher waiting", (watcher,))
    assert watcher.terminate() == 0
    assert _watchers_seen(ws)[1] == []
