"""Which inbox files are forms, when one is complete, and claiming it."""

from __future__ import annotations

import os
import time
import zipfile
from pathlib import Path

import pytest

from qmsforms.intake.files import (
    Settler,
    candidates,
    claim,
    claim_folders,
    display_name,
    is_ignored,
    is_locked,
    kind_of,
)


@pytest.mark.parametrize("name", [
    "~$f.xlsx", "~$rvey-2026.xlsx", ".~lock.f.xlsx#", "f.tmp", "~WRL0001.TMP", "A1B2C3D4",
    ".hidden.xlsx", "f.xlsx.part", "download.crdownload", "noext", "",
])
def test_lock_temp_and_hidden_files_are_ignored(name: str) -> None:
    assert is_ignored(name)


@pytest.mark.parametrize("name", ["f.xlsx", "客户满意度调查表.xlsx", "a.b.xlsx", "junk.pdf",
                                  "8D.docx", "list.XLSX"])
def test_forms_and_other_files_are_candidates(name: str) -> None:
    assert not is_ignored(name)


def test_candidates_look_into_folders_and_skip_ignored(tmp_path: Path) -> None:
    (tmp_path / "a.xlsx").write_bytes(b"x")
    (tmp_path / "~$a.xlsx").write_bytes(b"x")
    for folder in ("sub", "2026.11 回执", ".qmsforms-work", "1/2/3/4", "1/2/3/4/5"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "b.xlsx").write_bytes(b"x")
    os.mkfifo(tmp_path / "pipe.xlsx")
    os.symlink(tmp_path / "a.xlsx", tmp_path / "link.xlsx")
    os.symlink(tmp_path / "sub", tmp_path / "linked-folder")
    found = [p.relative_to(tmp_path).as_posix() for p in candidates(tmp_path)]
    assert found == ["1/2/3/4/b.xlsx", "2026.11 回执/b.xlsx", "a.xlsx", "link.xlsx",
                     "pipe.xlsx", "sub/b.xlsx"]  # five levels down is too deep
    assert candidates(tmp_path / "missing") == []


def test_what_an_entry_is_comes_from_lstat(tmp_path: Path) -> None:
    (tmp_path / "a.xlsx").write_bytes(b"x")
    os.mkfifo(tmp_path / "pipe.xlsx")
    os.symlink(tmp_path / "a.xlsx", tmp_path / "link.xlsx")
    assert kind_of(tmp_path / "a.xlsx") is None
    assert kind_of(tmp_path / "pipe.xlsx") == "pipe"
    assert kind_of(tmp_path / "link.xlsx") == "link"
    assert kind_of(tmp_path) == "folder" and kind_of(tmp_path / "gone") == "missing"


def test_a_pipe_is_ready_at_once_and_never_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.xlsx")  # opening it for reading would block forever
    assert Settler(interval=1, quiet=10).look([tmp_path / "pipe.xlsx"], now=0) == [
        tmp_path / "pipe.xlsx"]


def test_names_that_are_not_utf8_are_shown_decoded() -> None:
    assert display_name(os.fsdecode("测试回执.xlsx".encode("gbk"))) == "测试回执.xlsx"
    assert display_name(os.fsdecode(b"\xff\xfe.xlsx")) == "\\xff\\xfe.xlsx"
    assert display_name("plain.xlsx") == "plain.xlsx"


def test_a_lock_name_too_long_to_exist_is_no_lock(tmp_path: Path) -> None:
    path = tmp_path / ("a" * 245 + ".xlsx")
    path.write_bytes(b"x")
    assert not is_locked(path)


