"""``qmsforms status``: what waits and why, and whether a person is needed (SPEC §9).

Workspaces are set up the way a department meets them (files dropped, editors' lock files
left, claims held by another process, a watcher killed); the command runs through CliRunner
or as a process, and the assertions look at states, exit codes and JSON keys.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from qmsforms.cli import cli
from qmsforms.intake import Intake, open_ledger
from qmsforms.intake.heartbeat import watchers
from qmsforms.intake.outbox import OutboxWriter
from qmsforms.intake.status import intake_status
from qmsforms.issues import Code
from qmsforms.workspace import Workspace

from ..conftest import REPO, SQLITE_ONLY
from .test_pipeline import Crash, crash, drop, refill


@pytest.fixture
def ws(ws: Workspace, ledger_url: str | None) -> Workspace:
    """Every test here runs on each ledger engine (``ledger_url`` sets ``QMSFORMS_LEDGER``)."""
    return ws


STALE_LOCK = 30 * 60  # the default [intake] stale_lock_minutes, in seconds


def age(path: Path, seconds: float) -> None:
    """Make ``path`` look ``seconds`` old (as a file copied in long ago, or an old lock)."""
    old = time.time() - seconds
    os.utime(path, (old, old))


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
    age(drop(ws, make_filled("shipping-list"), "new.xlsx"), 60)
    drop(ws, make_filled("shipping-list"), "open.xlsx")
    drop(ws, make_filled("shipping-list"), "stale.xlsx")
    (ws.inbox / ".~lock.open.xlsx#").write_text("user")
    lock = ws.inbox / "~$stale.xlsx"
    lock.write_text("user")
    age(lock, STALE_LOCK + 60)
    os.mkfifo(ws.inbox / "pipe.xlsx")
    found = intake_status(ws)
    assert states(found.inbox) == [("new.xlsx", "waiting", False), ("open.xlsx", "open", False),
                                   ("pipe.xlsx", "pipe", False),
                                   ("stale.xlsx", "stale_lock", True)]
    assert found.needs_person
    code, data = run_status(ws)
    assert code == 1
    stale = next(e for e in data["inbox"] if e["name"] == "stale.xlsx")
    assert stale["lock"] == "~$stale.xlsx" and stale["needs_person"]
    text = CliRunner().invoke(cli, ["--root", str(ws.root), "status"])
    marked = [line for line in text.output.splitlines() if line.startswith(" !")]
    assert text.exit_code == 1 and len(marked) == 1 and "stale.xlsx" in marked[0]


def test_a_fresh_lock_needs_nobody_and_the_stale_age_is_configured(
        ws: Workspace, make_filled: Any) -> None:
    age(drop(ws, make_filled("shipping-list"), "list.xlsx"), 3600)
    lock = ws.inbox / "~$list.xlsx"
    lock.write_text("user")
    age(lock, 5 * 60)
    code, data = run_status(ws)
    assert code == 0 and [e["state"] for e in data["inbox"]] == ["open"]
    config = ws.root / "qmsforms.toml"
    config.write_text(config.read_text(encoding="utf-8")
                      + "\n[intake]\nstale_lock_minutes = 2\n", encoding="utf-8")
    code, data = run_status(ws)
    assert code == 1 and [e["state"] for e in data["inbox"]] == ["stale_lock"]


def test_a_file_still_being_copied_and_a_truncated_one(ws: Workspace, make_filled: Any) -> None:
    whole = make_filled("shipping-list").read_bytes()
    (ws.inbox / "copying.xlsx").write_bytes(whole[: len(whole) // 2])
    truncated = ws.inbox / "truncated.xlsx"
    truncated.write_bytes(whole[: len(whole) // 2])
    age(truncated, 3600)
    found = intake_status(ws)
    assert states(found.inbox) == [("copying.xlsx", "copying", False),
                                   ("truncated.xlsx", "incomplete", False)]


def test_a_file_nothing_takes_needs_a_person(ws: Workspace, make_filled: Any) -> None:
    """Complete and in the inbox for longer than the stale period while no watcher runs: the
    scheduled ``process`` stopped, or nobody started ``watch``."""
    config = ws.root / "qmsforms.toml"
    config.write_text(config.read_text(encoding="utf-8")
                      + "\n[intake]\nstale_lock_minutes = 0.01\n", encoding="utf-8")
    path = drop(ws, make_filled("shipping-list"), "list.xlsx")
    age(path, 3600)  # an old mtime proves nothing (a copy keeps it); the inode changed now
    time.sleep(1.0)  # longer than the 0.6 s stale period: nothing took it meanwhile
    code, data = run_status(ws)
    assert [(e["state"], e["needs_person"]) for e in data["inbox"]] == [("waiting", True)]
    assert code == 1 and data["watchers"] == []


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
    with open_ledger(ws, write=True) as ledger:
        ledger.begin_attempt(work.name, "a.xlsx")
        ledger.fail_attempt(work.name, "READ_TIMEOUT: 60")
    (claim,) = intake_status(ws).claims
    assert (claim.state, claim.person) == ("failing", True) and "READ_TIMEOUT" in claim.detail


@SQLITE_ONLY
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


@SQLITE_ONLY
def test_a_lost_ledger_is_reported(ws: Workspace, make_filled: Any) -> None:
    drop(ws, make_filled("shipping-list"), "a.xlsx")
    with Intake(ws, settle=0.05) as intake:
        intake.process()
    for path in ws.state_dir.glob("ledger.sqlite*"):
        path.unlink()
    code, found = run_status(ws)
    assert code == 1 and found["ledger"].startswith("LEDGER_MISSING")


# -- claims held by another process, failures and retries --------------------------------------

HOLD = """
import sys, time
from pathlib import Path
from qmsforms.intake.locks import ClaimLock

