"""A year of records built through the real intake, shared by the report tests.

Six customers, monitoring sheets month by month (one customer on the automotive QDO policy,
two with incomplete years, one whose name looks like a formula), four returned surveys,
twelve complaint tickets (one of them in December of the year before) and eight shipping lists
with planned and actual delivery dates. Every form is issued as a personalised blank, filled
the way `qmsforms.demo` does, dropped into the inbox and taken by `Intake.process`; one sheet
is corrected and sent again, so the reports must use the latest revision.

The expected figures below are worked out by hand from the SPEC's rules; the tests compare the
reports with them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from qmsforms.blanks import issue_blank
from qmsforms.excel.fill import fill_workbook
from qmsforms.intake import Intake, Outcome
from qmsforms.workspace import Workspace, init_workspace

YEAR = 2026
A = "华东汽车零部件有限公司"
B = "Beta 精密机械"
C = "Gamma 电子"
D = "一汽底盘系统有限公司"
E = "Epsilon 贸易"
F = "=F 五金商行"
"""A customer whose name starts like a formula: reports must keep it text."""

BASE = {"performance_rate": 95}
MONTHS: dict[str, dict[int, dict[str, Any]]] = {
    # 95 % performance → 19: 99 a month; August a packaging deduction → 97
    A: {m: {**BASE, **({"d_packaging": 1} if m == 8 else {})} for m in range(1, 13)},
    # quality deductions March–June (four months running), June below target (80)
    B: {m: {"performance_rate": 100,
            **({"q_partial_return": 1} if m in (3, 4, 5) else {}),
            **({"q_disruption_line_stop": 1, "d_delay_unnotified": 2} if m == 6 else {})}
        for m in range(1, 13)},
    # January to June only: an incomplete year, 98 a month
    C: {m: {"performance_rate": 90} for m in range(1, 7)},
    # automotive QDO, January to June: February a late delivery (95), April PPM 15 % over (99)
    D: {m: {"ppm_actual": 230 if m == 4 else 150, "ppm_target": 200,
            **({"a_late_delivery": 1} if m == 2 else {})} for m in range(1, 7)},
    # September to December: October 92, November 84 (below target)
    F: {9: {"performance_rate": 100},
        10: {"performance_rate": 100, "q_full_return": 1, "d_delay_notified": 1},
        11: {"performance_rate": 100, "q_concession": 3, "q_disruption_hold": 2},
        12: {"performance_rate": 100}},
}
CORRECTED = (B, 6)
"""Sent first with no events (100), then corrected: the report must show 80."""

SURVEYS: dict[str, dict[str, Any]] = {
    A: {"product_quality": 5, "delivery": 5, "packaging": 5, "appearance": 5,
        "service_attitude": 5, "response": 5, "complaint_handling": 5, "technical_support": 5,
        "price": 3},
    B: {"product_quality": 4, "delivery": 3, "packaging": 4, "appearance": 4,
        "service_attitude": 4, "response": 4, "complaint_handling": 2, "technical_support": 4,
        "price": 3},
    D: {"product_quality": 5, "delivery": 4, "packaging": 5, "appearance": 5,
        "service_attitude": 4, "response": 4, "complaint_handling": 3, "technical_support": 4},
    E: {code: 4 for code in ("product_quality", "delivery", "packaging", "appearance",
                             "service_attitude", "response", "complaint_handling",
                             "technical_support", "price")},
}

# ticket, customer, received, filed, urgent, category, quality-related, closed
COMPLAINTS: tuple[tuple[str, str, str, str, bool, str, bool | None, str | None], ...] = (
    ("TS-2512-01", B, "2025-12-10 09:00", "2025-12-10 10:00", False, "quality", True,
     "2026-01-20"),
    ("TS-01", B, "2026-01-08 08:00", "2026-01-08 09:30", False, "quality", True, None),
    ("TS-02", A, "2026-01-15 10:00", "2026-01-15 13:00", False, "delivery", False, None),
    ("TS-03", B, "2026-02-03 14:00", "2026-02-03 14:45", True, "quality", True, "2026-03-01"),
    ("TS-04", C, "2026-03-12 09:00", "2026-03-12 10:30", True, "packaging", False, None),
    ("TS-05", B, "2026-03-20 09:00", "2026-03-20 09:30", False, "quality", True, None),
    ("TS-06", D, "2026-06-02 08:00", "2026-06-02 09:00", False, "delivery", False, None),
    ("TS-07", B, "2026-06-15 08:00", "2026-06-15 10:00", False, "quality", True, "2026-07-10"),
    ("TS-08", E, "2026-09-01 09:00", "2026-09-01 09:20", False, "service", False, None),
    ("TS-09", F, "2026-11-05 09:00", "2026-11-05 09:50", True, "quality", True, None),
    ("TS-10", F, "2026-11-20 09:00", "2026-11-20 11:30", False, "packaging", False, None),
    ("TS-11", A, "2026-12-10 09:00", "2026-12-10 10:00", False, "quality", False, None),
)

# doc no, customer, planned, actual (None: not delivered yet)
SHIPMENTS: tuple[tuple[str, str, str, str | None], ...] = (
    ("FH-A1", A, "2026-03-10", "2026-03-10"),
    ("FH-A2", A, "2026-03-20", "2026-03-22"),
    ("FH-A3", A, "2026-03-25", "2026-03-24"),
    ("FH-A4", A, "2026-04-05", "2026-04-05"),
    ("FH-A5", A, "2026-05-01", None),
    ("FH-B1", B, "2026-03-12", "2026-03-12"),
    ("FH-B2", B, "2026-06-10", "2026-06-12"),
    ("FH-D1", D, "2026-04-08", "2026-04-09"),
)

EXPECTED_MONTHLY = {
    A: {m: Decimal(97 if m == 8 else 99) for m in range(1, 13)},
    B: {m: Decimal(97 if m in (3, 4, 5) else 80 if m == 6 else 100) for m in range(1, 13)},
    C: {m: Decimal(98) for m in range(1, 7)},
    D: {1: Decimal(100), 2: Decimal(95), 3: Decimal(100), 4: Decimal(99), 5: Decimal(100),
        6: Decimal(100)},
    F: {9: Decimal(100), 10: Decimal(92), 11: Decimal(84), 12: Decimal(100)},
}
"""Monthly totals by the policies (monitoring-000; automotive-qdo for D)."""
EXPECTED_SURVEY = {A: Decimal("98.0"), B: Decimal("71.0"), D: Decimal("86.3"), E: Decimal("80.0")}
EXPECTED_ANNUAL = {
    A: Decimal("98.4"),   # 0.5 × 98.833 + 0.5 × 98.0
    B: Decimal("84.3"),   # 0.5 × 97.583 + 0.5 × 71.0
    C: Decimal("98.0"),   # monthly only, 6 of 12 months
    D: Decimal("96.5"),   # automotive: 0.8 × 99.0 + 0.2 × 86.3
    E: Decimal("80.0"),   # survey only
    F: Decimal("94.0"),   # monthly only, 4 of 12 months
}


@dataclass
class Year:
    """The workspace with the year in its ledger, and what the intake did."""

    ws: Workspace
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0


def _issue(ws: Workspace, form: str, path: Path, values: dict[str, Any]) -> Path:
    return issue_blank(ws, form, path, values={k: str(v) for k, v in values.items()},
                       record=True)


def _fill(ws: Workspace, form: str, path: Path, data: dict[str, Any]) -> None:
    wb = load_workbook(path)
    fill_workbook(wb, ws.registry.get(form), data)
    wb.save(path)


class _Sheets:
    """Monitoring sheets as an assessor keeps them: one issued blank per customer, saved as
    each month's file (so one instance id comes back with twelve natural keys)."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.form = ws.registry.get("satisfaction-monitoring")
        self.books: dict[str, Any] = {}

    def save(self, customer: str, month: int, values: dict[str, Any], tag: str = "") -> None:
        if customer not in self.books:
            blank = _issue(self.ws, self.form.id,
                           self.ws.root / "sent" / f"M {customer.lstrip('=')}.xlsx",
                           {"customer": customer})
            self.books[customer] = load_workbook(blank)
        data: dict[str, Any] = {"month": f"{YEAR}-{month:02d}", "assessor": "吴刚"}
        for spec in self.form.fields:
            if spec.kind in ("int", "decimal", "percent"):
                data[spec.name] = values.get(spec.name, 0 if spec.kind == "int" else None)
        wb = self.books[customer]
        fill_workbook(wb, self.form, data)
        wb.save(self.ws.inbox / f"M {customer.lstrip('=')} {month:02d}{tag}.xlsx")


