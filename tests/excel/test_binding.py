"""Binding: a defined name or table that does not name exactly one block of the sheet is refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qmsforms.validate import validate_file
from qmsforms.workspace import Workspace

from ..conftest import VALID, FillFn
from ..xlsx_parts import parts_of, rewrite, write_parts

WORKBOOK = "xl/workbook.xml"


def _redefine(data: bytes, name: str, ref: str) -> bytes:
    """Point the defined name ``name`` at ``ref`` on the same sheet."""
    return re.sub(rb'(<definedName name="' + name.encode() + rb'">[^<]*!)[^<]*(</definedName>)',
                  rb"\g<1>" + ref.encode() + rb"\g<2>", data, count=1)


@pytest.mark.parametrize("ref", ["$C$0", "$C$0:$D$0", "$C$1048577", "$XFE$14", "$C$0:$D$14"])
def test_a_name_outside_the_sheet_is_not_bound(make_filled: FillFn, ws: Workspace,
                                               ref: str) -> None:
    path = make_filled("complaint", qty_returned=7)
    rewrite(path, WORKBOOK, lambda data: _redefine(data, "qty_returned", ref))
    report = validate_file(path, ws)
    assert report.flatten(["code", "field"]) == [["FIELD_NAME_INVALID", "qty_returned"],
                                                 ["TEMPLATE_ALTERED", None]]
    assert report.data is None


@pytest.mark.parametrize("text", [b"", b"   "])
def test_an_empty_name_is_not_bound(make_filled: FillFn, ws: Workspace, text: bytes) -> None:
    path = make_filled("complaint", qty_returned=7)
    rewrite(path, WORKBOOK, lambda data: re.sub(
        rb'(<definedName name="qty_returned">)[^<]*', rb"\g<1>" + text, data, count=1))
    report = validate_file(path, ws)
    assert report.flatten(["code", "field"]) == [["FIELD_NAME_INVALID", "qty_returned"],
                                                 ["TEMPLATE_ALTERED", None]]


def test_corners_in_reverse_name_the_same_block(make_filled: FillFn, ws: Workspace) -> None:
    path = make_filled("complaint", qty_returned=7)
    rewrite(path, WORKBOOK, lambda data: _redefine(data, "qty_returned", "$D$14:$C$14"))
    report = validate_file(path, ws)
    assert report.issues == [] and report.data is not None
    assert report.data["qty_returned"] == 7


@pytest.mark.parametrize("spelling", ["customer", "CUSTOMER"])
def test_a_name_defined_twice_is_refused(make_filled: FillFn, ws: Workspace,
                                         spelling: str) -> None:
    path = make_filled("complaint", customer="华东汽车", description="焊缝开裂")

    def duplicate(data: bytes) -> bytes:
        original = re.search(rb'<definedName name="customer">([^<]*)</definedName>', data)
        assert original
        second = re.sub(rb"\$[A-Z]+\$[0-9]+(:\$[A-Z]+\$[0-9]+)?$", b"$A$1", original.group(1))
        extra = (f'<definedName name="{spelling}">'.encode() + second + b"</definedName>")
        return data.replace(original.group(0), original.group(0) + extra)

    rewrite(path, WORKBOOK, duplicate)
    report = validate_file(path, ws)
    # the field is then unread, so a required one is also reported missing
    assert report.flatten(["code", "field"]) == [["NAME_DUPLICATED", "customer"],
                                                 ["TEMPLATE_ALTERED", None],
                                                 ["REQUIRED", "customer"]]
    assert report.data is None


def test_a_sheet_scoped_name_beside_the_workbook_one_is_not_a_duplicate(
        make_filled: FillFn, ws: Workspace) -> None:
    path = make_filled("complaint")
    rewrite(path, WORKBOOK, lambda data: data.replace(
        b"</definedNames>",
        b'<definedName name="customer" localSheetId="0">\'x\'!$A$1</definedName>'
        b"</definedNames>"))
    report = validate_file(path, ws)
    assert report.issues == []
    assert report.data is not None and report.data["customer"] == VALID["complaint"]["customer"]


def _second_table(path: Path) -> None:
    """Add a second table part called ``lines`` to the form sheet, over A1:B2."""
    parts = parts_of(path)
    parts["xl/tables/table99.xml"] = re.sub(rb'\sid="[0-9]+"', b' id="99"', re.sub(
        rb'\sref="[A-Z0-9:]+"', b' ref="A1:B2"', parts["xl/tables/table1.xml"]))
    rels = "xl/worksheets/_rels/sheet1.xml.rels"
    parts[rels] = parts[rels].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdT99" Type="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships/table" Target="/xl/tables/table99.xml"/></Relationships>')
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/tables/table99.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.table+xml"/></Types>')
    write_parts(path, parts)


def test_two_tables_with_one_name_are_refused(make_filled: FillFn, ws: Workspace) -> None:
    path = make_filled("shipping-list")
    _second_table(path)
    report = validate_file(path, ws)
    assert report.flatten(["code", "field"]) == [["NAME_DUPLICATED", "lines"],
                                                 ["TEMPLATE_ALTERED", None],
                                                 ["REQUIRED", "lines"]]
    assert report.data is None


NAME_FORMULAS = [
    "'发货 单'!$C$5", "Sheet1!$C$5:$D$9", "'it''s'!A1", "Sheet1!C5", "'Sheet'!$C:$C",
    "Sheet1!$C$5,Sheet1!$D$5", "'a b'!$c$5", "'a!b'!$C$5", "S.1!$A$1", "_x!$B$2:$b$3",
    "'发货单'!$XFD$1048576", "'发货单'!$C$0", "Sheet1!$C$5:$D", "#REF!", "'S'!#REF!",
    "'S'!$A$1:$B$2 ", "S!$A$1+1", "'S'!$AAAA$1", "OFFSET(S!$A$1,0,0)", "'S'!$A$١",
]


@pytest.mark.parametrize("text", NAME_FORMULAS)
def test_a_defined_name_is_read_as_openpyxl_reads_it(text: str) -> None:
    """The reader parses plain references itself; it must agree with openpyxl's tokenizer."""
    from openpyxl.utils.cell import range_boundaries
    from openpyxl.workbook.defined_name import DefinedName

    from qmsforms.excel.cells import Cells, destination

    try:
        found = list(DefinedName(name="_", attr_text=text).destinations)
        theirs = found[0] if len(found) == 1 else None
    except (ValueError, TypeError, AttributeError, KeyError, IndexError):
        theirs = None
    assert destination(text) == theirs
    if theirs is not None:
        try:
            bounds = range_boundaries(theirs[1].replace("$", ""))
        except (ValueError, TypeError):
            bounds = None
        cells = Cells.parse(theirs[0], theirs[1])
        if bounds is None or None in bounds:
            assert cells is None
        elif cells is not None:
            assert (cells.min_col, cells.min_row, cells.max_col, cells.max_row) == (
                min(bounds[0], bounds[2]), min(bounds[1], bounds[3]),
                max(bounds[0], bounds[2]), max(bounds[1], bounds[3]))
