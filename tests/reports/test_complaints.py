"""The complaint report (客户投诉汇总分析表): counts by cause and month with month-over-month
change, Pareto, filing-time compliance, open 8Ds by age, top customers — from a year of
complaint tickets taken in by the real intake, and 8D states from 8D report records."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl.chart import BarChart, LineChart
from openpyxl.utils import quote_sheetname

from qmsforms.blanks import issue_blank
from qmsforms.cli import cli
from qmsforms.intake import Intake, RecordRow
from qmsforms.reports import (
    ComplaintReport,
    build_complaints,
    complaint_report,
    write_complaints,
)
from qmsforms.reports.complaints_xlsx import SHEETS
from qmsforms.workspace import Workspace

from .. import year as yr
from ..test_print import page_text, pdf_pages

AS_OF = date(2026, 12, 31)


@pytest.fixture(scope="module")
def report(year: yr.Year) -> ComplaintReport:
    return complaint_report(year.ws, yr.YEAR, as_of=AS_OF)


@pytest.fixture(scope="module")
def march(year: yr.Year) -> ComplaintReport:
    return complaint_report(year.ws, yr.YEAR, 3, as_of=AS_OF)


@pytest.fixture(scope="module")
def xlsx(report: ComplaintReport, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_complaints(report, tmp_path_factory.mktemp("cmp") / "complaints.xlsx",
                            company="示例五金", document_no="QR-QA-509")


def _trend(report: ComplaintReport) -> dict[str, tuple[int, ...]]:
    return {t.key: t.counts for t in report.trend}


# -- the data ----------------------------------------------------------------------------------

def test_counts_by_category_and_month(report: ComplaintReport) -> None:
    counts = _trend(report)
    assert counts["quality"] == (1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1)
    assert counts["delivery"] == (1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0)
    assert sum(report.totals) == 11  # December 2025's ticket belongs to the year before


def test_month_over_month_change_reaches_into_the_year_before(report: ComplaintReport) -> None:
    changes = {t.key: t.changes for t in report.trend}
    assert changes["quality"][0] == 0       # January 1 against December 2025's 1
    assert changes["delivery"][:2] == (1, -1)
    assert report.total_changes[:3] == (1, -1, 1)


def test_period_compare_is_the_seed_table(report: ComplaintReport, march: ComplaintReport
                                          ) -> None:
    year = {r.key: (r.current, r.previous, r.change) for r in report.compare}
    assert year["quality"] == (6, 1, 5) and year["service"] == (1, 0, 1)
    quality = next(r for r in report.compare if r.key == "quality")
    assert "TS-01" in quality.remarks and "(+4)" in quality.remarks
    assert march.period == "2026-03" and march.previous_period == "2026-02"
    month = {r.key: (r.current, r.previous) for r in march.compare}
    assert month["quality"] == (1, 1) and month["packaging"] == (1, 0)
    assert march.months == tuple(f"2026-0{m}" for m in (1, 2, 3))


def test_pareto_of_causes(report: ComplaintReport) -> None:
    rows = [(p.key, p.count, p.pct, p.cumulative_pct) for p in report.pareto]
    assert rows == [("quality", 6, Decimal("54.5"), Decimal("54.5")),
                    ("delivery", 2, Decimal("18.2"), Decimal("72.7")),
                    ("packaging", 2, Decimal("18.2"), Decimal("90.9")),
                    ("service", 1, Decimal("9.1"), Decimal("100.0"))]


def test_sla_compliance(report: ComplaintReport) -> None:
    overall, urgent, normal = report.sla
    assert (overall.decided, overall.met, overall.rate) == (11, 8, Decimal("72.7"))
    assert (urgent.met, urgent.decided, urgent.limit_hours) == (2, 3, 1)
    assert (normal.met, normal.decided, normal.limit_hours) == (6, 8, 2)
    late = sorted(t.ticket_no for t in report.tickets if t.sla_met is False)
    assert late == ["TS-02", "TS-04", "TS-10"]  # TS-07, filed exactly at 2 h, is in time


def test_open_8ds_by_age(report: ComplaintReport) -> None:
    assert [(t.ticket_no, t.age_days(AS_OF), t.eight_d) for t in report.open_8d] == [
        ("TS-01", 357, "missing"), ("TS-05", 286, "missing"), ("TS-09", 56, "missing")]
    assert [(b.label, b.count) for b in report.ages] == [
        ("0–7 天 days", 0), ("8–30 天 days", 0), ("31–60 天 days", 1), ("61–90 天 days", 0),
        ("> 90 天 days", 2)]
    states = {t.ticket_no: t.eight_d for t in report.tickets}
    assert states["TS-03"] == "closed" and states["TS-11"] == "not_required"


def test_top_customers(report: ComplaintReport) -> None:
    top = [(c.customer, c.count, c.quality_related) for c in report.top_customers]
    assert top[0] == (yr.B, 4, 4)
    assert sorted(top[1:3]) == sorted([(yr.A, 2, 0), (yr.F, 2, 1)])


# -- 8D states from 8D report records -------------------------------------------------------------

def _record(form: str, data: dict[str, Any], scores: dict[str, Any] | None = None,
            rid: str = "R1") -> RecordRow:
    return RecordRow(record_id=rid, form=form, revision="A", instance_id=None, sha256=rid,
                     natural_key={}, data=data, scores=scores, source_name="x.xlsx",
                     received_at="", processed_at="", path="")


def _complaint(ticket: str, **extra: Any) -> RecordRow:
    data = {"ticket_no": ticket, "customer": "ACME", "received_at": "2026-05-04T09:00:00",
            "filed_at": "2026-05-04T09:30:00", "category": "quality",
            "quality_related": True, "description": "x", **extra}
    return _record("complaint", data, rid=f"R-{ticket}")


def test_eight_d_state_comes_from_the_8d_report() -> None:
    records = [
        _complaint("T1"), _complaint("T2"), _complaint("T3", closed_date="2026-06-01"),
        _complaint("T4"),
        _record("8d-report", {"complaint_no": "T1", "d1_done": True, "d2_done": True,
                              "d3_done": True, "d4_done": True}, rid="8D-1"),
        _record("8d-report", {"complaint_no": "T2", **{f"d{n}_done": True
                                                       for n in range(1, 9)}}, rid="8D-2"),
        _record("8d-report", {"complaint_no": "T3", "d1_done": True}, rid="8D-3"),
    ]
    report = build_complaints(records, 2026, as_of=date(2026, 6, 3))
    states = {t.ticket_no: (t.eight_d, t.eight_d_progress) for t in report.tickets}
    assert states == {"T1": ("in_progress", 4), "T2": ("closed", 8),
                      "T3": ("in_progress", 1), "T4": ("missing", 0)}
    assert [t.ticket_no for t in report.open_8d] == ["T1", "T3", "T4"]
    assert report.ages[1].count == 3  # 30 days old: the 8–30 bucket


def test_an_8d_report_taken_in_by_the_intake_moves_the_complaint_on(ws: Workspace,
                                                                    tmp_path: Path) -> None:
    from qmsforms.word.fill import fill_word

    for ticket in ("TS-A", "TS-B"):
        issue_blank(ws, "complaint", ws.inbox / f"{ticket}.xlsx", record=True, values={
            "ticket_no": ticket, "customer": "ACME", "received_at": "2026-05-04 09:00",
            "filed_at": "2026-05-04 09:30", "category": "quality", "quality_related": "是",
            "description": "cracked welds"})
    blank = issue_blank(ws, "8d-report", tmp_path / "8d.docx", values={
        "complaint_no": "TS-A", "customer": "ACME", "opened_date": "2026-05-05"})
    fill_word(blank, {"team_leader": "张三", "team_members": "李四", "d1_owner": "张三",
                      "d1_date": "2026-05-06", "d1_done": True}, ws.inbox / "8D TS-A.docx")
    with Intake(ws, settle=0.05, quiet=0.05) as intake:
        assert intake.process().count("record") == 3
    report = complaint_report(ws, 2026, 5, as_of=date(2026, 5, 31))
    states = {t.ticket_no: (t.eight_d, t.eight_d_progress) for t in report.tickets}
    assert states == {"TS-A": ("in_progress", 1), "TS-B": ("missing", 0)}
    assert [t.age_days(report.as_of) for t in report.open_8d] == [27, 27]


def test_computed_complaint_scores_are_used_when_the_record_has_them() -> None:
    scored = _record("complaint", {**_complaint("T9").data},
                     {"kind": "complaint", "urgent": True, "sla_hours": 1,
                      "filing_minutes": 30.0, "sla_met": True, "eight_d_required": False})
    (ticket,) = build_complaints([scored], 2026, as_of=date(2026, 6, 3)).tickets
    assert (ticket.urgent, ticket.sla_hours, ticket.eight_d) == (True, 1, "not_required")


def test_bad_month_is_refused() -> None:
    with pytest.raises(ValueError):
        build_complaints([], 2026, 13)


# -- the workbook --------------------------------------------------------------------------------

def test_category_month_cells(wb: Any) -> None:
    table = {row[0]: row[1:] for row in yr.named_rows(wb, "category_months")[1:]}
    assert table["产品质量 Product quality"] == [1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 6]
    totals, change = yr.named_rows(wb, "monthly_totals")
    assert totals[1:4] == [2, 1, 2] and change[1:4] == [1, -1, 1]
    changes = {row[0]: row[1:] for row in yr.named_rows(wb, "category_changes")[1:]}
    assert changes["交付 Delivery"][:2] == [1, -1]
    ws, _ = yr.named_place(wb, "category_changes")
    rules = [r for cf in ws.conditional_formatting for r in cf.rules]
    assert sorted(r.operator for r in rules) == ["greaterThan", "lessThan"]


def test_period_compare_and_kpis(wb: Any) -> None:
    rows = yr.named_rows(wb, "period_compare")
    assert rows[1][:4] == ["1 产品质量 Product quality", 6, 1, 5]
    assert rows[-1][:4] == ["合计 Total", 11, 1, 10]
    kpis = {row[0]: row[1] for row in yr.named_rows(wb, "kpis")[1:]}
    assert kpis["填单时效达标率 Filed in time"] == "72.7 %"
    assert kpis["未关闭 8D / 最久天数 Open 8Ds / oldest (days)"] == "3 / 357"


def test_pareto_chart_is_bars_with_a_cumulative_line(wb: Any) -> None:
    ws, (_, head, _, last) = yr.named_place(wb, "pareto")
    rows = yr.named_rows(wb, "pareto")[1:]
    assert [r[2] for r in rows] == [6, 2, 2, 1] and rows[-1][4] == 100
    (chart,) = ws._charts
    assert isinstance(chart, BarChart)
    bars, line = chart._charts
    assert isinstance(line, LineChart)
    sheet = quote_sheetname(ws.title)
    assert bars.series[0].val.numRef.f == f"{sheet}!$C${head + 1}:$C${last}"
    assert line.series[0].val.numRef.f == f"{sheet}!$E${head + 1}:$E${last}"
    assert line.y_axis.axId != bars.y_axis.axId  # the cumulative % on its own axis


def test_sla_open_8d_and_top_customer_tables(wb: Any) -> None:
    sla = {row[0]: row[1:] for row in yr.named_rows(wb, "sla")[1:]}
    assert sla["全部 All"][-1] == 72.7 and sla["紧急 Urgent"][0] == 1
    late = [row[0] for row in yr.named_rows(wb, "sla_late")[1:]]
    assert late == ["TS-02", "TS-04", "TS-10"]
    ages = {row[0]: row[1] for row in yr.named_rows(wb, "open_8d_ages")[1:]}
    assert ages["> 90 天 days"] == 2
    open_8d = [(row[0], row[4]) for row in yr.named_rows(wb, "open_8d")[1:]]
    assert open_8d == [("TS-01", 357), ("TS-05", 286), ("TS-09", 56)]
    assert yr.named_rows(wb, "top_customers")[1][1:3] == [yr.B, 4]
    ws, _ = yr.named_place(wb, "open_8d_ages")
    assert len(ws._charts) == 1
    tickets = yr.named_rows(wb, "tickets")[1:]
    assert len(tickets) == 11
    customer = next(row[1] for row in tickets if row[0] == "TS-09")
    assert customer == yr.F


def test_charts_and_print_setup(wb: Any) -> None:
    summary = wb.worksheets[0]
    assert summary.title == SHEETS["summary"] and len(summary._charts) == 2
    trend = wb[SHEETS["monthly"]]._charts[0]
    assert trend.grouping == "stacked" and len(trend.series) == 6  # one per category
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.page_setup.fitToWidth == 1
        assert "Page &P of &N" in ws.oddFooter.center.text
        assert "QR-QA-509" in ws.oddFooter.left.text


def test_cli_json_and_workbook(year: yr.Year, march: ComplaintReport, tmp_path: Path) -> None:
    root = ["--root", str(year.ws.root), "report", "complaints", "--year", str(yr.YEAR)]
    result = CliRunner().invoke(cli, [*root, "--month", "3", "--json"])
    assert result.exit_code == 0, result.output
    data, expected = json.loads(result.stdout), march.to_dict()
    assert data["compare"] == expected["compare"] and data["pareto"] == expected["pareto"]
    assert data["summary"]["complaints"] == 2
    target = tmp_path / "c.xlsx"
    written = CliRunner().invoke(cli, [*root, "-o", str(target)])
    assert written.exit_code == 0 and target.is_file()
    assert CliRunner().invoke(cli, [*root, "--month", "13"]).exit_code == 2


@pytest.mark.libreoffice
def test_renders_on_a4_landscape_pages(xlsx: Path, soffice: Any) -> None:
    pdf = soffice(xlsx, "pdf")
    pages = pdf_pages(pdf)
    assert len(pages) == len(SHEETS)
    for page in pages:
        assert abs(page.width - 842) <= 2 and abs(page.height - 595) <= 2, page
    first = page_text(pdf, 1)
    assert "客户投诉汇总分析表 2026" in first and "售后问题汇总分析表" in first
    assert f"Page 1 of {len(pages)}" in first
