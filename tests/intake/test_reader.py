"""The reader process: real files read under real memory and time limits (SPEC §7).

The limits are set low enough that a real, valid but large shipping list exceeds them; the
child is killed or runs out of memory, and the parent goes on with a fresh child.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from qmsforms.intake.reader import (
    ReaderProcess,
    ReaderUnavailable,
    ReadFailed,
    ReadInterrupted,
    ReadLimits,
)
from qmsforms.workspace import Workspace

from ..conftest import VALID

LINES = 20_000


@pytest.fixture(scope="module")
def big_list(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Path]:
    """A valid shipping list of LINES lines (a few seconds to read; the reader process reading
    it needs some 80-90 MB of address space in all)."""
    from benchmarks.run import make_large
    from qmsforms.workspace import init_workspace

    root = tmp_path_factory.mktemp("reader")
    ws = init_workspace(root / "ws")
    path = root / "big.xlsx"
    make_large(ws, path, LINES)
    return ws, path


def test_a_form_is_validated_in_the_child(ws: Workspace, make_filled: Any) -> None:
    path = make_filled("shipping-list")
    with ReaderProcess(ws.root) as reader:
        first = reader.validate(path, "清单.xlsx")
        second = reader.validate(path, "again.xlsx")
    assert first.valid and first.form == "shipping-list" and first.path == "清单.xlsx"
    assert first.data is not None and first.data["doc_no"] == VALID["shipping-list"]["doc_no"]
    assert second.to_dict() | {"path": "清单.xlsx"} == first.to_dict()
    assert reader.started == 1  # one child for both files


def test_a_read_past_the_time_limit_is_stopped(big_list: tuple[Workspace, Path],
                                               make_filled: Any) -> None:
    ws, path = big_list
    with ReaderProcess(ws.root, ReadLimits(timeout=0.2)) as reader:
        with pytest.raises(ReadFailed) as failed:
            reader.validate(path, path.name)
        assert failed.value.code.name == "READ_TIMEOUT"
        # a fresh child takes the next file, with the full time it needs
        reader.limits = ReadLimits(timeout=120)
        assert reader.validate(make_filled("shipping-list"), "small.xlsx").valid
        assert reader.started == 2


def test_a_read_past_the_memory_limit_is_stopped(big_list: tuple[Workspace, Path],
                                                 make_filled: Any) -> None:
    ws, path = big_list
    with ReaderProcess(ws.root, ReadLimits(memory_mb=40, timeout=60)) as reader:
        with pytest.raises(ReadFailed) as failed:
            reader.validate(path, path.name)
        # where the allocation fails decides how: Python's MemoryError, a Rust abort, or a
        # native panic that never returns (then the time limit ends it)
        assert failed.value.code.name in {"READ_MEMORY", "READER_CRASHED", "READ_TIMEOUT"}
        reader.limits = ReadLimits()
        assert reader.validate(make_filled("shipping-list"), "small.xlsx").valid
        assert reader.started == 2


@pytest.mark.parametrize("memory_mb", [36, 40, 44, 52, 60, 72])
def test_running_out_of_memory_is_never_taken_for_a_damaged_file(
        big_list: tuple[Workspace, Path], memory_mb: int) -> None:
    """Where the limit is reached decides what fails: zlib inflating a sound member reports a
    failed allocation as ``Error -4`` of the data, which once refused a valid list as
    CORRUPT_FILE ("save it again") instead of READ_MEMORY."""
    ws, path = big_list
    with ReaderProcess(ws.root, ReadLimits(memory_mb=memory_mb, timeout=60)) as reader:
        try:
            report = reader.validate(path, path.name)
        except ReadFailed as failed:
            assert failed.code.name in {"READ_MEMORY", "READER_CRASHED", "READ_TIMEOUT"}
        else:
            assert report.valid, [i.code for i in report.errors]


def test_a_child_killed_mid_read_is_a_crash_and_is_replaced(
        big_list: tuple[Workspace, Path], make_filled: Any) -> None:
    ws, path = big_list
    with ReaderProcess(ws.root, ReadLimits(timeout=300)) as reader:
        reader.validate(make_filled("shipping-list"), "warm.xlsx")  # child started
        assert reader._proc is not None
        pid = reader._proc.pid
        # the child is held still, so the read cannot finish before the kill lands
        os.kill(pid, signal.SIGSTOP)

        def abort() -> None:
            os.kill(pid, signal.SIGABRT)
            os.kill(pid, signal.SIGCONT)

        killer = threading.Timer(0.5, abort)
        killer.start()
        try:
            with pytest.raises(ReadFailed) as failed:
                reader.validate(path, path.name)
        finally:
            killer.cancel()
        assert failed.value.code.name == "READER_CRASHED"
        assert failed.value.detail == "SIGABRT"
        assert reader.validate(make_filled("shipping-list"), "after.xlsx").valid
        assert reader._proc.pid != pid


def test_closing_stops_the_child(ws: Workspace, make_filled: Any) -> None:
    reader = ReaderProcess(ws.root)
    reader.validate(make_filled("shipping-list"), "x.xlsx")
    proc = reader._proc
    assert proc is not None
    reader.close()
    deadline = time.monotonic() + 30
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is not None


def test_a_stop_abandons_the_read_in_hand(big_list: tuple[Workspace, Path],
                                          make_filled: Any) -> None:
    ws, path = big_list
    with ReaderProcess(ws.root, ReadLimits(timeout=300)) as reader:
        reader.validate(make_filled("shipping-list"), "warm.xlsx")
        assert reader._proc is not None
        os.kill(reader._proc.pid, signal.SIGSTOP)  # the read is still in hand when the stop comes
        reader.stop = threading.Event()
        threading.Timer(0.1, reader.stop.set).start()
        with pytest.raises(ReadInterrupted):
            reader.validate(path, path.name)
        reader.stop = None
        assert reader.validate(path, path.name).valid  # read again in full, by a new child
        assert reader.started == 2


def test_a_stop_does_not_abandon_the_copy_of_a_decided_file(ws: Workspace, make_filled: Any,
                                                             tmp_path: Path) -> None:
    """A watcher stopped while it writes a rejection's annotated copy finishes the copy: the
    decision is already in the ledger, and only a read may be left for the next start."""
    from qmsforms.validate import validate_file

    path = make_filled("shipping-list", doc_no=None)
    report = validate_file(path, ws)
    assert not report.valid
    out = tmp_path / "annotated.xlsx"
    with ReaderProcess(ws.root) as reader:
        reader.stop = threading.Event()
        reader.stop.set()
        assert reader.annotate(path, report, out)
        filled = make_filled("shipping-list")
        record = {"record_id": "R-1", "form": "shipping-list", "revision": "A",
                  "data": validate_file(filled, ws).data, "scores": None,
                  "source": {"name": filled.name, "sha256": "0" * 64,
                             "received_at": "2026-12-02T08:00:00+00:00"},
                  "processed_at": "2026-12-02T08:00:01+00:00"}
        reader.record_copy(filled, tmp_path / "record.xlsx", record)
    assert out.is_file() and (tmp_path / "record.xlsx").is_file()


def test_a_reader_that_cannot_start_blocks_the_intake_and_refuses_nothing(
        ws: Workspace, make_filled: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import qmsforms.intake.reader as reader_module
    from qmsforms.intake import Intake, Ledger

    source = make_filled("shipping-list")
    (ws.inbox / "a.xlsx").write_bytes(source.read_bytes())
    monkeypatch.setattr(reader_module, "_CHILD", "import sys; sys.exit('broken install')")
    with pytest.raises(ReaderUnavailable), ReaderProcess(ws.root) as reader:
        reader.validate(source, "x.xlsx")
    with Intake(ws, settle=0.05) as intake:
        result = intake.process()
    assert result.outcomes == [] and result.blocked and "broken install" in result.blocked
    with Ledger(ws.state_dir / "ledger.sqlite") as ledger:
        assert ledger.count("files") == 0
    monkeypatch.undo()
    with Intake(ws, settle=0.05) as intake:
        (outcome,) = intake.process().outcomes
    assert outcome.outcome == "record"
