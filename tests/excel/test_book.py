"""The fast workbook reader: values, formulas, errors, formats, merges, names, tables."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import zipfile
from datetime import date, datetime, time
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.table import Table

from qmsforms.config import ConfigError
from qmsforms.excel.binding import bind, workbook_names
from qmsforms.excel.book import Book, open_book
from qmsforms.excel.cells import Cells
from qmsforms.excel.identity import read_identity
from qmsforms.safety import Limits
from qmsforms.validate import validate_file
from qmsforms.workspace import Workspace

from ..conftest import VALID, FillFn
from ..test_validate import table_cell
from ..xlsx_parts import named_cell, replace_cell, style_of


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


def _as_book(wb: Workbook, name: str = "workbook.xlsx") -> Book:
    """An openpyxl workbook as it reads back once saved."""
    buffer = io.BytesIO()
    wb.save(buffer)
    return Book(name, buffer.getvalue())


def test_a_saved_workbook_reads_back() -> None:
    wb = Workbook()
    wb.active["A1"] = "hello"
    with _as_book(wb) as book:
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


# -- bounded reading: how far a sheet's cells reach ---------------------------------------------

_APART = """
import json, resource, sys
limit = 2 * 2**30  # a reader that asks for more fails here instead of taking the machine
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from qmsforms.validate import validate_file
from qmsforms.workspace import Workspace
report = validate_file(sys.argv[1], Workspace(sys.argv[2]))
print(json.dumps(report.flatten(["code", "sheet", "cell"])))
"""


def _validate_apart(path: Path, ws: Workspace) -> list[list[object]]:
    """Validate in a child process: a native abort there fails the test, not the suite."""
    done = subprocess.run([sys.executable, "-c", _APART, str(path), str(ws.root)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def _add_rows(path: Path, rows: str, dimension: str | None = None) -> str:
    """Append ``rows`` to the form sheet (and set its dimension); returns the sheet's name."""
    def edit(data: bytes) -> bytes:
        data = data.replace(b"</sheetData>", rows.encode() + b"</sheetData>", 1)
        if dimension is not None:
            data = re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{dimension}"'.encode(),
                          data, count=1)
        return data

    _rewrite(path, "xl/worksheets/sheet1.xml", edit)
    return str(load_workbook(path, read_only=True).sheetnames[0])


@pytest.mark.parametrize(("rows", "code", "cell"), [
    # each of these made calamine ask for 77-549 GB and abort the process
    ('<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>', "SHEET_TOO_LARGE", "XFD1048576"),
    ('<row r="60"><c r="ZZZZZZZ60"><v>1</v></c></row>', "CELL_OUT_OF_RANGE", "ZZZZZZZ60"),
    ('<row r="99999999999"><c r="A99999999999"><v>1</v></c></row>', "CELL_OUT_OF_RANGE",
     "A99999999999"),
    ('<row r="99999999999"><c><v>1</v></c></row>', "CELL_OUT_OF_RANGE", "A99999999999"),
    ('<row r="60"><c r="A60" r="XFD1048576"><v>1</v></c></row>', "SHEET_TOO_LARGE",
     "XFD1048576"),
    # and these cost about 1 GB, or were a CalamineError
    ('<row r="1048576"><c r="H1048576"><v>1</v></c></row>', "SHEET_TOO_LARGE", "H1048576"),
    ('<row r="60"><c r="XFE60"><v>1</v></c></row>', "CELL_OUT_OF_RANGE", "XFE60"),
    ('<row r="60"><c r="A0"><v>1</v></c></row>', "CELL_OUT_OF_RANGE", "A0"),
])
def test_a_stray_cell_far_out_is_refused_at_its_cell(make_filled: FillFn, ws: Workspace,
                                                    rows: str, code: str, cell: str) -> None:
    path = make_filled("complaint", qty_returned=1)
    sheet = _add_rows(path, rows)
    assert _validate_apart(path, ws) == [[code, sheet, cell]]


def test_a_dimension_that_claims_the_last_row_is_refused(make_filled: FillFn,
                                                         ws: Workspace) -> None:
    path = make_filled("complaint", qty_returned=1)
    _add_rows(path, '<row r="1048576"><c r="H1048576"><v>1</v></c></row>', "A1:H1048576")
    assert [row[0] for row in _validate_apart(path, ws)] == ["ABSURD_DIMENSIONS"]


