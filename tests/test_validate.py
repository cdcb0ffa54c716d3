"""Validation of filled forms: every issue code, located at its field and cell."""

from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from qmsforms.annotate import annotate
from qmsforms.excel.binding import workbook_names
from qmsforms.excel.identity import read_identity, write_identity
from qmsforms.issues import Code
from qmsforms.validate import validate_file
from qmsforms.workspace import Workspace

from .conftest import VALID, FillFn
from .xlsx_parts import rewrite


def cell_of(path: Path, name: str, offset: int = 0) -> str:
    """A1 reference of the ``offset``-th cell of a defined name."""
    wb = load_workbook(path)
    cells = workbook_names(wb)[name]
    row, col = cells.coordinates()[offset]
    return wb[cells.sheet].cell(row=row, column=col).coordinate


def table_cell(path: Path, column: str, index: int) -> str:
    """A1 reference of ``column`` in data row ``index`` (0-based) of the lines table."""
    from qmsforms.excel.binding import bind_table
    from qmsforms.workspace import Workspace as _W

    wb = load_workbook(path)
    spec = _W(path.parent).registry.get("shipping-list").field("lines")
    binding, _ = bind_table(wb, spec)
    assert binding is not None
    return binding.cell(binding.first_row + index, column)


def write(path: Path, name: str, value: Any, offset: int = 0) -> None:
    """Type ``value`` into a named cell as a person would (no conversion)."""
    wb = load_workbook(path)
    cells = workbook_names(wb)[name]
    row, col = cells.coordinates()[offset]
    wb[cells.sheet].cell(row=row, column=col).value = value
    wb.save(path)


@pytest.mark.parametrize("form_id", sorted(VALID))
def test_valid_filling_of_every_form(make_filled: FillFn, ws: Workspace, form_id: str) -> None:
    report = validate_file(make_filled(form_id), ws)
    assert report.issues == []
    assert report.valid and report.form == form_id and report.revision == "A"
    assert report.data is not None and report.instance_id


@pytest.mark.parametrize(
    ("form_id", "field", "typed", "code"),
    [
        ("shipping-list", "ship_date", "3/11/2026", Code.DATE_AMBIGUOUS),
        ("shipping-list", "ship_date", "next week", Code.NOT_A_DATE),
        ("shipping-list", "ship_method", "by camel", Code.NOT_A_CHOICE),
        ("shipping-list", "certificates_enclosed", "maybe", Code.NOT_A_BOOL),
        ("complaint", "received_at", "yesterday", Code.NOT_A_DATETIME),
        ("complaint", "qty_returned", "3.5", Code.NOT_WHOLE),
        ("complaint", "qty_returned", "many", Code.NOT_A_NUMBER),
        ("complaint", "qty_returned", -2, Code.OUT_OF_RANGE),
        ("satisfaction-monitoring", "month", "Nov", Code.NOT_A_MONTH),
        ("satisfaction-monitoring", "performance_rate", 120, Code.OUT_OF_RANGE),
        ("satisfaction-monitoring", "q_full_return", "=1+1", Code.FORMULA_IN_INPUT),
        ("satisfaction-survey", "period", "next year", Code.INVALID_VALUE),
        ("service-evaluation", "attitude", 11, Code.OUT_OF_RANGE),
        ("service-evaluation", "attitude", 0, Code.OUT_OF_RANGE),
    ],
)
def test_bad_value_reports_code_at_its_cell(make_filled: FillFn, ws: Workspace, form_id: str,
                                            field: str, typed: Any, code: Code) -> None:
    path = make_filled(form_id)
    write(path, field, typed)
    report = validate_file(path, ws)
    assert not report.valid
    assert report.flatten(["code", "field", "cell"]) == [[code.name, field,
                                                         cell_of(path, field)]]
    issue = report.issues[0]
    assert issue.sheet and issue.message_zh and issue.message_en


def test_missing_required_field(make_filled: FillFn, ws: Workspace) -> None:
    path = make_filled("complaint", description=None, customer=None)
    report = validate_file(path, ws)
    assert sorted(report.flatten(["code", "field", "cell"])) == sorted([
        ["REQUIRED", "customer", cell_of(path, "customer")],
        ["REQUIRED", "description", cell_of(path, "description")],
    ])


