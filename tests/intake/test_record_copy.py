"""The record copy written into the package: a first sheet, the form untouched."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from openpyxl import load_workbook

from qmsforms.intake.outputs import RECORD_SHEET, RECORD_TITLE, add_record_sheet
from qmsforms.intake.outputs import write_record_sheet_copy as _write_record_copy
from qmsforms.intake.record_copy import Unsupported, write_record_copy
from qmsforms.intake.zip_copy import ZipCopyUnsupported, ZipWriter
from qmsforms.validate import validate_file
from qmsforms.workspace import Workspace

from ..conftest import VALID, FillFn

RECORD: dict[str, Any] = {
    "record_id": "R20261121-abc", "form": "shipping-list", "revision": "A",
    "instance_id": "i-1", "processed_at": "2026-11-21T10:00:00Z",
    "source": {"name": "=cmd|' /C calc'!A0 \x07.xlsx", "sha256": "ab" * 32,
               "received_at": "2026-11-21T09:59:00Z"},
    "scores": None, "notes": ["not_issued_here"],
}


def _copy(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy.xlsx"
    _write_record_copy(source, target, RECORD)
    return target


@pytest.mark.parametrize("form_id", sorted(VALID))
def test_record_sheet_first_and_the_form_read_the_same(make_filled: FillFn, ws: Workspace,
                                                       tmp_path: Path, form_id: str) -> None:
    source = make_filled(form_id)
    target = _copy(source, tmp_path)
    before, after = load_workbook(source), load_workbook(target)
    assert after.sheetnames == [RECORD_SHEET, *before.sheetnames]
    assert after.active.title == RECORD_SHEET
    assert [s.title for s in after.worksheets if s.sheet_view.tabSelected] == [RECORD_SHEET]
    sheet = after[RECORD_SHEET]
    assert sheet["A1"].value == RECORD_TITLE and sheet["A1"].font.b
    assert sheet["B2"].value == RECORD["record_id"]
    for ws_before in before.worksheets:
        ws_after = after[ws_before.title]
        assert [[c.value for c in r] for r in ws_before.iter_rows()] == [
            [c.value for c in r] for r in ws_after.iter_rows()]
        assert ws_after.print_title_rows == ws_before.print_title_rows
        assert ws_after.print_area == ws_before.print_area
    assert validate_file(target, ws).data == validate_file(source, ws).data


def test_text_stays_text(make_filled: FillFn, tmp_path: Path) -> None:
    target = _copy(make_filled("shipping-list"), tmp_path)
    cells = {row[0].value: row[1] for row in load_workbook(target)[RECORD_SHEET].iter_rows()}
    source = cells["原文件 Source file"]
    assert source.data_type == "s" and source.value == "=cmd|' /C calc'!A0 .xlsx"


def test_a_package_with_a_record_sheet_goes_to_openpyxl(make_filled: FillFn,
                                                        tmp_path: Path) -> None:
    source = make_filled("complaint")
    wb = load_workbook(source)
    add_record_sheet(wb, RECORD)
    wb.save(source)
    with pytest.raises(Unsupported):
        write_record_copy(source, tmp_path / "x.xlsx", [], RECORD_SHEET, RECORD_TITLE)
    assert not (tmp_path / "x.xlsx").exists()
    target = _copy(source, tmp_path)
    assert load_workbook(target).sheetnames.count(RECORD_SHEET) == 1


@pytest.mark.libreoffice
def test_libreoffice_opens_the_record_copy(make_filled: FillFn, tmp_path: Path,
                                           soffice: Callable[[Path, str], Path]) -> None:
    target = _copy(make_filled("shipping-list"), tmp_path)
    resaved = load_workbook(soffice(target, "xlsx"))
    assert resaved.sheetnames[0] == RECORD_SHEET
    assert resaved[RECORD_SHEET]["B2"].value == RECORD["record_id"]


def test_a_comment_among_the_sheets_is_no_sheet(make_filled: FillFn, ws: Workspace,
                                                tmp_path: Path) -> None:
    """Found by the fuzz: a comment node in <sheets> was asked for its sheetId."""
    from ..xlsx_parts import parts_of, rewrite

    source = make_filled("shipping-list")
    rewrite(source, "xl/workbook.xml",
            lambda xml: xml.replace(b"<sheets>", b"<sheets><!-- a comment -->", 1))
    target = tmp_path / "copy.xlsx"
    write_record_copy(source, target, [("a", "b")], RECORD_SHEET, RECORD_TITLE)
    book = parts_of(target)["xl/workbook.xml"].decode()
    assert book.index(f'name="{RECORD_SHEET}"') < book.index("a comment")
    assert validate_file(target, ws).data == validate_file(source, ws).data


def test_the_parts_not_changed_are_copied_raw(make_filled: FillFn, ws: Workspace,
                                              tmp_path: Path) -> None:
    source = make_filled("shipping-list")
    target = _copy(source, tmp_path)
    changed = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml",
               "xl/styles.xml"}
    with zipfile.ZipFile(source) as before, zipfile.ZipFile(target) as after:
        assert after.testzip() is None
        kept = [i for i in before.infolist() if i.filename not in changed
                and not i.filename.startswith("xl/worksheets/sheet")]
        assert kept
        for info in kept:
            copied = after.getinfo(info.filename)
            assert (copied.CRC, copied.compress_size, copied.date_time) == (
                info.CRC, info.compress_size, info.date_time)
    assert validate_file(target, ws).data == validate_file(source, ws).data


def test_zip_writer_copies_members_with_data_descriptors_and_stored(tmp_path: Path) -> None:
    source, target = tmp_path / "a.zip", tmp_path / "b.zip"
    with source.open("wb") as raw:  # an unseekable stream makes zipfile write descriptors
        stream = _Unseekable(raw)
        with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("a.xml", b"<a/>" * 1000)
            zf.writestr(zipfile.ZipInfo("b.bin"), b"\x00\x01" * 10, zipfile.ZIP_STORED)
            zf.writestr("中文.xml", b"<b/>")
    with zipfile.ZipFile(source) as src, source.open("rb") as raw, target.open("wb") as fh:
        assert all(i.flag_bits & 0x8 for i in src.infolist())
        out = ZipWriter(fh)
        for info in src.infolist():
            out.copy(raw, info)
        out.write("new.xml", b"<new/>")
        out.close()
    with zipfile.ZipFile(target) as zf:
        assert zf.testzip() is None
        assert zf.namelist() == ["a.xml", "b.bin", "中文.xml", "new.xml"]
        assert zf.read("a.xml") == b"<a/>" * 1000 and zf.read("new.xml") == b"<new/>"


class _Unseekable(io.RawIOBase):
    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return self.fh.write(data)


def test_zip_writer_refuses_an_encrypted_member(tmp_path: Path) -> None:
    source = tmp_path / "a.zip"
    with zipfile.ZipFile(source, "w") as zf:
        zf.writestr("a.xml", b"<a/>")
    with zipfile.ZipFile(source) as src, source.open("rb") as raw:
        info = src.infolist()[0]
        info.flag_bits |= 0x1
        with pytest.raises(ZipCopyUnsupported):
            ZipWriter(io.BytesIO()).copy(raw, info)
