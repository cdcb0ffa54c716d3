"""The record copy written into the package: a first sheet, the form untouched."""

from __future__ import annotations

import io
import json
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


# -- printing: one A4 page wide, labels beside values ------------------------------------------

def _assert_prints_one_page_wide(sheet: Any) -> None:
    setup = sheet.page_setup
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (int(setup.fitToWidth), int(setup.fitToHeight)) == (1, 0)
    assert str(setup.paperSize) == sheet.PAPERSIZE_A4 and setup.orientation == "portrait"


def test_the_record_sheet_prints_one_page_wide(make_filled: FillFn, tmp_path: Path) -> None:
    target = _copy(make_filled("satisfaction-survey"), tmp_path)
    sheet = load_workbook(target)[RECORD_SHEET]
    _assert_prints_one_page_wide(sheet)
    for row in sheet.iter_rows(min_row=2):
        assert row[0].alignment.vertical == row[1].alignment.vertical == "top"
        assert row[1].alignment.wrap_text


def test_the_openpyxl_record_sheet_prints_one_page_wide(make_filled: FillFn,
                                                        tmp_path: Path) -> None:
    wb = load_workbook(make_filled("shipping-list"))
    add_record_sheet(wb, {**RECORD, "notes": ["a long note " * 20]})
    wb.save(tmp_path / "copy.xlsx")
    sheet = load_workbook(tmp_path / "copy.xlsx")[RECORD_SHEET]
    _assert_prints_one_page_wide(sheet)
    notes = next(r for r in sheet.iter_rows() if r[0].value == "备注 Notes")
    assert sheet.row_dimensions[notes[0].row].height >= 45  # wrapped onto several lines


COMPLAINT_SCORES = {"kind": "complaint", "urgent": True, "sla_hours": 1,
                    "filing_minutes": 90.0, "sla_met": False, "eight_d_required": True}


def test_a_complaint_record_sheet_shows_its_sla_and_8d(make_filled: FillFn,
                                                       tmp_path: Path) -> None:
    record = {**RECORD, "form": "complaint", "scores": COMPLAINT_SCORES}
    target = tmp_path / "copy.xlsx"
    _write_record_copy(make_filled("complaint"), target, record)
    rows = {r[0].value: r[1].value for r in load_workbook(target)[RECORD_SHEET].iter_rows()}
    assert rows["需要 8D 报告 8D required"] == "是 Yes"
    assert rows["按时填单 Filed in time (SLA)"] == "否 No"
    assert rows["填单用时 Filed after"] == "90 min"
    assert not any(str(label).startswith(("评分政策", "月度得分")) for label in rows)


# -- the Word record copy -----------------------------------------------------------------------

def _record_table(path: Path) -> dict[str, str]:
    """The label -> value rows of the record block, as python-docx reads the document."""
    import docx

    document = docx.Document(str(path))
    table = next(t for t in document.tables if t.rows[0].cells[0].text == RECORD_TITLE)
    assert document.element.body.index(table._tbl) > max(  # after every form table
        document.element.body.index(t._tbl) for t in document.tables
        if t._tbl is not table._tbl)
    return {row.cells[0].text: row.cells[1].text for row in table.rows[1:]}


def test_the_word_record_copy_carries_the_record_id_and_computed_fields(
        ws: Workspace, tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys

    from qmsforms.blanks import issue_blank
    from qmsforms.word.fill import fill_word

    source = issue_blank(ws, "complaint", tmp_path / "complaint.docx")
    fill_word(source, {**VALID["complaint"], "urgent": True, "quality_related": True,
                       "filed_at": "2026-11-03 10:30"}, source)
    shutil.copyfile(source, ws.inbox / "complaint.docx")
    done = subprocess.run([sys.executable, "-m", "qmsforms", "--root", str(ws.root),
                           "process", "--settle", "0.05", "--json"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    record = json.loads((ws.outbox / json.loads(done.stdout)["outcomes"][0]["location"])
                        .read_text(encoding="utf-8"))
    copy = ws.outbox / "records" / "complaint" / f"{record['record_id']}.docx"
    rows = _record_table(copy)
    assert rows["记录号 Record id"] == record["record_id"]
    assert rows["实例号 Instance id"] == record["instance_id"]
    assert rows["需要 8D 报告 8D required"] == "是 Yes"
    assert rows["按时填单 Filed in time (SLA)"] == "否 No"  # urgent: 1 h, filed after 1.5 h
    assert rows["填单时限 Filing limit"].startswith("1 h")
    assert validate_file(copy, ws).data == validate_file(source, ws).data
    with zipfile.ZipFile(source) as before, zipfile.ZipFile(copy) as after:
        assert after.testzip() is None
        for info in before.infolist():
            if info.filename != "word/document.xml":
                assert after.getinfo(info.filename).CRC == info.CRC


def test_a_word_record_copy_that_cannot_be_written_is_the_file_as_it_came(
        tmp_path: Path) -> None:
    source = tmp_path / "odd.docx"
    with zipfile.ZipFile(source, "w") as zf:
        zf.writestr("word/document.xml", b"<doc/>")  # no package relationships
    target = tmp_path / "copy.docx"
    _write_record_copy(source, target, RECORD)
    assert target.read_bytes() == source.read_bytes()
