"""Poison files among good ones: each ends as one rejection (or a record, when it is a good
form under an odd name) and every other file goes on (issue 13 §1–2, SPEC §7).

Every case is a real file in a real folder: a FIFO, a symbolic link to a file outside the
inbox, a name that is not UTF-8, names of 250 bytes and of 80 Chinese characters, a folder
with a dot in its name, workbooks whose cells lie far outside any sheet. They are dropped
among 50 good forms, then taken by ``process`` in this process and by a ``watch`` subprocess.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from qmsforms.blanks import issue_blank
from qmsforms.intake import WORK_DIR, Intake, candidates, open_ledger
from qmsforms.intake.files import display_name
from qmsforms.intake.outbox import OutboxWriter
from qmsforms.word.fill import fill_word
from qmsforms.workspace import Workspace

from ..conftest import VALID
from ..xlsx_parts import SHEET, rewrite
from .test_pipeline import Crash, crash
from .test_watch import WatchProcess, wait_for
from .test_word import COMPLAINT


@pytest.fixture
def ws(ws: Workspace, ledger_url: str | None) -> Workspace:
    """Every test here runs on each ledger engine (``ledger_url`` sets ``QMSFORMS_LEDGER``)."""
    return ws


pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and symlinks")

GOOD = 50
SECRET = b"outside the inbox: never copied"
GBK_NAME = "测试回执.xlsx".encode("gbk")  # as a zip made on Chinese Windows leaves it
LONG_ASCII = "a" * 245 + ".xlsx"  # 250 bytes
LONG_CHINESE = "客户满意度调查表回执" * 8 + ".xlsx"  # 80 characters, 245 bytes
FOLDER = "2026.11 回执"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _append_row(xml: bytes, row: bytes) -> bytes:
    return xml.replace(b"</sheetData>", row + b"</sheetData>", 1)


def stray_last_cell(data: bytes) -> bytes:
    """One cell in the sheet's last cell, far outside its declared dimension."""
    return _append_row(data, b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')


def stray_giant_row(data: bytes) -> bytes:
    """A row number past anything a sheet can hold."""
    return _append_row(data, b'<row r="99999999999"><c r="A99999999999"><v>1</v></c></row>')


def stray_long_column(data: bytes) -> bytes:
    """A seven-letter column."""
    return _append_row(data, b'<row r="70"><c r="ZZZZZZZ70"><v>1</v></c></row>')


STRAYS: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "stray-last-cell.xlsx": (stray_last_cell, "SHEET_TOO_LARGE"),
    "stray-giant-row.xlsx": (stray_giant_row, "CELL_OUT_OF_RANGE"),
    "stray-long-column.xlsx": (stray_long_column, "CELL_OUT_OF_RANGE")}


def declared_as(encoding: str) -> Callable[[bytes], bytes]:
    """An XML part re-encoded and declared as ``encoding`` (valid XML, valid OPC)."""
    def edit(xml: bytes) -> bytes:
        text = re.sub(r"^<\?xml[^>]*\?>\s*", "", xml.decode("utf-8"))
        return (f'<?xml version="1.0" encoding="{encoding}"?>' + text).encode(
            encoding, "xmlcharrefreplace")
    return edit


def long_declaration(xml: bytes) -> bytes:
    """An encoding name longer than any look-ahead."""
    body = re.sub(rb"^<\?xml[^>]*\?>\s*", b"", xml)
    return b'<?xml version="1.0" encoding="' + b"x" * 5000 + b'"?>' + body


def empty_name(xml: bytes) -> bytes:
    """The defined name of one field emptied."""
    return re.sub(rb'(<definedName name="doc_no"[^>]*>)[^<]*(</definedName>)', rb"\1\2", xml,
                  count=1)


def cell_outside_row(xml: bytes) -> bytes:
    """A Word table cell no longer inside a row (Word calls the file damaged)."""
    xml = re.sub(rb"<w:tr\b([^>]*)>", rb"<w:customXml\1>", xml, count=1)
    return xml.replace(b"</w:tr>", b"</w:customXml>", 1)


def control_without_content(xml: bytes) -> bytes:
    """Every content control loses its content (it reads as empty)."""
    return re.sub(rb"<w:sdtContent>.*?</w:sdtContent>", b"", xml, flags=re.S)


