"""The management-review pack as a workbook: `write_review` renders a `ReviewPack`.

One workbook a quality manager takes into the review as it is. Sheets: the scorecard (each KPI
against its target, met ✓ / ✗ in colour, month by month; under it the conclusions to write in
and the sign-off 编制 / 审核 / 批准 with dates), satisfaction by customer beside the previous
year with a bar chart, the complaint Pareto by category and by responsible department with
Pareto charts, PPM per customer with this month against last month (seed 004's 售后问题汇总
分析表), and the actions raised by source and by department. A4 landscape, one page wide.

Named places: ``scorecard``, ``conclusions``, ``signoff``, ``satisfaction_table``,
``pareto_category``, ``pareto_cause``, ``ppm_table``, ``month_compare``, ``actions_total``,
``actions_by_source``, ``actions_by_department``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl.chart import BarChart, Reference
from openpyxl.chart.legend import Legend
from openpyxl.styles import Alignment, Border, Side

from ..excel.style import ALERT_FILL, GOOD_FILL, LEFT, TOTAL_FILL, font
from .actions_xlsx import SOURCES, source_label
from .charts import BAR_BLUE, chart_title, pareto_chart, size
from .common import COUNT_FORMAT, SCORE_FORMAT, SIGNED_FORMAT, Sheet, month_label, widths
from .review import (
    REPORT_ID,
    TITLE_EN,
    TITLE_ZH,
    ReviewPack,
    review_pack,
)
from .review_rows import ActionCounts, Pareto
from .workbook import ReportBook

if TYPE_CHECKING:
    from ..workspace import Workspace

SHEETS = {
    "scorecard": "评分卡 Scorecard",
    "satisfaction": "满意度 Satisfaction",
    "pareto": "投诉帕累托 Pareto",
    "ppm": "投诉PPM PPM",
    "actions": "纠正措施 Actions",
}
MET = "✓ 达标 met"
NOT_MET = "✗ 未达标 not met"
NO_DATA = "- 无数据 no data"
TRENDS = {"up": "↑ 上升 up", "down": "↓ 下降 down", "same": "→ 持平 same", None: "-"}
CONCLUSION_LINES = 7
_THIN = Side(style="thin", color="808080")
_HAIR = Side(style="hair", color="A6A6A6")


def _target(target: Decimal, comparison: str) -> str:
    return f"{'≥' if comparison == 'min' else '≤'} {target.normalize():f}"


def _scorecard(book: ReportBook, pack: ReviewPack) -> None:
    n = len(pack.months)
    last_col = 5 + n
    s = book.summary(
        SHEETS["scorecard"], last_col=last_col,
        heading=f"{TITLE_ZH} {pack.period}  {TITLE_EN} {pack.period}",
        note=f"期间 {pack.months[0]} – {pack.months[-1]};目标取自 {pack.policy};统计日 "
        f"{pack.as_of.isoformat()}。Period {pack.months[0]} to {pack.months[-1]}; targets "
        f"from {pack.policy}; as of {pack.as_of.isoformat()}.")
    ws = s.ws
    head = s.header(["指标\nKPI", "单位\nUnit", "目标\nTarget", "本期\nValue",
                     "达标\nMet", *(month_label(m) for m in pack.months)])
    for k in pack.kpis:
        value: Any = k.value if k.value is not None else \
            ("未记录 not recorded" if k.key == "excess_freight" else "-")
        r = s.line([f"{k.zh}\n{k.en}", k.unit, _target(k.target, k.comparison), value,
                    MET if k.met else NO_DATA if k.met is None else NOT_MET,
                    *k.by_month.values()],
                   fmts=[None, None, None, SCORE_FORMAT, None, *[SCORE_FORMAT] * n])
        ws.row_dimensions[r].height = 27
        for c in (4, 5):
            if k.met is not None:
                ws.cell(row=r, column=c).fill = GOOD_FILL if k.met else ALERT_FILL
            ws.cell(row=r, column=c).font = font(9, True)
        for offset, month_value in enumerate(k.by_month.values()):
            if month_value is not None:
                met = month_value >= k.target if k.comparison == "min" else \
                    month_value <= k.target
                ws.cell(row=r, column=6 + offset).fill = GOOD_FILL if met else ALERT_FILL
    book.define("scorecard", ws, head, 1, s.row - 1, last_col)
    s.note("绿色达标,红色未达标;月度值按同一目标着色。超额运费:尚无表单记录金额时为“未记录”。"
           "Green met, red not met; months coloured against the same target. Excess freight "
           "is “not recorded” until a form records the amount.", last_col, height=26)
    s.row += 1
    _conclusions(book, s, last_col)
    s.row += 1
    column_widths = [24, 7, 9, 11, 13, *[6.6] * n]
    _signoff(book, s, column_widths)
    widths(ws, column_widths)
    book.print_setup(ws, last_col, s.row - 1, one_page=True)


def _conclusions(book: ReportBook, s: Sheet, last_col: int) -> None:
    """A bordered box of empty ruled lines to write the review's conclusions in."""
    ws = s.ws
    s.caption("评审结论与改进方向 Conclusions and improvement actions", last_col)
    first = s.row
    for line in range(CONCLUSION_LINES):
        ws.merge_cells(start_row=s.row, start_column=1, end_row=s.row, end_column=last_col)
        for c in range(1, last_col + 1):
            ws.cell(row=s.row, column=c).border = Border(
                left=_THIN if c == 1 else None, right=_THIN if c == last_col else None,
                top=_THIN if line == 0 else None,
                bottom=_THIN if line == CONCLUSION_LINES - 1 else _HAIR)
        ws.row_dimensions[s.row].height = 20
        s.row += 1
    book.define("conclusions", ws, first, 1, s.row - 1, last_col)


