"""The ledger's actions table (schema 4): an older ledger migrates forward."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from qmsforms.intake.ledger import MIGRATIONS, Ledger


def _v3_ledger(path: Path) -> None:
    """A ledger as qmsforms left it before actions (schema 3), holding one record."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    for number, script in enumerate(MIGRATIONS[:3], start=1):
        db.executescript(script)
        db.execute(f"PRAGMA user_version = {number}")
    db.execute("INSERT INTO records (record_id, form, revision, sha256, natural_key, data,"
               " source_name, received_at, processed_at, path) VALUES ('R-1', 'complaint',"
               " 'A', ?, '{\"ticket_no\": \"T1\"}', '{\"ticket_no\": \"T1\"}', 'f.xlsx', 't',"
               " 't', 'records/complaint/R-1.json')", ("ab" * 32,))
    db.close()


def test_a_schema_3_ledger_reads_without_actions_and_migrates_forward(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    _v3_ledger(path)
    with Ledger(path, readonly=True) as old:
        assert old.version == 3 and old.actions() == [] and old.action("CA-2026-0001") is None
    with Ledger(path) as led:
        assert led.version == len(MIGRATIONS) == 5
        assert led.record("R-1") is not None and led.actions() == []
        columns = {r[1] for r in led.db.execute("PRAGMA table_info(actions)")}
        assert {"action_id", "cause_key", "scope", "cause_removed_by", "raised_on",
                "due"} <= columns
        assert led.integrity() == "ok"
