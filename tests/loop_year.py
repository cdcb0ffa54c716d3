"""The year that closes the loop (issue 16): records that must raise corrective actions, the
complaint's 8D, and last year's figures beside this year's, built through the real intake.

Four customers on the default monitoring policy. This year (the current calendar year, so that
actions raised on the day the files come in fall inside the year reviewed):

- A: monitoring January–June, a quality deduction in March, April and May (three months
  running: a streak); the annual survey answered (97.5); three shipping lists; a quality
  complaint (TS-1, 30 parts) whose 8D has D1–D3 done; a shipping list last December.
- B: monitoring January–June, April below target (85); one shipping list; a delivery complaint
  that is not quality-related and was filed late (TS-2); a complaint last December. B does not
  answer the survey.
- C: no monitoring; the survey answered with one item at level 2 (delivery), a comment, and a
  score of 65 (below target); last year's survey at 100.
- D: no monitoring; the survey answered at 100; one shipping list delivered late; an urgent
  quality complaint (TS-3, 5 parts) with no 8D and no due date.

Last year: A and B monitored in November and December, C's survey, one shipping list and one
complaint in December. The surveys of this year go out as a campaign (the four customers of
the customer list, fewer than ten, so all four are asked; three answer).

Every file is kept in ``dropped/`` before it is copied into the inbox, so a test can drop the
whole set again. The figures a test expects are worked out by hand in the test modules, not
here and not by qmsforms' scoring.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook

from qmsforms.blanks import issue_blank
from qmsforms.campaign import issue_campaign, plan_from_list
from qmsforms.excel.fill import fill_workbook
from qmsforms.intake import Intake, Outcome
from qmsforms.word.fill import fill_word
from qmsforms.word.prefill import render_8d_from_complaint
from qmsforms.workspace import Workspace, init_workspace

YEAR = datetime.now(timezone.utc).year
LAST = YEAR - 1
A = "华东汽车零部件有限公司"
B = "Beta 精密机械"
C = "Gamma 电子"
D = "Delta 五金"

CUSTOMER_LIST: tuple[tuple[str, str, int, str], ...] = (
    (A, "C01", 120, "是"), (B, "C02", 45, "否"), (C, "C03", 15, "否"), (D, "C04", 8, "否"))
"""The customer list (客户一览表) the campaign is planned from: name, code, 万元, automotive."""

CLEAN = {"performance_rate": 100}
MONITORING: dict[str, dict[tuple[int, int], dict[str, int]]] = {
    A: {**{(YEAR, m): {**CLEAN, **({"q_partial_return": 1} if m in (3, 4, 5) else {})}
           for m in range(1, 7)},
        (LAST, 11): CLEAN, (LAST, 12): {**CLEAN, "d_packaging": 2}},
    B: {**{(YEAR, m): {**CLEAN, **({"q_disruption_line_stop": 1, "d_delay_unnotified": 1}
                                   if m == 4 else {})}
           for m in range(1, 7)},
        (LAST, 11): CLEAN, (LAST, 12): {**CLEAN, "q_concession": 3}},
}
"""Monthly monitoring inputs by customer and (year, month)."""

STREAK = (A, "quality", 3)
"""A's quality deductions run March–May: one action, keyed by the run's first month."""
BELOW = (B, 4)
"""B's April total (100 − 10 − 5 = 85) is below the target of 90."""

SIX = ("product_quality", "delivery", "packaging", "appearance", "service_attitude",
       "response")
SURVEYS: dict[str, dict[str, Any]] = {
    A: {**dict.fromkeys(SIX, 5), "service_attitude": 4},
    C: {"product_quality": 4, "delivery": 2, "packaging": 4, "appearance": 4,
        "service_attitude": 3, "response": 3,
        "suggestions": "希望提前一周通知交期变化 / please tell us a week ahead when a date moves"},
    D: dict.fromkeys(SIX, 5),
}
"""This year's answers, returned on the campaign's blanks (B does not answer)."""
LEVEL_2_ITEM = (C, "delivery")
LAST_SURVEYS: dict[str, dict[str, Any]] = {C: dict.fromkeys(SIX, 5)}


@dataclass(frozen=True)
class Ticket:
    """One complaint ticket as QC logs it."""

    no: str
    customer: str
    received: str
    filed: str
    category: str
    quality: bool
    urgent: bool = False
    qty: int | None = None
    dept: str | None = None
    due: str | None = None