class Drop:
    """The files of one run: what went where, and what each must become."""

    def __init__(self, ws: Workspace, make_filled: Any, outside: Path) -> None:
        self.ws = ws
        tmp = outside.parent / "word"
        tmp.mkdir(exist_ok=True)

        def complaint(folder: Path, ticket: str) -> Path:
            path = issue_blank(ws, "complaint", folder / f"{ticket}.docx")
            fill_word(path, {**COMPLAINT, "ticket_no": ticket}, path)
            return path

        self.good: dict[str, str] = {}  # name people read -> sha256, each must be a record
        self.rejected: dict[str, set[str]] = {}  # name -> codes any of which is right
        inbox = ws.inbox
        for n in range(GOOD):
            path = make_filled("shipping-list", doc_no=f"FH-2026-{n:04d}")
            self._put(path, inbox / f"发货单-{n:02d}.xlsx")
        # good forms under names and in places that broke the intake
        self._put(make_filled("shipping-list", doc_no="FH-GBK"),
                  Path(os.fsdecode(os.path.join(os.fsencode(inbox), GBK_NAME))))
        self._put(make_filled("shipping-list", doc_no="FH-LONG-A"), inbox / LONG_ASCII)
        self._put(make_filled("shipping-list", doc_no="FH-LONG-ZH"), inbox / LONG_CHINESE)
        (inbox / FOLDER).mkdir()
        for n in range(2):
            self._put(make_filled("shipping-list", doc_no=f"FH-DIR-{n}"),
                      inbox / FOLDER / f"回执-{n}.xlsx")
        # poison
        os.mkfifo(inbox / "pipe.xlsx")
        self.rejected["pipe.xlsx"] = {"NOT_A_FILE"}
        secret = outside / "secret.xlsx"
        secret.write_bytes(SECRET)
        os.symlink(secret, inbox / "link.xlsx")
        self.rejected["link.xlsx"] = {"LINK_NOT_FOLLOWED"}
        for name, (edit, code) in STRAYS.items():
            path = make_filled("shipping-list", doc_no=f"FH-{name}")
            rewrite(path, SHEET, edit)
            shutil.copyfile(path, inbox / name)
            self.rejected[name] = {code}
        path = make_filled("shipping-list", doc_no="FH-UTF16")
        rewrite(path, "xl/workbook.xml", declared_as("utf-16"))
        self._put(path, inbox / "workbook-utf16.xlsx")
        path = make_filled("shipping-list", doc_no="FH-GBK-PART")
        rewrite(path, SHEET, declared_as("gbk"))
        self._put(path, inbox / "sheet-gbk.xlsx")
        path = make_filled("shipping-list", doc_no="FH-EMPTY-NAME")
        rewrite(path, "xl/workbook.xml", empty_name)
        shutil.copyfile(path, inbox / "empty-name.xlsx")
        self.rejected["empty-name.xlsx"] = {"FIELD_NAME_INVALID"}
        path = make_filled("shipping-list", doc_no="FH-LONG-DECL")
        rewrite(path, SHEET, long_declaration)
        shutil.copyfile(path, inbox / "long-declaration.xlsx")
        self.rejected["long-declaration.xlsx"] = {"UNSAFE_XML"}
        # Word forms
        self._put(complaint(tmp, "TS-GOOD"), inbox / "投诉.docx")
        path = complaint(tmp, "TS-GBK")
        for member in ("word/document.xml", "docProps/custom.xml"):
            rewrite(path, member, declared_as("gbk"))
        self._put(path, inbox / "投诉-gbk.docx")
        for name, edit, code in (("cell-outside-row.docx", cell_outside_row, "CORRUPT_FILE"),
                                 ("no-content.docx", control_without_content, "REQUIRED"),
                                 ("long-declaration.docx", long_declaration, "UNSAFE_XML")):
            path = complaint(tmp, f"TS-{name}")
            rewrite(path, "word/document.xml", edit)
            shutil.copyfile(path, inbox / name)
            self.rejected[name] = {code}
        line = dict(VALID["shipping-list"]["lines"][0], unit_price=1e30)
        line.pop("amount", None)
        huge = make_filled("shipping-list", doc_no="FH-HUGE", lines=[line])
        shutil.copyfile(huge, inbox / "price-1e30.xlsx")
        self.rejected["price-1e30.xlsx"] = {"OUT_OF_RANGE"}

    def _put(self, source: Path, target: Path) -> None:
        shutil.copyfile(source, target)
        rel = target.relative_to(self.ws.inbox)
        self.good["/".join(display_name(p) for p in rel.parts)] = sha(source)

    @property
    def total(self) -> int:
        return len(self.good) + len(self.rejected)

    def check(self, outside: Path) -> None:
        """Every good file one record with a byte-identical archive; every poison file one
        rejection with a right code; inbox and work folder empty; nothing outside read."""
        ws = self.ws
        with open_ledger(ws) as ledger:
            files = ledger.files()
            assert sorted(f.name for f in files) == sorted([*self.good, *self.rejected])
            for row in files:
                if row.name in self.good:
                    assert row.outcome == "record", (row.name, row.codes)
                    assert row.sha256 == self.good[row.name]
                    archive = list((ws.outbox / "archive").glob(f"*/{row.record_id}__*"))
                    assert len(archive) == 1 and sha(archive[0]) == row.sha256
                    assert len(archive[0].name.encode()) <= 255
                else:
                    assert row.outcome == "rejected", row.name
                    assert set(row.codes) & self.rejected[row.name], (row.name, row.codes)
            assert ledger.count("records") == len(self.good)
        assert candidates(ws.inbox) == []
        assert not any((ws.inbox / WORK_DIR).iterdir())
        assert (ws.inbox / FOLDER).is_dir()  # the folder people made stays; its forms went
        assert (outside / "secret.xlsx").read_bytes() == SECRET
        for path in ws.outbox.rglob("*"):
            if path.is_file():
                assert SECRET not in path.read_bytes(), path
        assert not any(p.is_symlink() for p in ws.outbox.rglob("*"))
        report = next((ws.outbox / "rejected").glob("link__*.report.txt")).read_text("utf-8")
        assert str(outside) not in report


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    return folder


