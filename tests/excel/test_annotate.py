"""The annotated copy of a rejected workbook, as the person correcting it opens and prints it:
the form first and active, every bad cell marked, the issues sheet after the form."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from qmsforms.annotate import annotate
from qmsforms.excel.annotate import BAD_FILL, ISSUE_SHEET
from qmsforms.validate import validate_file
from qmsforms.workspace import Workspace

from ..conftest import FillFn


def _annotated(make_filled: FillFn, ws: Workspace, tmp_path: Path) -> tuple[Path, list]:
    lines = [{"part_name": f"P{i}", "batch_no": "B", "quantity": "lots" if i % 2 else i}
             for i in range(1, 21)]
    path = make_filled("shipping-list", ship_date="3/11/2026", ship_method="camel",
                       lines=lines)
    report = validate_file(path, ws)
    out = annotate(path, report, tmp_path / "annotated.xlsx")
    assert out is not None
    return out, report.issues


def test_the_form_comes_first_and_opens(make_filled: FillFn, ws: Workspace,
                                        tmp_path: Path) -> None:
    out, issues = _annotated(make_filled, ws, tmp_path)
    wb = load_workbook(out)
    form = wb.worksheets[0]
    assert form.sheet_state == "visible" and form.title != ISSUE_SHEET
    assert wb.sheetnames[1] == ISSUE_SHEET
    assert wb.active.title == form.title
    assert [s.title for s in wb.worksheets if s.sheet_view.tabSelected] == [form.title]
    for issue in issues:
        assert wb[issue.sheet][issue.cell].fill.fgColor.rgb.endswith(BAD_FILL.fgColor.rgb[-6:])


def test_the_issues_sheet_prints_one_page_wide(make_filled: FillFn, ws: Workspace,
                                               tmp_path: Path) -> None:
    out, issues = _annotated(make_filled, ws, tmp_path)
    sheet = load_workbook(out)[ISSUE_SHEET]
    setup = sheet.page_setup
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (int(setup.fitToWidth), int(setup.fitToHeight)) == (1, 0)
    assert str(setup.paperSize) == sheet.PAPERSIZE_A4 and setup.orientation == "landscape"
    assert sheet.print_title_rows == "$1:$1"
    codes = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert codes == [i.code for i in issues] and len(codes) >= 12
    for row in range(2, len(codes) + 2):  # sized to the wrapped messages
        assert sheet.row_dimensions[row].height >= 15
        assert sheet.cell(row=row, column=6).alignment.wrap_text


def test_the_form_keeps_its_own_page_setup(make_filled: FillFn, ws: Workspace,
                                           tmp_path: Path) -> None:
    out, _ = _annotated(make_filled, ws, tmp_path)
    before = load_workbook(make_filled("shipping-list")).worksheets[0]
    form = load_workbook(out).worksheets[0]
    assert form.print_area == before.print_area
    assert form.page_setup.orientation == before.page_setup.orientation
    assert form.page_setup.fitToWidth == before.page_setup.fitToWidth
