"""``qmsforms status``: what waits and why, and whether a person is needed (SPEC §9)."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from qmsforms.cli import cli
from qmsforms.intake import Intake, Ledger
from qmsforms.intake.outbox import OutboxWriter
from qmsforms.intake.status import STALE_LOCK, intake_status
from qmsforms.workspace import Workspace

from .test_pipeline import Crash, crash, drop


def states(entries: list[Any]) -> list[tuple[str, str, bool]]:
    return [(e.name, e.state, e.person) for e in entries]


def run_status(ws: Workspace) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["--root", str(ws.root), "status", "--json"])
    return result.exit_code, json.loads(result.output)


def test_a_quiet_workspace_needs_nobody(ws: Workspace, make_filled: Any) -> None:
    drop(ws, make_filled("shipping-list"), "a.xlsx")
    with Intake(ws, settle=0.05) as intake:
        intake.process()
    code, found = run_status(ws)
    assert code == 0 and found["needs_person"] is False
    assert found["counts"]["records"] == 1 and found["last_record"]
    assert found["inbox"] == found["claims"] == found["outbox"] == []


def test_files_waiting_and_open_in_an_editor(ws: Workspace, make_filled: Any) -> None:
    drop(ws, make_filled("shipping-list"), "new.xlsx")
    drop(ws, make_filled("shipping-list"), "open.xlsx")
    drop(ws, make_filled("shipping-list"), "stale.xlsx")
    (ws.inbox / ".~lock.open.xlsx#").write_text("user")
    lock = ws.inbox / "~$stale.xlsx"
    lock.write_text("user")
    old = time.time() - STALE_LOCK - 60
    os.utime(lock, (old, old))
    os.mkfifo(ws.inbox / "pipe.xlsx")
    found = intake_status(ws)
    assert states(found.inbox) == [("new.xlsx", "waiting", False), ("open.xlsx", "open", False),
                                   ("pipe.xlsx", "pipe", False), ("stale.xlsx", "open", True)]
    assert found.needs_person
    code, _ = run_status(ws)
    assert code == 1


def test_a_claim_whose_outputs_failed_and_records_without_json(
        ws: Workspace, make_filled: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    drop(ws, make_filled("shipping-list"), "a.xlsx")
    monkeypatch.setattr(OutboxWriter, "record", crash)
    with pytest.raises(Crash), Intake(ws, settle=0.05) as intake:
        intake.process()
    monkeypatch.undo()
    found = intake_status(ws)
    (claim,) = found.claims
    assert claim.state == "outputs_pending" and claim.person and "a.xlsx" in claim.detail
    (missing,) = found.outbox
    assert missing.state == "record_json_missing"
    with Intake(ws, settle=0.05) as intake:
        intake.process()
    assert not intake_status(ws).needs_person


def test_a_claim_whose_reads_fail(ws: Workspace, make_filled: Any) -> None:
    work = ws.inbox / ".qmsforms-work" / "20261201T080000Z-0123456789ab"
    work.mkdir(parents=True)
    shutil.copyfile(make_filled("shipping-list"), work / "a.xlsx")
    with Ledger(ws.state_dir / "ledger.sqlite") as ledger:
        ledger.begin_attempt(work.name, "a.xlsx")
        ledger.fail_attempt(work.name, "READ_TIMEOUT: 60")
    (claim,) = intake_status(ws).claims
    assert (claim.state, claim.person) == ("failing", True) and "READ_TIMEOUT" in claim.detail


def test_a_damaged_ledger_is_reported_not_raised(ws: Workspace, make_filled: Any) -> None:
    drop(ws, make_filled("shipping-list"), "a.xlsx")
    with Intake(ws, settle=0.05) as intake:
        intake.process()
    path = ws.state_dir / "ledger.sqlite"
    for extra in ("-wal", "-shm"):
        Path(f"{path}{extra}").unlink(missing_ok=True)
    path.write_bytes(b"not a database at all" * 100)
    found = intake_status(ws)
    assert found.ledger != "ok" and found.needs_person


def test_no_ledger_yet(ws: Workspace) -> None:
    code, found = run_status(ws)
    assert code == 0 and found["ledger"] == "ok" and found["counts"]["records"] == 0


def test_a_lost_ledger_is_reported(ws: Workspace, make_filled: Any) -> None:
    drop(ws, make_filled("shipping-list"), "a.xlsx")
    with Intake(ws, settle=0.05) as intake:
        intake.process()
    for path in ws.state_dir.glob("ledger.sqlite*"):
        path.unlink()
    code, found = run_status(ws)
    assert code == 1 and found["ledger"].startswith("LEDGER_MISSING")
