"""纠正/预防措施登记表 — the action register for the weekly quality meeting, as a workbook.

`write_action_register` writes every corrective/preventive action (``ActionView.to_dict()``
dicts: number, source, customer, problem, department, raised, due, status, link) as one row,
with its age in days and overdue actions highlighted; the header row is frozen and filtered,
and the sheet prints A4 landscape, one page wide, the header repeated on each page.

Named places: ``register`` (header and rows), ``register_counts``.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl.styles import Alignment

from ..excel.style import ALERT_FILL, GOOD_FILL, TOP_LEFT
from ..excel.text_width import wrapped_lines
from .common import COUNT_FORMAT, widths
from .workbook import ReportBook

if TYPE_CHECKING:
    from ..workspace import Workspace

REGISTER_ID = "action-register"
"""The id under which ``qmsforms.toml`` may give the register a document number."""
TITLE_ZH = "纠正/预防措施登记表"
TITLE_EN = "Corrective / Preventive Action Register"
SOURCES: dict[str, tuple[str, str]] = {
    "complaint": ("客户投诉", "Complaint"),
    "monitoring_streak": ("连续三个月扣分", "3 months of deductions"),
    "month_below_target": ("月度得分未达标", "Month below target"),
    "year_below_target": ("年度满意度未达标", "Year below target"),
    "survey_item": ("调查项目不满意", "Survey item dissatisfied"),
    "survey_below_target": ("调查得分未达标", "Survey below target"),
    "suggestion": ("客户建议", "Customer suggestion"),
    "other": ("其他", "Other"),
}
"""Bilingual labels of the action sources (SPEC §8)."""
STATUSES: dict[str, tuple[str, str]] = {
    "open": ("未开始", "Open"),
    "in_progress": ("进行中", "In progress"),
    "verified": ("已验证", "Verified"),
    "closed": ("已关闭", "Closed"),
}
"""Bilingual labels of the action statuses, in their order."""
TOP_RIGHT = Alignment(horizontal="right", vertical="top")
FORMS = {"corrective-action": "纠正措施单 CA", "8d-report": "8D"}


WIDTHS = (14, 18, 22, 40, 18, 11, 11, 7, 13, 8, 20)
"""The register's column widths (characters)."""


def source_label(key: str) -> str:
    """``客户投诉 Complaint`` for ``complaint`` (the key itself when unknown)."""
    zh, en = SOURCES.get(key, (key, key))
    return f"{zh} {en}"


def status_label(key: str) -> str:
    """``进行中 In progress`` for ``in_progress``."""
    zh, en = STATUSES.get(key, (key, key))
    return f"{zh} {en}"


def _link(link: Mapping[str, Any] | None) -> str:
    if not link:
        return ""
    form = FORMS.get(str(link.get("form")), str(link.get("form") or ""))
    return f"{form} {link.get('record_id') or ''}".strip()


def _age(action: Mapping[str, Any], today: date) -> int | None:
    if action.get("age_days") is not None:
        return int(action["age_days"])
    try:
        return (today - date.fromisoformat(str(action.get("raised_on")))).days
    except ValueError:
        return None


def write_action_register(actions: Sequence[Mapping[str, Any]], path: str | os.PathLike[str],
                          today: date | None = None, *, company: str = "",
                          document_no: str = "") -> Path:
    """Write the register of ``actions`` (``ActionView.to_dict()`` dicts) at ``path``.

    Rows in the order given (the register's: by action number); ``today`` is the day the
    register is printed for (the age of an action without ``age_days`` is counted to it).
    """
    today = today or date.today()
    book = ReportBook(title=f"{TITLE_ZH} {TITLE_EN}", company=company, document_no=document_no)
    last_col = 11
    s = book.summary("措施登记 Register", last_col=last_col,
                     heading=f"{TITLE_ZH}  {TITLE_EN}",
                     note=f"截至 {today.isoformat()};红色为逾期(已过要求完成日期且未验证)。"
                     f"As of {today.isoformat()}; red rows are overdue (past due, not "
                     "verified).")
    ws = s.ws
    status = Counter(str(a.get("status")) for a in actions)
    overdue = sum(bool(a.get("overdue")) for a in actions)
    counts = s.header(["合计 Total", *(status_label(k) for k in STATUSES), "逾期 Overdue"],
                      height=20)
    s.line([len(actions), *(status[k] for k in STATUSES), overdue],
           fmts=[COUNT_FORMAT] * 6)
    book.define("register_counts", ws, counts, 1, counts + 1, 6)
    s.row += 1
    head = s.header(["编号\nNo.", "来源\nSource", "客户\nCustomer", "问题描述\nProblem",
                     "责任部门\nDepartment", "提出日期\nRaised", "要求完成\nDue",
                     "天数\nAge", "状态\nStatus", "逾期\nOverdue", "关联\nLink"])
    for a in actions:
        problem = str(a.get("problem_zh") or "")
        if a.get("problem_en") and a.get("problem_en") != problem:
            problem = f"{problem}\n{a['problem_en']}" if problem else str(a["problem_en"])
        dept = " ".join(str(a.get(k) or "") for k in ("department_zh", "department_en")
                        ).strip()
        late = bool(a.get("overdue"))
        r = s.line([a.get("action_id") or "", source_label(str(a.get("source") or "")),
                    a.get("customer") or "", problem, dept, a.get("raised_on") or "",
                    a.get("due") or "", _age(a, today), status_label(str(a.get("status"))),
                    "是 Yes" if late else "", _link(a.get("link"))],
                   fmts=[None] * 7 + [COUNT_FORMAT])
        for c in range(1, last_col + 1):
            cell = ws.cell(row=r, column=c)
            cell.alignment = TOP_RIGHT if c == 8 else TOP_LEFT
            if late:
                cell.fill = ALERT_FILL
            elif a.get("status") in ("verified", "closed") and c == 9:
                cell.fill = GOOD_FILL
        # 9-point text: a column holds 11/9 of its width in characters, a line is 12 pt;
        # LibreOffice prints a row no taller than it is set
        lines = max(wrapped_lines(ws.cell(row=r, column=c).value, WIDTHS[c - 1] * 11 // 9)
                    for c in range(1, last_col + 1))
        ws.row_dimensions[r].height = 12 * lines + 3
    if not actions:
        s.line(["", "无措施 No actions"])
    last = max(s.row - 1, head)
    book.define("register", ws, head, 1, last, last_col)
    ws.auto_filter.ref = f"A{head}:{ws.cell(row=last, column=last_col).coordinate}"
    ws.freeze_panes = f"A{head + 1}"
    widths(ws, list(WIDTHS))
    book.print_setup(ws, last_col, last, head)
    return book.save(path, TITLE_ZH)


def save_action_register(workspace: Workspace, path: str | os.PathLike[str] | None = None,
                         today: date | None = None,
                         site: str | None = None) -> tuple[list[dict[str, Any]], Path]:
    """Write the register of every action of ``workspace`` (of one ``site``, or of all;
    default ``outbox/reports/actions-<today>[-<site>].xlsx``); returns the actions and the
    path."""
    from .common import site_suffix, workspace_labels
    from .review import actions_for_report

    today = today or date.today()
    actions = actions_for_report(workspace, site)
    target = path or \
        workspace.outbox / "reports" / f"actions-{today.isoformat()}{site_suffix(site)}.xlsx"
    return actions, write_action_register(actions, target, today,
                                          **workspace_labels(workspace, REGISTER_ID, site))