def _thirds(column_widths: Sequence[float]) -> list[tuple[int, int]]:
    """The columns (first, last) of three blocks about equally wide."""
    total = sum(column_widths)
    ends = [sum(column_widths[:col]) for col in range(1, len(column_widths) + 1)]
    first = min(range(1, len(ends) - 1), key=lambda c: abs(ends[c - 1] - total / 3))
    second = min(range(first + 1, len(ends)), key=lambda c: abs(ends[c - 1] - 2 * total / 3))
    return [(1, first), (first + 1, second), (second + 1, len(column_widths))]


def _signoff(book: ReportBook, s: Sheet, column_widths: Sequence[float]) -> None:
    """编制 / 审核 / 批准, each with a signature and a date line, side by side."""
    ws = s.ws
    roles = ("编制 Prepared by", "审核 Reviewed by", "批准 Approved by")
    last_col = len(column_widths)
    head = s.row
    for role, (col, end) in zip(roles, _thirds(column_widths), strict=True):
        for r, text in ((s.row, role), (s.row + 1, "签名 Signature:"),
                        (s.row + 2, "日期 Date:      年    月    日")):
            ws.merge_cells(start_row=r, start_column=col, end_row=r, end_column=end)
            cell = ws.cell(row=r, column=col)
            cell.value = text
            cell.font = font(9, r == s.row)
            cell.alignment = LEFT if r > s.row else Alignment(horizontal="center",
                                                               vertical="center")
            if r == s.row:
                cell.fill = TOTAL_FILL
            for c in range(col, end + 1):
                ws.cell(row=r, column=c).border = Border(
                    left=_THIN if c == col else None, right=_THIN if c == end else None,
                    top=_THIN, bottom=_THIN)
    for r in range(s.row, s.row + 3):
        ws.row_dimensions[r].height = 18 if r == s.row else 24
    s.row += 3
    book.define("signoff", ws, head, 1, s.row - 1, last_col)


def _opened(book: ReportBook, key: str, last_col: int, title: str, note: str, *,
            height: float = 15) -> Sheet:
    """A new sheet with its title and note across ``last_col`` columns, a row free."""
    s = book.sheet(SHEETS[key])
    s.title(title, last_col)
    s.note(note, last_col, height=height)
    s.row += 1
    return s


def _satisfaction(book: ReportBook, pack: ReviewPack) -> None:
    s = _opened(book, "satisfaction", 14,
                f"顾客满意度(年度)与上年对比  Annual satisfaction, {pack.year} against "
                f"{pack.previous_year}",
                "年度得分按各客户的评价政策(月度监测与调查);按主数据客户合并。Annual score by "
                "each customer's policy (monthly monitoring and survey); one row per master "
                "customer.")
    ws = s.ws
    head = s.header(["客户\nCustomer", f"{pack.year}", f"{pack.previous_year}",
                     "增减\nChange", "趋势\nTrend", "低于目标\nBelow target"])
    for c in pack.satisfaction:
        r = s.line([c.customer, c.score, c.previous, c.change, TRENDS[c.trend],
                    "是 Yes" if c.below_target else ""],
                   fmts=[None, SCORE_FORMAT, SCORE_FORMAT, "+0.0;-0.0;0.0"])
        if c.below_target:
            ws.cell(row=r, column=2).fill = ALERT_FILL
        if c.trend == "down":
            ws.cell(row=r, column=5).fill = ALERT_FILL
        elif c.trend == "up":
            ws.cell(row=r, column=5).fill = GOOD_FILL
    last = s.row - 1
    if last == head:
        s.line(["无数据 No data"])
    book.define("satisfaction_table", ws, head, 1, max(last, head), 6)
    widths(ws, [30, 9, 9, 9, 12, 10])
    if last > head:
        chart = BarChart()
        chart.type = "bar"
        chart.title = chart_title(f"年度满意度 Annual satisfaction {pack.year} / "
                                  f"{pack.previous_year}")
        chart.add_data(Reference(ws, min_col=2, max_col=3, min_row=head, max_row=last),
                       titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=head + 1, max_row=last))
        chart.x_axis.scaling.orientation = "maxMin"
        chart.y_axis.crosses = "max"
        chart.y_axis.scaling.min = 0
        chart.y_axis.scaling.max = 100
        chart.y_axis.majorUnit = 20
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        chart.legend = Legend(legendPos="b")
        chart.series[0].graphicalProperties.solidFill = BAR_BLUE
        chart.series[1].graphicalProperties.solidFill = "A5A5A5"
        size(chart, max(7.0, 1.1 * (last - head) + 3.0), 15.0)
        ws.add_chart(chart, "H4")
    book.print_setup(ws, 16, max(s.row, 24), one_page=True)