def build_year(root: Path) -> Year:
    """Issue, fill and take in the whole year (see the module docstring)."""
    started = time.monotonic()
    ws = init_workspace(root)
    with (ws.root / "qmsforms.toml").open("a", encoding="utf-8") as fh:
        fh.write(f'\n[scoring.customers]\n"{D}" = "automotive-qdo"\n')
    ws = Workspace(ws.root)
    inbox = ws.inbox
    sheets = _Sheets(ws)
    for customer, months in MONTHS.items():
        for month, values in months.items():
            first = {"performance_rate": 100} if (customer, month) == CORRECTED else values
            sheets.save(customer, month, first)
    for customer, answers in SURVEYS.items():
        path = _issue(ws, "satisfaction-survey", inbox / f"S {customer}.xlsx",
                      {"customer": customer, "period": str(YEAR)})
        _fill(ws, "satisfaction-survey", path, answers)
    for ticket, customer, received, filed, urgent, category, quality, closed in COMPLAINTS:
        values: dict[str, Any] = {
            "ticket_no": ticket, "customer": customer, "received_at": received,
            "filed_at": filed, "urgent": "是" if urgent else "否", "category": category,
            "description": f"{category} complaint {ticket}"}
        if quality is not None:
            values["quality_related"] = "是" if quality else "否"
        if closed:
            values["closed_date"] = closed
        _issue(ws, "complaint", inbox / f"C {ticket}.xlsx", values)
    blanks: dict[str, Any] = {}
    for doc, customer, planned, actual in SHIPMENTS:
        if customer not in blanks:  # the clerk saves one blank per customer as each list
            blank = _issue(ws, "shipping-list", ws.root / "sent" / f"{doc}.xlsx",
                           {"customer": customer})
            blanks[customer] = load_workbook(blank)
        wb = blanks[customer]
        ship = (date.fromisoformat(planned) - timedelta(days=1)).isoformat()
        fill_workbook(wb, ws.registry.get("shipping-list"), {
            "doc_no": doc, "ship_date": ship, "planned_delivery_date": planned,
            "actual_delivery_date": actual,
            "lines": [{"part_name": "支架 Bracket", "batch_no": f"B{doc[-2:]}", "quantity": 10}]})
        wb.save(inbox / f"{doc}.xlsx")
    result = Year(ws)
    with Intake(ws, settle=0.05, quiet=0.05) as intake:
        result.outcomes = intake.process().outcomes
    customer, month = CORRECTED
    sheets.save(customer, month, MONTHS[customer][month], " corrected")
    with Intake(ws, settle=0.05, quiet=0.05) as intake:
        result.outcomes += intake.process().outcomes
    result.seconds = time.monotonic() - started
    return result


