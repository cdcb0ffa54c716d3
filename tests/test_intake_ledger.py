"""The SQLite ledger: migrations, constraints that carry the invariants, concurrency."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from qmsforms.intake.ledger import MIGRATIONS, FileRow, Ledger, LedgerError, RecordRow


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


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    with Ledger(tmp_path / "ledger.sqlite") as led:
        yield led


def test_new_ledger_is_migrated_in_wal_mode(ledger: Ledger) -> None:
    assert ledger.version == len(MIGRATIONS)
    assert ledger.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert ledger.integrity() == "ok"
    assert ledger.count("records") == ledger.count("files") == 0


def test_reopening_keeps_rows_and_version(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite") as led, led.transaction() as db:
        led.add_record(db, record(1))
    with Ledger(tmp_path / "l.sqlite") as led:
        assert led.version == len(MIGRATIONS) and led.record("R-1").customer == "C1"


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    sqlite3.connect(path).execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}").connection.close()
    with pytest.raises(LedgerError, match="newer"):
        Ledger(path)


def test_not_a_database_is_a_clean_error(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    path.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(LedgerError):
        Ledger(path)


def test_one_record_per_content(ledger: Ledger) -> None:
    with ledger.transaction() as db:
        ledger.add_record(db, record(1))
    with pytest.raises(sqlite3.IntegrityError), ledger.transaction() as db:
        ledger.add_record(db, record(2, sha256=record(1).sha256))
    assert ledger.count("records") == 1


def test_one_latest_record_per_natural_key(ledger: Ledger) -> None:
    with ledger.transaction() as db:
        ledger.add_record(db, record(1))
    with pytest.raises(sqlite3.IntegrityError), ledger.transaction() as db:
        ledger.add_record(db, record(2, natural_key=record(1).natural_key))
    with ledger.transaction() as db:
        ledger.add_record(db, record(2, natural_key=record(1).natural_key, supersedes="R-1"))
    assert not ledger.record("R-1").latest and ledger.record("R-2").supersedes == "R-1"
    assert ledger.latest("satisfaction-survey", record(1).natural_key).record_id == "R-2"
    assert [r.record_id for r in ledger.records()] == ["R-2"]
    assert [r.record_id for r in ledger.records(latest_only=False)] == ["R-1", "R-2"]


def test_a_rejection_has_no_record_and_a_record_has_one(ledger: Ledger) -> None:
    with pytest.raises(sqlite3.IntegrityError), ledger.transaction() as db:
        ledger.add_file(db, file_row("c1", "rejected", "R-1"))
    with pytest.raises(sqlite3.IntegrityError), ledger.transaction() as db:
        ledger.add_file(db, file_row("c2", "record", None))
    with pytest.raises(sqlite3.IntegrityError), ledger.transaction() as db:
        ledger.add_file(db, file_row("c3", "lost", None))


def test_one_outcome_per_claim(ledger: Ledger) -> None:
    with ledger.transaction() as db:
        ledger.add_file(db, file_row("c1", "rejected", None))
    with pytest.raises(sqlite3.IntegrityError), ledger.transaction() as db:
        ledger.add_file(db, file_row("c1", "rejected", None))
    assert [f.claim_id for f in ledger.files("rejected")] == ["c1"]


def test_a_failed_transaction_leaves_nothing(ledger: Ledger) -> None:
    with pytest.raises(RuntimeError), ledger.transaction() as db:
        ledger.add_record(db, record(1))
        raise RuntimeError("crash in the middle")
    assert ledger.count("records") == 0


def test_filters(ledger: Ledger) -> None:
    with ledger.transaction() as db:
        ledger.add_record(db, record(1, customer="华东汽车"))
        ledger.add_record(db, record(2, form="satisfaction-monitoring", customer="西南电机"))
    assert [r.record_id for r in ledger.records(form="satisfaction-monitoring")] == ["R-2"]
    assert [r.record_id for r in ledger.records(customer="华东")] == ["R-1"]
    assert ledger.by_instance("i-1")[0].record_id == "R-1"


def test_issued_blanks(ledger: Ledger) -> None:
    ledger.add_issued("u1", "satisfaction-survey", "A", "2026-11-21T08:00:00Z", "ACME", "x")
    ledger.add_issued("u1", "satisfaction-survey", "A", "2026-11-21T09:00:00Z", "ACME", "x")
    assert ledger.is_issued("u1") and not ledger.is_issued("u2")
    assert ledger.count("issued") == 1 and ledger.issued()[0]["customer"] == "ACME"


def test_a_second_writer_waits_for_the_first(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    with Ledger(path) as first, Ledger(path, timeout=0.2) as second:
        with first.transaction() as db:
            first.add_record(db, record(1))
            with pytest.raises(sqlite3.OperationalError, match="locked"), \
                    second.transaction():
                pass
        with second.transaction() as db:
            second.add_record(db, record(2))
        assert first.count("records") == 2


def test_events(ledger: Ledger) -> None:
    ledger.log("duplicate", "c1", "R-1")
    assert [(e["kind"], e["claim_id"]) for e in ledger.events("duplicate")] == [
        ("duplicate", "c1")]
    with pytest.raises(ValueError):
        ledger.count("sqlite_master")