def _pareto_table(book: ReportBook, s: Sheet, name: str, caption: str,
                  rows: Sequence[Pareto]) -> tuple[int, int]:
    s.caption(caption, 5)
    head = s.header(["序号\nNo.", "项目\nItem", "件数\nCount", "占比 %\nShare %",
                     "累计 %\nCumulative %"])
    for n, p in enumerate(rows, start=1):
        label = p.zh if p.zh == p.en else f"{p.zh} {p.en}"
        s.line([n, label, p.count, p.share, p.cumulative],
               fmts=[COUNT_FORMAT, None, COUNT_FORMAT, SCORE_FORMAT, SCORE_FORMAT])
    last = s.row - 1
    if last == head:
        s.line(["", "本期无投诉 No complaints in the period"])
    book.define(name, s.ws, head, 1, max(last, head), 5)
    return head, last


def _chart(s: Sheet, title: str, head: int, last: int) -> BarChart:
    chart = pareto_chart(s.ws, title, counts=3, labels=2, cumulative=5, head=head, last=last)
    size(chart, 7.0, 13.5)
    return chart


def _pareto(book: ReportBook, pack: ReviewPack) -> None:
    s = _opened(book, "pareto", 14, f"投诉帕累托分析  Complaint Pareto {pack.period}",
                "按投诉类别与投诉单上的责任部门(空白为“未指定”)统计,件数由多到少。"
                "By category and by the responsible department on the ticket (blank: "
                "unassigned), most frequent first.")
    ws = s.ws
    head, last = _pareto_table(book, s, "pareto_category", "按类别 By category",
                               pack.complaints.by_category)
    if last > head:
        ws.add_chart(_chart(s, f"按类别 By category {pack.period}", head, last),
                     f"G{head - 1}")
    s.row = max(s.row + 1, head + 16)
    head2, last2 = _pareto_table(book, s, "pareto_cause", "按责任部门 By department",
                                 pack.complaints.by_cause)
    if last2 > head2:
        ws.add_chart(_chart(s, f"按责任部门 By department {pack.period}", head2, last2),
                     f"G{head2 - 1}")
    widths(ws, [6, 26, 8, 9, 11])
    book.print_setup(ws, 14, max(s.row, head2 + 15), one_page=True)