def test_a_stray_cell_within_the_limits_is_read(make_filled: FillFn, ws: Workspace) -> None:
    path = make_filled("complaint", qty_returned=1)
    expected = validate_file(path, ws).data
    _add_rows(path, '<row r="60"><c r="XFD60"><v>1</v></c></row>')
    report = validate_file(path, ws)
    assert report.issues == [] and report.data == expected


def test_the_limits_come_from_the_workspace(make_filled: FillFn, ws: Workspace) -> None:
    path = make_filled("complaint", qty_returned=1)
    sheet = _add_rows(path, '<row r="60"><c r="J60"><v>1</v></c></row>')
    assert validate_file(path, ws).valid
    config = ws.root / "qmsforms.toml"
    shipped = config.read_text(encoding="utf-8")
    for limits in ("max_cols = 9", "max_rows = 59", "max_cells = 500"):
        config.write_text(f"{shipped}\n[limits]\n{limits}\n", encoding="utf-8")
        found = validate_file(path, Workspace(ws.root)).flatten(["code", "sheet", "cell"])
        assert found == [["SHEET_TOO_LARGE", sheet, "J60"]], limits


def test_the_default_limits_are_the_readers() -> None:
    config = Workspace(Path("/nonexistent")).config
    assert config.limits.reader_limits() == Limits()
    assert config.limits.read_timeout_seconds > 0 and config.limits.read_memory_mb >= 256


@pytest.mark.parametrize("text", ["max_rows = 0", "max_cols = 16385", "max_cells = 0",
                                  "read_timeout_seconds = 0", "read_memory_mb = 10",
                                  "max_sheets = 3"])
def test_limits_that_cannot_be_are_a_config_error(ws: Workspace, text: str) -> None:
    config = ws.root / "qmsforms.toml"
    config.write_text(f"{config.read_text(encoding='utf-8')}\n[limits]\n{text}\n",
                      encoding="utf-8")
    with pytest.raises(ConfigError):
        Workspace(ws.root).config  # noqa: B018


def test_a_50000_line_shipping_list_is_read_with_the_default_limits(make_filled: FillFn,
                                                                   ws: Workspace) -> None:
    path = make_filled("shipping-list")
    first = int(re.sub(r"[A-Z]", "", table_cell(path, "part_name", 0)))
    lines = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>螺栓 M{r % 9}</t></is></c>'
        f'<c r="C{r}" t="inlineStr"><is><t>B{r}</t></is></c><c r="D{r}"><v>{r % 50 + 1}</v></c>'
        f'<c r="E{r}" t="inlineStr"><is><t>pcs</t></is></c><c r="F{r}"><v>0.5</v></c></row>'
        for r in range(first + 10, first + 50_000))

    def edit(data: bytes) -> bytes:
        tail = data.index(b"</sheetData>")
        return data[:tail] + lines.encode() + data[tail:]

    _rewrite(path, "xl/worksheets/sheet1.xml", edit)
    report = validate_file(path, ws)
    assert report.issues == []
    assert len(report.data["lines"]) == len(VALID["shipping-list"]["lines"]) + 49_990


# -- error values calamine does not know ------------------------------------------------------

def test_an_error_value_excel_never_writes_is_refused_in_an_input(make_filled: FillFn,
                                                                 ws: Workspace) -> None:
    path = make_filled("complaint", qty_returned=1)
    ref = named_cell(path, "qty_returned")
    replace_cell(path, ref, f'<c r="{ref}" s="{style_of(path, ref)}" t="e"><v>7</v></c>')
    assert validate_file(path, ws).flatten(["code", "field", "cell"]) == [
        ["CELL_UNREADABLE", "qty_returned", ref]]


@pytest.mark.parametrize("value", ["7", "#SPILL!", "#CALC!"])
def test_an_error_value_outside_the_inputs_is_ignored(make_filled: FillFn, ws: Workspace,
                                                      value: str) -> None:
    """calamine refuses the whole sheet for such a value; the cell is no input."""
    path = make_filled("complaint", qty_returned=1)
    expected = validate_file(path, ws).data
    _add_rows(path, f'<row r="60"><c r="J60" t="e"><f>A1:A2</f><v>{value}</v></c></row>')
    report = validate_file(path, ws)
    assert report.issues == [] and report.data == expected
