"""The review pack workbook: the scorecard with met / not met in colour by month, conclusions
and sign-off, satisfaction against the previous year with its chart, the complaint Paretos,
PPM per customer and this month against last, the actions — read back by defined name, and
printed through LibreOffice onto A4 landscape pages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.chart import BarChart, LineChart

from qmsforms.excel.style import ALERT_FILL, GOOD_FILL
from qmsforms.reports.review import ReviewPack, review_pack
from qmsforms.reports.review_policy import KPI_KEYS
from qmsforms.reports.review_xlsx import MET, NO_DATA, NOT_MET, SHEETS, write_review
from qmsforms.workspace import Workspace

from .. import year as yr
from ..test_print import page_text, pdf_pages
from . import review_year as ry
from .test_review import ACTIONS

TODAY = date(2027, 1, 10)
A4_LANDSCAPE = (842.0, 595.0)


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> ReviewPack:
    ws: Workspace = ry.shared_review_year(tmp_path_factory.mktemp("review"))
    return review_pack(ws, ry.YEAR, actions=ACTIONS, today=TODAY)


@pytest.fixture(scope="module")
def xlsx(pack: ReviewPack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_review(pack, tmp_path_factory.mktemp("rv") / "review.xlsx",
                        company="示例五金 Example & Co.", document_no="QR-QA-901")


def _fill(cell: Any) -> str:
    return str(cell.fill.fgColor.rgb)[-6:] if cell.fill and cell.fill.fill_type else ""


def test_scorecard_lines_hold_target_value_and_met(wb: Any, pack: ReviewPack) -> None:
    rows = yr.named_rows(wb, "scorecard")
    assert len(rows) == 1 + len(KPI_KEYS)
    by_kpi = {k.key: row for k, row in zip(pack.kpis, rows[1:], strict=True)}
    assert by_kpi["complaint_ppm"][2:5] == ["≤ 200", 1100.0, NOT_MET]
    assert by_kpi["satisfaction"][2:5] == ["≥ 90", 99.0, MET]
    assert by_kpi["on_time_delivery"][3] == 80.0
    assert by_kpi["excess_freight"][4] == NO_DATA
    assert by_kpi["survey_return_rate"][3] == 50.0
    months = rows[0][5:]
    assert len(months) == 12 and months[0] == "1月 Jan"
    assert by_kpi["complaint_ppm"][5:8] == [2000.0, 0, 1000.0]


def test_scorecard_colours_met_and_not_met(wb: Any) -> None:
    ws, (_, first, _, last) = yr.named_place(wb, "scorecard")
    labels = {ws.cell(row=r, column=5).value: ws.cell(row=r, column=5)
              for r in range(first + 1, last + 1)}
    assert _fill(labels[MET]) == GOOD_FILL.fgColor.rgb[-6:]
    assert _fill(labels[NOT_MET]) == ALERT_FILL.fgColor.rgb[-6:]
    ppm_row = next(r for r in range(first + 1, last + 1)
                   if ws.cell(row=r, column=3).value == "≤ 200")
    # January 2000 PPM red, February 0 green, April (no shipments) uncoloured
    assert _fill(ws.cell(row=ppm_row, column=6)) == ALERT_FILL.fgColor.rgb[-6:]
    assert _fill(ws.cell(row=ppm_row, column=7)) == GOOD_FILL.fgColor.rgb[-6:]
    assert _fill(ws.cell(row=ppm_row, column=9)) == ""


def test_conclusions_and_signoff_are_there_to_fill_in(wb: Any) -> None:
    ws, (_, r1, c2, r2) = yr.named_place(wb, "conclusions")
    assert r2 - r1 + 1 >= 5
    merged = {str(m) for m in ws.merged_cells.ranges}
    for r in range(r1, r2 + 1):
        assert ws.cell(row=r, column=1).value is None
        assert f"A{r}:{ws.cell(row=r, column=c2).coordinate}" in merged
    assert ws.cell(row=r1, column=1).border.top.style == "thin"
    assert ws.cell(row=r2, column=c2).border.bottom.style == "thin"
    sign = yr.named_rows(wb, "signoff")
    heads = [v for v in sign[0] if v]
    assert [h.split()[0] for h in heads] == ["编制", "审核", "批准"]
    assert sum(1 for v in sign[2] if v and str(v).startswith("日期")) == 3


def test_satisfaction_sheet_sets_years_side_by_side_with_a_chart(wb: Any) -> None:
    table = yr.named_table(wb, "satisfaction_table")
    assert table[ry.A]["2026"] == 98.5 and table[ry.A]["2025"] == 98.0
    assert table[ry.B]["增减\nChange"] == -1.0
    assert table[ry.B]["趋势\nTrend"].startswith("↓")
    charts = wb[SHEETS["satisfaction"]]._charts
    assert len(charts) == 1 and isinstance(charts[0], BarChart)
    assert len(charts[0].series) == 2  # this year and the previous one


def test_pareto_tables_and_charts(wb: Any) -> None:
    category = yr.named_rows(wb, "pareto_category")[1:]
    assert [(r[2], r[3], r[4]) for r in category] == [(3, 60.0, 60.0), (1, 20.0, 80.0),
                                                      (1, 20.0, 100.0)]
    cause = yr.named_rows(wb, "pareto_cause")[1:]
    assert [r[1] for r in cause] == ["质量部", "生产部", "未指定 Unassigned"]
    charts = wb[SHEETS["pareto"]]._charts
    assert len(charts) == 2
    for chart in charts:
        assert isinstance(chart, BarChart)
        assert any(isinstance(c, LineChart) for c in chart._charts)


def test_ppm_and_month_compare(wb: Any) -> None:
    ppm = yr.named_table(wb, "ppm_table")
    assert (ppm[ry.A]["投诉数量\nComplained"], ppm[ry.A]["发货数量\nDelivered"],
            ppm[ry.A]["PPM"]) == (9, 5000, 1800.0)
    assert ppm["合计 Total"]["PPM"] == 1100.0
    compare = yr.named_rows(wb, "month_compare")
    assert "9月" in compare[0][1] and "8月" in compare[0][2]
    assert compare[1][1:] == [1, 0, 1]          # quality: September 1, August 0
    assert compare[-1][1:] == [1, 1, 0]          # total


def test_actions_by_source_and_department(wb: Any) -> None:
    total = yr.named_rows(wb, "actions_total")[1]
    assert total[1:] == [5, 3, 2, 1, 1]  # raised, open, overdue, verified, closed
    source = {r[0].split()[0]: r[1:] for r in yr.named_rows(wb, "actions_by_source")[1:]}
    assert source["客户投诉"] == [2, 1, 1, 0, 1]
    department = {r[0]: r[1:] for r in yr.named_rows(wb, "actions_by_department")[1:]}
    assert department["营业部"] == [3, 2, 1, 1, 0]


def test_every_sheet_prints_a4_landscape_one_page_wide(wb: Any) -> None:
    assert wb.sheetnames == list(SHEETS.values())
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4
        assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
        assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
        assert "QR-QA-901" in ws.oddFooter.left.text
        assert "Example && Co." in ws.oddHeader.left.text


def test_a_half_year_pack_has_six_months(pack: ReviewPack, tmp_path: Path) -> None:
    ws: Workspace = ry.shared_review_year(tmp_path)
    half = review_pack(ws, ry.YEAR, "H1", today=TODAY)
    path = write_review(half, tmp_path / "h1.xlsx")
    rows = yr.named_rows(load_workbook(path), "scorecard")
    assert rows[0][5:] == [f"{m}月 {n}" for m, n in zip(range(1, 7), (
        "Jan", "Feb", "Mar", "Apr", "May", "Jun"), strict=True)]
    assert Decimal(str(rows[1 + KPI_KEYS.index("complaint_ppm")][3])) == ry.PPM["H1"]


@pytest.mark.libreoffice
def test_renders_on_a4_landscape_pages(xlsx: Path, soffice: Any) -> None:
    pdf = soffice(xlsx, "pdf")
    pages = pdf_pages(pdf)
    assert len(pages) == len(SHEETS)  # every sheet on one landscape page
    for page in pages:
        assert (abs(page.width - A4_LANDSCAPE[0]) <= 2 and abs(page.height - A4_LANDSCAPE[1])
                <= 2 and page.rotation % 180 == 0), page
    first = page_text(pdf, 1)
    assert "QR-QA-901" in first and f"Page 1 of {len(pages)}" in first
    assert "1100.0" in first and "编制" in first and "批准" in first
    assert ry.A in page_text(pdf, 2)
