"""The blank workbook: names, table, validation, protection, print set-up, identity."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries

from qmsforms.blanks import issue_blank
from qmsforms.control import name_of
from qmsforms.excel.binding import bind, table_area_name, workbook_names
from qmsforms.excel.identity import read_identity
from qmsforms.identity import IDENTITY_SHEET, fingerprint
from qmsforms.workspace import Workspace

CONTROL_PREFIX = name_of("")

FORMS = ["shipping-list", "complaint", "satisfaction-survey", "service-evaluation",
         "satisfaction-monitoring", "corrective-action"]


@pytest.fixture
def blank(ws: Workspace, tmp_path: Path):  # type: ignore[no-untyped-def]
    def make(form_id: str, lang: str = "both"):  # type: ignore[no-untyped-def]
        path = issue_blank(ws, form_id, tmp_path / f"{form_id}.{lang}.xlsx", lang=lang)
        return load_workbook(path)

    return make


@pytest.mark.parametrize("form_id", FORMS)
def test_every_field_is_a_workbook_scoped_name(ws: Workspace, blank, form_id: str) -> None:  # type: ignore[no-untyped-def]
    wb = blank(form_id)
    form = ws.registry.get(form_id)
    binding, issues = bind(wb, form)
    assert issues == []
    scalar = {s.name for s in form.fields if s.kind != "table"}
    assert set(binding.fields) == scalar
    for name in scalar:
        assert name in wb.defined_names  # workbook scope, not a sheet's local names
    assert set(binding.tables) == {s.name for s in form.fields if s.kind == "table"}


def test_survey_question_is_one_name_over_five_ticks(blank) -> None:  # type: ignore[no-untyped-def]
    names = workbook_names(blank("satisfaction-survey"))
    cells = names["product_quality"]
    assert cells.size == 5 and cells.min_row == cells.max_row


def test_shipping_lines_are_an_excel_table(blank) -> None:  # type: ignore[no-untyped-def]
    wb = blank("shipping-list")
    ws = wb.worksheets[0]
    table = ws.tables["lines"]
    header = [cell.value for cell in ws[table.ref.split(":")[0][1:]]][:8]
    assert header[0].startswith("产品名称") and "Product" in header[0]
    first, last = table.ref.split(":")
    assert int(last[1:]) - int(first[1:]) == 25
    assert int(last[1:]) == ws.max_row  # last on the sheet, free to grow


@pytest.mark.parametrize("form_id", FORMS)
def test_inputs_unlocked_everything_else_locked(blank, form_id: str) -> None:  # type: ignore[no-untyped-def]
    wb = blank(form_id)
    ws = wb.worksheets[0]
    form = Workspace().registry.get(form_id)
    assert ws.protection.sheet and not ws.protection.password
    tables = {table_area_name(spec) for spec in form.fields if spec.kind == "table"}
    inputs, computed = set(), set()
    for name, cells in workbook_names(wb).items():
        if name not in tables and not name.startswith(CONTROL_PREFIX):
            inputs.update(cells.coordinates())
    for spec in (f for f in form.fields if f.kind == "table"):
        c1, r1, c2, r2 = range_boundaries(ws.tables[spec.name].ref)
        for c, column in zip(range(c1, c2 + 1), spec.columns, strict=False):
            (computed if column.product else inputs).update((r, c) for r in range(r1 + 1, r2 + 1))
    for (row, col) in inputs:
        assert ws.cell(row=row, column=col).protection.locked is False
    for (row, col) in computed:
        assert ws.cell(row=row, column=col).protection.locked is True
        assert str(ws.cell(row=row, column=col).value).startswith("=IF(COUNT(")
    assert ws["A1"].protection.locked is True


@pytest.mark.parametrize("form_id", [f for f in FORMS if f == "shipping-list"])
def test_lines_can_be_typed_under_the_table(blank, form_id: str) -> None:  # type: ignore[no-untyped-def]
    """The table's columns are unlocked below it; the cells above keep the sheet's lock."""
    wb = blank(form_id)
    ws = wb.worksheets[0]
    c1, r1, c2, r2 = range_boundaries(ws.tables["lines"].ref)
    inputs = {rc for name, cells in workbook_names(wb).items()
              if name != "lines_table" and not name.startswith(CONTROL_PREFIX)
              for rc in cells.coordinates()}
    for c in range(c1, c2 + 1):
        assert ws.column_dimensions[get_column_letter(c)].protection.locked is False
        for r in range(1, r1):
            assert (r, c) in ws._cells
            assert ws.cell(row=r, column=c).protection.locked is ((r, c) not in inputs)
    assert ws.print_area == f"'{ws.title}'!$A$1:${get_column_letter(c2)}$1048576"
    under = {str(rng.sqref): [rule.formula for rule in rules]
             for rng, rules in ws.conditional_formatting._cf_rules.items()}
    last = get_column_letter(c2)
    assert under == {f"A{r2 + 1}:{last}1048576": [[f"COUNTA($A{r2 + 1}:${last}{r2 + 1})>0"]]}
    area = workbook_names(wb)["lines_table"]
    assert (area.min_row, area.min_col, area.max_row, area.max_col) == (r1, c1, r2, c2)


def _validation_for(ws, ref: str):  # type: ignore[no-untyped-def]
    top_left = ref.split(":")[0]
    for dv in ws.data_validations.dataValidation:
        if top_left in dv.sqref:
            return dv
    return None


@pytest.mark.parametrize(
    ("form_id", "field", "kind", "formula1"),
    [
        ("shipping-list", "ship_date", "date", "DATE(2000,1,1)"),
        ("shipping-list", "ship_method", "list", None),
        ("complaint", "qty_returned", "whole", "0"),
        ("satisfaction-monitoring", "performance_rate", "decimal", "0"),
        ("satisfaction-monitoring", "q_full_return", "whole", "0"),
        ("service-evaluation", "attitude", "whole", "1"),
        ("satisfaction-survey", "product_quality", "list", '"√"'),
        ("shipping-list", "doc_no", "textLength", "50"),
    ],
)
def test_data_validation_from_schema(blank, form_id: str, field: str, kind: str,  # type: ignore[no-untyped-def]
                                     formula1: str | None) -> None:
    wb = blank(form_id)
    cells = workbook_names(wb)[field]
    dv = _validation_for(wb[cells.sheet], cells.ref)
    assert dv is not None and dv.type == kind
    if formula1 is not None:
        assert dv.formula1 == formula1


def test_choice_drop_down_lists_bilingual_labels(blank) -> None:  # type: ignore[no-untyped-def]
    wb = blank("shipping-list")
    dv = _validation_for(wb.worksheets[0], workbook_names(wb)["ship_method"].ref)
    assert "托运 Freight carrier" in dv.formula1


def test_quantity_column_is_whole_and_positive(blank) -> None:  # type: ignore[no-untyped-def]
    wb = blank("shipping-list")
    ws = wb.worksheets[0]
    table = ws.tables["lines"]
    first_data_row = int(table.ref.split(":")[0][1:]) + 1
    dv = _validation_for(ws, f"D{first_data_row}")
    assert dv.type == "whole" and dv.formula1 == "1"


@pytest.mark.parametrize("form_id", FORMS)
def test_a4_print_setup(blank, form_id: str) -> None:  # type: ignore[no-untyped-def]
    ws = blank(form_id).worksheets[0]
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert ws.page_setup.orientation == "portrait"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.print_area
    assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text


@pytest.mark.parametrize("form_id", FORMS)
def test_document_control_block(ws: Workspace, blank, form_id: str) -> None:  # type: ignore[no-untyped-def]
    sheet = blank(form_id).worksheets[0]
    text = {str(c.value) for row in sheet.iter_rows(max_row=6) for c in row if c.value}
    control = ws.config.control(form_id)
    assert control.document_no in text
    assert control.approved_by in text and control.effective_date.isoformat() in text
    assert any("文件编号" in t and "Doc. no." in t for t in text)
    assert control.document_no in sheet.oddFooter.left.text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_single_language_labels(blank, lang: str) -> None:  # type: ignore[no-untyped-def]
    sheet = blank("complaint", lang).worksheets[0]
    text = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value)
    assert ("投诉内容" in text) == (lang == "zh")
    assert ("Complaint description" in text) == (lang == "en")


def test_hidden_identity(ws: Workspace, blank) -> None:  # type: ignore[no-untyped-def]
    wb = blank("complaint")
    identity = read_identity(wb)
    assert identity is not None
    assert identity.form == "complaint" and identity.revision == "A"
    assert identity.fingerprint == fingerprint(ws.registry.get("complaint"))
    assert len(identity.instance_id) == 36
    assert wb[IDENTITY_SHEET].sheet_state == "veryHidden"
    props = {p.name: p.value for p in wb.custom_doc_props.props}
    assert props["qmsforms.instance_id"] == identity.instance_id


def test_each_blank_gets_a_fresh_instance_id(blank) -> None:  # type: ignore[no-untyped-def]
    ids = {read_identity(blank("complaint")).instance_id for _ in range(3)}
    assert len(ids) == 3


def test_set_prefills_typed_values(ws: Workspace, tmp_path: Path) -> None:
    path = issue_blank(ws, "shipping-list", tmp_path / "s.xlsx",
                       values={"customer": "ACME", "ship_date": "2026年11月3日",
                               "ship_method": "托运"})
    wb = load_workbook(path)
    names = workbook_names(wb)
    sheet = wb[names["customer"].sheet]

    def value(name: str) -> object:
        return sheet.cell(row=names[name].min_row, column=names[name].min_col).value

    assert value("customer") == "ACME"
    assert value("ship_date").date().isoformat() == "2026-11-03"  # type: ignore[attr-defined]
    assert value("ship_method") == "托运 Freight carrier"
