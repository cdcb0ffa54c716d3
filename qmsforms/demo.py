"""A complete run on generated sample data, through the real intake.

A fresh workspace issues personalised blanks; customers, clerks and QC staff fill them the way
people do — numbers with units, Chinese dates, ticks — and drop them into the inbox. Some come
back with mistakes, one is dropped twice, one is corrected and sent again, and one automotive
customer is scored by the QDO policy. One pass of the intake turns each file into a record or a
rejection, and the year's satisfaction is summed up from the ledger. Last, the satisfaction and
complaint reports of the year are written to ``outbox/reports/``.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from .blanks import issue_blank
from .config import CONFIG_NAME
from .excel.binding import workbook_names
from .excel.fill import fill_workbook
from .intake import Intake, Outcome, open_ledger
from .issues import UsageError
from .reports import save_complaints, save_satisfaction
from .reports.actions_xlsx import save_action_register
from .reports.review_xlsx import save_review
from .scoring import YearSummary, split_results, year_summary
from .workspace import Workspace, init_workspace

CUSTOMER = "华东汽车零部件有限公司"
AUTOMOTIVE = "一汽底盘系统有限公司"
YEAR = 2026

SAMPLES: dict[str, dict[str, Any]] = {
    "shipping-list": {
        "doc_no": "FH-20261103-01", "order_no": "PO-88213", "ship_date": "2026年11月3日",
        "planned_delivery_date": "2026-11-05", "actual_delivery_date": "2026/11/5",
        "ship_method": "freight", "carrier": "顺丰 SF1234567", "certificates_enclosed": True,
        "delivery_address": "上海市嘉定区安亭镇", "prepared_by": "赵敏",
        "lines": [
            {"part_name": "六角螺栓 M8×30", "drawing_no": "HB-0830", "batch_no": "B261101",
             "quantity": "2000件", "unit": "pcs", "unit_price": 0.35, "amount": 700},
            {"part_name": "法兰螺母 M8", "drawing_no": "FN-08", "batch_no": "B261028",
             "quantity": "１５００", "unit": "pcs", "unit_price": 0.2, "amount": 300},
            {"part_name": "支架 Bracket", "drawing_no": "BR-1102", "batch_no": "B261030",
             "quantity": 120, "unit": "pcs", "unit_price": "12.50元", "amount": 1500},
        ],
    },
    "complaint": {
        "ticket_no": "TS-2026-031", "channel": "phone", "received_at": "2026-11-04 09:10",
        "filed_at": "2026年11月4日 10:40", "urgent": "否", "category": "quality",
        "quality_related": "是", "part_name": "支架 Bracket", "part_no": "BR-1102",
        "batch_no": "B261030", "qty_delivered": 120, "qty_complained": "6件",
        "description": "客户来料检验发现 6 件支架焊缝开裂。Six brackets with cracked welds at "
                       "incoming inspection.",
        "containment": "库存及在途产品全检,隔离可疑批次。", "responsible_dept": "制造部",
        "handled_by": "钱进",
    },
    "satisfaction-survey": {
        "period": "2026", "respondent": "孙丽", "position": "采购经理",
        "survey_date": "2026年12月10日", "product_quality": 5, "delivery": 4, "packaging": 4,
        "appearance": 5, "service_attitude": 5, "response": 4, "complaint_handling": 3,
        "technical_support": 4, "price": 3, "suggestions": "希望缩短交期。",
    },
    "service-evaluation": {
        "service_ref": "SV-2026-118", "service_date": "2026-11-12", "engineer": "周强",
        "response_speed": "9分", "resolution": 8, "expertise": "９", "attitude": 10,
        "clarity": 8, "follow_up": 7, "improvement": 8,
        "impression_response": "fast", "impression_attitude": "friendly",
    },
}

MONTHS: dict[str, dict[str, Any]] = {
    # a quality deduction three months running: an alert for the quality department
    "2026-09": {"q_partial_return": 1, "performance_rate": "98%"},
    "2026-10": {"q_concession": 1, "d_delay_notified": 1, "performance_rate": 96},
    "2026-11": {"q_partial_return": 1, "d_delay_notified": "1次", "performance_rate": "95 %"},
}

AUTOMOTIVE_MONTHS: dict[str, dict[str, Any]] = {
    "2026-09": {"a_late_delivery": 0, "ppm_actual": 180, "ppm_target": 200},
    "2026-10": {"a_late_delivery": 1, "ppm_actual": "230", "ppm_target": 200,
                "o_late_reply": 1},
    "2026-11": {"ppm_actual": 150, "ppm_target": 200, "scorecard_pct": "92"},
}

AUTOMOTIVE_SURVEY: dict[str, Any] = {
    "period": "2026-H2", "product_quality": 4, "delivery": 3, "packaging": 5, "appearance": 5,
    "service_attitude": 4, "response": 4, "complaint_handling": 2, "technical_support": 4,
}

FAULTY_SURVEY: dict[str, Any] = {
    "period": "2026", "survey_date": "3/12/2026", "product_quality": 5, "delivery": 4,
    "price": 4,
}
"""A survey with typical mistakes: an ambiguous date, two ticks in a row, a word for a tick,
and with those rows unusable, too few questions answered."""

FAULTY_CELLS = (("product_quality", 1, "√"), ("packaging", 0, "ok"))
"""(question, position in its row, what was typed) written on top of FAULTY_SURVEY."""


@dataclass
class DemoResult:
    """What the demo did: the workspace, the blanks, each file's outcome, the year, reports."""

    root: Path
    blanks: list[Path] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    year: YearSummary | None = None
    reports: list[Path] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    """The corrective actions the records raised (``ActionView.to_dict()``)."""

    def count(self, outcome: str) -> int:
        """How many files ended as ``record``, ``rejected`` or ``duplicate``."""
        return sum(o.outcome == outcome for o in self.outcomes)