lock = ClaimLock.acquire(Path(sys.argv[1]))
print("held", flush=True)
time.sleep(600)
"""


@SQLITE_ONLY
def test_a_claim_in_progress_names_its_process(ws: Workspace, make_filled: Any) -> None:
    folder = ws.inbox / ".qmsforms-work" / "20261201T080000Z-0123456789ab"
    folder.mkdir(parents=True)
    shutil.copyfile(make_filled("shipping-list"), folder / "a.xlsx")
    locks = ws.state_dir / "locks"
    locks.mkdir(parents=True)
    lock = locks / f"{folder.name}.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(lock)], stdout=subprocess.PIPE,
                              text=True, cwd=REPO)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        code, data = run_status(ws)
        (claim,) = data["claims"]
        assert (claim["state"], claim["pid"], claim["host"]) == (
            "in_progress", holder.pid, socket.gethostname())
        assert claim["since"] and claim["claimed_at"] == "2026-12-01T08:00:00Z"
        assert code == 0 and lock.exists()  # status took and removed nothing
    finally:
        holder.kill()
        holder.wait(timeout=60)
    (claim,) = intake_status(ws).claims
    assert claim.state == "claimed"  # its holder died: the next pass finishes it


def test_a_read_that_never_ended_is_a_retry(ws: Workspace, make_filled: Any) -> None:
    work = ws.inbox / ".qmsforms-work" / "20261201T080000Z-0123456789ab"
    work.mkdir(parents=True)
    shutil.copyfile(make_filled("shipping-list"), work / "a.xlsx")
    with open_ledger(ws, write=True) as ledger:
        ledger.begin_attempt(work.name, "a.xlsx")  # the reader died with the intake
    code, data = run_status(ws)
    (claim,) = data["claims"]
    assert (claim["state"], claim["attempts"], claim["attempts_allowed"]) == ("retrying", 1, 2)
    assert code == 0


# -- rejections not sent again -----------------------------------------------------------------

def test_rejections_not_sent_again_by_customer(ws: Workspace, tmp_path: Path) -> None:
    from qmsforms.blanks import issue_blank

    blanks = {}
    for customer in ("华东汽车", "西南电机"):
        path = issue_blank(ws, "satisfaction-survey", tmp_path / f"{customer}.xlsx",
                           values={"customer": customer}, record=True)
        blanks[customer] = refill(path, ws, "satisfaction-survey",
                                  {"period": "2026", "product_quality": 5})  # incomplete
        drop(ws, path, f"{customer}.xlsx")
    (ws.inbox / "客户C").mkdir()
    (ws.inbox / "客户C" / "scan.xlsx").write_bytes(b"not a workbook")
    with Intake(ws, settle=0.05) as intake:
        assert intake.process().count("rejected") == 3
    code, data = run_status(ws)
    groups = {g["name"]: g for g in data["rejections"]}
    assert sorted(groups) == ["华东汽车", "客户C", "西南电机"]
    assert groups["华东汽车"]["files"][0]["codes"] == [Code.INCOMPLETE_SURVEY.name]
    assert groups["华东汽车"]["state"] == "not_resent" and code == 0
    fixed = refill(blanks["华东汽车"], ws, "satisfaction-survey",
                   {"delivery": 5, "packaging": 5, "appearance": 5, "price": 5})
    drop(ws, fixed, "华东汽车 corrected.xlsx")  # the same blank, sent again under a new name
    with Intake(ws, settle=0.05) as intake:
        assert intake.process().count("record") == 1
    _, data = run_status(ws)
    assert sorted(g["name"] for g in data["rejections"]) == ["客户C", "西南电机"]


# -- watchers -------------------------------------------------------------------------------

def test_a_running_watcher_and_one_that_was_killed(ws: Workspace, tmp_path: Path) -> None:
    err = tmp_path / "watch.err"

    def start() -> subprocess.Popen[bytes]:
        with err.open("wb") as sink:
            return subprocess.Popen([sys.executable, "-m", "qmsforms", "--root", str(ws.root),
                                     "watch", "--settle", "0.1"], stdout=subprocess.DEVNULL,
                                    stderr=sink, cwd=REPO)

    def seen() -> list[dict[str, Any]]:
        return run_status(ws)[1]["watchers"]

    watcher = start()
    try:
        until(lambda: bool(seen()), watcher)
        code, data = run_status(ws)
        (entry,) = data["watchers"]
        assert (entry["state"], entry["pid"], entry["mode"]) == ("running", watcher.pid,
                                                                 "native")
        assert entry["since"] and entry["inbox"] == str(ws.inbox) and code == 0
        assert [w.state for w in watchers(ws.state_dir, silent_after=-1)] == ["not_responding"]
    finally:
        watcher.send_signal(signal.SIGKILL)
        watcher.wait(timeout=60)
    code, data = run_status(ws)
    assert [w["state"] for w in data["watchers"]] == ["gone"] and code == 1
    again = start()
    try:
        until(lambda: [w["pid"] for w in seen()] == [again.pid], again)
        assert [w["state"] for w in seen()] == ["running"]
    finally:
        again.send_signal(signal.SIGTERM)
        assert again.wait(timeout=120) == 0
    assert seen() == [] and run_status(ws)[0] == 0


def until(condition: Any, proc: subprocess.Popen[bytes]) -> None:
    """Poll ``condition``; a guard against hangs, never a speed claim."""
    deadline = time.monotonic() + 120
    while not condition():
        assert proc.poll() is None, f"the watcher exited with {proc.returncode}"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_an_outbox_that_cannot_be_written_needs_a_person(ws: Workspace,
                                                         immutable: Any) -> None:
    assert run_status(ws)[0] == 0
    immutable(ws.outbox)
    code, data = run_status(ws)
    assert code == 1 and [(e["name"], e["state"]) for e in data["outbox"]] == [
        ("outbox", "not_writable")]


def test_a_blocked_watcher_needs_a_person(ws: Workspace, make_filled: Any, tmp_path: Path,
                                          immutable: Any) -> None:
    """The outbox cannot be written: the watcher claims nothing and says so in its
    heartbeat, and ``status`` shows it as blocked."""
    (ws.outbox / "records").mkdir()
    immutable(ws.outbox / "records")
    with (tmp_path / "watch.err").open("wb") as sink:
        watcher = subprocess.Popen([sys.executable, "-m", "qmsforms", "--root", str(ws.root),
                                    "watch", "--settle", "0.1"], stdout=subprocess.DEVNULL,
                                   stderr=sink, cwd=REPO)
    try:
        drop(ws, make_filled("shipping-list"), "a.xlsx")
        until(lambda: [w["state"] for w in run_status(ws)[1]["watchers"]] == ["blocked"],
              watcher)
        assert run_status(ws)[0] == 1
    finally:
        watcher.send_signal(signal.SIGTERM)
        watcher.wait(timeout=120)


def test_a_claim_opened_in_excel_and_left_with_a_stale_lock(ws: Workspace,
                                                             make_filled: Any) -> None:
    work = ws.inbox / ".qmsforms-work" / "20261201T080000Z-0123456789ab"
    work.mkdir(parents=True)
    shutil.copyfile(make_filled("shipping-list"), work / "a.xlsx")
    lock = work / "~$a.xlsx"
    lock.write_text("user")
    code, data = run_status(ws)
    assert [(c["state"], c["lock"]) for c in data["claims"]] == [("open", "~$a.xlsx")]
    assert code == 0
    age(lock, STALE_LOCK + 60)
    code, data = run_status(ws)
    assert [c["state"] for c in data["claims"]] == ["stale_lock"] and code == 1