def _ppm(book: ReportBook, pack: ReviewPack) -> None:
    s = _opened(book, "ppm", 5,
                f"客户投诉 PPM 与月度对比  Complaint PPM and month on month {pack.period}",
                "PPM = 本期投诉数量 ÷ 本期发货数量 × 10⁶(发货单明细数量,按发货日期)。PPM = "
                "quantity complained ÷ quantity shipped in the period × 10⁶ (shipping-list "
                "lines by ship date).", height=38)
    ws = s.ws
    c = pack.complaints
    ppm_target = pack.kpi("complaint_ppm").target
    head = s.header(["客户\nCustomer", "投诉数量\nComplained", "发货数量\nDelivered",
                     "PPM", f"目标\nTarget ≤ {ppm_target.normalize():f}"])
    for p in c.ppm:
        r = s.line([p.customer, p.complained, p.delivered, p.ppm,
                    "" if p.ppm is None else "✓" if p.ppm <= ppm_target else "✗"],
                   fmts=[None, "#,##0", "#,##0", "#,##0.0"])
        if p.ppm is not None:
            ws.cell(row=r, column=4).fill = GOOD_FILL if p.ppm <= ppm_target else ALERT_FILL
    complained = sum(p.complained for p in c.ppm)
    delivered = sum(p.delivered for p in c.ppm)
    s.line(["合计 Total", complained, delivered, pack.kpi("complaint_ppm").value, ""],
           fmts=[None, "#,##0", "#,##0", "#,##0.0"], bold=True, fill=TOTAL_FILL)
    book.define("ppm_table", ws, head, 1, s.row - 1, 5)
    s.row += 1
    s.caption(f"售后问题汇总分析表 This month {c.this_month} against last month "
              f"{c.last_month}", 5)
    head2 = s.header(["项次 No. / 产生原因 Cause", f"本月件数\n{month_label(c.this_month)}",
                      f"上月件数\n{month_label(c.last_month)}", "增减\nChange"])
    for n, m in enumerate(c.month_compare, start=1):
        r = s.line([f"{n} {m.zh} {m.en}", m.this, m.last, m.change],
                   fmts=[None, COUNT_FORMAT, COUNT_FORMAT, SIGNED_FORMAT])
        if m.change > 0:
            ws.cell(row=r, column=4).fill = ALERT_FILL
    s.line(["合计 Total", sum(m.this for m in c.month_compare),
            sum(m.last for m in c.month_compare), sum(m.change for m in c.month_compare)],
           fmts=[None, COUNT_FORMAT, COUNT_FORMAT, SIGNED_FORMAT], bold=True, fill=TOTAL_FILL)
    book.define("month_compare", ws, head2, 1, s.row - 1, 4)
    widths(ws, [34, 12, 12, 12, 12])
    book.print_setup(ws, 5, s.row - 1, one_page=True)


def _counts_table(book: ReportBook, s: Sheet, name: str, label: str,
                  rows: Mapping[str, ActionCounts], labels: Mapping[str, str]) -> None:
    head = s.header([label, "提出\nRaised", "未关闭\nOpen", "逾期\nOverdue", "已验证\nVerified",
                     "已关闭\nClosed"])
    for key, counts in rows.items():
        r = s.line([labels.get(key, key), counts.raised, counts.open, counts.overdue,
                    counts.verified, counts.closed], fmts=[None, *[COUNT_FORMAT] * 5])
        if counts.overdue:
            s.ws.cell(row=r, column=4).fill = ALERT_FILL
    if not rows:
        s.line(["无 None", 0, 0, 0, 0, 0], fmts=[None, *[COUNT_FORMAT] * 5])
    book.define(name, s.ws, head, 1, s.row - 1, 6)


def _actions(book: ReportBook, pack: ReviewPack) -> None:
    s = _opened(book, "actions", 6,
                f"纠正/预防措施  Corrective and preventive actions {pack.period}",
                "本期提出的措施;未关闭 = 未开始或进行中;逾期 = 已过要求完成日期且未验证。"
                "Actions raised in the period; open = open or in progress; overdue = past due "
                "and not verified.", height=26)
    ws = s.ws
    a = pack.actions
    _counts_table(book, s, "actions_total", "合计 Total", {"total": a.total},
                  {"total": "全部 All"})
    s.row += 1
    s.caption("按来源 By source", 6)
    _counts_table(book, s, "actions_by_source", "来源\nSource", a.by_source,
                  {k: source_label(k) for k in SOURCES})
    s.row += 1
    s.caption("按责任部门 By department", 6)
    _counts_table(book, s, "actions_by_department", "责任部门\nDepartment", a.by_department, {})
    widths(ws, [30, 10, 10, 10, 10, 10])
    book.print_setup(ws, 6, s.row - 1, one_page=True)


def write_review(pack: ReviewPack, path: str | os.PathLike[str], *, company: str = "",
                 document_no: str = "") -> Path:
    """Render the pack as an .xlsx at ``path`` (folders created); returns the path."""
    book = ReportBook(title=f"{TITLE_ZH} {pack.period} {TITLE_EN}", company=company,
                      document_no=document_no)
    _scorecard(book, pack)
    for sheet in (_satisfaction, _pareto, _ppm, _actions):
        sheet(book, pack)
    return book.save(path, f"{TITLE_ZH} {pack.period}")


def save_review(workspace: Workspace, year: int, half: str | None = None,
                path: str | os.PathLike[str] | None = None, *,
                actions: Sequence[Mapping[str, Any]] | None = None,
                today: date | None = None,
                site: str | None = None) -> tuple[ReviewPack, Path]:
    """Build the pack from the workspace (of one ``site``, or of all) and write it (default
    ``outbox/reports/review-<period>[-<site>].xlsx``); returns the data and the path."""
    from .common import site_suffix, workspace_labels

    pack = review_pack(workspace, year, half, actions=actions, today=today, site=site)
    target = Path(path) if path else \
        workspace.outbox / "reports" / f"review-{pack.period}{site_suffix(site)}.xlsx"
    return pack, write_review(pack, target, **workspace_labels(workspace, REPORT_ID, site))
