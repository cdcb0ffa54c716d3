"""The satisfaction report (顾客满意度汇总表): a year of records through the real intake, the
report built from the ledger, the workbook reopened and read at its named places."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from openpyxl.chart import BarChart, LineChart
from openpyxl.utils import quote_sheetname

from qmsforms.cli import cli
from qmsforms.reports import SatisfactionReport, satisfaction_report, write_satisfaction
from qmsforms.reports.satisfaction_xlsx import SHEETS

from .. import year as yr
from ..test_print import page_text, pdf_pages

AS_OF = date(2026, 12, 31)
A4_LANDSCAPE = (842.0, 595.0)


@pytest.fixture(scope="module")
def report(year: yr.Year) -> SatisfactionReport:
    return satisfaction_report(year.ws, yr.YEAR, as_of=AS_OF)


@pytest.fixture(scope="module")
def xlsx(report: SatisfactionReport, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_satisfaction(report, tmp_path_factory.mktemp("sat") / "satisfaction.xlsx",
                              company="示例五金 Example & Co.", document_no="QR-SA-801")


def _month(m: int) -> str:
    return f"{yr.YEAR}-{m:02d}"


# -- the year went through the intake ----------------------------------------------------------

def test_the_year_is_in_the_ledger_with_one_revision(year: yr.Year) -> None:
    assert [o.outcome for o in year.outcomes] == ["record"] * len(year.outcomes)
    assert len(year.outcomes) == 65
    assert len([o for o in year.outcomes if o.supersedes]) == 1


# -- the data ----------------------------------------------------------------------------------

def test_annual_scores_follow_each_customers_policy(report: SatisfactionReport) -> None:
    annual = {c.customer: c.annual for c in report.customers}
    assert {name: a.score for name, a in annual.items()} == yr.EXPECTED_ANNUAL
    assert annual[yr.D].policy.id == "automotive-qdo"
    assert {a.basis for n, a in annual.items() if n in (yr.A, yr.B, yr.D)} == {"monthly+survey"}
    assert annual[yr.E].basis == "survey" and annual[yr.C].basis == "monthly"
    assert [n for n, a in annual.items() if a.complete] == sorted([yr.A, yr.B])


def test_monthly_values_are_the_latest_revision(report: SatisfactionReport) -> None:
    monthly = {c.customer: c.monthly for c in report.customers}
    for customer, months in yr.EXPECTED_MONTHLY.items():
        assert monthly[customer] == {_month(m): v for m, v in months.items()}


def test_company_figure_is_the_mean_over_customers_evaluated(
        report: SatisfactionReport) -> None:
    assert report.company[_month(1)] == Decimal("99.3")   # (99 + 100 + 98 + 100) / 4
    assert report.company[_month(6)] == Decimal("94.3")   # (99 + 80 + 98 + 100) / 4
    assert report.company[_month(10)] == Decimal("97.0")  # (99 + 100 + 92) / 3


def test_alerts_name_customer_category_months_and_action(report: SatisfactionReport) -> None:
    found = {(a.kind, a.customer, a.months) for a in report.alerts}
    assert found == {
        ("month_below_target", yr.B, (_month(6),)),
        ("consecutive_deduction", yr.B, tuple(_month(m) for m in (3, 4, 5, 6))),
        ("month_below_target", yr.F, (_month(11),)),
        ("year_below_target", yr.B, (str(yr.YEAR),)),
        ("year_below_target", yr.E, (str(yr.YEAR),)),
    }
    run = next(a for a in report.alerts if a.kind == "consecutive_deduction")
    assert run.category == "quality" and run.responsible_zh == "质量部"


def test_item_averages_put_the_weakest_first(report: SatisfactionReport) -> None:
    items = [(i.code, i.mean_pct, i.flagged) for i in report.items]
    assert items[:3] == [("price", Decimal("66.7"), True),
                         ("complaint_handling", Decimal("70.0"), True),
                         ("delivery", Decimal("80.0"), False)]
    assert {s.customer: s.score for s in report.surveys} == yr.EXPECTED_SURVEY


# -- the workbook at its named places ----------------------------------------------------------

def test_matrix_cells_hold_the_monthly_totals(wb: Any) -> None:
    rows = yr.named_rows(wb, "matrix")
    assert rows[0][0].startswith("客户") and rows[0][1] == "1月 Jan" and rows[0][12] == "12月 Dec"
    matrix = {row[0]: row[1:] for row in rows[1:]}
    assert list(matrix) == sorted(yr.EXPECTED_ANNUAL)
    for customer, months in yr.EXPECTED_MONTHLY.items():
        assert matrix[customer] == [float(months[m]) if m in months else None
                                    for m in range(1, 13)]
    assert matrix[yr.E] == [None] * 12
    company = yr.named_rows(wb, "matrix_company")[0]
    assert company[1] == 99.3 and company[6] == 94.3


def test_matrix_is_coloured_by_band(wb: Any) -> None:
    ws, (_, min_row, _, max_row) = yr.named_place(wb, "matrix")
    ranges = {str(cf.sqref): cf.rules for cf in ws.conditional_formatting}
    ((sqref, rules),) = ranges.items()
    assert sqref == f"B{min_row + 1}:N{max_row + 1}"  # months, mean and the company row
    formulas = [r.formula[0] for r in rules]
    assert len(rules) == 5 and all("ISNUMBER" in f for f in formulas)
    assert f"B{min_row + 1}>=95" in formulas[0]
    assert rules[0].dxf.fill.fgColor.rgb[-6:] == "63BE7B" and rules[0].stopIfTrue


def test_annual_table(wb: Any) -> None:
    table = yr.named_table(wb, "annual_table")
    head = next(iter(table.values()))
    keys = list(head)
    score, survey, policy, complete = (keys[4], keys[3], keys[1], keys[7])
    assert {c: Decimal(str(row[score])) for c, row in table.items()} == yr.EXPECTED_ANNUAL
    assert {c: row[survey] for c, row in table.items() if row[survey] is not None} == \
        {c: float(v) for c, v in yr.EXPECTED_SURVEY.items()}
    assert table[yr.D][policy] == "automotive-qdo v1"
    assert table[yr.A][complete] == "是 Yes" and table[yr.C][complete] == "否 No"


def test_customer_name_that_looks_like_a_formula_stays_text(wb: Any) -> None:
    ws, (min_col, min_row, _, max_row) = yr.named_place(wb, "matrix")
    cells = [ws.cell(row=r, column=min_col) for r in range(min_row + 1, max_row + 1)]
    cell = next(c for c in cells if c.value == yr.F)
    assert cell.data_type == "s"


def test_company_sheet_has_a_line_chart_of_the_monthly_figure(wb: Any) -> None:
    ws, (_, head, _, last) = yr.named_place(wb, "company_monthly")
    assert last - head == 12
    (chart,) = ws._charts
    assert isinstance(chart, LineChart)
    sheet = quote_sheetname(ws.title)
    company, target = chart.series
    assert company.val.numRef.f == f"{sheet}!$B${head + 1}:$B${last}"
    assert target.val.numRef.f == f"{sheet}!$C${head + 1}:$C${last}"
    categories = company.cat.numRef or company.cat.strRef
    assert categories.f == f"{sheet}!$A${head + 1}:$A${last}"
    values = [row[1] for row in yr.named_rows(wb, "company_monthly")[1:]]
    assert values[0] == 99.3 and values[5] == 94.3


def test_survey_items_bar_chart_shows_the_weakest_first(wb: Any) -> None:
    ws, (_, head, _, last) = yr.named_place(wb, "survey_items")
    rows = yr.named_rows(wb, "survey_items")[1:]
    assert [r[3] for r in rows[:2]] == [66.7, 70.0]
    assert rows[0][0].startswith("价格")
    (chart,) = ws._charts
    assert isinstance(chart, BarChart) and chart.type == "bar"
    (series,) = chart.series
    assert series.val.numRef.f == f"{quote_sheetname(ws.title)}!$D${head + 1}:$D${last}"
    assert [p.idx for p in series.dPt] == [0, 1]  # the flagged items in red
    assert chart.x_axis.scaling.orientation == "maxMin"


def test_alerts_sheet_rows(wb: Any) -> None:
    rows = yr.named_rows(wb, "alerts")[1:]
    assert len(rows) == 5
    by_customer = {(r[2], r[4].split("\n")[0]): r for r in rows}
    run = by_customer[yr.B, f"{_month(3)} – {_month(6)}"]
    assert run[3].startswith("质量表现") and run[6].startswith("质量部")
    assert "改进措施" in run[7] and "improvement action" in run[7]
    below = by_customer[yr.F, _month(11)]
    assert below[5] == "84.0 / 90"


def test_delivery_sheet_shows_on_time_rates(wb: Any) -> None:
    table = {row[0]: row[1:13] for row in yr.named_rows(wb, "delivery_matrix")[1:]}
    assert table[yr.A][2:4] == [66.7, 100]
    assert table[yr.B][2] == 100 and table[yr.B][5] == 0
    assert table[yr.D][3] == 0


def test_summary_is_the_first_sheet_on_one_page(wb: Any) -> None:
    ws = wb.worksheets[0]
    assert ws.title == SHEETS["summary"]
    figures = {row[0]: row[1] for row in yr.named_rows(wb, "summary")[1:]}
    assert figures["评价顾客数 Customers evaluated"] == 6
    assert figures["年度低于目标的顾客 Customers below target"] == 2
    review = [row[0] for row in yr.named_rows(wb, "review")[1:]]
    assert review == [yr.E, yr.B]  # lowest first
    assert ws.page_setup.fitToHeight == 1
    kinds = sorted(type(c).__name__ for c in ws._charts)
    assert kinds == ["BarChart", "LineChart"]


def test_every_sheet_prints_a4_landscape_with_page_numbers(wb: Any) -> None:
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4
        assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
        assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
        assert "QR-SA-801" in ws.oddFooter.left.text
        assert "Example && Co." in ws.oddHeader.left.text
    assert wb[SHEETS["matrix"]].print_title_rows


def test_json_is_the_library_data(year: yr.Year, report: SatisfactionReport) -> None:
    result = CliRunner().invoke(cli, ["--root", str(year.ws.root), "report", "satisfaction",
                                      "--year", str(yr.YEAR), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    expected = report.to_dict()
    data.pop("as_of"), expected.pop("as_of")
    assert data == expected
    assert not (year.ws.outbox / "reports" / f"satisfaction-{yr.YEAR}.xlsx").exists()


def test_cli_writes_the_workbook(year: yr.Year, tmp_path: Path) -> None:
    target = tmp_path / "out" / "sat.xlsx"
    result = CliRunner().invoke(cli, ["--root", str(year.ws.root), "report", "satisfaction",
                                      "--year", str(yr.YEAR), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert str(target) in result.stdout
    assert yr.named_rows(load_workbook(target), "annual_table")
    bad = CliRunner().invoke(cli, ["--root", str(year.ws.root), "report", "satisfaction",
                                   "--year", str(yr.YEAR), "-o", str(tmp_path / "x.pdf")])
    assert bad.exit_code == 2


def test_an_empty_year_gives_an_empty_report(year: yr.Year, tmp_path: Path) -> None:
    empty = satisfaction_report(year.ws, 2019, as_of=AS_OF)
    assert empty.customers == () and empty.alerts == () and empty.company == {}
    path = write_satisfaction(empty, tmp_path / "empty.xlsx")
    assert yr.named_rows(load_workbook(path), "matrix")[0][0].startswith("客户")


# -- printed through LibreOffice ---------------------------------------------------------------

@pytest.mark.libreoffice
def test_renders_on_a4_landscape_pages(xlsx: Path, soffice: Any) -> None:
    pdf = soffice(xlsx, "pdf")
    pages = pdf_pages(pdf)
    assert len(pages) == len(SHEETS)  # every sheet fits one landscape page wide and tall
    for page in pages:
        assert (abs(page.width - A4_LANDSCAPE[0]) <= 2 and abs(page.height - A4_LANDSCAPE[1])
                <= 2 and page.rotation % 180 == 0), page
    first = page_text(pdf, 1)
    assert "顾客满意度汇总表 2026" in first and f"第 1 页 共 {len(pages)} 页" in first
    assert yr.B in page_text(pdf, 2) and "Page 2 of" in page_text(pdf, 2)
