"""The complaint report as a workbook: `write_complaints` renders a `ComplaintReport`.

Sheets: a one-page summary (key figures, the 售后问题汇总分析表 comparison by cause with
example cases, the Pareto and trend charts), category × month counts with the month-over-month
change and a stacked trend chart, the Pareto table with bars and a cumulative line, filing-time
compliance, open 8Ds by age, top customers and every ticket. A4 landscape, one page wide.

Named places: ``kpis``, ``period_compare``, ``category_months``, ``monthly_totals``,
``category_changes``, ``pareto``, ``sla``, ``sla_months``, ``sla_late``, ``open_8d_ages``,
``open_8d``, ``top_customers``, ``tickets``.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from openpyxl.chart import BarChart, Reference
from openpyxl.chart.legend import Legend
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from ..excel.style import ALERT_FILL, GOOD_FILL, TOP_LEFT, TOTAL_FILL
from ..forms.complaint import CATEGORIES
from .charts import bar_chart, chart_title, pareto_chart, size
from .common import (
    COUNT_FORMAT,
    SCORE_FORMAT,
    SIGNED_FORMAT,
    month_label,
    site_suffix,
    widths,
    workspace_labels,
)
from .complaints import (
    REPORT_ID,
    TITLE_EN,
    TITLE_ZH,
    ComplaintReport,
    complaint_report,
)
from .workbook import ReportBook

if TYPE_CHECKING:
    from ..workspace import Workspace

SHEETS = {
    "summary": "汇总 Summary",
    "monthly": "月度趋势 Monthly",
    "pareto": "帕累托 Pareto",
    "sla": "处理时效 SLA",
    "eightd": "8D",
    "customers": "客户 Customers",
    "tickets": "明细 Tickets",
}
EIGHT_D_LABELS = {
    "not_required": "不需要 not required",
    "closed": "已关闭 closed",
    "in_progress": "进行中 in progress",
    "missing": "未提交 8D not received",
}
CHANGE_RED = PatternFill("solid", fgColor="FFC7CE", bgColor="FFC7CE")
CHANGE_GREEN = PatternFill("solid", fgColor="C6EFCE", bgColor="C6EFCE")


def _monthly(book: ReportBook, report: ComplaintReport) -> None:
    s = book.sheet(SHEETS["monthly"])
    ws = s.ws
    n = len(report.months)
    last_col = n + 2
    s.title(f"投诉按类别与月份  Complaints by category and month {report.year}", max(last_col, 8))
    s.note("按接到投诉的月份统计;环比 = 本月件数 − 上月件数(红色增加,绿色减少)。By month "
           "received; change = this month minus the month before (red up, green down).",
           max(last_col, 8), height=26)
    s.row += 1
    head = s.header(["类别\nCategory", *(month_label(m) for m in report.months),
                     "合计\nTotal"])
    for t in report.trend:
        s.line([f"{t.zh} {t.en}", *t.counts, t.total], fmts=[None, *[COUNT_FORMAT] * (n + 1)])
    last = s.row - 1
    book.define("category_months", ws, head, 1, last, last_col)
    total = s.line(["合计 Total", *report.totals, sum(report.totals)],
                   fmts=[None, *[COUNT_FORMAT] * (n + 1)], bold=True, fill=TOTAL_FILL)
    change = s.line(["环比 Change", *report.total_changes, None],
                    fmts=[None, *[SIGNED_FORMAT] * n], bold=True, fill=TOTAL_FILL)
    book.define("monthly_totals", ws, total, 1, change, n + 1)
    book.places["monthly"] = (head, last)
    s.row += 1
    s.caption("环比变化 Month-over-month change", max(last_col, 8))
    head2 = s.header(["类别\nCategory", *(month_label(m) for m in report.months)])
    for t in report.trend:
        s.line([f"{t.zh} {t.en}", *t.changes], fmts=[None, *[SIGNED_FORMAT] * n])
    last2 = s.row - 1
    book.define("category_changes", ws, head2, 1, last2, n + 1)
    cells = f"B{head2 + 1}:{ws.cell(row=last2, column=n + 1).coordinate}"
    ws.conditional_formatting.add(cells, CellIsRule(operator="greaterThan", formula=["0"],
                                                    fill=CHANGE_RED))
    ws.conditional_formatting.add(cells, CellIsRule(operator="lessThan", formula=["0"],
                                                    fill=CHANGE_GREEN))
    widths(ws, [24, *[7.2] * n, 8])
    ws.add_chart(_trend_chart(ws, report, head, last), f"A{s.row + 1}")
    # print as wide as the chart even when a month report has a narrow table
    book.print_setup(ws, max(last_col, 15), s.row + 18, one_page=True)


def _trend_chart(ws: Worksheet, report: ComplaintReport, head: int, last: int) -> BarChart:
    """Complaints per month stacked by category, the legend below."""
    n = len(report.months)
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "stacked"
    chart.overlap = 100
    chart.title = chart_title(f"月度投诉趋势 Monthly complaints by category {report.year}")
    chart.add_data(Reference(ws, min_col=1, max_col=n + 1, min_row=head + 1, max_row=last),
                   from_rows=True, titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=2, max_col=n + 1, min_row=head, max_row=head))
    chart.y_axis.title = "件数 Count"
    chart.y_axis.number_format = "0"
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend = Legend(legendPos="b")
    size(chart, 8.5, 24.0)
    return chart


def _pareto(book: ReportBook, report: ComplaintReport) -> None:
    s = book.sheet(SHEETS["pareto"])
    ws = s.ws
    s.title(f"投诉原因帕累托分析  Pareto of causes {report.period}", 12)
    s.note("原因 = 投诉类别,按件数由多到少;累计 % 找出主要原因(约 80%)。Cause = complaint "
           "category, most frequent first; the cumulative % shows the vital few.", 12)
    s.row += 1
    head = s.header(["序号\nNo.", "原因\nCause", "件数\nCount", "占比 %\nShare %",
                     "累计 %\nCumulative %"])
    for n, p in enumerate(report.pareto, start=1):
        s.line([n, f"{p.zh} {p.en}", p.count, p.pct, p.cumulative_pct],
               fmts=[COUNT_FORMAT, None, COUNT_FORMAT, SCORE_FORMAT, SCORE_FORMAT])
    last = s.row - 1
    if last == head:
        s.line(["", "本期无投诉 No complaints in the period"])
    book.define("pareto", ws, head, 1, max(last, head), 5)
    book.places["pareto"] = (head, last)
    widths(ws, [6, 26, 8, 9, 11])
    if last > head:
        ws.add_chart(_pareto_chart(ws, report, head, last), "G4")
    book.print_setup(ws, 16, max(s.row, 24), one_page=True)


def _pareto_chart(ws: Worksheet, report: ComplaintReport, head: int, last: int) -> BarChart:
    """Bars of the count per cause with the cumulative % as a line on a second axis."""
    bars = pareto_chart(ws, f"帕累托图 Pareto chart {report.period}", counts=3, labels=2,
                        cumulative=5, head=head, last=last,
                        axis_titles=("件数 Count", "累计 % Cumulative"))
    size(bars, 9.0, 17.0)
    return bars


def _sla(book: ReportBook, report: ComplaintReport) -> None:
    s = book.sheet(SHEETS["sla"])
    ws = s.ws
    s.title(f"投诉单填报时效  Ticket filing time (SLA) {report.period}", 8)
    s.note("接到投诉后 2 小时内填写投诉处理单,紧急时 1 小时内 [000 §5.3]。A ticket is filed within "
           "2 hours of receipt, 1 hour when urgent.", 8)
    s.row += 1
    head = s.header(["类型\nGroup", "时限 (h)\nLimit (h)", "投诉数\nTickets",
                     "可判定\nDecided", "达标\nMet", "未达标\nMissed", "达标率 %\nRate %"])
    for line in report.sla:
        r = s.line([line.label, line.limit_hours, line.tickets, line.decided, line.met,
                    line.decided - line.met, line.rate],
                   fmts=[None, "0", COUNT_FORMAT, COUNT_FORMAT, COUNT_FORMAT, COUNT_FORMAT,
                         SCORE_FORMAT])
        if line.rate is not None:
            ws.cell(row=r, column=7).fill = GOOD_FILL if line.rate == 100 else ALERT_FILL
    book.define("sla", ws, head, 1, s.row - 1, 7)
    s.row += 1
    head2 = s.header(["月份\nMonth", "", "投诉数\nTickets", "可判定\nDecided", "达标\nMet",
                      "未达标\nMissed", "达标率 %\nRate %"])
    for line in report.sla_months:
        s.line([month_label(line.label), None, line.tickets, line.decided, line.met,
                line.decided - line.met, line.rate],
               fmts=[None, None, COUNT_FORMAT, COUNT_FORMAT, COUNT_FORMAT, COUNT_FORMAT,
                     SCORE_FORMAT])
    book.define("sla_months", ws, head2, 1, s.row - 1, 7)
    s.row += 1
    missed = [t for t in report.tickets if t.sla_met is False]
    s.caption("超时的投诉单 Tickets filed late", 7)
    head3 = s.header(["投诉单号\nTicket", "客户\nCustomer", "接到\nReceived", "填单\nFiled",
                      "用时 (分钟)\nMinutes", "时限 (h)\nLimit (h)", "紧急\nUrgent"])
    for t in missed:
        s.line([t.ticket_no, t.customer, t.received_at.strftime("%Y-%m-%d %H:%M"),
                t.filed_at.strftime("%Y-%m-%d %H:%M") if t.filed_at else "",
                t.filing_minutes, t.sla_hours, "是 Yes" if t.urgent else "否 No"],
               fmts=[None, None, None, None, "0", "0"])
    if not missed:
        s.line(["无 None"])
    book.define("sla_late", ws, head3, 1, s.row - 1, 7)
    widths(ws, [16, 26, 16, 16, 11, 10, 10])
    book.print_setup(ws, 7, s.row - 1, head)


def _eightd(book: ReportBook, report: ComplaintReport) -> None:
    s = book.sheet(SHEETS["eightd"])
    ws = s.ws
    s.title(f"未关闭的 8D  Open 8D reports (as of {report.as_of.isoformat()})", 8)
    s.note("属产品质量问题的投诉需 8D 报告;D8 完成(或投诉单已结案)即关闭。天数 = 接到投诉至统计日。"
           "Quality-related complaints need an 8D; closed when D8 is done (or the ticket is "
           "closed). Age = days since receipt.", 8, height=26)
    s.row += 1
    head = s.header(["天数\nAge", "未关闭 8D\nOpen 8Ds"])
    for b in report.ages:
        s.line([b.label, b.count], fmts=[None, COUNT_FORMAT])
    last = s.row - 1
    book.define("open_8d_ages", ws, head, 1, last, 2)
    chart = bar_chart(ws, "未关闭 8D 按天数 Open 8Ds by age", values=2, labels=1, head=head,
                      last=last, colour="ED7D31")
    size(chart, 6.5, 12.0)
    ws.add_chart(chart, "D4")
    s.row = max(s.row + 1, head + 14)
    head2 = s.header(["投诉单号\nTicket", "客户\nCustomer", "类别\nCategory",
                      "接到日期\nReceived", "天数\nAge (days)", "8D 状态\nStatus",
                      "进度\nProgress"])
    for t in report.open_8d:
        zh, en = CATEGORIES.get(t.category, (t.category, t.category))
        age = t.age_days(report.as_of)
        r = s.line([t.ticket_no, t.customer, f"{zh} {en}", t.received_at.date().isoformat(),
                    age, EIGHT_D_LABELS[t.eight_d],
                    f"D{t.eight_d_progress} 完成 done" if t.eight_d_progress else "-"],
                   fmts=[None, None, None, None, COUNT_FORMAT])
        if age > 60:
            ws.cell(row=r, column=5).fill = ALERT_FILL
    if not report.open_8d:
        s.line(["无 None"])
    book.define("open_8d", ws, head2, 1, max(s.row - 1, head2), 7)
    widths(ws, [16, 26, 18, 12, 10, 20, 14])
    book.print_setup(ws, 8, s.row - 1, head2)


def _customers(book: ReportBook, report: ComplaintReport) -> None:
    s = book.sheet(SHEETS["customers"])
    ws = s.ws
    s.title(f"投诉最多的客户  Customers with the most complaints {report.period}", 10)
    s.row += 1
    head = s.header(["排名\nRank", "客户\nCustomer", "投诉件数\nComplaints",
                     "质量相关\nQuality", "占比 %\nShare %"])
    for n, c in enumerate(report.top_customers, start=1):
        s.line([n, c.customer, c.count, c.quality_related, c.pct],
               fmts=[COUNT_FORMAT, None, COUNT_FORMAT, COUNT_FORMAT, SCORE_FORMAT])
    last = s.row - 1
    if last == head:
        s.line(["", "本期无投诉 No complaints in the period"])
    book.define("top_customers", ws, head, 1, max(last, head), 5)
    if last > head:
        chart = bar_chart(ws, "投诉件数 Complaints by customer", values=3, labels=2, head=head,
                          last=last, horizontal=True)
        size(chart, max(6.0, 0.8 * (last - head) + 2.5), 14.0)
        ws.add_chart(chart, "G3")
    widths(ws, [6, 30, 10, 9, 9])
    book.print_setup(ws, 14, max(s.row, 22), one_page=True)


def _tickets(book: ReportBook, report: ComplaintReport) -> None:
    s = book.sheet(SHEETS["tickets"])
    ws = s.ws
    last_col = 11
    s.title(f"投诉明细  Complaint tickets {report.period}", last_col)
    s.row += 1
    head = s.header(["投诉单号\nTicket", "客户\nCustomer", "类别\nCategory",
                     "接到\nReceived", "用时 (分钟)\nMinutes", "时效\nSLA", "紧急\nUrgent",
                     "8D", "结案\nClosed", "投诉内容\nDescription", "记录\nRecord"])
    for t in report.tickets:
        zh, en = CATEGORIES.get(t.category, (t.category, t.category))
        sla = "-" if t.sla_met is None else "达标 met" if t.sla_met else "超时 late"
        r = s.line([t.ticket_no, t.customer, f"{zh}\n{en}",
                    t.received_at.strftime("%Y-%m-%d %H:%M"), t.filing_minutes, sla,
                    "是 Yes" if t.urgent else "", EIGHT_D_LABELS[t.eight_d],
                    t.closed_on.isoformat() if t.closed_on else "",
                    " ".join(t.description.split())[:120], t.record_id],
                   fmts=[None, None, None, None, "0"])
        for c in range(1, last_col + 1):
            ws.cell(row=r, column=c).alignment = TOP_LEFT
        ws.row_dimensions[r].height = 27
        if t.sla_met is False:
            ws.cell(row=r, column=6).fill = ALERT_FILL
    book.define("tickets", ws, head, 1, max(s.row - 1, head), last_col)
    widths(ws, [13, 22, 14, 15, 9, 9, 7, 14, 11, 40, 21])
    ws.freeze_panes = f"A{head + 1}"
    book.print_setup(ws, last_col, s.row - 1, head)


def _summary(book: ReportBook, report: ComplaintReport) -> None:
    last_col = 14
    s = book.summary(SHEETS["summary"], last_col=last_col,
                     heading=f"{TITLE_ZH} {report.period}  {TITLE_EN} {report.period}",
                     note=f"本期 {report.period},对比上期 {report.previous_period};统计截至 "
                     f"{report.as_of.isoformat()}。This period {report.period} against "
                     f"{report.previous_period}; as of {report.as_of.isoformat()}.")
    ws = s.ws
    figures = report.key_figures()
    change = figures["change_pct"]
    top_cause = figures["top_cause"]
    top_customer = figures["top_customer"]
    book.key_figures(s, "kpis", value_cols=3, rows=[
        ("本期投诉 Complaints this period", figures["complaints"]),
        ("上期投诉 Previous period", figures["previous"]),
        ("增减 Change", f"{figures['change']:+d}" + ("" if change is None
                                                     else f" ({change:+.1f} %)")),
        ("质量相关(需 8D) Quality-related (8D due)", figures["quality_related"]),
        ("填单时效达标率 Filed in time", "-" if figures["sla_rate"] is None
         else f"{figures['sla_rate']} %"),
        ("未关闭 8D / 最久天数 Open 8Ds / oldest (days)",
         f"{figures['open_8d']} / {figures['oldest_open_8d_days'] or '-'}"),
        ("主要原因 Top cause", "-" if top_cause is None else
         f"{top_cause['zh']} {top_cause['en']} {top_cause['count']} ({top_cause['pct']} %)"),
        ("投诉最多的客户 Top customer", "-" if top_customer is None else
         f"{top_customer['customer']} ({top_customer['count']})"),
    ])
    s.row += 1
    s.caption(f"售后问题汇总分析表 Complaints by cause: {report.period} vs "
              f"{report.previous_period}", 5)
    head2 = s.header(["项次 No. / 产生原因 Cause", "本期件数\nThis period",
                      "上期件数\nPrevious", "增减\nChange", "备注(案例)\nRemarks (cases)"])
    for n, row in enumerate(report.compare, start=1):
        r = s.line([f"{n} {row.zh} {row.en}", row.current, row.previous, row.change,
                    row.remarks], fmts=[None, COUNT_FORMAT, COUNT_FORMAT, SIGNED_FORMAT])
        ws.cell(row=r, column=5).alignment = TOP_LEFT
        if row.change > 0:
            ws.cell(row=r, column=4).fill = ALERT_FILL
        ws.row_dimensions[r].height = 24 if len(row.remarks) > 30 else 15
    total = s.line(["合计 Total", sum(r.current for r in report.compare),
                    sum(r.previous for r in report.compare),
                    sum(r.change for r in report.compare), None],
                   fmts=[None, COUNT_FORMAT, COUNT_FORMAT, SIGNED_FORMAT], bold=True,
                   fill=TOTAL_FILL)
    book.define("period_compare", ws, head2, 1, total, 5)
    widths(ws, [34, 10, 10, 8, 40, 2])
    pareto_head, pareto_last = book.places["pareto"]
    if pareto_last > pareto_head:
        chart = _pareto_chart(book.wb[SHEETS["pareto"]], report, pareto_head, pareto_last)
        size(chart, 7.5, 14.5)
        ws.add_chart(chart, "G4")
    month_head, month_last = book.places["monthly"]
    trend = _trend_chart(book.wb[SHEETS["monthly"]], report, month_head, month_last)
    size(trend, 8.0, 15.0)
    trend.gapWidth = 60
    ws.add_chart(trend, "G20")
    book.print_setup(ws, last_col, max(s.row - 1, 34), one_page=True)


def write_complaints(report: ComplaintReport, path: str | os.PathLike[str], *,
                     company: str = "", document_no: str = "") -> Path:
    """Render the report as an .xlsx at ``path`` (folders created); returns the path."""
    book = ReportBook(title=f"{TITLE_ZH} {report.period} {TITLE_EN}", company=company,
                      document_no=document_no)
    for sheet in (_monthly, _pareto, _sla, _eightd, _customers, _tickets, _summary):
        sheet(book, report)
    return book.save(path, f"{TITLE_ZH} {report.period}")


def save_complaints(workspace: Workspace, year: int, month: int | None = None,
                    path: str | os.PathLike[str] | None = None,
                    as_of: date | None = None, *,
                    site: str | None = None) -> tuple[ComplaintReport, Path]:
    """Build the report from the ledger (of one ``site``, or of all) and write it (default
    ``outbox/reports/complaints-<period>[-<site>].xlsx``); returns the data and the path."""
    report = complaint_report(workspace, year, month, as_of, site=site)
    target = Path(path) if path else \
        workspace.outbox / "reports" / f"complaints-{report.period}{site_suffix(site)}.xlsx"
    return report, write_complaints(report, target,
                                    **workspace_labels(workspace, REPORT_ID, site))