def test_process_takes_the_good_files_and_refuses_the_poison(
        ws: Workspace, make_filled: Any, outside: Path) -> None:
    dropped = Drop(ws, make_filled, outside)
    with Intake(ws, settle=0.05) as intake:
        result = intake.process()
    assert result.blocked is None and not result.failed and not result.left
    assert len(result.outcomes) == dropped.total
    dropped.check(outside)


@pytest.mark.parametrize("mode", [[], ["--poll", "0.2"]], ids=["native", "poll"])
def test_watch_takes_the_good_files_and_refuses_the_poison(
        ws: Workspace, make_filled: Any, outside: Path, tmp_path: Path, mode: list[str]) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    watcher = WatchProcess(ws, mode, logs, "watcher")
    try:
        watcher.wait_ready()
        dropped = Drop(ws, make_filled, outside)
        with open_ledger(ws) as ledger:
            wait_for(lambda: ledger.count("files") >= dropped.total
                     and not any((ws.inbox / WORK_DIR).iterdir()), 300,
                     "every file decided", (watcher,))
        dropped.check(outside)
        assert watcher.proc.poll() is None  # alive
        assert not re.search(r"^Traceback", watcher.stderr(), re.M)
    finally:
        if watcher.proc.poll() is None:
            assert watcher.terminate() == 0


# -- attempts are counted in the ledger ------------------------------------------------------------

def test_a_file_past_the_read_limits_is_refused_after_its_attempts(
        ws: Workspace, make_filled: Any, tmp_path: Path) -> None:
    from benchmarks.run import make_large
    from qmsforms.intake.reader import ReadLimits

    big = tmp_path / "big.xlsx"
    make_large(ws, big, 20_000)  # valid, but takes longer to read than this limit allows
    shutil.copyfile(big, ws.inbox / "big.xlsx")
    small = make_filled("shipping-list")
    shutil.copyfile(small, ws.inbox / "small.xlsx")
    config = ws.root / "qmsforms.toml"
    with config.open("a", encoding="utf-8") as fh:
        fh.write("\n[limits]\nread_timeout_seconds = 0.3\nread_attempts = 2\n")
    configured = Workspace(ws.root)
    assert ReadLimits.of(configured) == ReadLimits(timeout=0.3, attempts=2)
    with Intake(configured, settle=0.05) as intake:
        result = intake.process()
        assert intake.reader.started >= 3  # a fresh child after each stalled read
    outcomes = {o.name: o for o in result.outcomes}
    assert outcomes["small.xlsx"].outcome == "record"
    assert outcomes["big.xlsx"].outcome == "rejected"
    assert outcomes["big.xlsx"].codes == ("READ_TIMEOUT",)
    (original,) = (ws.outbox / "rejected").glob("big__*.xlsx")
    assert sha(original) == sha(big)
    assert not list((ws.outbox / "rejected").glob("*.annotated.xlsx"))
    with open_ledger(ws) as ledger:
        claim = ledger.files("rejected")[0].claim_id
        attempt = ledger.attempt(claim)
        assert attempt is not None and attempt["count"] == 3
        assert attempt["last_error"].startswith("READ_TIMEOUT")


def test_a_file_read_when_the_intake_died_twice_is_refused_the_third_time(
        ws: Workspace, make_filled: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from qmsforms.intake.reader import ReaderProcess

    shutil.copyfile(make_filled("shipping-list"), ws.inbox / "a.xlsx")

    monkeypatch.setattr(ReaderProcess, "validate", crash)  # the intake dies reading
    for _ in range(2):
        with pytest.raises(Crash), Intake(ws, settle=0.05) as intake:
            intake.process()
    monkeypatch.undo()
    with Intake(ws, settle=0.05) as intake:
        (outcome,) = intake.process().outcomes
    assert (outcome.outcome, outcome.codes) == ("rejected", ("PROCESSING_FAILED",))


def test_a_read_that_finished_does_not_count(ws: Workspace, make_filled: Any,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copyfile(make_filled("shipping-list"), ws.inbox / "a.xlsx")

    monkeypatch.setattr(Intake, "_reject", crash)  # dies after reading, before deciding
    monkeypatch.setattr(OutboxWriter, "record", crash)
    for _ in range(3):
        with pytest.raises(Crash), Intake(ws, settle=0.05) as intake:
            intake.process()
    monkeypatch.undo()
    with Intake(ws, settle=0.05) as intake:
        (outcome,) = intake.process().outcomes
    assert outcome.outcome == "record"
