"""The ledger: migrations, constraints that carry the invariants, concurrency.

The tests of what every engine must do run against SQLite and PostgreSQL (`store`); those of
SQLite's own files (WAL, damage, lost files, chattr) against SQLite only. PostgreSQL's own
(the migration lock, an unreachable server, a URL with a password) are in test_postgres.py.
"""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from qmsforms.intake.ledger import (
    MIGRATIONS,
    UNAVAILABLE,
    ActionRow,
    FileRow,
    Ledger,
    LedgerError,
    LedgerStore,
    RecordRow,
    VoidRefused,
    ledger_path,
    open_ledger,
)
from qmsforms.intake.outcome import blocked_by
from qmsforms.workspace import Workspace
from tests.conftest import ENGINES


def record(n: int, **changes: object) -> RecordRow:
    row = RecordRow(
        record_id=f"R-{n}", form="satisfaction-survey", revision="A", instance_id=f"i-{n}",
        sha256=f"{n:064x}", natural_key={"customer": f"C{n}", "period": "2026"},
        data={"customer": f"C{n}"}, scores={"score": 90.0}, source_name=f"f{n}.xlsx",
        received_at="2026-11-21T08:00:00Z", processed_at=f"2026-11-21T08:00:{n:02d}Z",
        path=f"records/satisfaction-survey/R-{n}.json", customer=f"C{n}", period="2026")
    return replace(row, **changes)  # type: ignore[arg-type]


def file_row(claim: str, outcome: str = "record", record_id: str | None = "R-1") -> FileRow:
    return FileRow(claim, "f.xlsx", "ab" * 32, 10, "2026-11-21T08:00:00Z",
                   "2026-11-21T08:00:01Z", outcome, "x", record_id, "satisfaction-survey")


def _integrity_errors() -> tuple[type[Exception], ...]:
    try:
        import psycopg
    except ImportError:
        return (sqlite3.IntegrityError,)
    return (sqlite3.IntegrityError, psycopg.IntegrityError)


INTEGRITY = _integrity_errors()
"""What either engine raises when a constraint refuses a row."""

OpenFn = Callable[..., LedgerStore[Any]]


