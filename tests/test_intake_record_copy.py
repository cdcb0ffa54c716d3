"""The record copy written into the package: a first sheet, the form untouched."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from qmsforms.intake.outputs import RECORD_SHEET, RECORD_TITLE, add_record_sheet
from qmsforms.intake.outputs import write_record_sheet_copy as _write_record_copy
from qmsforms.intake.record_copy import Unsupported, write_record_copy
from qmsforms.validate import validate_file
from qmsforms.workspace import Workspace

from .conftest import VALID, FillFn

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
    from .xlsx_parts import parts_of, rewrite

    source = make_filled("shipping-list")
    rewrite(source, "xl/workbook.xml",
            lambda xml: xml.replace(b"<sheets>", b"<sheets><!-- a comment -->", 1))
    target = tmp_path / "copy.xlsx"
    write_record_copy(source, target, [("a", "b")], RECORD_SHEET, RECORD_TITLE)
    book = parts_of(target)["xl/workbook.xml"].decode()
    assert book.index(f'name="{RECORD_SHEET}"') < book.index("a comment")
    assert validate_file(target, ws).data == validate_file(source, ws).data