COMPLAINTS: tuple[Ticket, ...] = (
    Ticket("TS-1", A, f"{YEAR}-02-10 09:00", f"{YEAR}-02-10 10:00", "quality", True, qty=30,
           dept="质量部", due=f"{YEAR}-03-10"),
    Ticket("TS-2", B, f"{YEAR}-04-15 09:00", f"{YEAR}-04-15 12:00", "delivery", False),
    Ticket("TS-3", D, f"{YEAR}-05-06 08:00", f"{YEAR}-05-06 08:30", "quality", True,
           urgent=True, qty=5, dept="生产部"),
    Ticket("TS-0", B, f"{LAST}-12-03 09:00", f"{LAST}-12-03 09:30", "packaging", False, qty=8,
           dept="仓库"),
)
"""TS-1 gets an 8D (D1–D3 done); TS-2 is filed three hours late; TS-0 is last year's."""
EIGHT_D_TICKET = "TS-1"

# doc no, customer, planned delivery, actual delivery, quantity (shipped the day before planned)
SHIPMENTS: tuple[tuple[str, str, str, str, int], ...] = (
    ("FH-A1", A, f"{YEAR}-02-10", f"{YEAR}-02-10", 1000),
    ("FH-A2", A, f"{YEAR}-03-10", f"{YEAR}-03-12", 1000),
    ("FH-A3", A, f"{YEAR}-04-10", f"{YEAR}-04-09", 1000),
    ("FH-B1", B, f"{YEAR}-04-20", f"{YEAR}-04-20", 1000),
    ("FH-D1", D, f"{YEAR}-05-12", f"{YEAR}-05-15", 1000),
    ("FH-A0", A, f"{LAST}-12-10", f"{LAST}-12-14", 500),
)


@dataclass
class LoopYear:
    """The workspace with the year in its ledger, what the intake did, and every file dropped."""

    ws: Workspace
    outcomes: list[Outcome] = field(default_factory=list)
    dropped: list[Path] = field(default_factory=list)
    complaint_ids: dict[str, str] = field(default_factory=dict)
    eight_d_id: str = ""
    taken_on: tuple[date, date] = (date.min, date.max)
    """The UTC dates the intake ran between: every action is raised on one of them."""

    def drop(self, path: Path) -> Path:
        """Keep ``path`` among the dropped files and copy it into the inbox."""
        self.dropped.append(path)
        shutil.copyfile(path, self.ws.inbox / path.name)
        return path

    def process(self) -> list[Outcome]:
        """One pass of the real intake over the inbox."""
        with Intake(self.ws, settle=0.05, quiet=0.05) as intake:
            outcomes = intake.process().outcomes
        self.outcomes += outcomes
        return outcomes


def _issue(ws: Workspace, form: str, path: Path, values: dict[str, Any]) -> Path:
    return issue_blank(ws, form, path, values={k: str(v) for k, v in values.items()},
                       record=True)


def _customer_list(path: Path) -> Path:
    wb = Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet.append(["客户一览表 Customer list"])
    sheet.append(["序号", "客户名称", "客户编号", "年订单额(万元)", "汽车客户"])
    for n, (name, code, wan, automotive) in enumerate(CUSTOMER_LIST, start=1):
        sheet.append([n, name, code, wan, automotive])
    wb.save(path)
    return path


def _monitoring(loop: LoopYear, out: Path) -> None:
    """One issued blank per customer, saved as each month's sheet (as assessors keep them)."""
    ws = loop.ws
    form = ws.registry.get("satisfaction-monitoring")
    for n, (customer, months) in enumerate(MONITORING.items()):
        blank = _issue(ws, form.id, ws.root / "sent" / f"M{n}.xlsx", {"customer": customer})
        wb = load_workbook(blank)
        for (year, month), values in months.items():
            data: dict[str, Any] = {"month": f"{year}-{month:02d}", "assessor": "吴刚"}
            for spec in form.fields:
                if spec.kind in ("int", "decimal", "percent"):
                    data[spec.name] = values.get(spec.name, 0 if spec.kind == "int" else None)
            fill_workbook(wb, form, data)
            path = out / f"M{n} {year}-{month:02d}.xlsx"
            wb.save(path)
            loop.drop(path)


