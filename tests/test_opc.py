"""Package parts as OPC defines them: names without case, XML in any encoding, cells by position."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from qmsforms.excel.binding import workbook_names
from qmsforms.excel.sheet_styles import cell_styles
from qmsforms.opc.parts import to_utf8, xml_encoding
from qmsforms.validate import validate_file
from qmsforms.workspace import Workspace

from .conftest import FillFn
from .xlsx_parts import (
    SHEET,
    named_cell,
    parts_of,
    replace_cell,
    style_of,
    to_shared_strings,
    write_parts,
)

_DECL = re.compile(rb"^\s*<\?xml[^>]*\?>\s*")


def _found(report: Any) -> list[list[object]]:
    return report.flatten(["code", "field", "cell"])  # type: ignore[no-any-return]


def _rename(path: Path, rename: dict[str, str]) -> None:
    parts = parts_of(path)
    write_parts(path, {rename.get(name, name): data for name, data in parts.items()})


def _formula_in_customer(path: Path) -> str:
    ref = named_cell(path, "customer")
    replace_cell(path, ref, f'<c r="{ref}" s="{style_of(path, ref)}" t="str"><f>"ACME"</f>'
                            "<v>ACME</v></c>")
    return ref


# -- part names compare without case ----------------------------------------------------------

_RENAMES: dict[str, dict[str, str]] = {
    "workbook rels": {"xl/_rels/workbook.xml.rels": "XL/_RELS/WORKBOOK.XML.RELS"},
    "form sheet": {SHEET: "XL/WORKSHEETS/SHEET1.XML"},
    "workbook": {"xl/workbook.xml": "xl/Workbook.xml"},
    "styles and properties": {"xl/styles.xml": "XL/STYLES.XML",
                              "docProps/custom.xml": "DOCPROPS/CUSTOM.XML"},
}


@pytest.mark.parametrize("case", sorted(_RENAMES))
def test_a_formula_is_found_whatever_the_case_of_part_names(make_filled: FillFn, ws: Workspace,
                                                            case: str) -> None:
    path = make_filled("satisfaction-survey")
    ref = _formula_in_customer(path)
    _rename(path, _RENAMES[case])
    assert _found(validate_file(path, ws)) == [["FORMULA_IN_INPUT", "customer", ref]]


def test_every_part_renamed_reads_the_same(make_filled: FillFn, ws: Workspace) -> None:
    path = make_filled("satisfaction-survey")
    expected = validate_file(path, ws).data
    parts = parts_of(path)
    _rename(path, {name: name.upper() for name in parts if name != "[Content_Types].xml"})
    report = validate_file(path, ws)
    assert report.issues == [] and report.data == expected


def test_two_parts_differing_only_in_case_are_refused(make_filled: FillFn,
                                                      ws: Workspace) -> None:
    path = make_filled("satisfaction-survey")
    parts = parts_of(path)
    parts["XL/WORKSHEETS/SHEET1.XML"] = parts[SHEET]
    write_parts(path, parts)
    assert validate_file(path, ws).codes() == ["CORRUPT_FILE"]


def test_a_sheet_without_its_part_is_refused(make_filled: FillFn, ws: Workspace) -> None:
    path = make_filled("satisfaction-survey")
    parts = parts_of(path)
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"worksheets/sheet1.xml", b"worksheets/missing.xml")
    write_parts(path, parts)
    assert validate_file(path, ws).codes() == ["CORRUPT_FILE"]


# -- XML parts in any encoding they declare -----------------------------------------------------

def _utf16(data: bytes, bom: bool) -> bytes:
    text = _DECL.sub(b"", data).decode("utf-8")
    text = '<?xml version="1.0" encoding="UTF-16" standalone="yes"?>\n' + text
    return text.encode("utf-16") if bom else text.encode("utf-16-le")


@pytest.mark.parametrize("bom", [True, False], ids=["bom", "declared"])
@pytest.mark.parametrize("member", [SHEET, "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                                    "xl/styles.xml", "xl/sharedStrings.xml",
                                    "docProps/custom.xml", "[Content_Types].xml"])
def test_a_utf16_part_reads_the_same(make_filled: FillFn, ws: Workspace, member: str,
                                     bom: bool) -> None:
    path = make_filled("satisfaction-survey")
    to_shared_strings(path, first="示例五金电子有限公司 Letterhead")
    expected = validate_file(path, ws)
    assert expected.issues == []
    parts = parts_of(path)
    parts[member] = _utf16(parts[member], bom)
    write_parts(path, parts)
    report = validate_file(path, ws)
    assert report.issues == [] and report.data == expected.data


@pytest.mark.parametrize("encoding", ["GBK", "GB2312"])
@pytest.mark.parametrize("member", [SHEET, "xl/sharedStrings.xml", "xl/workbook.xml"])
def test_a_part_in_a_chinese_encoding_reads_the_same(make_filled: FillFn, ws: Workspace,
                                                    member: str, encoding: str) -> None:
    """Parts declared GBK were "multi-byte encodings are not supported" from expat."""
    path = make_filled("satisfaction-survey")
    to_shared_strings(path, first="示例五金电子有限公司 Letterhead")
    expected = validate_file(path, ws)
    assert expected.issues == []
    parts = parts_of(path)
    text = f'<?xml version="1.0" encoding="{encoding}"?>\n' + _DECL.sub(b"", parts[member]).decode()
    parts[member] = text.encode(encoding, "xmlcharrefreplace")
    write_parts(path, parts)
    report = validate_file(path, ws)
    assert report.issues == [] and report.data == expected.data


def test_a_formula_in_a_utf16_sheet_is_found(make_filled: FillFn, ws: Workspace) -> None:
    path = make_filled("satisfaction-survey")
    ref = _formula_in_customer(path)
    parts = parts_of(path)
    parts[SHEET] = _utf16(parts[SHEET], bom=True)
    write_parts(path, parts)
    assert _found(validate_file(path, ws)) == [["FORMULA_IN_INPUT", "customer", ref]]


def test_a_part_that_is_not_what_it_declares_is_refused(make_filled: FillFn,
                                                        ws: Workspace) -> None:
    path = make_filled("satisfaction-survey")
    parts = parts_of(path)
    parts[SHEET] = b'<?xml version="1.0" encoding="UTF-16"?>\n' + _DECL.sub(b"", parts[SHEET])
    write_parts(path, parts)
    assert validate_file(path, ws).codes() == ["CORRUPT_FILE"]


@pytest.mark.parametrize(("head", "encoding"), [
    (b'<?xml version="1.0" encoding="UTF-8"?><a/>', None),
    (b"<a/>", None),
    (b"\xef\xbb\xbf<a/>", "utf-8-sig"),
    ("<a/>".encode("utf-16"), "utf-16-le"),
    ('<?xml version="1.0" encoding="GB18030"?><a/>'.encode("gb18030"), "gb18030"),
    (b"PK\x03\x04", None),
])
def test_the_encoding_of_a_part(head: bytes, encoding: str | None) -> None:
    assert xml_encoding(head) == encoding


def test_transcoding_rewrites_the_declaration() -> None:
    data = '<?xml version="1.0" encoding="GB18030"?><t>质量</t>'.encode("gb18030")
    assert to_utf8(data, "gb18030") == '<?xml version="1.0" encoding="UTF-8"?><t>质量</t>'.encode()


# -- styles of cells written without a reference ------------------------------------------------

def _rate_typed_as_percent(path: Path) -> str:
    wb = load_workbook(path)
    cells = workbook_names(wb)["performance_rate"]
    cell = wb[cells.sheet].cell(row=cells.min_row, column=cells.min_col)
    cell.value, cell.number_format = 0.875, "0.0%"
    wb.save(path)
    return str(cell.coordinate)


def _drop_references(data: bytes) -> bytes:
    return re.sub(rb'(<c) r="[A-Z]+[0-9]+"', rb"\1", data)


def test_a_percent_cell_without_reference_keeps_its_format(make_filled: FillFn,
                                                           ws: Workspace) -> None:
    path = make_filled("satisfaction-monitoring")
    _rate_typed_as_percent(path)
    parts = parts_of(path)
    parts[SHEET] = _drop_references(parts[SHEET])
    write_parts(path, parts)
    report = validate_file(path, ws)
    assert report.issues == [] and report.data["performance_rate"] == "87.5"


def test_without_a_styles_part_a_fraction_is_refused(make_filled: FillFn,
                                                     ws: Workspace) -> None:
    path = make_filled("satisfaction-monitoring")
    ref = _rate_typed_as_percent(path)
    parts = parts_of(path)
    del parts["xl/styles.xml"]
    write_parts(path, parts)
    assert _found(validate_file(path, ws)) == [["RATE_AMBIGUOUS", "performance_rate", ref]]


def test_styles_by_position_match_styles_by_reference(make_filled: FillFn) -> None:
    path = make_filled("satisfaction-monitoring")
    data = parts_of(path)[SHEET]
    by_reference = cell_styles(data)
    assert by_reference and cell_styles(_drop_references(data)) == by_reference
    commented = data.replace(b"<sheetData>", b"<sheetData><!-- -->", 1)
    assert cell_styles(_drop_references(commented)) == by_reference  # the exact parse