def zip_file(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.txt", "hello")
    return path


def test_a_complete_zip_is_ready_on_the_second_look(tmp_path: Path) -> None:
    path = zip_file(tmp_path / "f.xlsx")
    settler = Settler(interval=1, quiet=10)
    assert settler.look([path], now=100) == []
    assert settler.look([path], now=100.5) == []             # too soon
    assert settler.look([path], now=101) == [path]
    assert settler.waiting == 0


def test_a_half_copied_file_is_not_ready(tmp_path: Path) -> None:
    whole = zip_file(tmp_path / "whole.zip").read_bytes()
    path = tmp_path / "f.xlsx"
    path.write_bytes(whole[: len(whole) // 2])
    settler = Settler(interval=1, quiet=10)
    settler.look([path], now=100)
    assert settler.look([path], now=101) == []                # unchanged but not a zip yet
    path.write_bytes(whole)
    assert settler.look([path], now=102) == []                # size changed: look again
    assert settler.look([path], now=103) == [path]


def test_a_file_that_never_opens_is_taken_after_the_quiet_period(tmp_path: Path) -> None:
    path = tmp_path / "junk.xlsx"
    path.write_bytes(b"not a zip")
    settler = Settler(interval=1, quiet=10)
    settler.look([path], now=100)
    assert settler.look([path], now=105) == []
    assert settler.look([path], now=110) == [path]            # rejected later, with a reason


def test_an_old_mtime_is_not_trusted(tmp_path: Path) -> None:
    path = zip_file(tmp_path / "f.xlsx")
    year_ago = time.time() - 365 * 86400
    os.utime(path, (year_ago, year_ago))
    settler = Settler(interval=1, quiet=10)
    assert settler.look([path], now=100) == []                # first sight, however old


def test_a_file_open_in_an_editor_waits(tmp_path: Path) -> None:
    path = zip_file(tmp_path / "report.xlsx")
    for lock in ("~$report.xlsx", "~$port.xlsx", ".~lock.report.xlsx#"):
        (tmp_path / lock).write_bytes(b"")
        assert is_locked(path)
        settler = Settler(interval=1, quiet=10)
        settler.look([path], now=100)
        assert settler.look([path], now=200) == []
        (tmp_path / lock).unlink()
        assert settler.look([path], now=201) == [path]
    assert not is_locked(path)


def test_a_vanished_file_is_forgotten(tmp_path: Path) -> None:
    path = zip_file(tmp_path / "f.xlsx")
    settler = Settler(interval=1, quiet=10)
    settler.look([path], now=100)
    path.unlink()
    assert settler.look([path], now=101) == [] and settler.waiting == 0


def test_claim_moves_the_file_once(tmp_path: Path) -> None:
    inbox, work = tmp_path / "inbox", tmp_path / "inbox" / ".work"
    inbox.mkdir()
    path = zip_file(inbox / "f.xlsx")
    first = claim(path, work)
    assert first is not None and first.path.read_bytes() and not path.exists()
    assert first.folder.parent == work and first.name == "f.xlsx"
    assert claim(path, work) is None                          # the other watcher lost
    assert claim_folders(work) == ([first.folder], [])


# -- why a file waits, and who holds a claim ------------------------------------------------

def test_why_a_file_waits(tmp_path: Path) -> None:
    from qmsforms.intake.waiting import why_waiting

    book = tmp_path / "survey-2026.xlsx"
    with zipfile.ZipFile(book, "w") as zf:
        zf.writestr("a.txt", "x")
    old = time.time() - 3600
    os.utime(book, (old, old))
    assert why_waiting(book, 1800).state == "waiting"
    owner = tmp_path / "~$rvey-2026.xlsx"  # Excel's owner file drops two characters
    owner.write_text("user")
    assert why_waiting(book, 1800).state == "open"
    os.utime(owner, (old, old))
    stale = why_waiting(book, 1800)
    assert (stale.state, stale.lock, stale.needs_person) == ("stale_lock", owner.name, True)
    assert why_waiting(book, 7200).state == "open"  # the age that counts is configured
    owner.unlink()
    book.write_bytes(book.read_bytes()[:10])
    assert why_waiting(book, 1800).state == "copying"  # changed just now
    os.utime(book, (old, old))
    assert why_waiting(book, 1800).state == "incomplete"
    assert why_waiting(tmp_path / "gone.xlsx", 1800).state == "gone"


def test_a_claim_lock_names_its_holder_and_status_takes_nothing(tmp_path: Path) -> None:
    from qmsforms.intake.locks import ClaimLock

    path = tmp_path / "c.lock"
    assert ClaimLock.holder(path) is None and not path.exists()
    lock = ClaimLock.acquire(path)
    assert lock is not None
    try:
        # flock locks belong to the open file: a second open in this process is refused too
        holder = ClaimLock.holder(path)
        assert holder is not None and holder["pid"] == os.getpid() and holder["since"]
    finally:
        lock.release()
    assert not path.exists()
    path.write_text("{}")
    assert ClaimLock.holder(path) is None and path.exists()  # free: left as it was
