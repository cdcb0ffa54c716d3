"""Two years of records for the management-review pack, built through the real intake.

Two master customers, A with an alias the clerks also type (华东汽配) and B. Monitoring sheets
for 2026 (all twelve months of both) and for January–March 2025 (the previous year); a survey
campaign for 2026 planned from the master, issued to both, returned by A only; shipping lists
with line quantities and planned/actual dates; complaints with the quantity complained and the
responsible department. Every file is issued as a blank, filled, dropped into the inbox and
taken by `Intake.process`.

The figures the tests expect are worked out by hand below, from the SPEC's rules.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from qmsforms.blanks import issue_blank
from qmsforms.campaign import issue_campaign, plan_from_list
from qmsforms.customers import Customer, save_master
from qmsforms.excel.fill import fill_workbook
from qmsforms.intake import Intake
from qmsforms.workspace import Workspace, init_workspace

YEAR = 2026
A = "华东汽车零部件有限公司"
A_ALIAS = "华东汽配"
B = "Beta 精密机械"

# monitoring-000: total = 80 + performance rate × 0.2 (no deductions here)
MONITORING: dict[tuple[str, int], dict[int, int]] = {
    (A, 2026): {m: 95 for m in range(1, 13)},                        # 99 a month
    (B, 2026): {m: 100 if m <= 6 else 90 for m in range(1, 13)},     # 100 H1, 98 H2
    (A, 2025): {m: 90 for m in range(1, 4)},                         # 98
    (B, 2025): {m: 100 for m in range(1, 4)},                        # 100
}
SURVEY_A = {"product_quality": 5, "delivery": 5, "packaging": 5, "appearance": 5,
            "service_attitude": 5, "response": 5, "complaint_handling": 5,
            "technical_support": 5, "price": 3}
"""A's returned survey: 98.0 (as `tests.year`)."""

# doc no, customer as typed, ship date, planned, actual, line quantities
SHIPMENTS: tuple[tuple[str, str, str, str, str, tuple[int, ...]], ...] = (
    ("FH-01", A, "2026-01-10", "2026-01-11", "2026-01-11", (1000,)),
    ("FH-02", A, "2026-02-10", "2026-02-11", "2026-02-13", (2000, 500)),    # late
    ("FH-03", B, "2026-03-05", "2026-03-06", "2026-03-06", (4000,)),
    ("FH-04", A_ALIAS, "2026-08-01", "2026-08-02", "2026-08-02", (1500,)),
    ("FH-05", B, "2026-09-10", "2026-09-11", "2026-09-10", (1000,)),
    ("FH-00", B, "2025-12-20", "2025-12-22", "2025-12-22", (9999,)),       # the year before
)

# ticket, customer as typed, received, filed, urgent, category, qty complained, department
COMPLAINTS: tuple[tuple[str, str, str, str, bool, str, int, str | None], ...] = (
    ("TS-00", B, "2025-12-05 09:00", "2025-12-05 09:30", False, "quality", 50, "质量部"),
    ("TS-01", A, "2026-01-20 09:00", "2026-01-20 10:00", False, "quality", 2, "质量部"),
    ("TS-02", B, "2026-03-15 09:00", "2026-03-15 12:00", False, "delivery", 1, "生产部"),
    ("TS-03", A, "2026-03-20 09:00", "2026-03-20 09:30", True, "quality", 3, "质量部"),
    ("TS-04", B, "2026-08-05 09:00", "2026-08-05 09:40", False, "packaging", 1, None),
    ("TS-05", A_ALIAS, "2026-09-02 09:00", "2026-09-02 13:00", False, "quality", 4, "质量部"),
)

