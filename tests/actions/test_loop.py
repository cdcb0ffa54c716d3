"""Issue 16, done: the loop from the records to the actions, the CAPA and the review pack.

A year built through the real intake (`tests.loop_year`) must raise exactly the actions the
procedures require, each with its source, department and due date; the same files dropped
again raise none, and a revision keeps its action (marking it when the cause is gone); a
corrective-action form issued for one, filled and dropped, verifies and closes it; the
management-review pack's JSON and workbook (year and half-year) carry the KPI values, last
year's figures, PPM per customer and the action counts.

Every expected figure below is worked out by hand from the procedures (SPEC §4, §8) and the
data in `tests.loop_year`, and the due dates by this module's own working-day count; none is
computed by qmsforms' scoring.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook

from qmsforms.campaign import campaign_status
from qmsforms.cli import cli
from qmsforms.excel.fill import fill_workbook
from qmsforms.intake import Intake
from qmsforms.intake.ledger import open_ledger
from qmsforms.workspace import Workspace

from ..conftest import REPO
from ..loop_year import (
    COMPLAINTS,
    LAST,
    MONITORING,
    SHIPMENTS,
    YEAR,
    A,
    B,
    C,
    D,
    LoopYear,
    build_loop_year,
)
from ..year import named_rows

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SURVEY = "satisfaction-survey"

# -- the actions the procedures require ---------------------------------------------------------

# (source, cause_key, department_zh, customer, days): days = working days after the day raised,
# or a fixed due date, or None (no due date)
REQUIRED: tuple[tuple[str, str, str, str, int | str | None], ...] = (
    # quality complaints: their 8D is the action [seed 000 §5.3]; TS-1 has its own due date
    ("complaint", "complaint:TS-1", "质量部", A, f"{YEAR}-03-10"),
    ("complaint", "complaint:TS-3", "质量部", D, 20),
    # A: quality deductions March, April, May [seed 000 §7.1 说明]
    ("monitoring_streak", f"monitoring_streak:{A}:quality:{YEAR}-03", "质量部", A, 7),
    # B: April's total 85 < 90
    ("month_below_target", f"month_below_target:{B}:{YEAR}-04", "营业部", B, 7),
    # C's survey: delivery at level 2 [seed 001 §4.6.2], 65 < 90 [4.6.3], and a comment
    ("survey_item", f"survey_item:{SURVEY}:{C}:{YEAR}:delivery", "营业部→质量部", C, 7),
    ("survey_below_target", f"survey_below_target:{SURVEY}:{C}:{YEAR}", "质量部(统筹)", C, 7),
    ("suggestion", f"suggestion:{SURVEY}:{C}:{YEAR}", "营业部", C, 7),
)
"""Nothing else: TS-2 and TS-0 are not quality-related, B's and A's other months are clean or
single deductions, A's and D's surveys are above target with no item below level 3, no year
has twelve months, and last year's survey of C scored 100."""

DEPARTMENT_EN = {"质量部": "Quality department", "营业部": "Sales department",
                 "营业部→质量部": "Sales → Quality", "质量部(统筹)": "Quality (oversees)"}

KEYS = {"action_id", "source", "cause_key", "cause", "source_record", "customer", "problem_zh",
        "problem_en", "department_zh", "department_en", "raised_on", "due", "status",
        "overdue", "age_days", "link", "effective", "cause_removed_by", "site"}
"""The fields of one action (`ActionView.to_dict`), exactly."""

STATUS = {"complaint:TS-1": "in_progress"}
"""TS-1's 8D has D1–D3 done; every other action has nothing done yet."""


def holidays(ws: Workspace) -> set[date]:
    """The non-working days of the actions policy, read from its TOML file (the workspace's
    own, else the one shipped)."""
    path = ws.schemas_dir / "policies" / "actions-000.toml"
    if not path.is_file():
        path = REPO / "schemas" / "policies" / "actions-000.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8")).get("holidays", [])
    return {d if isinstance(d, date) else date.fromisoformat(str(d)) for d in raw}


def working_days_after(start: date, days: int, off: set[date]) -> date:
    """The day ``days`` working days (Monday–Friday, not a holiday) after ``start``."""
    day = start
    while days:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in off:
            days -= 1
    return day


