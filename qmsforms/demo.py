"""A complete run on generated sample data: a fresh workspace, blanks issued, filled, validated.

Each blank is filled the way staff fill them — numbers with units, Chinese dates, ticks — and
one survey comes back with typical mistakes, so the run shows both outcomes: valid records and
a rejected file with its annotated copy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from .binding import workbook_names
from .fill import fill_workbook
from .issues import Report
from .templates import annotate, issue_blank
from .validate import validate_file
from .workspace import Workspace, init_workspace

CUSTOMER = "华东汽车零部件有限公司"

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
    "satisfaction-monitoring": {
        "month": "2026年11月", "assessor": "吴刚", "q_partial_return": 1,
        "d_delay_notified": "1次", "performance_rate": "95 %", "scorecard_pct": None,
    },
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
    """What the demo did: the workspace, the files it made and the reports."""

    root: Path
    blanks: list[Path] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)
    annotated: list[Path] = field(default_factory=list)


def _fill(ws: Workspace, form_id: str, data: dict[str, Any], target: Path) -> Path:
    wb = load_workbook(target)
    fill_workbook(wb, ws.registry.get(form_id), data)
    wb.save(target)
    return target


def run_demo(root: str | os.PathLike[str] | None = None) -> DemoResult:
    """Create a workspace at ``root`` (default: a new timestamped folder) and run through it."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    ws = init_workspace(root or Path.cwd() / f"qmsforms-demo-{stamp}")
    result = DemoResult(root=ws.root)
    blanks = ws.root / "blanks"
    for form in ws.registry:
        result.blanks.append(issue_blank(ws, form.id, blanks / f"{form.id}.xlsx",
                                         values={"customer": CUSTOMER}))
    for form_id, data in SAMPLES.items():
        target = ws.inbox / f"{form_id}-filled.xlsx"
        target.write_bytes((blanks / f"{form_id}.xlsx").read_bytes())
        _fill(ws, form_id, data, target)
    faulty = ws.inbox / "satisfaction-survey-with-mistakes.xlsx"
    faulty.write_bytes((blanks / "satisfaction-survey.xlsx").read_bytes())
    _fill(ws, "satisfaction-survey", FAULTY_SURVEY, faulty)
    wb = load_workbook(faulty)
    names = workbook_names(wb)
    for name, offset, typed in FAULTY_CELLS:
        row, col = names[name].coordinates()[offset]
        wb[names[name].sheet].cell(row=row, column=col, value=typed)
    wb.save(faulty)
    for path in sorted(ws.inbox.glob("*.xlsx")):
        report = validate_file(path, ws)
        result.reports.append(report)
        if not report.valid:
            out = ws.outbox / "rejected" / f"{path.stem}.annotated.xlsx"
            annotated = annotate(path, report, out)
            if annotated:
                result.annotated.append(annotated)
    return result
