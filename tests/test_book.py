"""The fast workbook reader: values, formulas, errors, formats, merges, names, tables."""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime, time
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.table import Table

from qmsforms.binding import bind, workbook_names
from qmsforms.book import (
    Book,
    Cells,
    as_book,
    open_book,
)
from qmsforms.identity import read_identity
from qmsforms.validate import validate_file
from qmsforms.workspace import Workspace

from .conftest import VALID, FillFn


def _sample(path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "数据"
    ws["B3"], ws["C3"], ws["D3"] = 5, 5.5, "=SUM(B3:C3)"
    ws["E3"] = "#N/A"
    ws["F3"] = datetime(2026, 1, 2, 8, 30)
    ws["G3"] = date(2026, 1, 3)
    ws["H3"] = True
    ws["I3"] = 0.95
    ws["I3"].number_format = "0%"
    ws["J3"] = time(10, 30)
    ws["K3"] = "  文字 & <text>  "
    ws["L3"] = 12.5
    ws["L3"].number_format = "#,##0.00 \"元\""
    ws.merge_cells("B5:D6")
    ws["B5"] = "merged"
    ws["A8"] = "=A1&\"x\""
    other = wb.create_sheet("Other")
    other["A1"] = "x"
    wb.defined_names["one"] = DefinedName("one", attr_text="'数据'!$B$3")
    wb.defined_names["block"] = DefinedName("block", attr_text="'数据'!$B$5:$D$6")
    wb.defined_names["two_areas"] = DefinedName("two_areas", attr_text="'数据'!$B$3,'数据'!$C$3")
    wb.defined_names["elsewhere"] = DefinedName("elsewhere", attr_text="[1]Sheet!$A$1")
    ws.defined_names["local"] = DefinedName("local", attr_text="'数据'!$B$3")
    other.append(["名称 Name", "数量 Qty"])
    other.append(["a", 1])
    other.add_table(Table(displayName="parts", ref="A2:B3"))
    wb.save(path)
    return path


def test_values_as_openpyxl_gives_them(tmp_path: Path) -> None:
    with Book(_sample(tmp_path / "s.xlsx")) as book:
        assert book.value("数据", 3, 2) == 5 and isinstance(book.value("数据", 3, 2), int)
        assert book.value("数据", 3, 3) == 5.5
        assert book.value("数据", 3, 5) == "#N/A"
        assert book.value("数据", 3, 6) == datetime(2026, 1, 2, 8, 30)
        assert book.value("数据", 3, 7) in (date(2026, 1, 3), datetime(2026, 1, 3))
        assert book.value("数据", 3, 8) is True
        assert book.value("数据", 3, 10) == time(10, 30)
        assert book.value("数据", 3, 11) == "  文字 & <text>  "
        assert book.value("数据", 1, 1) is None
        assert book.value("数据", 900, 900) is None


def test_formulas_are_seen_not_their_cached_value(tmp_path: Path) -> None:
    with Book(_sample(tmp_path / "s.xlsx")) as book:
        assert book.cell("数据", 3, 4).formula == "=SUM(B3:C3)"
        assert book.cell("数据", 8, 1).formula == '=A1&"x"'
        assert book.cell("数据", 3, 2).formula is None
        assert set(book.formulas("数据")) == {(3, 4), (8, 1)}


def test_number_formats_only_when_asked(tmp_path: Path) -> None:
    with Book(_sample(tmp_path / "s.xlsx")) as book:
        assert book.cell("数据", 3, 9, number_format=True).number_format == "0%"
        assert book.cell("数据", 3, 12, number_format=True).number_format == '#,##0.00 "元"'
        assert book.cell("数据", 3, 2, number_format=True).number_format == "General"
        assert book.cell("数据", 3, 9).number_format == "General"
        book.index_styles("数据")
        assert book.number_format("数据", 3, 9) == "0%"


def test_merged_block_reads_its_top_left_cell(tmp_path: Path) -> None:
    with Book(_sample(tmp_path / "s.xlsx")) as book:
        cell = book.cell("数据", 6, 4)
        assert (cell.coordinate, cell.value) == ("B5", "merged")
        assert [c.ref for c in book.merged("数据")] == ["B5:D6"]


def test_names_and_tables(tmp_path: Path) -> None:
    with Book(_sample(tmp_path / "s.xlsx")) as book:
        names = workbook_names(book)
        assert {n: c.ref for n, c in names.items()} == {"one": "B3", "block": "B5:D6"}
        assert book.table_refs()["parts"] == ("Other", "A2:B3")
        assert book.sheetnames == ["数据", "Other"]


def test_same_names_as_the_openpyxl_view(tmp_path: Path) -> None:
    path = _sample(tmp_path / "s.xlsx")
    with Book(path) as book:
        assert workbook_names(book) == workbook_names(load_workbook(path))


@pytest.mark.parametrize("form_id", sorted(VALID))
def test_binding_and_identity_match_openpyxl(make_filled: FillFn, ws: Workspace,
                                             form_id: str) -> None:
    path = make_filled(form_id)
    wb = load_workbook(path)
    form = ws.registry.get(form_id)
    with Book(path) as book:
        assert read_identity(book) == read_identity(wb)
        ours, theirs = bind(book, form), bind(wb, form)
        assert ours[0] == theirs[0] and ours[1] == theirs[1] == []
        for cells in ours[0].fields.values():
            for row, col in cells.coordinates():
                expected = wb[cells.sheet].cell(row=row, column=col).value
                got = book.value(cells.sheet, row, col)
                if isinstance(expected, datetime) and isinstance(got, date):
                    expected = expected if isinstance(got, datetime) else expected.date()
                assert got == expected, (cells.ref, got, expected)


def test_as_book_reads_what_was_written() -> None:
    wb = Workbook()
    wb.active["A1"] = "hello"
    with as_book(wb) as book:
        assert book.value("Sheet", 1, 1) == "hello"


def _rewrite(path: Path, member: str, edit: object) -> None:
    with zipfile.ZipFile(path) as src:
        parts = {info.filename: src.read(info.filename) for info in src.infolist()}
    parts[member] = edit(parts[member])  # type: ignore[operator]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(name, data)


def test_cells_without_references_are_located_by_position(tmp_path: Path) -> None:
    path = _sample(tmp_path / "s.xlsx")
    _rewrite(path, "xl/worksheets/sheet1.xml",
             lambda data: data.replace(b'<c r="A8"', b"<c"))
    with Book(path) as book:
        assert set(book.formulas("数据")) == {(3, 4), (8, 1)}
        assert book.value("数据", 3, 5) == "#N/A"


def test_a_broken_package_is_an_issue(tmp_path: Path) -> None:
    path = _sample(tmp_path / "s.xlsx")
    _rewrite(path, "xl/workbook.xml", lambda data: data[: len(data) // 2])
    book, issues = open_book(path)
    assert book is None and [i.code for i in issues] == ["CORRUPT_FILE"]


def test_a_formula_in_a_table_line_is_located(make_filled: FillFn, ws: Workspace) -> None:
    line = VALID["shipping-list"]["lines"][0]
    path = make_filled("shipping-list", lines=[line, {**line, "batch_no": "B2"}])
    wb = load_workbook(path)
    table = wb.worksheets[0].tables["lines"]
    first = int(re.sub(r"[A-Z]", "", table.ref.split(":")[0])) + 2
    wb.worksheets[0][f"F{first}"] = "=0.25*2"
    wb.save(path)
    report = validate_file(path, ws)
    found = [(i.code, i.cell) for i in report.errors]
    assert found == [("FORMULA_IN_INPUT", f"F{first}")]


@pytest.mark.parametrize(("ref", "block"), [
    ("$C$5", (5, 3, 5, 3)), ("$D$20:$H$20", (20, 4, 20, 8)), ("$D$14:$C$14", (14, 3, 14, 4)),
    ("$XFD$1048576", (1048576, 16384, 1048576, 16384)),
    ("$C$0", None), ("$C$0:$D$3", None), ("$C$1048577", None), ("$XFE$1", None),
    ("$C:$C", None), ("$3:$3", None), ("#REF!", None),
])
def test_a_block_lies_inside_the_sheet(ref: str, block: tuple[int, int, int, int] | None) -> None:
    cells = Cells.parse("S", ref)
    found = None if cells is None else (cells.min_row, cells.min_col, cells.max_row,
                                        cells.max_col)
    assert found == block