def expected_due(rule: int | str | None, raised: date, off: set[date]) -> str | None:
    if rule is None or isinstance(rule, str):
        return rule
    return working_days_after(raised, rule, off).isoformat()


# -- the review pack, worked out by hand ---------------------------------------------------------

MONTHS = [f"{YEAR}-{m:02d}" for m in range(1, 13)]
ON_TIME = {f"{YEAR}-02": 100.0, f"{YEAR}-03": 0.0, f"{YEAR}-04": 100.0, f"{YEAR}-05": 0.0}
"""FH-A1 on time (Feb); FH-A2 two days late (Mar); FH-A3 early and FH-B1 on the day (Apr);
FH-D1 three days late (May). FH-A0 is last year's."""
ON_TIME_YEAR = 60.0  # 3 of 5
PPM = {A: (30, 3000, 10000.0), B: (0, 1000, 0.0), D: (5, 1000, 5000.0)}
"""customer: (quantity complained, quantity delivered, PPM) this year. TS-0 (8 parts) and
FH-A0 (500) are last year's; TS-2 has no quantity."""
PPM_YEAR = 7000.0  # 35 ÷ 5000 × 10⁶
PPM_MONTHS = {f"{YEAR}-02": 30000.0, f"{YEAR}-03": 0.0, f"{YEAR}-04": 0.0,
              f"{YEAR}-05": 5000.0}
SLA_YEAR = 200 / 3  # TS-1 (1 h) and TS-3 (urgent, 30 min) in time; TS-2 filed after 3 h
SLA_MONTHS = {f"{YEAR}-02": 100.0, f"{YEAR}-04": 0.0, f"{YEAR}-05": 100.0}
SATISFACTION_MONTHS = {f"{YEAR}-01": 100.0, f"{YEAR}-02": 100.0, f"{YEAR}-03": 98.5,
                       f"{YEAR}-04": 91.0, f"{YEAR}-05": 98.5, f"{YEAR}-06": 100.0}
"""Company mean of A's and B's monthly totals: A 97 in March–May; B 85 in April."""
SATISFACTION_YEAR = 98.0  # (591 + 585) ÷ 12
RETURN_RATE = 75.0  # the campaign asked all four customers; A, C and D answered
SATISFACTION = {
    # customer: (this year, last year, trend)
    A: (98.0, 98.0, "same"),   # 0.5 × 98.5 + 0.5 × 97.5 (survey); last year (100 + 96) ÷ 2
    B: (97.5, 97.0, "up"),     # (100 × 5 + 85) ÷ 6; last year (100 + 94) ÷ 2
    C: (65.0, 100.0, "down"),  # survey only: (25×80 + 20×40 + 10×80 + 5×80 + 10×60 + 10×60) ÷ 80
    D: (100.0, None, None),    # survey only, nothing last year
}
CATEGORIES = {"quality": 2, "delivery": 1}
CAUSES = {"质量部": 1, "生产部": 1, "unassigned": 1}
THIS_MONTH, LAST_MONTH = f"{YEAR}-05", f"{YEAR}-04"
"""The last month of the year with a complaint (TS-3), and the month before (TS-2)."""


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> LoopYear:
    """The year, built once for this module."""
    return build_loop_year(tmp_path_factory.mktemp("loop") / "ws")


def run(ws: Workspace, *args: str) -> Result:
    """Invoke the CLI on workspace ``ws``."""
    return CliRunner().invoke(cli, ["--root", str(ws.root), *args], prog_name="qmsforms")


def actions_json(ws: Workspace) -> list[dict[str, Any]]:
    result = run(ws, "actions", "--json")
    assert result.exit_code == 0, result.output
    actions: list[dict[str, Any]] = json.loads(result.stdout)
    return actions