def test_text_too_long(make_filled: FillFn, ws: Workspace) -> None:
    path = make_filled("shipping-list", doc_no="X" * 51)
    report = validate_file(path, ws)
    assert report.flatten(["code", "field", "cell"]) == [
        ["TOO_LONG", "doc_no", cell_of(path, "doc_no")]]


def test_dates_in_order(make_filled: FillFn, ws: Workspace) -> None:
    path = make_filled("complaint", filed_at="2026-11-03 08:00")
    report = validate_file(path, ws)
    assert report.flatten(["code", "field", "cell"]) == [
        ["DATE_ORDER", "filed_at", cell_of(path, "filed_at")]]


def test_every_problem_is_collected(make_filled: FillFn, ws: Workspace) -> None:
    path = make_filled("shipping-list", ship_date="3/11/2026", ship_method="camel",
                       lines=[{"part_name": "A", "batch_no": "B", "quantity": 0},
                              {"part_name": "C", "quantity": "abc"}])
    report = validate_file(path, ws)
    assert sorted(report.codes()) == sorted(["DATE_AMBIGUOUS", "NOT_A_CHOICE", "OUT_OF_RANGE",
                                             "NOT_A_NUMBER", "REQUIRED"])


class TestShippingLines:
    def test_line_errors_point_at_table_cells(self, make_filled: FillFn, ws: Workspace) -> None:
        lines = [
            {"part_name": "A", "batch_no": "B1", "quantity": 2, "unit_price": 1.5,
             "amount": 3},
            {"part_name": "B", "quantity": 3},
            {"part_name": "C", "batch_no": "B3", "quantity": 2, "unit_price": 1.5,
             "amount": 4},
            {"part_name": "D", "batch_no": "B4", "quantity": "2.5"},
        ]
        path = make_filled("shipping-list", lines=lines)
        report = validate_file(path, ws)
        assert sorted(report.flatten(["code", "field", "cell"])) == sorted([
            ["REQUIRED", "batch_no", table_cell(path, "batch_no", 1)],
            ["AMOUNT_MISMATCH", "amount", table_cell(path, "amount", 2)],
            ["NOT_WHOLE", "quantity", table_cell(path, "quantity", 3)],
        ])

    def test_amount_mismatch_names_the_value_shown(self, make_filled: FillFn,
                                                   ws: Workspace) -> None:
        lines = [{"part_name": "A", "batch_no": "B", "quantity": 100, "unit_price": 0.5,
                  "amount": 450}]
        path = make_filled("shipping-list", lines=lines)
        report = validate_file(path, ws)
        assert [(i.code, i.cell, i.value) for i in report.errors] == [
            ("AMOUNT_MISMATCH", table_cell(path, "amount", 0), "450")]

    def test_amount_is_computed_by_the_blank_and_by_the_reader(
            self, make_filled: FillFn, ws: Workspace) -> None:
        lines = [{"part_name": "A", "batch_no": "B", "quantity": 100, "unit_price": 0.5},
                 {"part_name": "C", "batch_no": "D", "quantity": 3}]
        path = make_filled("shipping-list", lines=lines)
        cell = load_workbook(path).worksheets[0][table_cell(path, "amount", 0)]
        assert cell.value == '=IF(COUNT(D21,F21)=2,D21*F21,"")'.replace("21", str(cell.row))
        report = validate_file(path, ws)
        assert report.valid and report.data is not None
        assert [line["amount"] for line in report.data["lines"]] == ["50.00", None]

    @pytest.mark.parametrize(("formula", "code"), [
        ("=D{r}*F{r}", None), ("= $F${r} * $D${r}", None), ('=IFERROR(D{r}*F{r},"")', None),
        ("=D{r}*F{r}*0.9", "FORMULA_IN_INPUT"), ("=D{r}*F{q}", "FORMULA_IN_INPUT"),
        ("=SUM(D{r}:F{r})", "FORMULA_IN_INPUT")])
    def test_an_amount_formula_with_no_result_is_recomputed_only_if_it_is_the_product(
            self, make_filled: FillFn, ws: Workspace, formula: str, code: str | None) -> None:
        """A script writes formulas without results; only quantity × price is evaluated."""
        lines = [{"part_name": "A", "batch_no": "B", "quantity": 100, "unit_price": 0.5}]
        path = make_filled("shipping-list", lines=lines)
        ref = table_cell(path, "amount", 0)
        wb = load_workbook(path)
        row = wb.worksheets[0][ref].row
        wb.worksheets[0][ref] = formula.format(r=row, q=row + 1)
        wb.save(path)
        report = validate_file(path, ws)
        if code is None:
            assert report.valid and report.data is not None
            assert report.data["lines"][0]["amount"] == "50.00"
        else:
            assert report.flatten(["code", "cell"]) == [[code, ref]]

    def test_lines_under_the_table_are_read(self, make_filled: FillFn, ws: Workspace) -> None:
        path = make_filled("shipping-list")
        wb = load_workbook(path)
        sheet = wb.worksheets[0]
        last = int(sheet.tables["lines"].ref.split(":")[1].lstrip("ABCDEFGH"))
        sheet[f"A{last + 1}"], sheet[f"C{last + 1}"], sheet[f"D{last + 1}"] = "垫圈", "B2", 5
        sheet[f"A{last + 4}"], sheet[f"D{last + 4}"] = "螺母", 7  # after a gap, no batch
        wb.save(path)
        report = validate_file(path, ws)
        assert report.flatten(["code", "field", "cell"]) == [
            ["REQUIRED", "batch_no", f"C{last + 4}"]]
        sheet[f"C{last + 4}"] = "B3"
        wb.save(path)
        report = validate_file(path, ws)
        assert report.valid and report.data is not None
        assert [line["part_name"] for line in report.data["lines"]] == ["螺栓 M8", "垫圈", "螺母"]

    def test_lines_are_bound_by_name_when_the_table_part_is_gone(
            self, make_filled: FillFn, ws: Workspace) -> None:
        path = make_filled("shipping-list")
        expected = validate_file(path, ws).data
        wb = load_workbook(path)
        del wb.worksheets[0].tables["lines"]
        wb.save(path)
        report = validate_file(path, ws)
        assert report.valid and report.data == expected
        del wb.defined_names["lines_table"]
        wb.save(path)
        assert validate_file(path, ws).codes() == ["TABLE_NOT_FOUND", "TEMPLATE_ALTERED",
                                                   "REQUIRED"]

    @pytest.mark.parametrize("price", [1e30, 1e13])
    def test_an_absurd_unit_price_is_refused_at_its_cell(self, make_filled: FillFn,
                                                        ws: Workspace, price: float) -> None:
        lines = [{"part_name": "A", "batch_no": "B", "quantity": 100, "unit_price": price}]
        path = make_filled("shipping-list", lines=lines)
        report = validate_file(path, ws)
        assert report.flatten(["code", "field", "cell"]) == [
            ["OUT_OF_RANGE", "unit_price", table_cell(path, "unit_price", 0)]]

    def test_amount_within_a_cent_passes(self, make_filled: FillFn, ws: Workspace) -> None:
        lines = [{"part_name": "A", "batch_no": "B", "quantity": 3, "unit_price": 0.333,
                  "amount": 1.0}]
        assert validate_file(make_filled("shipping-list", lines=lines), ws).valid

    def test_blank_rows_between_lines_are_skipped(self, make_filled: FillFn,
                                                   ws: Workspace) -> None:
        lines = [{"part_name": "A", "batch_no": "B", "quantity": 1}, {},
                 {"part_name": "C", "batch_no": "D", "quantity": 2}]
        report = validate_file(make_filled("shipping-list", lines=lines), ws)
        assert report.valid
        assert [line["part_name"] for line in report.data["lines"]] == ["A", "C"]

    def test_no_lines(self, make_filled: FillFn, ws: Workspace) -> None:
        report = validate_file(make_filled("shipping-list", lines=[]), ws)
        assert report.codes() == ["NO_LINES"]
        assert report.issues[0].field == "lines"

    def test_table_grows_past_the_blank_rows(self, make_filled: FillFn, ws: Workspace) -> None:
        lines = [{"part_name": f"P{i}", "batch_no": "B", "quantity": i + 1} for i in range(60)]
        report = validate_file(make_filled("shipping-list", lines=lines), ws)
        assert report.valid and len(report.data["lines"]) == 60


