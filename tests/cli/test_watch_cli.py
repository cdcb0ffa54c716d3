"""What the person running ``qmsforms watch`` and ``process`` sees (issue 15 §2, SPEC §9).

Before: one line per file without a time, no log file, and a file whose Excel lock file was
left behind by a crash waited for ever without a word while ``process`` said WAIT and exited
0. The watcher runs here as a real process; the assertions look at the lines' shape (time,
mark), the log file, exit codes and states, not at prose.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from qmsforms.cli import cli
from qmsforms.intake import Ledger
from qmsforms.intake.watch import SUMMARY_LOGGER, Watcher
from qmsforms.workspace import Workspace

from ..conftest import FillFn
from ..intake.test_watch import WatchProcess, wait_for

STAMPED = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")
GUARD = 180.0  # seconds; a guard against hangs, never a speed claim


def drop(path: Path, inbox: Path, name: str) -> Path:
    target = inbox / name
    target.write_bytes(path.read_bytes())
    return target


def old_lock(inbox: Path, name: str, minutes: float) -> Path:
    lock = inbox / name
    lock.write_text("user")
    then = time.time() - minutes * 60
    os.utime(lock, (then, then))
    return lock


def files_decided(ws: Workspace) -> int:
    path = ws.state_dir / "ledger.sqlite"
    if not path.exists():
        return 0
    with Ledger(path) as ledger:
        return ledger.count("files")


def log_file(ws: Workspace) -> Path:
    return ws.state_dir / "logs" / "watch.log"


def set_config(ws: Workspace, text: str) -> None:
    config = ws.root / "qmsforms.toml"
    config.write_text(config.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")


# -- process ----------------------------------------------------------------------------------

def test_process_says_why_a_file_waits_and_a_stale_lock_exits_1(
        ws: Workspace, make_filled: FillFn) -> None:
    drop(make_filled("shipping-list"), ws.inbox, "list.xlsx")
    lock = old_lock(ws.inbox, "~$list.xlsx", 5)
    run = CliRunner().invoke(cli, ["--root", str(ws.root), "process", "--settle", "0.05",
                                   "--json"])
    assert run.exit_code == 0, run.output  # open in Excel for 5 minutes: a person is on it
    why = json.loads(run.stdout)["waiting_why"]
    assert {k: (v["state"], v["lock"]) for k, v in why.items()} == {
        "list.xlsx": ("open", "~$list.xlsx")}
    old_lock(ws.inbox, "~$list.xlsx", 45)
    run = CliRunner().invoke(cli, ["--root", str(ws.root), "process", "--settle", "0.05"])
    assert run.exit_code == 1  # left by a crash: nothing happens until a person removes it
    assert [line.split(" ", 2)[:2] for line in run.stdout.splitlines()
            if line.startswith("WAIT")] == [["WAIT", "list.xlsx"]]
    lock.unlink()
    run = CliRunner().invoke(cli, ["--root", str(ws.root), "process", "--settle", "0.05",
                                   "--json"])
    assert run.exit_code == 0 and json.loads(run.stdout)["records"] == 1


# -- watch ------------------------------------------------------------------------------------

@contextmanager
def watching(ws: Workspace, args: list[str], logs: Path, name: str
             ) -> Iterator[WatchProcess]:
    """A ``qmsforms watch`` process, ready; stopped with SIGTERM (exit 0) at the end."""
    watcher = WatchProcess(ws, args, logs, name)
    try:
        watcher.wait_ready()
        yield watcher
        assert watcher.terminate() == 0
    finally:
        if watcher.proc.poll() is None:
            watcher.kill()


def test_watch_banner_timestamps_log_file_and_stale_lock(
        ws: Workspace, make_filled: FillFn, tmp_path: Path) -> None:
    drop(make_filled("shipping-list", doc_no="FH-OPEN"), ws.inbox, "stale.xlsx")
    old_lock(ws.inbox, "~$stale.xlsx", 90)
    with watching(ws, [], tmp_path, "watch") as watcher:
        drop(make_filled("shipping-list"), ws.inbox, "a.xlsx")
        drop(make_filled("satisfaction-survey", delivery=None), ws.inbox, "b.xlsx")
        wait_for(lambda: len(watcher.stdout().splitlines()) >= 2, GUARD, "two files",
                 (watcher,))
        wait_for(lambda: "stale.xlsx" in log_file(ws).read_text(encoding="utf-8"), GUARD,
                 "the stale lock warning", (watcher,))
    out, err = watcher.stdout().splitlines(), watcher.stderr().splitlines()
    assert sorted(line.split(" ")[2] for line in out) == ["REC", "REJ"]
    assert all(STAMPED.match(line) for line in out + err)
    banner = "\n".join(err[:8])
    for shown in (ws.root, ws.inbox, ws.state_dir / "ledger.sqlite", log_file(ws), "native"):
        assert str(shown) in banner
    logged = log_file(ws).read_text(encoding="utf-8").splitlines()
    assert all(STAMPED.match(line) or line.startswith((" ", "Traceback")) for line in logged)
    assert [line.split()[2:4] for line in logged if "stale.xlsx" in line] == [
        ["WARNING", "WAIT"]]  # warned once, not at every look
    assert sum(" REC " in line or " REJ " in line for line in logged) == 2
    assert re.search(r"1 records, 0 duplicates, 1 rejected", logged[-2])  # the day so far
    assert (ws.inbox / "stale.xlsx").exists()


def test_watch_quiet_keeps_the_terminal_for_problems(ws: Workspace, make_filled: FillFn,
                                                      tmp_path: Path) -> None:
    with watching(ws, ["--quiet"], tmp_path, "quiet") as watcher:
        drop(make_filled("shipping-list"), ws.inbox, "a.xlsx")
        wait_for(lambda: files_decided(ws) >= 1, GUARD, "the file", (watcher,))
        wait_for(lambda: " REC " in log_file(ws).read_text(encoding="utf-8"), GUARD,
                 "the log line", (watcher,))
    assert watcher.stdout() == ""
    err = watcher.stderr()
    assert str(ws.inbox) in err and " REC " not in err and "WARNING" not in err
    assert re.search(r"1 records, 0 duplicates, 0 rejected", err)


def test_the_watch_log_rotates(ws: Workspace, make_filled: FillFn, tmp_path: Path) -> None:
    set_config(ws, "[intake]\nlog_max_mb = 0.0005\nlog_backups = 2\n")  # about 500 bytes
    with watching(ws, ["--quiet"], tmp_path, "rotate") as watcher:
        for n in range(8):
            drop(make_filled("shipping-list", doc_no=f"FH-{n}"), ws.inbox, f"list-{n}.xlsx")
        wait_for(lambda: files_decided(ws) >= 8, GUARD, "eight files", (watcher,))
    logs = sorted(p.name for p in log_file(ws).parent.iterdir())
    assert logs == ["watch.log", "watch.log.1", "watch.log.2"]
    assert all(p.stat().st_size <= 600 for p in log_file(ws).parent.iterdir())


def test_a_log_folder_that_cannot_be_written_does_not_stop_the_watcher(
        ws: Workspace, make_filled: FillFn, tmp_path: Path, immutable: object) -> None:
    logs = ws.state_dir / "logs"
    logs.mkdir(parents=True)
    immutable(logs)  # type: ignore[operator]
    with watching(ws, [], tmp_path, "nolog") as watcher:
        drop(make_filled("shipping-list"), ws.inbox, "a.xlsx")
        wait_for(lambda: files_decided(ws) >= 1, GUARD, "the file", (watcher,))
    assert "WARNING" in watcher.stderr() and list(logs.iterdir()) == []


# -- the daily summary --------------------------------------------------------------------------

class Lines(logging.Handler):
    """Keeps the messages logged to it."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_a_summary_line_after_midnight(ws: Workspace, make_filled: FillFn) -> None:
    """The watcher's day follows its clock; a real watcher runs, only midnight is moved."""
    now = [datetime(2026, 12, 1, 23, 59)]
    watcher = Watcher(ws, settle=0.05, clock=lambda: now[0])
    lines = Lines()
    summary = logging.getLogger(SUMMARY_LOGGER)
    summary.addHandler(lines)
    summary.setLevel(logging.INFO)
    runner = threading.Thread(target=watcher.run)
    runner.start()
    try:
        same = make_filled("shipping-list")
        drop(same, ws.inbox, "a.xlsx")
        drop(same, ws.inbox, "a copy.xlsx")
        drop(make_filled("satisfaction-survey", delivery=None), ws.inbox, "b.xlsx")
        deadline = time.monotonic() + GUARD
        while watcher.processed < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert watcher.processed == 3 and lines.lines == []
        now[0] += timedelta(minutes=2)
        while not lines.lines and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        watcher.stop()
        runner.join(timeout=GUARD)
        summary.removeHandler(lines)
    (line,) = lines.lines
    assert "2026-12-01" in line and re.search(r"1 records, 1 duplicates, 1 rejected", line)
    assert watcher.day.isoformat() == "2026-12-02" and sum(watcher.tally.values()) == 0


@pytest.fixture(autouse=True)
def _no_root_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QMSFORMS_ROOT", raising=False)