def _surveys(loop: LoopYear, out: Path) -> None:
    ws = loop.ws
    form = ws.registry.get("satisfaction-survey")
    plan_from_list(ws, _customer_list(ws.root / "sent" / "客户一览表.xlsx"), YEAR)
    _, issued = issue_campaign(ws, YEAR)
    codes = {name: code for name, code, _, _ in CUSTOMER_LIST}
    for blank in issued:
        if blank.customer not in SURVEYS:
            continue
        wb = load_workbook(blank.path)
        fill_workbook(wb, form, SURVEYS[blank.customer])
        path = out / f"S {codes[blank.customer]} {YEAR}.xlsx"
        wb.save(path)
        loop.drop(path)
    for customer, answers in LAST_SURVEYS.items():
        path = _issue(ws, form.id, out / f"S {codes[customer]} {LAST}.xlsx",
                      {"customer": customer, "period": LAST})
        wb = load_workbook(path)
        fill_workbook(wb, form, answers)
        wb.save(path)
        loop.drop(path)


def _complaints(loop: LoopYear, out: Path) -> None:
    for ticket in COMPLAINTS:
        values: dict[str, Any] = {
            "ticket_no": ticket.no, "customer": ticket.customer, "received_at": ticket.received,
            "filed_at": ticket.filed, "urgent": "是" if ticket.urgent else "否",
            "category": ticket.category, "quality_related": "是" if ticket.quality else "否",
            "description": f"{ticket.category} complaint {ticket.no}"}
        optional = {"qty_complained": ticket.qty, "responsible_dept": ticket.dept,
                    "due_date": ticket.due}
        values.update({k: v for k, v in optional.items() if v is not None})
        loop.drop(_issue(loop.ws, "complaint", out / f"C {ticket.no}.xlsx", values))


def _shipments(loop: LoopYear, out: Path) -> None:
    ws = loop.ws
    form = ws.registry.get("shipping-list")
    books: dict[str, Any] = {}
    for doc, customer, planned, actual, quantity in SHIPMENTS:
        if customer not in books:  # the clerk saves one blank per customer as each list
            blank = _issue(ws, form.id, ws.root / "sent" / f"{doc}.xlsx", {"customer": customer})
            books[customer] = load_workbook(blank)
        wb = books[customer]
        ship = (date.fromisoformat(planned) - timedelta(days=1)).isoformat()
        fill_workbook(wb, form, {
            "doc_no": doc, "ship_date": ship, "planned_delivery_date": planned,
            "actual_delivery_date": actual,
            "lines": [{"part_name": "支架 Bracket", "batch_no": f"B{doc[-2:]}",
                       "quantity": quantity}]})
        path = out / f"{doc}.xlsx"
        wb.save(path)
        loop.drop(path)


EIGHT_D_DONE: dict[str, Any] = {
    "report_no": "8D-TS-1", "team_leader": "张三", "team_members": "李四 QA, 王五 PE",
    "d1_owner": "张三", "d1_date": f"{YEAR}-02-10", "d1_done": True,
    "d2_owner": "李四", "d2_date": f"{YEAR}-02-11", "d2_done": True,
    "d3_actions": [{"action": "全检库存 100%", "owner": "王五", "date": f"{YEAR}-02-11",
                    "effectiveness": "有效"}],
    "d3_owner": "王五", "d3_date": f"{YEAR}-02-12", "d3_done": True,
}
"""What QC types into TS-1's 8D: D1–D3 done (the action is in progress), D4 onwards open."""


def _eight_d(loop: LoopYear, out: Path) -> None:
    ws = loop.ws
    record_id = loop.complaint_ids[EIGHT_D_TICKET]
    record = json.loads((ws.outbox / "records" / "complaint" / f"{record_id}.json")
                        .read_text(encoding="utf-8"))
    path = render_8d_from_complaint(ws, record, out / f"8D-{EIGHT_D_TICKET}.docx")
    fill_word(path, EIGHT_D_DONE, path)
    loop.drop(path)


def build_loop_year(root: Path) -> LoopYear:
    """Issue, fill and take in the whole set (see the module docstring)."""
    started = datetime.now(timezone.utc).date()
    loop = LoopYear(init_workspace(root))
    out = loop.ws.root / "dropped"
    out.mkdir()
    (loop.ws.root / "sent").mkdir(exist_ok=True)
    _monitoring(loop, out)
    _surveys(loop, out)
    _complaints(loop, out)
    _shipments(loop, out)
    for outcome in loop.process():
        if outcome.form == "complaint" and outcome.record_id:
            ticket = outcome.name.removeprefix("C ").removesuffix(".xlsx")
            loop.complaint_ids[ticket] = outcome.record_id
    _eight_d(loop, out)
    (eight_d,) = loop.process()
    loop.eight_d_id = eight_d.record_id or ""
    loop.taken_on = (started, datetime.now(timezone.utc).date())
    return loop

