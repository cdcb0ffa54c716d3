"""The sheet XML scan: formulas, errors and unreadable cells, however the XML is spelled."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qmsforms.sheet_xml import may_have_special, scan, scan_exact
from qmsforms.validate import validate_file
from qmsforms.workspace import Workspace

from .conftest import VALID, FillFn
from .test_validate import table_cell
from .xlsx_parts import (
    MAIN,
    SHEET,
    named_cell,
    replace_cell,
    rewrite,
    style_of,
    to_shared_strings,
)

_X = f'xmlns:x="{MAIN}"'


def _found(report: object) -> list[list[object]]:
    return report.flatten(["code", "field", "cell"])  # type: ignore[attr-defined]


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