# -- worked out by hand ------------------------------------------------------------------------
# on time: FH-01, FH-03, FH-04, FH-05 of 5 delivered in 2026 (FH-02 two days late)
OTD = {None: Decimal("80.0"), "H1": Decimal("66.7"), "H2": Decimal("100.0")}
# shipped: A 1000 + 2500 + 1500 = 5000 (H1 3500, H2 1500); B 4000 + 1000 = 5000 (4000, 1000)
# complained: A 2 + 3 + 4 = 9 (H1 5, H2 4); B 1 + 1 = 2 (1, 1); TS-00 is 2025's
PPM = {None: Decimal("1100.0"), "H1": Decimal("800.0"), "H2": Decimal("2000.0")}
PPM_BY_CUSTOMER = {
    None: {A: (9, 5000, Decimal("1800.0")), B: (2, 5000, Decimal("400.0"))},
    "H1": {A: (5, 3500, Decimal("1428.6")), B: (1, 4000, Decimal("250.0"))},
    "H2": {A: (4, 1500, Decimal("2666.7")), B: (1, 1000, Decimal("1000.0"))},
}
# filed in time: TS-01 (60 min of 120), TS-03 (urgent, 30 of 60), TS-04 (40 of 120)
SLA = {None: Decimal("60.0"), "H1": Decimal("66.7"), "H2": Decimal("50.0")}
# company monthly = mean of A and B: 99.5 January–June, 98.5 July–December
SATISFACTION = {None: Decimal("99.0"), "H1": Decimal("99.5"), "H2": Decimal("98.5")}
RETURN_RATE = Decimal("50.0")  # A of A and B
ANNUAL = {A: (Decimal("98.5"), Decimal("98.0")),   # 0.5 × 99 + 0.5 × 98.0; 2025: 98
          B: (Decimal("99.0"), Decimal("100.0"))}  # no survey: the monthly mean


def _issue(ws: Workspace, form: str, path: Path, values: dict[str, Any]) -> Path:
    return issue_blank(ws, form, path, values={k: str(v) for k, v in values.items()},
                       record=True)


def _monitoring(ws: Workspace) -> None:
    form = ws.registry.get("satisfaction-monitoring")
    for (customer, year), months in MONITORING.items():
        blank = _issue(ws, form.id, ws.root / "sent" / f"M {customer} {year}.xlsx",
                       {"customer": customer})
        wb = load_workbook(blank)
        for month, rate in months.items():
            data: dict[str, Any] = {"month": f"{year}-{month:02d}", "assessor": "吴刚"}
            for spec in form.fields:
                if spec.kind == "int":
                    data[spec.name] = 0
            data["performance_rate"] = rate
            fill_workbook(wb, form, data)
            wb.save(ws.inbox / f"M {customer} {year}-{month:02d}.xlsx")


def _shipments(ws: Workspace) -> None:
    form = ws.registry.get("shipping-list")
    for doc, customer, ship, planned, actual, quantities in SHIPMENTS:
        blank = _issue(ws, form.id, ws.root / "sent" / f"{doc}.xlsx", {"customer": customer})
        wb = load_workbook(blank)
        fill_workbook(wb, form, {
            "doc_no": doc, "ship_date": ship, "planned_delivery_date": planned,
            "actual_delivery_date": actual,
            "lines": [{"part_name": "支架 Bracket", "batch_no": f"B{doc[-2:]}{n}",
                       "quantity": qty} for n, qty in enumerate(quantities)]})
        wb.save(ws.inbox / f"{doc}.xlsx")


def _complaints(ws: Workspace) -> None:
    for ticket, customer, received, filed, urgent, category, qty, dept in COMPLAINTS:
        values: dict[str, Any] = {
            "ticket_no": ticket, "customer": customer, "received_at": received,
            "filed_at": filed, "urgent": "是" if urgent else "否", "category": category,
            "quality_related": "否", "qty_complained": qty,
            "description": f"{category} complaint {ticket}"}
        if dept:
            values["responsible_dept"] = dept
        _issue(ws, "complaint", ws.inbox / f"C {ticket}.xlsx", values)


def build_review_year(root: Path) -> Workspace:
    """Issue, fill and take in both years (see the module docstring)."""
    ws = init_workspace(root)
    save_master(ws, (Customer(code="C01", name=A, aliases=(A_ALIAS,),
                              order_value=Decimal(800_000)),
                     Customer(code="C02", name=B, order_value=Decimal(600_000))),
                "test", None)
    ws = Workspace(ws.root)
    _monitoring(ws)
    _shipments(ws)
    _complaints(ws)
    plan_from_list(ws, None, YEAR)
    _, issued = issue_campaign(ws, YEAR, out_dir=ws.root / "sent" / "survey")
    blank = next(b for b in issued if b.customer == A)
    wb = load_workbook(blank.path)
    fill_workbook(wb, ws.registry.get("satisfaction-survey"), SURVEY_A)
    wb.save(ws.inbox / "S A.xlsx")
    with Intake(ws, settle=0.05, quiet=0.05) as intake:
        intake.process()
    return ws


_BUILT: dict[str, Workspace] = {}


def shared_review_year(base: Path) -> Workspace:
    """The two years, built once per test session (the tests only read them)."""
    if "ws" not in _BUILT:
        _BUILT["ws"] = build_review_year(base / "ws")
    return _BUILT["ws"]