def by_cause(actions: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {a["cause_key"]: a for a in actions}


def record_of(loop: LoopYear, name: str) -> str:
    """The record id the intake gave the dropped file ``name``."""
    (record_id,) = [o.record_id for o in loop.outcomes if o.name == name and o.record_id]
    return record_id


def copy_of(loop: LoopYear, tmp_path: Path) -> Workspace:
    """A copy of the year's workspace, for a test that adds records to it."""
    root = tmp_path / "ws"
    shutil.copytree(loop.ws.root, root)
    return Workspace(root)


# -- the year itself ----------------------------------------------------------------------------

def test_the_year_is_taken_in_whole(loop: LoopYear) -> None:
    outcomes = [(o.form, o.outcome) for o in loop.outcomes]
    assert {o for _, o in outcomes} == {"record"}, [o.to_dict() for o in loop.outcomes
                                                     if o.outcome != "record"]
    counts = {form: sum(1 for f, _ in outcomes if f == form) for form, _ in outcomes}
    assert counts == {"satisfaction-monitoring": sum(len(m) for m in MONITORING.values()),
                      SURVEY: 4, "complaint": len(COMPLAINTS), "shipping-list": len(SHIPMENTS),
                      "8d-report": 1}
    assert len(loop.dropped) == len(loop.outcomes) == 31
    with open_ledger(loop.ws) as ledger:
        records = ledger.records()
        assert len(records) == 31
        eight_d = ledger.record(loop.eight_d_id)
    assert eight_d is not None and eight_d.form == "8d-report"
    status = campaign_status(loop.ws, YEAR)
    assert (status.issued, status.returned) == (4, 3)


def test_the_records_carry_what_the_expectations_assume(loop: LoopYear) -> None:
    """The hand-worked figures rest on these scores; a change in the data shows here first."""
    records = loop.ws.outbox / "records"

    def scores(form: str, record_id: str) -> dict[str, Any]:
        raw = json.loads((records / form / f"{record_id}.json").read_text(encoding="utf-8"))
        result: dict[str, Any] = raw["scores"]
        return result

    totals = {name: scores("satisfaction-monitoring", record_of(loop, name))["total"]
              for name in (f"M0 {YEAR}-03.xlsx", f"M1 {YEAR}-04.xlsx", f"M0 {LAST}-12.xlsx")}
    assert [float(t) for t in totals.values()] == [97.0, 85.0, 96.0]
    surveys = {code: float(scores(SURVEY, record_of(loop, f"S {code} {YEAR}.xlsx"))["score"])
               for code in ("C01", "C03", "C04")}
    assert surveys == {"C01": 97.5, "C03": 65.0, "C04": 100.0}
    sla = {t.no: scores("complaint", loop.complaint_ids[t.no])["sla_met"] for t in COMPLAINTS}
    assert sla == {"TS-1": True, "TS-2": False, "TS-3": True, "TS-0": True}


# -- (a) the actions ----------------------------------------------------------------------------

def test_actions_lists_exactly_the_actions_the_procedures_require(loop: LoopYear) -> None:
    actions = actions_json(loop.ws)
    assert all(set(a) == KEYS for a in actions), [sorted(a) for a in actions]
    assert sorted((a["source"], a["cause_key"], a["department_zh"], a["customer"])
                  for a in actions) == sorted(r[:4] for r in REQUIRED)
    off = holidays(loop.ws)
    first, last = loop.taken_on
    today = datetime.now(timezone.utc).date()
    found = by_cause(actions)
    for _, key, _, _, rule in REQUIRED:
        action = found[key]
        raised = date.fromisoformat(action["raised_on"])
        assert first <= raised <= last, action  # the day its record came in
        due = expected_due(rule, raised, off)
        assert action["due"] == due, (key, action["due"], due)
        status = STATUS.get(key, "open")
        assert action["status"] == status, key
        assert action["overdue"] is (due is not None and date.fromisoformat(due) < today), key
        assert action["age_days"] == (today - raised).days
        assert action["effective"] is None and action["cause_removed_by"] is None
        assert re.fullmatch(rf"CA-{raised.year}-\d{{4}}", action["action_id"]), action
        assert action["department_en"] == DEPARTMENT_EN[action["department_zh"]]
        assert action["problem_zh"] and action["problem_en"]
    ids = sorted(a["action_id"] for a in actions)
    assert ids == sorted({*ids}) and len(ids) == len(REQUIRED)
    assert [int(i[-4:]) for i in ids] == list(range(1, len(ids) + 1))


def test_each_action_names_the_record_that_raised_it(loop: LoopYear) -> None:
    found = by_cause(actions_json(loop.ws))
    assert found["complaint:TS-1"]["source_record"] == loop.complaint_ids["TS-1"]
    assert found["complaint:TS-3"]["source_record"] == loop.complaint_ids["TS-3"]
    link = found["complaint:TS-1"]["link"]
    assert link["form"] == "8d-report" and link["record_id"] == loop.eight_d_id
    assert found["complaint:TS-3"]["link"] is None  # no 8D yet: still open
    streak = {record_of(loop, f"M0 {YEAR}-{m:02d}.xlsx") for m in (3, 4, 5)}
    assert found[f"monitoring_streak:{A}:quality:{YEAR}-03"]["source_record"] in streak
    assert (found[f"month_below_target:{B}:{YEAR}-04"]["source_record"]
            == record_of(loop, f"M1 {YEAR}-04.xlsx"))
    cause = found[f"monitoring_streak:{A}:quality:{YEAR}-03"]["cause"]
    assert (cause["category"], cause["months"]) == (
        "quality", [f"{YEAR}-03", f"{YEAR}-04", f"{YEAR}-05"])
    assert found[f"survey_item:{SURVEY}:{C}:{YEAR}:delivery"]["cause"]["item"] == "delivery"
    survey = record_of(loop, f"S C03 {YEAR}.xlsx")
    for key in (f"survey_item:{SURVEY}:{C}:{YEAR}:delivery",
                f"survey_below_target:{SURVEY}:{C}:{YEAR}", f"suggestion:{SURVEY}:{C}:{YEAR}"):
        assert found[key]["source_record"] == survey, key


# -- (b) the same files again -------------------------------------------------------------------

def test_dropping_every_file_again_raises_nothing(loop: LoopYear) -> None:
    before = actions_json(loop.ws)
    for path in loop.dropped:
        shutil.copyfile(path, loop.ws.inbox / path.name)
    with Intake(loop.ws, settle=0.05, quiet=0.05) as intake:
        outcomes = intake.process().outcomes
    assert sorted(o.name for o in outcomes) == sorted(p.name for p in loop.dropped)
    assert {o.outcome for o in outcomes} == {"duplicate"}
    with open_ledger(loop.ws) as ledger:
        assert len(ledger.records()) == 31
    assert actions_json(loop.ws) == before


def _take(ws: Workspace) -> list[Any]:
    with Intake(ws, settle=0.05, quiet=0.05) as intake:
        return intake.process().outcomes


def test_a_revision_keeps_its_action_and_one_that_removes_the_cause_says_so(
        loop: LoopYear, tmp_path: Path) -> None:
    ws = copy_of(loop, tmp_path)
    key = f"month_below_target:{B}:{YEAR}-04"
    before = by_cause(actions_json(ws))
    april = ws.root / "dropped" / f"M1 {YEAR}-04.xlsx"
    form = ws.registry.get("satisfaction-monitoring")
    for name, events, removed in (("still below", {"d_delay_unnotified": 0, "d_packaging": 1},
                                   False),  # 100 − 10 − 2 = 88: the same cause
                                  ("corrected", {"q_disruption_line_stop": 0,
                                                 "d_delay_unnotified": 0, "d_packaging": 0},
                                   True)):  # 100: the cause is gone
        wb = load_workbook(april)
        fill_workbook(wb, form, events)
        wb.save(ws.inbox / f"M1 {YEAR}-04 {name}.xlsx")
        (revision,) = _take(ws)
        assert revision.outcome == "record" and revision.supersedes, revision.to_dict()
        after = by_cause(actions_json(ws))
        assert set(after) == set(before)  # never a second action for one cause
        assert after[key]["action_id"] == before[key]["action_id"]
        assert after[key]["cause_removed_by"] == (revision.record_id if removed else None)
        assert all(after[k]["cause_removed_by"] is None for k in after if k != key)


# -- (c) a CAPA closes its action ---------------------------------------------------------------

def _capa(ws: Workspace, action_id: str, out: Path) -> Path:
    result = run(ws, "actions", "issue", action_id, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.is_file()
    return out


def _filled(ws: Workspace, path: Path, values: dict[str, Any], name: str) -> Path:
    wb = load_workbook(path)
    fill_workbook(wb, ws.registry.get("corrective-action"), values)
    target = ws.inbox / name
    wb.save(target)
    return target


@pytest.fixture
def capa_ws(loop: LoopYear, tmp_path: Path) -> Workspace:
    """A copy of the year's workspace: the CAPA's record must not change the other tests."""
    return copy_of(loop, tmp_path)


def test_a_capa_filled_and_dropped_verifies_and_closes_its_action(
        capa_ws: Workspace, tmp_path: Path) -> None:
    ws = capa_ws
    key = f"monitoring_streak:{A}:quality:{YEAR}-03"
    action = by_cause(actions_json(ws))[key]
    blank = _capa(ws, action["action_id"], tmp_path / "capa.xlsx")
    issued = load_workbook(blank)
    assert _named_value(issued, "action_no") == action["action_id"]
    assert _named_value(issued, "customer") == A
    assert action["problem_zh"] in str(_named_value(issued, "problem"))  # pre-filled
    raised = date.fromisoformat(action["raised_on"])

    def day(n: int) -> str:
        return (raised + timedelta(days=n)).isoformat()

    # verification before any corrective action: refused at its stage, nothing recorded
    early = _filled(ws, blank, {"verified_by": "孙七", "verified_on": day(1),
                                "verification_result": "effective"}, "capa early.xlsx")
    (refused,) = _take(ws)
    assert refused.outcome == "rejected" and "STAGE_ORDER" in refused.codes, refused.to_dict()
    assert not early.exists()
    assert by_cause(actions_json(ws))[key]["status"] == "open"

    person = {
        "containment": "隔离在库品并全检\n通知客户已发货批次", "containment_owner": "王五",
        "containment_date": day(1), "root_cause": "来料检验漏检毛刺", "cause_category": "method",
        "corrective_action": "修订来料检验规范,增加毛刺项", "action_owner": "张三",
        "action_date": day(3), "preventive_action": "同类冲压件检验规范同步修订",
        "verified_by": "孙七", "verified_on": day(10), "verification_result": "effective",
        "verification_notes": "连续三批无毛刺", "customer_feedback_on": day(11),
        "customer_feedback": "认可", "qc_approved_by": "李四", "qc_approved_on": day(12),
        "gm_approved_by": "赵总", "gm_approved_on": day(12), "closed": True,
    }
    _filled(ws, blank, person, "capa closed.xlsx")
    (taken,) = _take(ws)
    assert taken.outcome == "record", taken.to_dict()
    after = by_cause(actions_json(ws))
    assert after[key]["status"] == "closed" and after[key]["effective"] is True
    assert after[key]["overdue"] is False
    assert after[key]["link"]["form"] == "corrective-action"
    assert after[key]["link"]["record_id"] == taken.record_id
    # the other actions are untouched
    others = {k: (a["status"], a["effective"]) for k, a in after.items() if k != key}
    assert others == {r[1]: (STATUS.get(r[1], "open"), None) for r in REQUIRED if r[1] != key}


def _named_value(wb: Any, name: str) -> Any:
    from openpyxl.utils.cell import range_boundaries

    ((sheet, ref),) = list(wb.defined_names[name].destinations)
    col, row, _, _ = range_boundaries(ref.replace("$", ""))
    return wb[sheet].cell(row=row, column=col).value


# -- (d) the review pack ------------------------------------------------------------------------

def _review(loop: LoopYear, *args: str) -> dict[str, Any]:
    result = run(loop.ws, "report", "review", "--year", str(YEAR), "--json", *args)
    assert result.exit_code == 0, result.output
    pack: dict[str, Any] = json.loads(result.stdout)
    return pack


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _kpis(pack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k["key"]: k for k in pack["kpis"]}


def _months(expected: dict[str, float]) -> dict[str, float | None]:
    return {m: expected.get(m) for m in MONTHS}


def expected_action_counts(actions: list[dict[str, Any]],
                           months: list[str] = MONTHS) -> dict[str, Any]:
    """The counts of the pack worked out from REQUIRED and the known statuses (the dates
    the actions were raised on are the intake's, so only those in the period's months
    count)."""
    today = datetime.now(timezone.utc).date()
    raised = {a["cause_key"]: date.fromisoformat(a["raised_on"]) for a in actions}
    dues = {a["cause_key"]: a["due"] for a in actions}

    def empty() -> dict[str, int]:
        return dict.fromkeys(("raised", "open", "overdue", "closed", "verified"), 0)

    total = empty()
    sources: dict[str, dict[str, int]] = {}
    departments: dict[str, dict[str, int]] = {}
    for source, key, dept, _, _ in REQUIRED:
        if raised[key].isoformat()[:7] not in months:
            continue
        status = STATUS.get(key, "open")
        overdue = dues[key] is not None and date.fromisoformat(dues[key]) < today
        for counts in (total, sources.setdefault(source, empty()),
                       departments.setdefault(dept, empty())):
            counts["raised"] += 1
            counts["open"] += status in ("open", "in_progress")
            counts["overdue"] += overdue
    return {**total, "by_source": sources, "by_department": departments}


def test_the_review_pack_json_carries_the_figures(loop: LoopYear) -> None:
    pack = _review(loop)
    assert (pack["year"], pack["half"], pack["previous_year"]) == (YEAR, None, LAST)
    assert pack["months"] == MONTHS
    kpis = _kpis(pack)
    assert list(kpis) == ["on_time_delivery", "complaint_ppm", "excess_freight",
                          "complaint_sla", "satisfaction", "survey_return_rate"]
    expected = {"on_time_delivery": (ON_TIME_YEAR, False, ON_TIME),
                "complaint_ppm": (PPM_YEAR, False, PPM_MONTHS),
                "complaint_sla": (SLA_YEAR, False, SLA_MONTHS),
                "satisfaction": (SATISFACTION_YEAR, True, SATISFACTION_MONTHS)}
    for key, (value, met, months) in expected.items():
        kpi = kpis[key]
        assert _num(kpi["value"]) == pytest.approx(value, abs=0.05), key
        assert kpi["met"] is met, key
        assert {m: _num(v) for m, v in kpi["by_month"].items()} == pytest.approx(
            _months(months), abs=0.05), key
    assert (kpis["excess_freight"]["value"], kpis["excess_freight"]["met"]) == (None, None)
    assert _num(kpis["survey_return_rate"]["value"]) == RETURN_RATE
    assert kpis["survey_return_rate"]["met"] is True
    targets = {k: (v["target"], v["comparison"]) for k, v in kpis.items()}
    assert {k: (float(t), c) for k, (t, c) in targets.items()} == {
        "on_time_delivery": (95.0, "min"), "complaint_ppm": (200.0, "max"),
        "excess_freight": (2000.0, "max"), "complaint_sla": (100.0, "min"),
        "satisfaction": (90.0, "min"), "survey_return_rate": (70.0, "min")}


def test_the_first_half_holds_the_whole_year_of_records(loop: LoopYear) -> None:
    """Every record of this year falls in January–June: the H1 pack shows the year's KPIs;
    its actions are those raised in H1 (the day the files came in decides)."""
    pack = _review(loop, "--half", "H1")
    half = MONTHS[:6]
    assert (pack["year"], pack["half"], pack["months"]) == (YEAR, "H1", half)
    kpis = _kpis(pack)
    for key, value in (("on_time_delivery", ON_TIME_YEAR), ("complaint_ppm", PPM_YEAR),
                       ("complaint_sla", SLA_YEAR), ("satisfaction", SATISFACTION_YEAR)):
        assert _num(kpis[key]["value"]) == pytest.approx(value, abs=0.05), key
        assert list(kpis[key]["by_month"]) == half
    assert pack["actions"] == expected_action_counts(actions_json(loop.ws), half)


def test_the_review_pack_sets_last_years_satisfaction_beside_this_years(loop: LoopYear) -> None:
    rows = {r["customer"]: r for r in _review(loop)["satisfaction"]}
    assert set(rows) == set(SATISFACTION)
    for customer, (score, previous, trend) in SATISFACTION.items():
        row = rows[customer]
        assert (_num(row["score"]), _num(row["previous"]), row["trend"]) == (
            score, previous, trend), customer
        change = None if previous is None else score - previous
        assert _num(row["change"]) == (None if change is None else pytest.approx(change))
        assert row["below_target"] is (score < 90)


def test_the_review_pack_counts_complaints_and_ppm_per_customer(loop: LoopYear) -> None:
    complaints = _review(loop)["complaints"]
    categories = {r["key"]: r["count"] for r in complaints["by_category"] if r["count"]}
    assert categories == CATEGORIES
    first = complaints["by_category"][0]
    assert first["key"] == "quality" and _num(first["share"]) == pytest.approx(200 / 3, abs=0.05)
    assert {r["key"]: r["count"] for r in complaints["by_cause"] if r["count"]} == CAUSES
    ppm = {r["customer"]: (r["complained"], r["delivered"], _num(r["ppm"]))
           for r in complaints["ppm"]}
    assert ppm == PPM
    assert (complaints["this_month"], complaints["last_month"]) == (THIS_MONTH, LAST_MONTH)
    compare = {r["key"]: (r["this"], r["last"]) for r in complaints["month_compare"]
               if r["this"] or r["last"]}
    assert compare == {"quality": (1, 0), "delivery": (0, 1)}


def test_the_review_pack_counts_the_actions(loop: LoopYear) -> None:
    actions = actions_json(loop.ws)
    pack = _review(loop)
    assert pack["actions"] == expected_action_counts(actions)
    assert pack["signoff"] == {"prepared_by": None, "reviewed_by": None, "approved_by": None}


def _table(wb: Any, name: str) -> dict[str, dict[str, Any]]:
    """A named table of the pack's workbook as {first column: {English header: value}}: the
    headers are bilingual, Chinese above English."""
    header, *rows = named_rows(wb, name)
    keys = [str(h).split("\n")[-1] for h in header]
    return {str(row[0]).split("\n")[-1]: dict(zip(keys, row, strict=True)) for row in rows}


def _close(found: Any, expected: float | None) -> bool:
    if expected is None:
        return found is None
    return isinstance(found, int | float) and abs(float(found) - expected) < 0.05


def test_the_review_workbook_holds_the_figures(loop: LoopYear, tmp_path: Path) -> None:
    out = tmp_path / "review.xlsx"
    pack = _review(loop, "-o", str(out))
    wb = load_workbook(out)

    scorecard = _table(wb, "scorecard")
    header = named_rows(wb, "scorecard")[0]
    month_columns = [str(h).split("\n")[-1] for h in header[header.index("达标\nMet") + 1:]]
    assert len(month_columns) == len(MONTHS)
    kpis = _kpis(pack)
    expected = {"on_time_delivery": (ON_TIME_YEAR, ON_TIME),
                "complaint_ppm": (PPM_YEAR, PPM_MONTHS),
                "complaint_sla": (SLA_YEAR, SLA_MONTHS),
                "satisfaction": (SATISFACTION_YEAR, SATISFACTION_MONTHS),
                "survey_return_rate": (RETURN_RATE, {})}
    for key, (value, months) in expected.items():
        row = scorecard[kpis[key]["en"]]
        assert _close(row["Value"], value), (key, row)
        shown = [row[c] for c in month_columns]
        assert all(_close(v, months.get(m)) for v, m in zip(shown, MONTHS, strict=True)), (
            key, shown)
    assert not isinstance(scorecard[kpis["excess_freight"]["en"]]["Value"], int | float)

    satisfaction = _table(wb, "satisfaction_table")
    for customer, (score, previous, _) in SATISFACTION.items():
        row = satisfaction[customer]
        assert _close(row[str(YEAR)], score) and _close(row[str(LAST)], previous), row

    ppm = _table(wb, "ppm_table")
    for customer, (complained, delivered, value) in PPM.items():
        row = ppm[customer]
        assert (row["Complained"], row["Delivered"]) == (complained, delivered), row
        assert _close(row["PPM"], value), row
    assert [_close(v, e) for v, e in zip(
        [ppm["合计 Total"][k] for k in ("Complained", "Delivered", "PPM")],
        (35, 5000, PPM_YEAR), strict=True)] == [True] * 3

    counts = expected_action_counts(actions_json(loop.ws))
    names = ("Raised", "Open", "Overdue", "Verified", "Closed")

    def shown_counts(row: dict[str, Any]) -> list[Any]:
        return [row[n] or 0 for n in names]

    def wanted(c: dict[str, int]) -> list[int]:
        return [c[n.lower()] for n in names]

    (total,) = _table(wb, "actions_total").values()
    assert shown_counts(total) == wanted(counts)
    departments = _table(wb, "actions_by_department")
    assert {d: shown_counts(r) for d, r in departments.items() if shown_counts(r)[0]} == {
        d: wanted(c) for d, c in counts["by_department"].items()}
    assert len(_table(wb, "actions_by_source")) == len(counts["by_source"])
