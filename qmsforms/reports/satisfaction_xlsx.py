"""The satisfaction report as a workbook: `write_satisfaction` renders a `SatisfactionReport`.

Sheets: a one-page summary for the management review (key figures, bands, customers for the
review, the company line chart and the annual scores as bars), the customers × months matrix
coloured by band, the annual table, the company's months with a line chart, survey item
averages with a bar chart (weakest first, flagged items red), the alerts with the action each
requires, and on-time delivery. Every sheet prints A4 landscape, one page wide.

Named places (workbook-scoped; each table includes its header row and its label column):
``summary``, ``band_counts``, ``review``, ``matrix``, ``matrix_company``, ``annual_table``,
``company_monthly``, ``survey_items``, ``survey_scores``, ``alerts``, ``delivery_matrix``.
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl.chart import LineChart, Reference
from openpyxl.chart.legend import Legend
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from ..excel.style import CENTER, TOP_LEFT, TOTAL_FILL, font
from ..scoring import Alert
from ..scoring.rounding import rounded
from .charts import BAR_BLUE, FLAG_RED, bar_chart, chart_title, size
from .common import (
    COUNT_FORMAT,
    SCORE_FORMAT,
    band_colour,
    band_rules,
    fit_rows,
    month_label,
    site_suffix,
    widths,
    workspace_labels,
)
from .delivery import DeliveryMonth
from .satisfaction import (
    REPORT_ID,
    TITLE_EN,
    TITLE_ZH,
    CustomerYear,
    SatisfactionReport,
    satisfaction_report,
)
from .workbook import ReportBook

if TYPE_CHECKING:
    from ..workspace import Workspace

KIND_LABELS = {
    "month_below_target": "月度低于目标\nMonth below target",
    "year_below_target": "年度低于目标\nYear below target",
}
BASIS_LABELS = {"monthly": "月均\nmonthly mean", "survey": "仅调查\nsurvey only"}
SHEETS = {
    "summary": "摘要 Summary",
    "matrix": "月度矩阵 Monthly",
    "annual": "年度 Annual",
    "company": "公司月度 Company",
    "items": "调查项目 Survey items",
    "alerts": "预警 Alerts",
    "delivery": "准时交付 Delivery",
}


def _responsible(alert: Alert) -> str:
    if alert.responsible_zh or alert.responsible_en:
        return f"{alert.responsible_zh}\n{alert.responsible_en}".strip()
    if alert.kind == "month_below_target":
        return "营业部 → 责任部门\nSales → responsible dept."
    return "管理评审\nManagement review"


def _basis(c: CustomerYear) -> str:
    if c.annual.basis == "monthly+survey":
        w = c.survey_weight
        return f"月均×{1 - w:g} + 调查×{w:g}\nmonthly×{1 - w:g} + survey×{w:g}"
    return BASIS_LABELS[c.annual.basis]


def _matrix(book: ReportBook, report: SatisfactionReport) -> None:
    s = book.sheet(SHEETS["matrix"])
    ws = s.ws
    last_col = 15
    s.title(f"{report.year} 年顾客满意度月度得分  Monthly satisfaction scores {report.year}",
            last_col)
    s.note("每月顾客满意度监测评价表总分(每张表的最新修订);空白 = 该月未评价;颜色为等级。"
           "Monthly monitoring totals (latest revision of each sheet); blank = not evaluated; "
           "colour = band.", last_col, height=26)
    s.put(s.row, 1, "等级 Bands:", border=False, size=9)
    for i, band in enumerate(sorted(report.bands, key=lambda b: b.min, reverse=True)):
        colour = band_colour(band.key, i)
        s.put(s.row, 2 + 2 * i, f"≥{band.min:g} {band.zh} {band.en}", size=8,
              fill=PatternFill("solid", fgColor=colour), align=CENTER)
        ws.merge_cells(start_row=s.row, start_column=2 + 2 * i, end_row=s.row,
                       end_column=3 + 2 * i)
    ws.row_dimensions[s.row].height = 24
    s.row += 2
    head = s.header(["客户\nCustomer", *(month_label(m) for m in report.months),
                     "月均\nMean", "评价月数\nMonths"])
    for c in report.customers:
        values = [c.monthly.get(m) for m in report.months]
        s.line([c.customer, *values, c.annual.monthly_mean, len(c.monthly)],
               fmts=[None, *[SCORE_FORMAT] * 13, COUNT_FORMAT])
    last = s.row - 1
    book.define("matrix", ws, head, 1, max(last, head), 13)
    company = s.line(["公司 Company", *(report.company.get(m) for m in report.months),
                      report.company_mean,
                      sum(1 for c in report.customers if c.monthly)],
                     fmts=[None, *[SCORE_FORMAT] * 13, COUNT_FORMAT], bold=True,
                     fill=TOTAL_FILL)
    book.define("matrix_company", ws, company, 1, company, 13)
    band_rules(ws, f"B{head + 1}:N{company}", report.bands)
    widths(ws, [30, *[7.2] * 12, 7.5, 8])
    ws.freeze_panes = f"B{head + 1}"
    book.print_setup(ws, last_col, company, head)


def _annual(book: ReportBook, report: SatisfactionReport) -> None:
    s = book.sheet(SHEETS["annual"])
    ws = s.ws
    last_col = 11
    s.title(f"{report.year} 年度顾客满意度  Annual satisfaction {report.year}", last_col)
    s.note("年度得分按各顾客的评分政策:monitoring-000 年度 = 月均(有调查时 0.5 月均 + 0.5 调查);"
           "automotive-qdo 年度 = 0.8 月均 + 0.2 调查。不足 12 个月为不完整。"
           "Annual score by each customer's policy; fewer than 12 months is incomplete.",
           last_col, height=28)
    s.row += 1
    head = s.header(["客户\nCustomer", "评分政策\nPolicy", "月均\nMonthly mean",
                     "调查得分\nSurvey", "年度得分\nAnnual", "等级\nBand", "评价月数\nMonths",
                     "完整\nComplete", "目标\nTarget", "计算\nBasis", "缺少月份\nMissing months"],
                    height=32)
    for c in report.customers:
        a = c.annual
        complete = "是 Yes" if a.complete else "否 No"
        missing = ", ".join(m[5:] for m in a.missing_months) if a.months else "全年 all"
        r = s.line([a.customer, f"{a.policy.id} v{a.policy.version}", a.monthly_mean,
                    a.survey_score, a.score, f"{a.band.zh}\n{a.band.en}",
                    f"{len(a.months)}/{a.months_expected}", complete, a.target, _basis(c),
                    "" if a.complete else missing],
                   fmts=[None, None, SCORE_FORMAT, SCORE_FORMAT, SCORE_FORMAT, None, None,
                         None, SCORE_FORMAT])
        index = [b.key for b in report.bands].index(a.band.key) \
            if a.band.key in [b.key for b in report.bands] else 0
        colour = band_colour(a.band.key, index)
        ws.cell(row=r, column=6).fill = PatternFill("solid", fgColor=colour)
        ws.cell(row=r, column=5).font = font(9, True, FLAG_RED if a.below_target else None)
    last = s.row - 1
    book.define("annual_table", ws, head, 1, max(last, head), last_col)
    book.places["annual"] = (head, last)
    if last > head:
        band_rules(ws, f"E{head + 1}:E{last}", report.bands)
        fit_rows(s, head + 1, last, {1: 26, 10: 20, 11: 18})
    widths(ws, [26, 16, 11, 10, 10, 11, 9, 9, 8, 22, 18])
    ws.freeze_panes = f"B{head + 1}"
    book.print_setup(ws, last_col, max(last, head), head)


def _company(book: ReportBook, report: SatisfactionReport) -> None:
    s = book.sheet(SHEETS["company"])
    ws = s.ws
    s.title(f"公司月度顾客满意度  Company monthly satisfaction {report.year}", 12)
    s.note("公司月度得分 = 当月各被评价顾客总分的平均值。Company figure = the mean over the "
           "customers evaluated that month.", 12)
    s.row += 1
    head = s.header(["月份\nMonth", "公司得分\nCompany", "目标\nTarget",
                     "评价顾客数\nCustomers"])
    for m in report.months:
        evaluated = sum(1 for c in report.customers if m in c.monthly)
        s.line([month_label(m), report.company.get(m), report.monthly_target, evaluated],
               fmts=[None, SCORE_FORMAT, SCORE_FORMAT, COUNT_FORMAT], align=CENTER)
    last = s.row - 1
    book.define("company_monthly", ws, head, 1, last, 4)
    book.places["company"] = (head, last)
    mean = s.line(["全年平均 Year", report.company_mean, report.monthly_target, None],
                  fmts=[None, SCORE_FORMAT, SCORE_FORMAT], bold=True, fill=TOTAL_FILL)
    widths(ws, [14, 11, 9, 11])
    ws.add_chart(_company_chart(ws, report, head, last), "F4")
    book.print_setup(ws, 14, max(mean, 24), one_page=True)


def _company_chart(ws: Worksheet, report: SatisfactionReport, head: int, last: int) -> LineChart:
    chart = LineChart()
    chart.title = chart_title(f"公司月度满意度 Company monthly satisfaction {report.year}")
    chart.y_axis.title = "得分 Score"
    chart.add_data(Reference(ws, min_col=2, max_col=3, min_row=head, max_row=last),
                   titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=head + 1, max_row=last))
    lowest = min([*report.company.values(), report.monthly_target])
    chart.y_axis.scaling.min = max(0.0, float(lowest // 10 * 10 - 10))
    chart.y_axis.scaling.max = 100
    chart.y_axis.number_format = "0"
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    company, target = chart.series
    company.marker.symbol = "circle"
    company.graphicalProperties.line.solidFill = "2F5597"
    company.graphicalProperties.line.width = 28575
    target.graphicalProperties.line.solidFill = FLAG_RED
    target.graphicalProperties.line.dashStyle = "dash"
    target.smooth = company.smooth = False
    chart.legend = Legend(legendPos="b")
    size(chart, 8.5, 17.0)
    return chart


def _items(book: ReportBook, report: SatisfactionReport) -> None:
    s = book.sheet(SHEETS["items"])
    ws = s.ws
    last_col = 16
    s.title(f"调查项目平均得分  Survey item averages {report.year}", last_col)
    threshold = report.items[0].flag_below_pct if report.items else Decimal(80)
    s.note(f"本年度回收的调查表中各项目的平均百分数,由低到高;低于 {threshold:g}% 的项目需跟进"
           f"(红色)。Item averages over the year's returned surveys, weakest first; items "
           f"below {threshold:g} % need follow-up (red).", last_col, height=26)
    s.row += 1
    head = s.header(["项目\nItem", "权重\nWeight", "回答数\nAnswers", "平均 %\nMean %",
                     "1–2 级\nLevel 1–2", "跟进\nFollow-up"])
    for item in report.items:
        r = s.line([f"{item.zh} {item.en}", item.weight, item.answers, item.mean_pct,
                    item.low_answers, "需跟进 follow up" if item.flagged else ""],
                   fmts=[None, "0", COUNT_FORMAT, SCORE_FORMAT, COUNT_FORMAT])
        if item.flagged:
            ws.cell(row=r, column=4).font = font(9, True, FLAG_RED)
    last = s.row - 1
    book.define("survey_items", ws, head, 1, max(last, head), 6)
    if report.items:
        chart = bar_chart(ws, "调查项目平均 % (最弱在上) Item averages, weakest first", values=4,
                          labels=1, head=head, last=last, horizontal=True, top=100, step=20,
                          colour=BAR_BLUE,
                          flagged=[i for i, item in enumerate(report.items) if item.flagged])
        size(chart, max(7.0, 0.75 * len(report.items) + 2.5), 16.0)
        ws.add_chart(chart, "H4")
    s.row = max(s.row + 1, head + 22)
    s.caption("回收的调查表 Returned surveys", 6)
    head2 = s.header(["客户\nCustomer", "期间\nPeriod", "得分\nScore", "等级\nBand",
                      "CSAT %\ntop-2-box", "记录\nRecord"])
    for sv in report.surveys:
        s.line([sv.customer, sv.period, sv.score, f"{sv.band_zh} {sv.band_en}", sv.csat_pct,
                sv.record_id], fmts=[None, None, SCORE_FORMAT, None, SCORE_FORMAT])
    book.define("survey_scores", ws, head2, 1, max(s.row - 1, head2), 6)
    widths(ws, [30, 8, 8, 9, 9, 24])
    book.print_setup(ws, last_col, s.row - 1, one_page=True)


def _alerts(book: ReportBook, report: SatisfactionReport) -> None:
    s = book.sheet(SHEETS["alerts"])
    ws = s.ws
    last_col = 8
    s.title(f"预警与改进要求  Alerts and actions required {report.year}", last_col)
    s.note("某一评价项目连续三个月扣分、月度得分低于目标(由责任部门分析原因并拿出改进措施),"
           "年度得分低于目标(在管理评审中提出改善措施)。A category losing points three months "
           "running or a month below target needs an improvement action by the responsible "
           "department; a year below target goes to the management review.", last_col,
           height=40)
    s.row += 1
    head = s.header(["序号\nNo.", "类型\nKind", "客户\nCustomer", "类别\nCategory",
                     "月份\nMonths", "得分 / 目标\nScore / target", "责任部门\nResponsible",
                     "改进要求\nAction required"], height=32)
    for n, alert in enumerate(report.alerts, start=1):
        months = alert.months[0] if len(alert.months) == 1 else \
            f"{alert.months[0]} – {alert.months[-1]}\n({len(alert.months)} 个月 months)"
        category = f"{alert.category_zh}\n{alert.category_en}" if alert.category else ""
        value = "" if alert.value is None else f"{alert.value:g} / {alert.target:g}"
        kind = KIND_LABELS.get(alert.kind) or \
            f"连续 {len(alert.months)} 个月扣分\n{len(alert.months)} months running"
        s.line([n, kind, alert.customer, category, months, value,
                _responsible(alert), f"{alert.message_zh}\n{alert.message_en}"],
               fmts=[COUNT_FORMAT])
    last = s.row - 1
    if last > head:
        for r in range(head + 1, last + 1):
            for c in range(1, last_col + 1):
                ws.cell(row=r, column=c).alignment = TOP_LEFT if c > 1 else CENTER
        fit_rows(s, head + 1, last, {2: 14, 3: 22, 4: 16, 5: 17, 7: 17, 8: 60})
    else:
        s.line(["", "无预警 No alerts"])
    book.define("alerts", ws, head, 1, max(last, head), last_col)
    widths(ws, [5, 14, 22, 16, 17, 10, 17, 60])
    book.print_setup(ws, last_col, s.row - 1, head)


def _delivery(book: ReportBook, report: SatisfactionReport) -> None:
    s = book.sheet(SHEETS["delivery"])
    ws = s.ws
    last_col = 16
    s.title(f"准时交付率 (发货单)  On-time delivery from shipping lists {report.year}",
            last_col)
    s.note("按计划交货日期所在月份统计,实际交货日期不晚于计划日期为准时;可作为月度监测评价表"
           "“顾客要求的绩效”输入(qmsforms monitoring issue)。By month of the planned date; on "
           "time when delivered on or before it. Offered as the monitoring sheet's performance "
           "input (qmsforms monitoring issue).", last_col, height=28)
    s.row += 1
    head = s.header(["客户\nCustomer", *(month_label(m) for m in report.months),
                     "全年 %\nYear %", "批数\nDeliveries", "延误\nLate"])
    per: dict[str, dict[str, DeliveryMonth]] = defaultdict(dict)
    for d in report.delivery:
        per[d.customer][d.month] = d
    for customer in sorted(per):
        months = per[customer]
        total = sum(d.deliveries for d in months.values())
        on_time = sum(d.on_time for d in months.values())
        s.line([customer, *(months[m].rate if m in months else None for m in report.months),
                rounded(Decimal(100) * on_time / total, 1), total, total - on_time],
               fmts=[None, *[SCORE_FORMAT] * 13, COUNT_FORMAT, COUNT_FORMAT])
    last = s.row - 1
    book.define("delivery_matrix", ws, head, 1, max(last, head), 14)
    if last > head:
        ws.conditional_formatting.add(f"B{head + 1}:N{last}", ColorScaleRule(
            start_type="num", start_value=80, start_color="F8696B",
            mid_type="num", mid_value=95, mid_color="FFEB84",
            end_type="num", end_value=100, end_color="63BE7B"))
    else:
        s.line(["无同时填写计划与实际交货日期的发货单 No shipping lists with both dates"])
    widths(ws, [30, *[7.2] * 12, 8, 9, 7])
    book.print_setup(ws, last_col, s.row - 1, head)


def _summary(book: ReportBook, report: SatisfactionReport) -> None:
    s = book.summary(SHEETS["summary"], last_col=12,
                     heading=f"{TITLE_ZH} {report.year}  {TITLE_EN} {report.year}",
                     note=f"统计截至 {report.as_of.isoformat()};评分政策 Policies: "
                     f"{', '.join(report.policies) or '-'};月度目标 monthly target "
                     f"{report.monthly_target:g},年度目标 annual target "
                     f"{report.annual_target:g}。")
    ws = s.ws

    def show(value: Any, suffix: str = "") -> Any:
        return "-" if value is None else f"{value}{suffix}" if suffix else value

    figures = report.key_figures()
    weakest = figures["weakest_item"]
    kinds = figures["alerts_by_kind"]
    book.key_figures(s, "summary", value_cols=2, rows=[
        ("评价顾客数 Customers evaluated", figures["customers"]),
        ("全年数据完整 Complete years (12 months)", figures["complete"]),
        ("公司月度平均 Company monthly mean", show(figures["company_mean"])),
        ("顾客年度得分平均 Mean annual score", show(figures["annual_mean"])),
        ("年度低于目标的顾客 Customers below target", len(figures["below_target"])),
        ("回收调查表 / 平均分 Surveys returned / mean",
         f"{figures['surveys']} / {show(figures['survey_mean'])}"),
        ("最弱调查项目 Weakest survey item",
         "-" if weakest is None else f"{weakest['zh']} {weakest['en']} {weakest['mean_pct']}%"),
        ("预警 Alerts (连续扣分 / 月度 / 年度)",
         f"{figures['alerts']} ({kinds.get('consecutive_deduction', 0)} / "
         f"{kinds.get('month_below_target', 0)} / {kinds.get('year_below_target', 0)})"),
        ("准时交付率 On-time delivery", show(figures["on_time_rate"], " %")),
    ])
    s.row += 1

    head = s.header(["等级 Band", "顾客数 Customers"], height=20)
    for i, (band, count) in enumerate(report.band_counts()):
        r = s.line([f"≥{band.min:g} {band.zh} {band.en}", count], fmts=[None, COUNT_FORMAT])
        ws.cell(row=r, column=1).fill = PatternFill("solid", fgColor=band_colour(band.key, i))
    book.define("band_counts", ws, head, 1, s.row - 1, 2)
    s.row += 1

    s.caption("提交管理评审 For the management review", 3)
    head = s.header(["顾客 Customer", "年度得分 Annual", "等级 Band"], height=20)
    review = sorted(report.below_target, key=lambda c: c.annual.score)
    for c in review:
        s.line([c.customer, c.annual.score, f"{c.annual.band.zh} {c.annual.band.en}"],
               fmts=[None, SCORE_FORMAT])
    if not review:
        s.line(["全部达标 All customers on target", None, None])
    book.define("review", ws, head, 1, s.row - 1, 3)
    last = s.row - 1

    company = _company_chart(book.wb[SHEETS["company"]], report, *book.places["company"])
    size(company, 7.5, 15.5)
    ws.add_chart(company, "E5")
    if report.customers:
        annual_head, annual_last = book.places["annual"]
        annual = bar_chart(book.wb[SHEETS["annual"]], "顾客年度得分 Annual score by customer",
                           values=5, labels=1, head=annual_head, last=annual_last, top=100,
                           step=20, colour=BAR_BLUE, flagged=[
                               i for i, c in enumerate(report.customers)
                               if c.annual.below_target])
        size(annual, 7.5, 15.5)
        ws.add_chart(annual, "E21")
    widths(ws, [40, 12, 14, 2])
    book.print_setup(ws, 12, max(last, 36), one_page=True)


def write_satisfaction(report: SatisfactionReport, path: str | os.PathLike[str], *,
                       company: str = "", document_no: str = "") -> Path:
    """Render the report as an .xlsx at ``path`` (folders created); returns the path."""
    book = ReportBook(title=f"{TITLE_ZH} {report.year} {TITLE_EN}", company=company,
                      document_no=document_no)
    for sheet in (_matrix, _annual, _company, _items, _alerts, _delivery, _summary):
        sheet(book, report)
    return book.save(path, f"{TITLE_ZH} {report.year}")


def save_satisfaction(workspace: Workspace, year: int,
                      path: str | os.PathLike[str] | None = None,
                      as_of: date | None = None, *,
                      site: str | None = None) -> tuple[SatisfactionReport, Path]:
    """Build the year's report from the ledger (of one ``site``, or of all) and write it
    (default ``outbox/reports/satisfaction-<year>[-<site>].xlsx``); returns the data and the
    path."""
    report = satisfaction_report(workspace, year, as_of, site=site)
    target = Path(path) if path else \
        workspace.outbox / "reports" / f"satisfaction-{year}{site_suffix(site)}.xlsx"
    return report, write_satisfaction(report, target,
                                      **workspace_labels(workspace, REPORT_ID, site))