@pytest.fixture(params=ENGINES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> OpenFn:
    """``store(readonly=False, timeout=60)`` opens (again) one ledger of each engine in turn:
    a SQLite file, a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return partial(Ledger, tmp_path / "ledger.sqlite")
    from qmsforms.intake.ledger.postgres import PostgresLedger

    return partial(PostgresLedger, request.getfixturevalue("pg_url"))


@pytest.fixture
def ledger(store: OpenFn) -> Iterator[LedgerStore[Any]]:
    with store() as led:
        yield led


def test_new_ledger_is_migrated_in_wal_mode(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        assert ledger.version == len(MIGRATIONS)
        assert ledger.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert ledger.integrity() == "ok"
        assert ledger.count("records") == ledger.count("files") == 0


def test_a_new_ledger_is_migrated_and_sound(ledger: LedgerStore[Any]) -> None:
    assert ledger.version >= 1 and ledger.integrity() == "ok"
    assert all(ledger.count(t) == 0 for t in ("records", "files", "issued", "events",
                                              "attempts"))


def test_reopening_keeps_rows_and_version(store: OpenFn) -> None:
    with store() as led, led.transaction() as db:
        led.add_record(db, record(1))
        version = led.version
    with store() as led:
        assert led.version == version and led.record("R-1").customer == "C1"
    with store(readonly=True) as led:
        assert led.version == version and [r.record_id for r in led.records()] == ["R-1"]


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    sqlite3.connect(path).execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}").connection.close()
    with pytest.raises(LedgerError) as err:
        Ledger(path)
    assert err.value.code == "LEDGER_NEWER"


def test_not_a_database_is_a_clean_error(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    path.write_bytes(b"not sqlite at all" * 100)
    for readonly in (False, True):
        with pytest.raises(LedgerError) as err:
            Ledger(path, readonly=readonly)
        assert err.value.code == "LEDGER_DAMAGED"


def test_one_record_per_content(ledger: LedgerStore[Any]) -> None:
    with ledger.transaction() as db:
        ledger.add_record(db, record(1))
    with pytest.raises(INTEGRITY), ledger.transaction() as db:
        ledger.add_record(db, record(2, sha256=record(1).sha256))
    assert ledger.count("records") == 1


def test_one_latest_record_per_natural_key(ledger: LedgerStore[Any]) -> None:
    with ledger.transaction() as db:
        ledger.add_record(db, record(1))
    with pytest.raises(INTEGRITY), ledger.transaction() as db:
        ledger.add_record(db, record(2, natural_key=record(1).natural_key))
    with ledger.transaction() as db:
        ledger.add_record(db, record(2, natural_key=record(1).natural_key, supersedes="R-1"))
    assert not ledger.record("R-1").latest and ledger.record("R-2").supersedes == "R-1"
    assert ledger.latest("satisfaction-survey", record(1).natural_key).record_id == "R-2"
    assert [r.record_id for r in ledger.records()] == ["R-2"]
    assert [r.record_id for r in ledger.records(latest_only=False)] == ["R-1", "R-2"]


def test_a_rejection_has_no_record_and_a_record_has_one(ledger: LedgerStore[Any]) -> None:
    with pytest.raises(INTEGRITY), ledger.transaction() as db:
        ledger.add_file(db, file_row("c1", "rejected", "R-1"))
    with pytest.raises(INTEGRITY), ledger.transaction() as db:
        ledger.add_file(db, file_row("c2", "record", None))
    with pytest.raises(INTEGRITY), ledger.transaction() as db:
        ledger.add_file(db, file_row("c3", "lost", None))


def test_one_outcome_per_claim(ledger: LedgerStore[Any]) -> None:
    with ledger.transaction() as db:
        ledger.add_file(db, file_row("c1", "rejected", None))
    with pytest.raises(INTEGRITY), ledger.transaction() as db:
        ledger.add_file(db, file_row("c1", "rejected", None))
    assert [f.claim_id for f in ledger.files("rejected")] == ["c1"]


def test_a_failed_transaction_leaves_nothing(ledger: LedgerStore[Any]) -> None:
    with pytest.raises(RuntimeError), ledger.transaction() as db:
        ledger.add_record(db, record(1))
        raise RuntimeError("crash in the middle")
    assert ledger.count("records") == 0


def test_filters(ledger: LedgerStore[Any]) -> None:
    with ledger.transaction() as db:
        ledger.add_record(db, record(1, customer="华东汽车"))
        ledger.add_record(db, record(2, form="satisfaction-monitoring", customer="西南电机"))
    assert [r.record_id for r in ledger.records(form="satisfaction-monitoring")] == ["R-2"]
    assert [r.record_id for r in ledger.records(customer="华东")] == ["R-1"]
    assert ledger.by_instance("i-1")[0].record_id == "R-1"


def test_a_blank_filled_again_under_another_key_is_reused(ledger: LedgerStore[Any]) -> None:
    with ledger.transaction() as db:
        ledger.add_record(db, record(1, instance_id="i"))
    key, other = record(1).natural_key, {**record(1).natural_key, "customer": "C9"}
    for reused in (ledger.blank_reused, partial(LedgerStore.blank_reused, ledger)):
        assert not reused("i", "satisfaction-survey", key)
        assert reused("i", "satisfaction-survey", other)
        assert not reused("i", "complaint", other) and not reused("j", "satisfaction-survey", other)


def test_issued_blanks(ledger: LedgerStore[Any]) -> None:
    ledger.add_issued("u1", "satisfaction-survey", "A", "2026-11-21T08:00:00Z", "ACME", "x")
    ledger.add_issued("u1", "satisfaction-survey", "A", "2026-11-21T09:00:00Z", "ACME", "x")
    assert ledger.is_issued("u1") and not ledger.is_issued("u2")
    assert ledger.count("issued") == 1 and ledger.issued()[0]["customer"] == "ACME"


def test_a_second_writer_of_one_key_waits_for_the_first(store: OpenFn) -> None:
    with store() as first, store(timeout=0.2) as second:
        with first.transaction() as db:
            first.lock(db, "record:A")
            first.add_record(db, record(1))
            with pytest.raises(UNAVAILABLE) as busy, second.transaction() as other:
                second.lock(other, "record:A")
            assert blocked_by(busy.value) is not None  # the intake waits, no file is harmed
            assert getattr(busy.value, "code", "LEDGER_BUSY") == "LEDGER_BUSY"
        with second.transaction() as db:
            second.add_record(db, record(2))
        assert first.count("records") == 2


def test_events(ledger: LedgerStore[Any]) -> None:
    ledger.log("duplicate", "c1", "R-1")
    assert [(e["kind"], e["claim_id"]) for e in ledger.events("duplicate")] == [
        ("duplicate", "c1")]
    with pytest.raises(ValueError):
        ledger.count("sqlite_master")


# -- opening a workspace's ledger: readers, damage, lost and read-only files ------------------

def _v1_ledger(path: Path) -> None:
    """A ledger as qmsforms with only migration 1 left it, holding one rejection."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.executescript(MIGRATIONS[0])
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO files (claim_id, name, sha256, size, received_at, processed_at,"
               " outcome, codes, location) VALUES ('c1', 'f.xlsx', ?, 1, 't', 't', 'rejected',"
               " '[\"X\"]', 'rejected/f')", ("ab" * 32,))
    db.close()


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    """Another connection in the middle of a write transaction."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("CREATE TABLE IF NOT EXISTS scratch (x)")
    holder.execute("INSERT INTO scratch VALUES (1)")
    return holder


def _in_thread(work: Callable[[], object]) -> tuple[threading.Event, list[object]]:
    """Run ``work`` in a thread; the event is set when it returned (result) or raised."""
    done = threading.Event()
    out: list[object] = []

    def run() -> None:
        try:
            out.append(work())
        except BaseException as exc:  # the test inspects it
            out.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, daemon=True).start()
    return done, out


def test_a_reader_does_not_wait_for_a_write_lock(ws: Workspace) -> None:
    with open_ledger(ws, write=True) as led, led.transaction() as db:
        led.add_record(db, record(1))
    holder = _hold_write_lock(ledger_path(ws))
    try:
        def read() -> list[str]:
            with open_ledger(ws) as led:
                return [r.record_id for r in led.records()]

        done, out = _in_thread(read)
        assert done.wait(timeout=300), "the reader waited for the write lock"
        assert holder.in_transaction
        assert out == [["R-1"]]
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_reader_writes_nothing(ws: Workspace) -> None:
    with open_ledger(ws, write=True) as led, led.transaction() as db:
        led.add_record(db, record(1))
    path = ledger_path(ws)
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    with open_ledger(ws) as led:
        assert led.readonly and led.records()[0].record_id == "R-1"
        with pytest.raises(LedgerError) as err, led.transaction():
            pass
        assert err.value.code == "LEDGER_UNAVAILABLE"
        with pytest.raises(sqlite3.OperationalError):
            led.log("x")
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_a_fresh_workspace_reads_as_empty_on_either_engine(ws: Workspace,
                                                           ledger_url: str | None) -> None:
    with open_ledger(ws) as led:
        assert led.readonly and led.records() == []
        assert led.files() == [] and led.issued() == [] and led.events() == []
    with open_ledger(ws, write=True) as led:
        assert not led.readonly and led.version >= 1
        led.add_issued("u1", "complaint", "A", "2026-11-21T08:00:00Z")
    with open_ledger(ws) as led:
        assert led.is_issued("u1") and led.count("issued") == 1
    assert ledger_path(ws).exists() == (ledger_url is None)


def test_a_fresh_workspace_reads_as_empty_and_a_writer_creates_the_ledger(ws: Workspace) -> None:
    path = ledger_path(ws)
    with open_ledger(ws) as led:
        assert led.records() == [] and led.count("files") == 0 and led.open_attempts() == []
    assert not path.exists()
    with open_ledger(ws, write=True) as led:
        assert led.version == len(MIGRATIONS)
    assert path.stat().st_size > 0


def test_a_schema_1_ledger_is_read_as_it_is_and_migrated_by_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    _v1_ledger(path)
    holder = _hold_write_lock(path)
    try:
        def read() -> tuple[int, FileRow | None, object, object]:
            with Ledger(path, readonly=True) as led:
                return led.version, led.file("c1"), led.attempt("c1"), led.open_attempts()

        done, out = _in_thread(read)
        assert done.wait(timeout=300), "the reader of an old schema waited for the write lock"
        ((version, row, attempt, attempts),) = out  # type: ignore[misc]
        assert version == 1 and row.codes == ("X",) and row.report is None
        assert attempt is None and attempts == []
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with Ledger(path) as led:
        assert led.version == len(MIGRATIONS) == 5
        assert led.file("c1").report is None and led.count("attempts") == 0
        assert led.integrity() == "ok"


def test_attempts_are_counted_until_the_claim_is_decided(ledger: LedgerStore[Any]) -> None:
    assert ledger.begin_attempt("c1", "a.xlsx") == 1
    assert ledger.begin_attempt("c1", "a.xlsx") == 2
    ledger.fail_attempt("c1", "MemoryError: " + "x" * 5000)
    ledger.begin_attempt("c2", "b.xlsx")
    first = ledger.attempt("c1")
    assert first["count"] == 2 and first["name"] == "a.xlsx"
    assert first["last_error"].startswith("MemoryError") and len(first["last_error"]) == 2000
    assert [a["claim_id"] for a in ledger.open_attempts()] == ["c1", "c2"]
    with ledger.transaction() as db:
        ledger.add_file(db, file_row("c1", "rejected", None))
    assert [a["claim_id"] for a in ledger.open_attempts()] == ["c2"]
    assert ledger.attempt("nope") is None
    with pytest.raises(KeyError):
        ledger.fail_attempt("nope", "boom")


def test_a_rejection_keeps_its_report(ledger: LedgerStore[Any]) -> None:
    report = {"path": "f.xlsx", "valid": False, "issues": [{"code": "X", "message_zh": "坏"}]}
    with ledger.transaction() as db:
        ledger.add_file(db, replace(file_row("c1", "rejected", None), report=report))
        ledger.add_file(db, file_row("c2", "rejected", None))
    assert ledger.file("c1").report == report and ledger.file("c2").report is None


def test_a_damaged_ledger_is_refused_by_writers_and_readers(tmp_path: Path,
                                                            damage: Callable[[Path], None]
                                                            ) -> None:
    path = tmp_path / "l.sqlite"
    with Ledger(path) as led, led.transaction() as db:
        for n in range(40):
            led.add_record(db, record(n))
    damage(path)
    for readonly in (False, True):
        with pytest.raises(LedgerError) as err:
            Ledger(path, readonly=readonly)
        assert err.value.code == "LEDGER_DAMAGED"


@pytest.mark.parametrize("how", ["deleted", "truncated", "no tables"])
def test_a_lost_ledger_is_not_replaced_while_the_outbox_holds_records(
        ws: Workspace, how: str) -> None:
    record_json = ws.outbox / "records" / "satisfaction-survey" / "R-1.json"
    record_json.parent.mkdir(parents=True)
    record_json.write_text("{}")
    path = ledger_path(ws)
    path.parent.mkdir(exist_ok=True)
    if how == "truncated":
        path.write_bytes(b"")
    elif how == "no tables":
        sqlite3.connect(path).execute("PRAGMA journal_mode = WAL").connection.close()
        assert path.stat().st_size > 0
    for write in (True, False):
        with pytest.raises(LedgerError) as err:
            open_ledger(ws, write=write)
        assert err.value.code == "LEDGER_MISSING"
    assert how == "no tables" or not path.exists() or path.stat().st_size == 0


def test_a_new_ledger_is_never_paired_with_a_lost_ones_wal(ws: Workspace) -> None:
    path = ledger_path(ws)
    path.parent.mkdir(exist_ok=True)
    Path(f"{path}-wal").write_bytes(b"\x37\x7f\x06\x82" + bytes(28))
    with pytest.raises(LedgerError) as err:
        open_ledger(ws, write=True)
    assert err.value.code == "LEDGER_MISSING" and not path.exists()


def test_a_ledger_error_pickles_with_its_code() -> None:
    import pickle

    err = pickle.loads(pickle.dumps(LedgerError("LEDGER_DAMAGED", "坏了", "damaged")))
    assert (err.code, err.message_zh, err.message_en) == ("LEDGER_DAMAGED", "坏了", "damaged")


# -- read-only and immutable ledger files (real chattr) ----------------------------------------

@pytest.mark.parametrize("which", ["ledger", "-wal", "-shm", "folder"])
def test_a_writer_refuses_an_immutable_ledger_file(ws: Workspace, immutable: Any,
                                                   leave_wal: Any, which: str) -> None:
    with open_ledger(ws, write=True) as led, led.transaction() as db:
        led.add_record(db, record(1))
    path = ledger_path(ws)
    leave_wal(path)
    target = {"ledger": path, "folder": path.parent}.get(which, Path(f"{path}{which}"))
    immutable(target)
    with pytest.raises(LedgerError) as err:
        open_ledger(ws, write=True)
    assert err.value.code == "LEDGER_READONLY" and str(target) in str(err.value)


@pytest.mark.parametrize("which", ["ledger", "-wal", "-shm"])
def test_a_reader_reads_an_immutable_ledger(ws: Workspace, immutable: Any, leave_wal: Any,
                                            which: str, caplog: pytest.LogCaptureFixture
                                            ) -> None:
    with open_ledger(ws, write=True) as led, led.transaction() as db:
        led.add_record(db, record(1))
    path = ledger_path(ws)
    leave_wal(path)
    immutable(path if which == "ledger" else Path(f"{path}{which}"))
    with caplog.at_level(logging.WARNING), open_ledger(ws) as led:
        assert [r.record_id for r in led.records()] == ["R-1"]
        assert [e["kind"] for e in led.events()] == ["left"]
    assert caplog.records


def test_a_reader_without_a_shm_in_an_immutable_folder_is_refused(ws: Workspace,
                                                                  immutable: Any) -> None:
    with open_ledger(ws, write=True) as led, led.transaction() as db:
        led.add_record(db, record(1))
    path = ledger_path(ws)
    assert not Path(f"{path}-shm").exists()
    immutable(path.parent)
    with pytest.raises(LedgerError) as err:
        open_ledger(ws)
    assert err.value.code == "LEDGER_READONLY"


OPEN_WRITER = """
import os, sys
from qmsforms.intake.ledger import LedgerError, open_ledger
from qmsforms.workspace import Workspace

led = open_ledger(Workspace(sys.argv[1]), write=True)
led.log("before")
os.sync()  # written back: the next write through the -shm mapping faults
print("ready", flush=True)
sys.stdin.readline()
try:
    led.records()
    led.log("after")
    print("no error", flush=True)
except LedgerError as exc:
    print(exc.code, flush=True)
led.close()
print("closed", flush=True)
"""


def test_a_shm_made_immutable_under_a_writer_is_an_error_not_sigbus(ws: Workspace,
                                                                    immutable: Any) -> None:
    with open_ledger(ws, write=True):
        pass
    proc = subprocess.Popen([sys.executable, "-c", OPEN_WRITER, str(ws.root)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdin is not None
    assert proc.stdout.readline().strip() == "ready"
    immutable(Path(f"{ledger_path(ws)}-shm"))
    out, _ = proc.communicate("go\n", timeout=300)
    assert proc.returncode == 0, f"killed by signal {-proc.returncode}"
    assert out.split() == ["LEDGER_READONLY", "closed"]


# -- voided records ---------------------------------------------------------------------------

def test_a_voided_record_is_kept_with_who_when_why_and_left_out(ledger: LedgerStore[Any]) -> None:
    with ledger.transaction() as db:
        ledger.add_record(db, record(1))
        ledger.add_record(db, record(2))
    row = ledger.void("R-1", "测试数据 test entry", "李明", at="2026-11-22T09:00:00Z")
    assert row.voided == {"at": "2026-11-22T09:00:00Z", "by": "李明",
                          "reason": "测试数据 test entry"}
    assert not row.latest and ledger.record("R-1") == row
    assert [r.record_id for r in ledger.records()] == ["R-2"]
    assert [r.record_id for r in ledger.records(latest_only=False)] == ["R-2"]
    assert [r.record_id for r in ledger.records(voided=True)] == ["R-1", "R-2"]
    assert ledger.count("records") == 2
    (event,) = ledger.events("voided")
    assert "R-1" in event["detail"] and "李明" in event["detail"]


def test_voiding_an_unknown_or_voided_record_is_refused(ledger: LedgerStore[Any]) -> None:
    with pytest.raises(VoidRefused) as unknown:
        ledger.void("R-9", "why", "me")
    assert unknown.value.voided is None
    with ledger.transaction() as db:
        ledger.add_record(db, record(1))
    ledger.void("R-1", "first", "me", at="2026-11-22T09:00:00Z")
    with pytest.raises(VoidRefused) as again:
        ledger.void("R-1", "second", "you")
    assert again.value.voided == {"at": "2026-11-22T09:00:00Z", "by": "me", "reason": "first"}
    assert ledger.record("R-1").voided["reason"] == "first"  # type: ignore[index]


def test_a_voided_latest_revision_gives_its_key_back(ledger: LedgerStore[Any]) -> None:
    key = {"customer": "C1", "period": "2026"}
    with ledger.transaction() as db:
        ledger.add_record(db, record(1))
        ledger.add_record(db, record(2, natural_key=key, supersedes="R-1"))
    ledger.void("R-2", "wrong figures", "me")
    restored = ledger.latest("satisfaction-survey", key)
    assert restored is not None and restored.record_id == "R-1"
    ledger.void("R-1", "wrong customer", "me")
    assert ledger.latest("satisfaction-survey", key) is None
    with ledger.transaction() as db:  # a later file with that key is recorded normally
        ledger.add_record(db, record(3, natural_key=key))
    assert [r.record_id for r in ledger.records()] == ["R-3"]
    assert ledger.latest("satisfaction-survey", key).record_id == "R-3"  # type: ignore[union-attr]


def test_a_schema_2_ledger_with_records_is_read_then_migrated_and_voided(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    for number, script in enumerate(MIGRATIONS[:2], start=1):
        db.executescript(script)
        db.execute(f"PRAGMA user_version = {number}")
    db.execute("INSERT INTO records (record_id, form, revision, sha256, natural_key, data,"
               " source_name, received_at, processed_at, path) VALUES ('R-1', 'complaint',"
               " 'A', ?, '{}', '{}', 'f.xlsx', 't', 't', 'records/complaint/R-1.json')",
               ("ab" * 32,))
    db.close()
    with Ledger(path, readonly=True) as old:
        assert old.version == 2
        assert [(r.record_id, r.voided) for r in old.records(voided=True)] == [("R-1", None)]
    with Ledger(path) as led:
        assert led.version == len(MIGRATIONS) == 5
        assert led.void("R-1", "duplicate entry", "me").voided is not None
        assert led.records() == [] and led.integrity() == "ok"


# -- corrective actions ----------------------------------------------------------------------

def action(n: int, **changes: object) -> ActionRow:
    row = ActionRow(
        action_id=f"CA-2026-{n:04d}", cause_key=f"complaint:TS-{n}", scope=f"complaint:TS-{n}",
        source="complaint", cause={"ticket_no": f"TS-{n}"}, source_record=f"R-{n}",
        customer="华东汽车", problem_zh="焊缝开裂", problem_en="weld cracked",
        department_zh="质量部", department_en="Quality department", raised_on="2026-11-21",
        due="2026-12-18", raised_at="2026-11-21T08:00:00Z", updated_at="2026-11-21T08:00:00Z")
    return replace(row, **changes)  # type: ignore[arg-type]


def test_actions_are_kept_one_per_cause_and_updated_in_place(ledger: LedgerStore[Any]) -> None:
    with ledger.transaction() as db:
        ledger.add_action(db, action(2))
        ledger.add_action(db, action(1))
    with pytest.raises(INTEGRITY), ledger.transaction() as db:
        ledger.add_action(db, action(3, cause_key=action(1).cause_key))
    assert [a.action_id for a in ledger.actions()] == ["CA-2026-0001", "CA-2026-0002"]
    assert [a.action_id for a in ledger.actions("complaint:TS-2")] == ["CA-2026-0002"]
    with ledger.transaction() as db:
        ledger.update_action(db, "CA-2026-0001", "R-9", "2026-11-22T08:00:00Z")
        ledger.update_action(db, "CA-2026-0002", None, "2026-11-22T08:00:00Z",
                             cause={"ticket_no": "TS-2", "months": 4}, problem=("新", "new"))
    first, second = ledger.action("CA-2026-0001"), ledger.action("CA-2026-0002")
    assert first == replace(action(1), cause_removed_by="R-9", updated_at="2026-11-22T08:00:00Z")
    assert (second.cause, second.problem_zh, second.problem_en) == (
        {"ticket_no": "TS-2", "months": 4}, "新", "new")
    assert ledger.action("CA-2026-0009") is None


def test_customers_of_a_form_are_the_latest_records_names(ledger: LedgerStore[Any]) -> None:
    with ledger.transaction() as db:
        ledger.add_record(db, record(1, customer="b 西南"))
        ledger.add_record(db, record(2, customer="B 华东"))
        ledger.add_record(db, record(3, customer="b 西南", natural_key={"k": 3}))
        ledger.add_record(db, record(4, customer=None, natural_key={"k": 4}))
        ledger.add_record(db, record(5, form="complaint", customer="其他"))
    assert ledger.customers("satisfaction-survey") == ["B 华东", "b 西南"]  # byte order