class TestSurvey:
    def test_two_ticks_report_the_row(self, make_filled: FillFn, ws: Workspace) -> None:
        path = make_filled("satisfaction-survey", response=4, price=3)
        write(path, "product_quality", "√", offset=2)
        report = validate_file(path, ws)
        row = f"{cell_of(path, 'product_quality', 0)}:{cell_of(path, 'product_quality', 4)}"
        assert report.flatten(["code", "field", "cell"]) == [
            ["MULTIPLE_TICKS", "product_quality", row]]

    @pytest.mark.parametrize("mark", ["√", "✓", "✔", "☑", "●", "x", "X", "是", 1, "1"])
    def test_tick_marks(self, make_filled: FillFn, ws: Workspace, mark: Any) -> None:
        path = make_filled("satisfaction-survey", product_quality=None)
        write(path, "product_quality", mark, offset=1)
        report = validate_file(path, ws)
        assert report.valid and report.data["product_quality"] == 4

    @pytest.mark.parametrize("mark", ["☐", "否", 0, "0", "  "])
    def test_not_ticked(self, make_filled: FillFn, ws: Workspace, mark: Any) -> None:
        path = make_filled("satisfaction-survey")
        write(path, "price", mark, offset=0)
        report = validate_file(path, ws)
        assert report.valid and report.data["price"] is None

    def test_unrecognised_tick(self, make_filled: FillFn, ws: Workspace) -> None:
        path = make_filled("satisfaction-survey")
        write(path, "price", "good", offset=3)
        report = validate_file(path, ws)
        assert report.flatten(["code", "field", "cell"]) == [
            ["TICK_UNRECOGNISED", "price", cell_of(path, "price", 3)]]

    def test_four_answered_is_incomplete(self, make_filled: FillFn, ws: Workspace) -> None:
        path = make_filled("satisfaction-survey", service_attitude=None)
        report = validate_file(path, ws)
        assert report.codes() == ["INCOMPLETE_SURVEY"]
        first = cell_of(path, "product_quality", 0)
        assert report.issues[0].cell.startswith(first)

    def test_five_answered_is_complete(self, make_filled: FillFn, ws: Workspace) -> None:
        assert validate_file(make_filled("satisfaction-survey"), ws).valid


