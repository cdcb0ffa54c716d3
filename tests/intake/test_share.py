"""A file share comes and goes: the watcher lives through it (issue 13 §3, SPEC §5).

A ``qmsforms watch`` subprocess runs on a real workspace while the test does to its folders
what a factory share does: the inbox vanishes for a few seconds and comes back, is replaced
by a new folder, loses its hidden work folder; the outbox fills up (a real tmpfs) or turns
read-only (a real read-only bind mount). Rescans are set to an hour, so a file taken in time
was found by the restarted observer, not by a rescan. Each test ends with every file one
record whose archive matches the original, and the watcher alive.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from qmsforms.intake import WORK_DIR, Ledger
from qmsforms.workspace import Workspace

from .test_watch import WatchProcess, drop, wait_for

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux mounts and folders")

TIMEOUT = 120.0  # seconds; a guard against hangs, never a performance claim
MODES = {"native": [], "poll": ["--poll", "0.2"]}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(params=sorted(MODES))
def watcher(request: pytest.FixtureRequest, ws: Workspace,
            tmp_path: Path) -> Iterator[WatchProcess]:
    logs = tmp_path / "logs"
    logs.mkdir()
    proc = WatchProcess(ws, [*MODES[request.param], "--rescan", "3600"], logs, "watcher")
    proc.wait_ready()
    yield proc
    if proc.proc.poll() is None:
        proc.kill()


def records(ws: Workspace) -> dict[str, str]:
    """Source name -> sha256 of every record whose JSON is in the outbox."""
    with Ledger(ws.state_dir / "ledger.sqlite") as ledger:
        return {r.source_name: r.sha256 for r in ledger.records()
                if (ws.outbox / r.path).is_file()}


def recorded(ws: Workspace, names: set[str]) -> Callable[[], bool]:
    return lambda: names <= set(records(ws))


def check(ws: Workspace, sources: dict[str, Path], watcher: WatchProcess) -> None:
    """Every file one record, its archive byte-identical, nothing left behind, watcher alive."""
    got = records(ws)
    for name, source in sources.items():
        assert got[name] == sha(source), name
        (archive,) = (ws.outbox / "archive").glob(f"*/*__{name}")
        assert sha(archive) == sha(source)
    work = ws.inbox / WORK_DIR
    # the claim folder goes right after the outbox files the test saw: wait for it, not by time
    wait_for(lambda: not work.exists() or not any(work.iterdir()), TIMEOUT,
             "the work folder to empty", (watcher,))
    assert watcher.proc.poll() is None
    assert watcher.terminate() == 0


def test_the_inbox_gone_for_a_while_and_back(ws: Workspace, make_filled: Any,
                                            watcher: WatchProcess, tmp_path: Path) -> None:
    before = make_filled("shipping-list", doc_no="FH-BEFORE")
    drop(before, ws.inbox, "before.xlsx")
    wait_for(recorded(ws, {"before.xlsx"}), TIMEOUT, "the first file", (watcher,))
    away = tmp_path / "inbox-away"
    os.rename(ws.inbox, away)  # the share drops out
    time.sleep(3)
    os.rename(away, ws.inbox)  # and comes back
    after = make_filled("shipping-list", doc_no="FH-AFTER")
    time.sleep(1.5)
    drop(after, ws.inbox, "after.xlsx")
    wait_for(recorded(ws, {"after.xlsx"}), TIMEOUT, "a file after the blip", (watcher,))
    check(ws, {"before.xlsx": before, "after.xlsx": after}, watcher)


def test_the_inbox_replaced_by_a_new_folder(ws: Workspace, make_filled: Any,
                                           watcher: WatchProcess, tmp_path: Path) -> None:
    os.rename(ws.inbox, tmp_path / "old-inbox")
    ws.inbox.mkdir()
    source = make_filled("shipping-list", doc_no="FH-NEW-INBOX")
    time.sleep(1.5)
    drop(source, ws.inbox, "new.xlsx")
    wait_for(recorded(ws, {"new.xlsx"}), TIMEOUT, "a file in the new inbox", (watcher,))
    check(ws, {"new.xlsx": source}, watcher)


def test_the_work_folder_deleted(ws: Workspace, make_filled: Any,
                                 watcher: WatchProcess) -> None:
    shutil.rmtree(ws.inbox / WORK_DIR)
    source = make_filled("shipping-list", doc_no="FH-NO-WORK")
    drop(source, ws.inbox, "after-rm.xlsx")
    wait_for(recorded(ws, {"after-rm.xlsx"}), TIMEOUT, "a file after the work folder went",
             (watcher,))
    check(ws, {"after-rm.xlsx": source}, watcher)


# -- the outbox cannot be written -------------------------------------------------------------

def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


@pytest.fixture
def mounts() -> Iterator[list[Path]]:
    """Mount points to unmount at the end (the test needs root and mount(8))."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a tmpfs or a read-only bind mount")
    mounted: list[Path] = []
    yield mounted
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