def _fill(ws: Workspace, form_id: str, data: dict[str, Any], target: Path) -> Path:
    wb = load_workbook(target)
    fill_workbook(wb, ws.registry.get(form_id), data)
    wb.save(target)
    return target


def _blank(ws: Workspace, form_id: str, folder: Path, customer: str, tag: str = "") -> Path:
    name = f"{form_id}{'-' + tag if tag else ''}.xlsx"
    return issue_blank(ws, form_id, folder / name, values={"customer": customer}, record=True)


def _faulty_survey(ws: Workspace, blank: Path, target: Path) -> None:
    shutil.copyfile(blank, target)
    _fill(ws, "satisfaction-survey", FAULTY_SURVEY, target)
    wb = load_workbook(target)
    names = workbook_names(wb)
    for name, offset, typed in FAULTY_CELLS:
        row, col = names[name].coordinates()[offset]
        wb[names[name].sheet].cell(row=row, column=col, value=typed)
    wb.save(target)


def _configure(ws: Workspace) -> Workspace:
    with (ws.root / "qmsforms.toml").open("a", encoding="utf-8") as fh:
        fh.write(f'\n# the demo\'s automotive customer is scored by the QDO policy\n'
                 f'[scoring.customers]\n"{AUTOMOTIVE}" = "automotive-qdo"\n')
    return Workspace(ws.root)


def _refuse_existing(target: Path) -> None:
    """The demo writes sample records, configuration and files: only into a new folder.

    Not only a workspace with records is refused: the demo would also append its customer to
    any ``qmsforms.toml``, drop files into any inbox and mix its folders with whatever a
    folder holds, so an existing folder is used only when it is empty.
    """
    if not os.path.lexists(target):
        return
    if target.is_dir() and not target.is_symlink() and not any(target.iterdir()):
        return
    what_zh, what_en = "不是空文件夹", "is not an empty folder"
    if (target / CONFIG_NAME).exists() or (target / ".qmsforms").exists():
        what_zh, what_en = "是一个已有的 qmsforms 工作区", "is an existing qmsforms workspace"
    raise UsageError(f"演示不会写入已有的文件夹或工作区:{target} {what_zh}。"
                     "请用 --dir 指定一个新的文件夹。"
                     f" / the demo never writes into an existing folder or workspace: {target} "
                     f"{what_en}; pick a new folder with --dir.")