class TestNormalisationThroughTheWorkbook:
    """SPEC §3.3 end to end: what staff type in the cell, what the record holds."""

    @pytest.mark.parametrize(
        ("form_id", "field", "typed", "expected"),
        [
            ("complaint", "qty_complained", "９５", 95),
            ("complaint", "qty_complained", "3件", 3),
            ("complaint", "qty_complained", "  12 ", 12),
            ("service-evaluation", "attitude", "5分", 5),
            ("satisfaction-monitoring", "performance_rate", "95 %", "95"),
            ("satisfaction-monitoring", "performance_rate", "９５％", "95"),
            ("shipping-list", "ship_date", "2026年11月3日", "2026-11-03"),
            ("shipping-list", "ship_date", "2026/11/3", "2026-11-03"),
            ("shipping-list", "ship_date", 46329, "2026-11-03"),
            ("shipping-list", "ship_date", "46329", "2026-11-03"),
            ("shipping-list", "ship_method", "托运", "freight"),
            ("shipping-list", "ship_method", "Freight carrier", "freight"),
            ("shipping-list", "certificates_enclosed", "是", True),
            ("complaint", "received_at", "2026年11月3日 9:05", "2026-11-03T09:05:00"),
            ("satisfaction-monitoring", "month", "2026年11月", "2026-11"),
        ],
    )
    def test_typed_value_is_normalised(self, make_filled: FillFn, ws: Workspace, form_id: str,
                                       field: str, typed: Any, expected: Any) -> None:
        path = make_filled(form_id)
        if field == "received_at":
            write(path, "filed_at", "2026-11-03 10:00")
        write(path, field, typed)
        report = validate_file(path, ws)
        assert report.issues == []
        assert report.data[field] == expected

    def test_percent_formatted_cell(self, make_filled: FillFn, ws: Workspace) -> None:
        path = make_filled("satisfaction-monitoring")
        wb = load_workbook(path)
        cells = workbook_names(wb)["performance_rate"]
        cell = wb[cells.sheet].cell(row=cells.min_row, column=cells.min_col)
        cell.value, cell.number_format = 0.95, "0%"
        wb.save(path)
        assert validate_file(path, ws).data["performance_rate"] == "95"

    def test_merged_input_read_from_top_left(self, make_filled: FillFn, ws: Workspace) -> None:
        path = make_filled("shipping-list")
        wb = load_workbook(path)
        cells = workbook_names(wb)["customer"]
        assert cells.size > 1
        assert validate_file(path, ws).data["customer"] == "华东汽车"

    def test_blank_counts_default_to_zero(self, make_filled: FillFn, ws: Workspace) -> None:
        report = validate_file(make_filled("satisfaction-monitoring"), ws)
        assert report.data["q_full_return"] == 0 and report.data["scorecard_pct"] is None


