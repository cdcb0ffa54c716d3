"""The watcher's heartbeat file: who it is (host, site, pid) and what it does, since when."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from qmsforms.intake.heartbeat import WAITING_FOR_LEDGER, WATCHING, watchers
from qmsforms.intake.ledger import LedgerError
from qmsforms.intake.watch import watcher_heartbeat, when_reachable
from qmsforms.workspace import Workspace


def read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_the_file_names_host_site_and_what_the_watcher_does(
        ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QMSFORMS_HOST", "plant b/pc 7")
    monkeypatch.setenv("QMSFORMS_SITE", "plant-b")
    beat = watcher_heartbeat(ws, 2.0)
    assert beat.path.name == f"plant-b-pc-7-{os.getpid()}.json"
    beat.doing_now(WATCHING)  # already watching: the first beat writes the file
    first = read(beat.path)
    assert (first["host"], first["site"], first["pid"], first["mode"]) == (
        "plant-b-pc-7", "plant-b", os.getpid(), "poll 2 s")
    assert (first["state"], first["last_error"]) == (WATCHING, None)

    beat.doing_now(WAITING_FOR_LEDGER, "LEDGER_UNAVAILABLE: one")  # a change: written at once
    waiting = read(beat.path)
    assert (waiting["state"], waiting["last_error"]) == (WAITING_FOR_LEDGER,
                                                        "LEDGER_UNAVAILABLE: one")
    beat.doing_now(WAITING_FOR_LEDGER, "LEDGER_UNAVAILABLE: two")  # another error, same wait
    again = read(beat.path)
    assert again["last_error"] == "LEDGER_UNAVAILABLE: two"
    assert again["since"] == waiting["since"]

    (seen,) = watchers(ws.state_dir, 300)
    assert (seen.state, seen.info["state"]) == ("running", WAITING_FOR_LEDGER)
    beat.remove()
    assert watchers(ws.state_dir, 300) == []


def test_a_wait_keeps_the_heartbeat_until_the_watcher_starts_and_a_stop_removes_it(
        ws: Workspace) -> None:
    beat = watcher_heartbeat(ws)
    tries: list[dict[str, Any]] = []
    stopping = threading.Event()

    def start() -> str:
        if len(tries) < 2:
            tries.append(read(beat.path) if beat.path.exists() else {})
            raise LedgerError("LEDGER_UNAVAILABLE", "无法连接", "cannot be reached")
        tries.append(read(beat.path))
        return "watcher"

    assert when_reachable(start, stopping, first=0.01, heartbeat=beat) == "watcher"
    assert tries[0] == {}  # nothing was known before the first try
    assert [t["state"] for t in tries[1:]] == [WAITING_FOR_LEDGER, WAITING_FOR_LEDGER]
    assert tries[2]["last_error"] == "LEDGER_UNAVAILABLE: cannot be reached"
    assert beat.path.exists()  # handed on to the watcher

    def never() -> str:
        stopping.set()
        raise LedgerError("LEDGER_UNAVAILABLE", "无法连接", "cannot be reached")

    assert when_reachable(never, stopping, first=0.01, heartbeat=beat) is None
    assert not beat.path.exists()


def test_another_ledger_error_ends_the_wait_and_its_heartbeat(ws: Workspace) -> None:
    beat = watcher_heartbeat(ws)
    beat.beat()

    def damaged() -> str:
        raise LedgerError("LEDGER_DAMAGED", "台账损坏", "damaged")

    with pytest.raises(LedgerError):
        when_reachable(damaged, threading.Event(), heartbeat=beat)
    assert not beat.path.exists()


def test_an_error_raised_from_itself_is_not_a_lost_ledger() -> None:
    from qmsforms.intake.outcome import Blocked
    from qmsforms.intake.watch import _ledger_lost

    err = OSError(30, "Read-only file system")
    err.__cause__ = err  # what `raise exc from exc` leaves
    blocked = Blocked("read-only outbox")
    blocked.__cause__ = err
    assert _ledger_lost(blocked) is None
    lost = LedgerError("LEDGER_UNAVAILABLE", "无法连接", "cannot be reached")
    blocked.__cause__ = lost
    assert _ledger_lost(blocked) == "LEDGER_UNAVAILABLE: cannot be reached"