def run_demo(root: str | os.PathLike[str] | None = None) -> DemoResult:
    """Create a workspace at ``root`` (default: a new timestamped folder) and run through it.

    ``root`` must not exist or be an empty folder (`UsageError` otherwise): the demo adds
    sample records and configuration, which must never land in a real workspace.
    """
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = Path(root) if root is not None else Path.cwd() / f"qmsforms-demo-{stamp}"
    _refuse_existing(target)
    ws = _configure(init_workspace(target))
    result = DemoResult(root=ws.root)
    blanks, inbox = ws.root / "blanks", ws.inbox
    for form in ws.registry:
        if form.issued_as("xlsx"):  # Word-only forms (the 8D report) get no Excel blank
            result.blanks.append(_blank(ws, form.id, blanks, CUSTOMER))
    for form_id, data in SAMPLES.items():
        shutil.copyfile(blanks / f"{form_id}.xlsx", inbox / f"{form_id}-filled.xlsx")
        _fill(ws, form_id, data, inbox / f"{form_id}-filled.xlsx")
    sent = ws.root / "sent"
    for month, counts in MONTHS.items():
        path = _blank(ws, "satisfaction-monitoring", sent, CUSTOMER, month)
        _fill(ws, "satisfaction-monitoring", {"month": month, "assessor": "吴刚", **counts},
              path)
        shutil.copyfile(path, inbox / f"监测 {CUSTOMER} {month}.xlsx")
    for month, values in AUTOMOTIVE_MONTHS.items():
        path = _blank(ws, "satisfaction-monitoring", sent, AUTOMOTIVE, f"auto-{month}")
        _fill(ws, "satisfaction-monitoring", {"month": month, "assessor": "郑华", **values},
              path)
        shutil.copyfile(path, inbox / f"QDO {month}.xlsx")
    survey = _blank(ws, "satisfaction-survey", sent, AUTOMOTIVE, "auto")
    _fill(ws, "satisfaction-survey", AUTOMOTIVE_SURVEY, survey)
    shutil.copyfile(survey, inbox / "survey-auto.xlsx")
    _faulty_survey(ws, blanks / "satisfaction-survey.xlsx",
                   inbox / "satisfaction-survey-with-mistakes.xlsx")
    # the same returned survey saved twice by a sales rep
    shutil.copyfile(inbox / "satisfaction-survey-filled.xlsx", inbox / "survey (copy).xlsx")
    with Intake(ws, settle=0.05, quiet=0.05) as intake:
        result.outcomes = intake.process().outcomes
    # the clerk corrects the November sheet (a second partial return) and drops it again
    november = inbox / f"监测 {CUSTOMER} 2026-11 (corrected).xlsx"
    shutil.copyfile(sent / "satisfaction-monitoring-2026-11.xlsx", november)
    _fill(ws, "satisfaction-monitoring", {"q_partial_return": 2}, november)
    with Intake(ws, settle=0.05, quiet=0.05) as intake:
        result.outcomes += intake.process().outcomes
    with open_ledger(ws) as ledger:
        rows = ledger.records()
    monthly, surveys = split_results((r.form, r.data, r.scores) for r in rows)
    result.year = year_summary(monthly, surveys, YEAR, ws.policies)
    result.actions, register = save_action_register(ws)
    result.reports = [save_satisfaction(ws, YEAR)[1], save_complaints(ws, YEAR)[1],
                      save_review(ws, YEAR, actions=result.actions)[1], register]
    return result