class TestIdentity:
    def _plain(self, tmp_path: Path) -> Path:
        path = tmp_path / "plain.xlsx"
        Workbook().save(path)
        return path

    def test_no_identity(self, tmp_path: Path, ws: Workspace) -> None:
        report = validate_file(self._plain(tmp_path), ws)
        assert report.codes() == ["NO_IDENTITY"]

    def _retag(self, path: Path, **changes: str) -> None:
        from dataclasses import replace

        wb = load_workbook(path)
        identity = read_identity(wb)
        assert identity is not None
        write_identity(wb, replace(identity, **changes))
        wb.save(path)

    def test_unknown_form(self, make_filled: FillFn, ws: Workspace) -> None:
        path = make_filled("complaint")
        self._retag(path, form="warranty-claim")
        assert validate_file(path, ws).codes() == ["UNKNOWN_FORM"]

    def test_unknown_revision(self, make_filled: FillFn, ws: Workspace) -> None:
        path = make_filled("complaint")
        self._retag(path, revision="Z")
        assert validate_file(path, ws).codes() == ["UNKNOWN_REVISION"]

    def test_altered_fingerprint(self, make_filled: FillFn, ws: Workspace) -> None:
        path = make_filled("complaint")
        self._retag(path, fingerprint="0" * 16)
        assert validate_file(path, ws).codes() == ["TEMPLATE_ALTERED"]

    def test_removed_name_is_an_altered_template(self, make_filled: FillFn,
                                                 ws: Workspace) -> None:
        path = make_filled("complaint")
        wb = load_workbook(path)
        del wb.defined_names["part_no"]
        wb.save(path)
        codes = validate_file(path, ws).codes()
        assert "FIELD_NOT_BOUND" in codes and "TEMPLATE_ALTERED" in codes

    def test_identity_survives_without_custom_properties(self, make_filled: FillFn,
                                                         ws: Workspace) -> None:
        path = make_filled("complaint")
        wb = load_workbook(path)
        wb.custom_doc_props.props.clear()
        wb.save(path)
        assert validate_file(path, ws).valid

    def test_identity_survives_without_hidden_sheet(self, make_filled: FillFn,
                                                    ws: Workspace) -> None:
        path = make_filled("complaint")
        wb = load_workbook(path)
        del wb["_qmsforms"]
        wb.save(path)
        assert validate_file(path, ws).valid

    def test_comments_inside_custom_properties_are_skipped(self, make_filled: FillFn,
                                                           ws: Workspace) -> None:
        """The value of a property is its vt: element, whatever an editor put before it."""
        path = make_filled("complaint")
        wb = load_workbook(path)
        del wb["_qmsforms"]
        wb.save(path)
        name = "docProps/custom.xml"
        with zipfile.ZipFile(path) as src:
            parts = {info.filename: src.read(info.filename) for info in src.infolist()}
        parts[name] = re.sub(
            rb"(<property [^>]*>)",
            rb'\1<!-- note --><?editor x?>\n  <x:note xmlns:x="urn:example">other</x:note>',
            parts[name])
        assert parts[name].count(b"<!-- note -->") == 6
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
            for member, data in parts.items():
                out.writestr(member, data)
        report = validate_file(path, ws)
        assert report.valid and report.form == "complaint"