_BUILT: dict[str, Year] = {}


def shared_year(factory: pytest.TempPathFactory) -> Year:
    """The year, built once per test session (report tests only read it)."""
    if "year" not in _BUILT:
        _BUILT["year"] = build_year(factory.mktemp("year") / "ws")
    return _BUILT["year"]


def named_rows(wb: Any, name: str) -> list[list[Any]]:
    """The values of a workbook-scoped defined name, row by row (header row first)."""
    from openpyxl.utils.cell import range_boundaries

    defined = wb.defined_names[name]
    ((sheet, ref),) = list(defined.destinations)
    min_col, min_row, max_col, max_row = range_boundaries(ref.replace("$", ""))
    ws = wb[sheet]
    return [[ws.cell(row=r, column=c).value for c in range(min_col, max_col + 1)]
            for r in range(min_row, max_row + 1)]


def named_table(wb: Any, name: str) -> dict[str, dict[str, Any]]:
    """A named table as {first column: {header: value}} (header row first in the name)."""
    rows = named_rows(wb, name)
    header = [str(h) for h in rows[0]]
    return {str(row[0]): dict(zip(header, row, strict=True)) for row in rows[1:]}


def named_place(wb: Any, name: str) -> tuple[Any, tuple[int, int, int, int]]:
    """The worksheet and (min_col, min_row, max_col, max_row) of a defined name."""
    from openpyxl.utils.cell import range_boundaries

    ((sheet, ref),) = list(wb.defined_names[name].destinations)
    return wb[sheet], range_boundaries(ref.replace("$", ""))  # type: ignore[return-value]
