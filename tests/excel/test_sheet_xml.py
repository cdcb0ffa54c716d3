"""The sheet XML scan: formulas, errors and unreadable cells, however the XML is spelled."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

from qmsforms.excel.book import Book, BookError
from qmsforms.excel.sheet_exact import Scan, SheetXmlError, scan_exact
from qmsforms.excel.sheet_extent import Extent, extent, fits
from qmsforms.excel.sheet_xml import may_have_special, scan
from qmsforms.safety import EXCEL_COLS, EXCEL_ROWS
from qmsforms.validate import validate_file
from qmsforms.workspace import Workspace

from ..conftest import VALID, FillFn
from ..test_validate import table_cell
from ..xlsx_parts import (
    MAIN,
    SHEET,
    cell_xml,
    named_cell,
    replace_cell,
    rewrite,
    style_of,
    to_shared_strings,
)

_X = f'xmlns:x="{MAIN}"'


def _found(report: object) -> list[list[object]]:
    return report.flatten(["code", "field", "cell"])


# -- unit: both scanners agree ------------------------------------------------------------------

def _sheet(cells: str, root_attrs: str = f'xmlns="{MAIN}"', tail: str = "") -> bytes:
    return (f'<worksheet {root_attrs}><sheetData><row r="5">{cells}</row></sheetData>{tail}'
            "</worksheet>").encode()


@pytest.mark.parametrize(("data", "formulas"), [
    (_sheet('<c r="B5" t="str"><f>A1</f><v>x</v></c>'), {(5, 2): "=A1"}),
    (_sheet(f'<x:c r="B5" {_X} t="str"><x:f>A1</x:f><x:v>x</x:v></x:c>'), {(5, 2): "=A1"}),
    (_sheet('<c r="B5" t="str"><f>A1</f ><v>x</v ></c >'), {(5, 2): "=A1"}),
    (_sheet("<c r='B5' t='str'><f>A1&amp;\"&gt;\"</f><v>x</v></c>"), {(5, 2): '=A1&">"'}),
    (_sheet('<c q:a="1>2" r="B5" t="str"><f>A1</f><v>x</v></c>',
            f'xmlns="{MAIN}" xmlns:q="urn:q"'), {(5, 2): "=A1"}),
    (_sheet('<c r="B5"><v>1</v></c>', f'xmlns="{MAIN}" xmlns:xm="urn:xm"',
            "<extLst><ext><xm:f>Sheet1!$A$1</xm:f></ext></extLst>"), {}),
    (b'<x:worksheet ' + _X.encode() + b'><x:sheetData><x:row r="2"><x:c r="D2"><x:f t="shared" '
     b'ref="D2:D3" si="0">B2*C2</x:f><x:v>1</x:v></x:c></x:row><x:row r="3"><x:c r="D3">'
     b'<x:f t="shared" si="0"/><x:v>2</x:v></x:c><x:c r="E3" t="b"><x:f>TRUE()</x:f>'
     b"<x:v>1</x:v></x:c></x:row></x:sheetData></x:worksheet>",
     {(2, 4): "=B2*C2", (3, 4): "=B2*C2", (3, 5): "=TRUE()"}),
])
def test_formulas_however_spelled(data: bytes, formulas: dict[tuple[int, int], str]) -> None:
    assert scan(data).formulas == formulas
    assert scan_exact(data).formulas == formulas


@pytest.mark.parametrize("data", [
    _sheet('<c r="A1" t="inlineStr"><is><r><rPr><family val="2"/></rPr><t>x</t></r></is></c>',
           tail='<dataValidations><dataValidation><formula1>"a,b"</formula1></dataValidation>'
                "</dataValidations>"),
    f'<?xml version="1.0"?>\n<worksheet xmlns="{MAIN}"><sheetData/></worksheet>'.encode(),
])
def test_drop_downs_and_rich_text_are_not_formulas(data: bytes) -> None:
    assert not may_have_special(data)
    assert scan(data).formulas == {}


@pytest.mark.parametrize(("cell", "problem"), [
    ('<c r="B5" t="s"><v>abc</v></c>', True),
    ('<c r="B5" t="s"><v>-1</v></c>', True),
    ('<c r="B5" t="s"><v> 1 </v></c>', True),
    ('<c r="B5" t="s"><v>1.0</v></c>', True),
    ('<c r="B5" t="s"><v>99999999999999999999</v></c>', True),
    ('<c r="B5" t="s"><v>12</v></c>', False),
    ('<c r="B5"><v>7&#48;</v></c>', True),
    ('<c r="B5" t="inlineStr"><is><t>a</t></is><v>x</v></c>', True),
    ('<c r="B5" t="inlineStr"><v>x</v></c>', True),
    ('<c r="B5" t="inlineStr"><is><t>a &amp; b</t></is></c>', False),
    ('<c r="B5"><q:v xmlns:q="urn:q">7</q:v></c>', True),
])
def test_unreadable_cells(cell: str, problem: bool) -> None:
    data = _sheet(cell)
    assert ((5, 2) in scan(data).problems) is problem
    assert ((5, 2) in scan_exact(data).problems) is problem


def test_errors_however_spelled() -> None:
    data = _sheet("<c r='B5' t = 'e'><v>#N/A</v></c>")
    assert scan(data).errors == scan_exact(data).errors == {(5, 2): "#N/A"}


# -- a real issued form, rewritten --------------------------------------------------------------

def _customer_formula(path: Path, ref: str, spelled: str) -> None:
    style = style_of(path, ref)
    replace_cell(path, ref, spelled.format(ref=ref, s=style, x=_X))


@pytest.mark.parametrize("spelled", [
    '<x:c r="{ref}" s="{s}" t="str" {x}><x:f>"ACME"</x:f><x:v>ACME</x:v></x:c>',
    '<c r="{ref}" s="{s}" t="str"><f>"ACME"</f ><v>ACME</v></c >',
    "<c r='{ref}' s='{s}' t='str'><f >\"ACME\"</f><v>ACME</v></c>",
    '<c\nr="{ref}"\ns="{s}"\nt="str"\n><f\n>"ACME"</f\n><v>ACME</v></c>',
])
def test_a_formula_however_spelled_is_refused(make_filled: FillFn, ws: Workspace,
                                              spelled: str) -> None:
    path = make_filled("satisfaction-survey")
    ref = named_cell(path, "customer")
    _customer_formula(path, ref, spelled)
    assert _found(validate_file(path, ws)) == [["FORMULA_IN_INPUT", "customer", ref]]


def test_a_prefix_declared_on_the_row_is_followed(make_filled: FillFn, ws: Workspace) -> None:
    path = make_filled("satisfaction-survey")
    ref = named_cell(path, "customer")
    row = re.sub(r"[A-Z]+", "", ref)
    style = style_of(path, ref)

    def edit(data: bytes) -> bytes:
        data = data.replace(f'<row r="{row}"'.encode(), f'<row {_X} r="{row}"'.encode(), 1)
        old = re.search(rb'<c r="' + ref.encode() + rb'".*?</c>', data)
        assert old
        new = (f'<x:c r="{ref}" s="{style}" t="str"><x:f>"ACME"</x:f><x:v>ACME</x:v></x:c>')
        return data.replace(old.group(0), new.encode())

    rewrite(path, SHEET, edit)
    assert _found(validate_file(path, ws)) == [["FORMULA_IN_INPUT", "customer", ref]]


def test_a_data_bar_formula_is_not_a_cell_formula(make_filled: FillFn, ws: Workspace) -> None:
    line = VALID["shipping-list"]["lines"][0]
    path = make_filled("shipping-list", lines=[{**line, "batch_no": f"B{i}"} for i in range(25)])
    extension = (
        '<extLst><ext uri="{78C0D931-6437-407d-A8EE-F0AAD7539E65}" '
        'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
        "<x14:conditionalFormattings><x14:conditionalFormatting "
        'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"><x14:cfRule '
        'type="dataBar" id="{00000000-0000-0000-0000-000000000001}"><x14:dataBar minLength="0" '
        'maxLength="100"><x14:cfvo type="min"/><x14:cfvo type="max"/></x14:dataBar>'
        "</x14:cfRule><xm:f>Sheet1!$A$1</xm:f><xm:sqref>D21:D45</xm:sqref>"
        "</x14:conditionalFormatting></x14:conditionalFormattings></ext></extLst>")
    rewrite(path, SHEET, lambda data: data.replace(b"</worksheet>",
                                                   extension.encode() + b"</worksheet>"))
    # a formula outside the inputs (the letterhead) makes the scan look at every <f>
    replace_cell(path, "A1", f'<c r="A1" s="{style_of(path, "A1")}" t="str"><f>"发货单"</f>'
                             "<v>发货单</v></c>")
    report = validate_file(path, ws)
    assert report.issues == [] and report.valid
    assert report.data is not None and len(report.data["lines"]) == 25


@pytest.mark.parametrize("index", ["abc", "-1", " 1 ", "1.0", "1e0", "99999999999999999999"])
def test_a_bad_shared_string_index_is_refused_at_its_cell(make_filled: FillFn, ws: Workspace,
                                                          index: str) -> None:
    path = make_filled("satisfaction-survey")
    table = to_shared_strings(path, first="示例五金电子有限公司 Letterhead")
    assert table[0].endswith("Letterhead")
    ref = named_cell(path, "customer")
    replace_cell(path, ref, f'<c r="{ref}" s="{style_of(path, ref)}" t="s"><v>{index}</v></c>')
    assert _found(validate_file(path, ws))[0] == ["CELL_UNREADABLE", "customer", ref]


def test_shared_strings_read_as_typed(make_filled: FillFn, ws: Workspace) -> None:
    path = make_filled("satisfaction-survey")
    to_shared_strings(path, first="示例五金电子有限公司 Letterhead")
    report = validate_file(path, ws)
    assert report.issues == []
    assert report.data is not None and report.data["customer"] == "华东汽车"


def test_a_shared_string_index_past_the_table_is_refused(make_filled: FillFn,
                                                         ws: Workspace) -> None:
    path = make_filled("satisfaction-survey")
    table = to_shared_strings(path)
    ref = named_cell(path, "customer")
    replace_cell(path, ref, f'<c r="{ref}" s="{style_of(path, ref)}" t="s">'
                            f"<v>{len(table) + 5}</v></c>")
    assert validate_file(path, ws).codes() == ["CORRUPT_FILE"]


@pytest.mark.parametrize("spelled", [
    '<c r="{ref}" s="{s}"><v>7&#48;</v></c>',
    '<c r="{ref}" s="{s}"><v>&#55;0</v></c>',
    '<c r="{ref}" s="{s}"><v><![CDATA[70]]></v></c>',
    '<c r="{ref}" s="{s}" xmlns:q="urn:q"><q:v>70</q:v></c>',
])
def test_a_number_spelled_oddly_is_refused_not_misread(make_filled: FillFn, ws: Workspace,
                                                       spelled: str) -> None:
    path = make_filled("complaint", qty_returned=1)
    ref = named_cell(path, "qty_returned")
    replace_cell(path, ref, spelled.format(ref=ref, s=style_of(path, ref)))
    assert _found(validate_file(path, ws)) == [["CELL_UNREADABLE", "qty_returned", ref]]


@pytest.mark.parametrize("spelled", [
    '<c r="{ref}" s="{s}" t="inlineStr"><is><t>华东汽车</t></is><v>0</v></c>',
    '<c r="{ref}" s="{s}" t="inlineStr"><v>华东汽车</v></c>',
])
def test_an_inline_text_cell_with_a_value_is_refused(make_filled: FillFn, ws: Workspace,
                                                     spelled: str) -> None:
    path = make_filled("complaint")
    ref = named_cell(path, "customer_contact")
    replace_cell(path, ref, spelled.format(ref=ref, s=style_of(path, ref)))
    assert _found(validate_file(path, ws)) == [["CELL_UNREADABLE", "customer_contact", ref]]


def test_a_table_cell_spelled_oddly_is_refused_at_that_cell(make_filled: FillFn,
                                                            ws: Workspace) -> None:
    line = {"part_name": "螺栓 M8", "batch_no": "B1", "quantity": 70}
    path = make_filled("shipping-list", lines=[line])
    ref = table_cell(path, "quantity", 0)
    replace_cell(path, ref, f'<c r="{ref}" s="{style_of(path, ref)}"><v>7&#48;</v></c>')
    assert _found(validate_file(path, ws)) == [["CELL_UNREADABLE", "quantity", ref]]


# -- the fast path and the exact scan agree, whatever the spelling --------------------------------

_RESPELLINGS = {
    "plain number": '<c r="{ref}" s="{s}"><v>70</v></c>',
    "spaced number": '<c r="{ref}" s="{s}"><v> 70 </v></c>',
    "number, tags spaced": '<c r="{ref}" s="{s}">\n  <v>70</v>\n</c>',
    "written twice": '<c r="{ref}" s="{s}"><v>1</v></c><c r="{ref}" s="{s}"><v>70</v></c>',
    "twice, first empty": '<c r="{ref}" s="{s}"/><c r="{ref}" s="{s}"><v>70</v></c>',
    "two values": '<c r="{ref}" s="{s}"><v>1</v><v>70</v></c>',
    "two values spaced": '<c r="{ref}" s="{s}"><v>1</v>\n<v>70</v></c>',
    "text in a number cell": '<c r="{ref}" s="{s}"><is><t>70</t></is></c>',
    "empty text in a number cell": '<c r="{ref}" s="{s}"><is/></c>',
    "word in a number cell": '<c r="{ref}" s="{s}"><v>abc</v></c>',
    "inline with value spaced": '<c r="{ref}" s="{s}" t="inlineStr">\n<is><t>70</t></is>\n'
                                "<v>70</v></c>",
    "inline value first": '<c r="{ref}" s="{s}" t="inlineStr"><v>1</v> <is><t>70</t></is></c>',
    "inline, value only": '<c r="{ref}" s="{s}" t="inlineStr"><v>70</v></c>',
    "inline, type first": '<c t="inlineStr" r="{ref}" s="{s}"><is><t>70</t></is></c>',
    "empty inline beside text": '<c r="{ref}" s="{s}" t="inlineStr"/><c r="ZZ1"><is><t>x</t>'
                                "</is></c>",
    "exponent": '<c r="{ref}" s="{s}"><v>7E1</v></c>',
    "bad exponent": '<c r="{ref}" s="{s}"><v>7E1E1</v></c>',
    "character reference": '<c r="{ref}" s="{s}"><v>7&#48;</v></c>',
    "error cell, numeric": '<c r="{ref}" s="{s}" t="e"><v>7</v></c>',
    "error cell, empty": '<c r="{ref}" s="{s}" t="e"/>',
    "date text": '<c r="{ref}" s="{s}" t="d"><v>2026-01-03T00:00:00</v></c>',
    "formula": '<c r="{ref}" s="{s}"><f>60+10</f><v>70</v></c>',
}


def _key(ref: str) -> tuple[int, int]:
    letters, row = coordinate_from_string(ref)
    return row, column_index_from_string(letters)


def _special_both_ways(path: Path) -> tuple[Scan, Scan]:
    with Book(path) as book:
        sheet = book.sheetnames[0]
        fast = book.special(sheet)
        exact = scan_exact(book._sheet_xml(sheet))
    return fast, exact


@pytest.mark.parametrize("case", sorted(_RESPELLINGS))
def test_fast_and_exact_scans_agree(make_filled: FillFn, ws: Workspace, case: str) -> None:
    path = make_filled("complaint", qty_returned=1)
    ref = named_cell(path, "qty_returned")
    replace_cell(path, ref, _RESPELLINGS[case].format(ref=ref, s=style_of(path, ref)))
    try:
        fast, exact = _special_both_ways(path)
    except BookError:  # calamine refuses the sheet: the whole file is refused, not misread
        assert validate_file(path, ws).codes() == ["CORRUPT_FILE"]
        return
    assert fast == exact
    found = _found(validate_file(path, ws))
    unreadable = ["CELL_UNREADABLE", "qty_returned", ref]
    assert (unreadable in found) is (_key(ref) in exact.problems)


def test_fast_and_exact_scans_agree_on_a_long_table(make_filled: FillFn) -> None:
    line = VALID["shipping-list"]["lines"][0]
    path = make_filled("shipping-list", lines=[{**line, "batch_no": f"B{i}"} for i in range(40)])
    ref = table_cell(path, "quantity", 3)
    other = table_cell(path, "quantity", 7)
    rewrite(path, SHEET, lambda data: data.replace(
        cell_xml(data, other), cell_xml(data, other) + cell_xml(data, ref).replace(
            b"<v>", b"<v>9", 1), 1))
    fast, exact = _special_both_ways(path)
    assert fast == exact and exact.problems


# -- unit: how far the cells reach --------------------------------------------------------------

def _rows(rows: str, head: str = "") -> bytes:
    return (f'<worksheet xmlns="{MAIN}">{head}<sheetData>{rows}</sheetData></worksheet>').encode()


_PLAIN = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="H1"><v>1</v></c></row><row r="45">' \
         '<c r="B45"><v>2</v></c></row>'


def test_a_plainly_written_sheet_fits_without_a_parse() -> None:
    data = _rows(_PLAIN)
    assert fits(data, EXCEL_ROWS, EXCEL_COLS, 2_000_000)
    assert extent(data) == Extent(45, 8, "B45", "H1")
    assert not fits(data, EXCEL_ROWS, EXCEL_COLS, 100)  # only `extent` can tell


@pytest.mark.parametrize(("extra", "found"), [
    ('<row r="46"><c r="XFD46"><v>1</v></c></row>', Extent(46, 16_384, "XFD46", "XFD46")),
    ('<row r="1048576"><c r="H1048576"><v>1</v></c></row>', Extent(1_048_576, 8, "H1048576", "H1")),
    # calamine takes the last reference of a cell, and places one without any after the cell
    # before it, in the row of its row element
    ('<row r="46"><c r="A46" r="Z46"><v>1</v></c></row>', Extent(46, 26, "Z46", "Z46")),
    ('<row r="46"><c r="A46"><v>1</v></c><c><v>1</v></c><c s="1"><v>1</v></c></row>',
     Extent(46, 8, "A46", "H1")),
    ('<row><c><v>1</v></c></row><row><c><v>1</v></c></row>', Extent(47, 8, "A47", "H1")),
    ('<row r="900"/><row><c><v>1</v></c></row>', Extent(901, 8, "A901", "H1")),
    ("<row r='46'><c r = 'z46'><v>1</v></c></row>", Extent(46, 26, "z46", "z46")),
    ('<row r="46"><c r="B046"><v>1</v></c></row>', Extent(46, 8, "B046", "H1")),
    ('<row r="46"><c\tr="AA46"><v>1</v></c></row>', Extent(46, 27, "AA46", "AA46")),
    (f'<row r="46"><x:c {_X} r="AB46"><x:v>1</x:v></x:c></row>', Extent(46, 28, "AB46", "AB46")),
    ('<row r="46"><y:c xmlns:y="urn:y" r="AC46"><y:v>1</y:v></y:c></row>',
     Extent(46, 29, "AC46", "AC46")),
    # an empty cell holds no value: calamine keeps none
    ('<row r="5000"><c r="Z5000" s="3"/></row>', Extent(45, 8, "B45", "H1")),
])
def test_cells_are_placed_as_calamine_places_them(extra: str, found: Extent) -> None:
    data = _rows(_PLAIN + extra)
    assert extent(data) == found
    if fits(data, EXCEL_ROWS, EXCEL_COLS, 2_000_000):  # certain when it says so
        assert found.rows * found.cols <= 2_000_000


@pytest.mark.parametrize(("extra", "outside"), [
    ('<row r="46"><c r="XFE46"><v>1</v></c></row>', "XFE46"),
    ('<row r="46"><c r="ZZZZZZZ46"/></row>', "ZZZZZZZ46"),
    ('<row r="46"><c r="A99999999999"><v>1</v></c></row>', "A99999999999"),
    ('<row r="99999999999"><c><v>1</v></c></row>', "A99999999999"),
    ('<row r="1048576"/><row><c><v>1</v></c></row>', "A1048577"),
    ('<row r="46"><c r="A0"><v>1</v></c></row>', "A0"),
])
def test_a_cell_outside_the_grid_is_named(extra: str, outside: str) -> None:
    data = _rows(_PLAIN + extra)
    assert not fits(data, EXCEL_ROWS, EXCEL_COLS, 2_000_000)
    assert extent(data).outside == outside


@pytest.mark.parametrize("rows", [
    '<row r="2"><c r="A2" r="XFD1048576"><v>1</v></c></row>',
    '<row r="2"><c r="A2" s="1"\nr="XFD1048576"><v>1</v></c></row>',
    '<row r="2"><c r="A2" s="1" r =\'XFD1048576\'><v>1</v></c></row>',
    '<row r="2"><c s="1" r="XFD1048576"><v>1</v></c></row>',
    '<row r="2"><c r="xfd1048576"><v>1</v></c></row>',
    '<row r="1048576"><c><v>1</v></c><c><v>1</v></c></row>',
    f'<row r="2"><x:c {_X} r="XFD1048576"><x:v>1</x:v></x:c></row>',
])
def test_no_spelling_hides_a_far_cell_from_the_quick_check(rows: str) -> None:
    data = _rows(_PLAIN + rows)
    assert not fits(data, EXCEL_ROWS, EXCEL_COLS, 2_000_000)
    assert extent(data).rows >= 1_048_576


def test_only_the_first_sheet_data_is_read() -> None:
    hidden = _rows(_PLAIN.replace('<row r="45">', '<!-- </sheetData> --><row r="45">')
                   + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    assert extent(hidden).rows == 1_048_576
    after = _rows(_PLAIN).replace(b"</worksheet>", b'<extLst><c r="XFD1048576"><v>1</v></c>'
                                  b"</extLst></worksheet>")
    assert extent(after) == Extent(45, 8, "B45", "H1")


def test_a_dtd_in_a_sheet_is_not_read() -> None:
    with pytest.raises(SheetXmlError):
        extent(b'<!DOCTYPE x [<!ENTITY a "b">]>' + _rows(_PLAIN))


def test_an_error_value_excel_never_writes_is_unreadable() -> None:
    data = _sheet('<c r="B5" t="e"><v>7</v></c><c r="C5" t="e"><v>#SPILL!</v></c>')
    for found in (scan(data), scan_exact(data)):
        assert found.errors == {(5, 2): "7", (5, 3): "#SPILL!"}
        assert set(found.problems) == {(5, 2)}


@pytest.mark.parametrize("rows", [
    '<row r="60"><c r="A60" r="Z60"><v>1</v></c></row>',
    '<row r="60"><c r="E60"><v>1</v></c><c><v>1</v></c><c><v>1</v></c></row>',
    '<row><c><v>1</v></c></row><row><c><v>1</v></c><c><v>1</v></c></row>',
    '<row r="70"/><row><c><v>1</v></c></row>',
    "<row r='60'><c r = 'ab60'><v>1</v></c></row>",
    '<row r="60"><c r="B060"><v>1</v></c></row>',
    '<row r="60"><y:c xmlns:y="urn:y" r="AC60"><y:v>1</y:v></y:c></row>',
    '<row r="80"><c r="Z80" s="3"/></row>',
])
def test_the_extent_is_what_calamine_reads(make_filled: FillFn, rows: str) -> None:
    from python_calamine import CalamineWorkbook

    path = make_filled("complaint", qty_returned=1)
    rewrite(path, SHEET, lambda data: data.replace(b"</sheetData>", rows.encode()
                                                   + b"</sheetData>", 1))
    with Book(path) as book:
        found = extent(book._sheet_xml(book.sheetnames[0]))
    grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(
        skip_empty_area=False)
    assert (found.rows, found.cols) == (len(grid), max(map(len, grid)))


def test_a_cell_that_may_hold_a_value_counts(make_filled: FillFn) -> None:
    """A formula without its result holds no value for calamine; counted all the same, the
    extent is never less than what calamine reads."""
    from python_calamine import CalamineWorkbook

    path = make_filled("complaint", qty_returned=1)
    rewrite(path, SHEET, lambda data: data.replace(
        b"</sheetData>", b'<row r="80"><c r="Y80"><f>1+1</f></c></row></sheetData>', 1))
    with Book(path) as book:
        found = extent(book._sheet_xml(book.sheetnames[0]))
    grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(
        skip_empty_area=False)
    assert (found.rows, found.cols) == (80, 25)
    assert len(grid) < 80 and max(map(len, grid)) < 25


@pytest.mark.parametrize("body", [
    b'<c r="A1" t="e"><v>#N/A</v></c><c r="B1"><f>A1*2</f><v>3</v></c>',
    b'<c r="A1"\tt = \'e\'><f t="e">X</f></c><c r="B1" t="s"><v>0</v></c>',
    b'<c r="A1"><f/></c><c r="B1" s="1"\nt="e"/><c r="C1">t="e"</c>',
    b't="e"<c r="A1" t="e"></c>', b"", b'<c r="A1" t="str"><f >A</f></c>',
])
def test_special_cells_are_found_where_one_pattern_found_them(body: bytes) -> None:
    """Formula and error cells are searched with two literal-led patterns; they must find
    what one pattern with both as alternatives found, in the same order."""
    from qmsforms.excel import sheet_xml

    data = b"<sheetData><row r=\"1\">" + body + b"</row></sheetData>"
    pats = sheet_xml.patterns_for((b"",))
    one = re.compile(rb"<f[\s>/]|\st\s*=\s*[\"']e[\"']")
    for start in (0, 10, 22):
        assert list(sheet_xml._special_positions(data, start, len(data), pats)) == [
            m.start() for m in one.finditer(data, start, len(data))]