class TestRevisions:
    @pytest.fixture
    def superseded_ws(self, ws: Workspace) -> Workspace:
        config = ws.root / "qmsforms.toml"
        config.write_text(config.read_text(encoding="utf-8") + (
            '\n[forms.complaint.superseded]\n"0" = { on = 2026-06-30, grace_days = 90 }\n'),
            encoding="utf-8")
        return Workspace(ws.root)

    def _old(self, make_filled: FillFn, workspace: Workspace) -> Path:
        from dataclasses import replace

        from qmsforms.identity import fingerprint

        path = make_filled("complaint", workspace=workspace)
        wb = load_workbook(path)
        identity = read_identity(wb)
        form = workspace.registry.get("complaint")
        write_identity(wb, replace(identity, revision="0",  # type: ignore[type-var]
                                   fingerprint=fingerprint(form, "0")))
        wb.save(path)
        return path

    def test_within_grace_is_a_warning(self, make_filled: FillFn,
                                       superseded_ws: Workspace) -> None:
        path = self._old(make_filled, superseded_ws)
        report = validate_file(path, superseded_ws, today=date(2026, 9, 1))
        assert report.codes() == ["SUPERSEDED_REVISION"] and report.valid

    def test_after_grace_is_obsolete(self, make_filled: FillFn,
                                     superseded_ws: Workspace) -> None:
        path = self._old(make_filled, superseded_ws)
        report = validate_file(path, superseded_ws, today=date(2026, 10, 1))
        assert report.codes() == ["OBSOLETE_REVISION"] and not report.valid


def test_annotated_copy_marks_every_bad_cell(make_filled: FillFn, ws: Workspace,
                                             tmp_path: Path) -> None:
    path = make_filled("shipping-list", ship_date="3/11/2026", ship_method="camel")
    report = validate_file(path, ws)
    out = annotate(path, report, tmp_path / "annotated.xlsx")
    assert out is not None
    wb = load_workbook(out)
    assert wb.sheetnames[1] == "问题 Issues"  # after the form, which prints first
    listed = [row[0] for row in wb["问题 Issues"].iter_rows(min_row=2, values_only=True)]
    assert sorted(listed) == ["DATE_AMBIGUOUS", "NOT_A_CHOICE"]
    for issue in report.issues:
        cell = wb[issue.sheet][issue.cell]
        assert cell.comment is not None and issue.code in cell.comment.text
        assert cell.fill.fgColor.rgb.endswith("FFC7CE")


def test_annotated_copy_writes_formula_like_values_as_text(make_filled: FillFn, ws: Workspace,
                                                           tmp_path: Path) -> None:
    path = make_filled("complaint")
    write(path, "qty_returned", "=HYPERLINK(\"http://x\")")
    report = validate_file(path, ws)
    out = annotate(path, report, tmp_path / "annotated.xlsx")
    assert out is not None
    issues_sheet = load_workbook(out)["问题 Issues"]
    value_cell = issues_sheet.cell(row=2, column=5)
    assert value_cell.data_type == "s"


def test_a_file_refused_for_its_size_is_not_opened_to_be_annotated(
        make_filled: FillFn, ws: Workspace, tmp_path: Path) -> None:
    path = make_filled("complaint", qty_returned=1)
    rewrite(path, "xl/worksheets/sheet1.xml", lambda data: data.replace(
        b"</sheetData>", b'<row r="1048576"><c r="H1048576"><v>1</v></c></row></sheetData>'))
    report = validate_file(path, ws)
    assert report.flatten(["code", "cell"]) == [["SHEET_TOO_LARGE", "H1048576"]]
    assert annotate(path, report, tmp_path / "annotated.xlsx") is None