def _fill(folder: Path) -> Path:
    """Fill the file system of ``folder`` to the last byte."""
    filler = folder / "filler.bin"
    with filler.open("wb", buffering=0) as fh:
        for size in (1 << 20, 4096, 1):
            try:
                while True:
                    fh.write(b"\0" * size)
            except OSError:
                pass
    return filler


def _blocked_then_resumed(ws: Workspace, make_filled: Any, watcher: WatchProcess,
                          block: Callable[[], None], unblock: Callable[[], None]) -> None:
    first = make_filled("shipping-list", doc_no="FH-OK")
    drop(first, ws.inbox, "ok.xlsx")
    wait_for(recorded(ws, {"ok.xlsx"}), TIMEOUT, "the first file", (watcher,))
    block()
    sources = {f"late-{n}.xlsx": make_filled("shipping-list", doc_no=f"FH-LATE-{n}")
               for n in range(3)}
    for name, source in sources.items():
        drop(source, ws.inbox, name)
    wait_for(lambda: "blocked" in watcher.stderr(), TIMEOUT, "the watcher to say it is blocked",
             (watcher,))
    time.sleep(3)
    assert watcher.proc.poll() is None  # it stays up
    # nothing lost while blocked: each file is in the inbox or held in a claim
    held = {p.name for p in ws.inbox.rglob("late-*.xlsx")}
    assert held | set(records(ws)) >= set(sources)
    unblock()
    wait_for(recorded(ws, set(sources)), TIMEOUT, "the files once the outbox is back",
             (watcher,))
    check(ws, {"ok.xlsx": first, **sources}, watcher)


def test_a_full_outbox_blocks_and_the_intake_resumes_by_itself(
        ws: Workspace, make_filled: Any, watcher: WatchProcess, mounts: list[Path],
        tmp_path: Path) -> None:
    # the outbox on its own small file system, as a share with a quota would be
    saved = tmp_path / "outbox-saved"
    shutil.copytree(ws.outbox, saved)
    _mount("-t", "tmpfs", "-o", "size=8m", "tmpfs", str(ws.outbox))
    mounts.append(ws.outbox)
    shutil.copytree(saved, ws.outbox, dirs_exist_ok=True)
    filler: list[Path] = []
    _blocked_then_resumed(ws, make_filled, watcher,
                          block=lambda: filler.append(_fill(ws.outbox)),
                          unblock=lambda: filler[0].unlink())


def test_a_read_only_outbox_blocks_and_the_intake_resumes_by_itself(
        ws: Workspace, make_filled: Any, watcher: WatchProcess, mounts: list[Path]) -> None:
    def block() -> None:
        _mount("--bind", str(ws.outbox), str(ws.outbox))
        mounts.append(ws.outbox)
        _mount("-o", "remount,ro,bind", str(ws.outbox))

    def unblock() -> None:
        subprocess.run(["umount", str(ws.outbox)], check=True, capture_output=True)
        mounts.remove(ws.outbox)

    _blocked_then_resumed(ws, make_filled, watcher, block, unblock)


def test_a_watcher_started_before_its_share_is_mounted_says_so_and_waits(
        ws: Workspace, make_filled: Any, tmp_path: Path) -> None:
    import json

    share = tmp_path / "mnt" / "plant-share"
    config = ws.root / "qmsforms.toml"
    config.write_text(config.read_text(encoding="utf-8")
                      + f'\n[paths]\ninbox = "{share.as_posix()}"\n', encoding="utf-8")
    logs = tmp_path / "logs"
    logs.mkdir()
    proc = WatchProcess(Workspace(ws.root), ["--poll", "0.2"], logs, "watcher")
    try:
        proc.wait_ready()

        def state() -> dict[str, Any]:
            found = subprocess.run(
                [sys.executable, "-m", "qmsforms", "--root", str(ws.root), "status", "--json"],
                capture_output=True, text=True, check=False, timeout=TIMEOUT)
            (watcher,) = json.loads(found.stdout)["watchers"]
            return dict(watcher)

        wait_for(lambda: state()["state"] == "blocked", TIMEOUT, "the watcher to say blocked",
                 (proc,))
        assert "plant-share" in state()["detail"]
        assert not share.exists()  # nothing made where the share is mounted
        share.mkdir(parents=True)  # mounted
        source = make_filled("shipping-list", doc_no="FH-MOUNTED")
        drop(source, share, "mounted.xlsx")
        wait_for(recorded(ws, {"mounted.xlsx"}), TIMEOUT, "the file on the share", (proc,))
        wait_for(lambda: state()["state"] == "running", TIMEOUT, "the watcher to run again",
                 (proc,))
        assert proc.terminate() == 0
    finally:
        if proc.proc.poll() is None:
            proc.kill()
