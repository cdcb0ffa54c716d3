"""Atomic writes and their part files (`qmsforms.intake.outputs`): a part names its host and
process, and `remove_parts` removes only what no live writer can still be writing.

A watcher on another machine may write the same shared outbox: its process cannot be asked
after from here, so its parts go only when they are hours old.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qmsforms.intake.outputs import PART_PREFIX, atomic_write, part_name, remove_parts
from qmsforms.site import HOST_ENV

HOURS_AGO = time.time() - 3 * 3600


def dead_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=60)
    return proc.pid


def part(folder: Path, name: str, *, old: bool = False) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"{")
    if old:
        os.utime(path, (HOURS_AGO, HOURS_AGO))
    return path


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> str:
    """This machine, as `qmsforms.site.host_id` names it here."""
    monkeypatch.setenv(HOST_ENV, "plant-a")
    return "plant-a"


def test_a_part_is_named_by_its_host_and_process(tmp_path: Path, host: str) -> None:
    seen: list[str] = []

    def write(tmp: Path) -> None:
        seen.append(tmp.name)
        assert tmp.parent == tmp_path / "records"
        tmp.write_bytes(b"{}")

    target = atomic_write(tmp_path / "records" / "R1.json", write)
    (name,) = seen
    assert name.startswith(f"{PART_PREFIX}{host}-{os.getpid()}-") and name.endswith("-R1.json")
    assert target.read_bytes() == b"{}"
    assert [p.name for p in target.parent.iterdir()] == ["R1.json"]
    assert part_name("R1.json").startswith(f"{PART_PREFIX}{host}-{os.getpid()}-")


def test_parts_of_this_host_go_when_their_process_is_gone(tmp_path: Path, host: str) -> None:
    gone = dead_pid()
    dead = part(tmp_path, f"{PART_PREFIX}{host}-{gone}-0a1b2c3d-R1.json")
    live = part(tmp_path, f"{PART_PREFIX}{host}-{os.getpid()}-0a1b2c3d-R2.json")
    old_live = part(tmp_path, f"{PART_PREFIX}{host}-{os.getpid()}-0a1b2c3d-R3.json", old=True)
    assert remove_parts(tmp_path) == 2
    assert not dead.exists() and live.exists() and not old_live.exists()


def test_parts_of_another_host_go_only_when_hours_old(tmp_path: Path, host: str) -> None:
    gone = dead_pid()  # no process of this id here: it says nothing about the other machine
    fresh = part(tmp_path / "records", f"{PART_PREFIX}plant-b-{gone}-0a1b2c3d-R1.json")
    numbered = part(tmp_path / "archive", f"{PART_PREFIX}pc-12-{gone}-0a1b2c3d-a-1.xlsx")
    old = part(tmp_path / "records", f"{PART_PREFIX}plant-b-{gone}-0a1b2c3d-R2.json", old=True)
    assert remove_parts(tmp_path) == 1
    assert fresh.exists() and numbered.exists() and not old.exists()


def test_parts_named_without_a_host_are_judged_as_this_hosts(tmp_path: Path, host: str) -> None:
    gone = dead_pid()
    dead = part(tmp_path, f"{PART_PREFIX}{gone}-0a1b2c3d-R1.json")
    live = part(tmp_path, f"{PART_PREFIX}{os.getpid()}-0a1b2c3d-R2.json")
    unnamed = part(tmp_path, f"{PART_PREFIX}R3.json")  # no writer named at all: a leftover
    assert remove_parts(tmp_path) == 2
    assert not dead.exists() and live.exists() and not unnamed.exists()
