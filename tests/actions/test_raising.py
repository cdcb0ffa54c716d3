"""Actions raised by real records taken in by the real intake (SPEC §8)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from qmsforms.actions.raising import replay_actions
from qmsforms.customers import Customer, save_master
from qmsforms.intake import Ledger, RecordRow, open_ledger
from qmsforms.intake.rebuild import rebuild_ledger
from qmsforms.intake.voids import void_record
from qmsforms.workspace import Workspace

from .conftest import TakeFn, ViewsFn, sheet, today_utc, working_days_after

Fill = Callable[..., Path]
ACME = "Acme 机械"


def test_three_months_of_quality_deductions_raise_one_streak_action(
        ws: Workspace, make_filled: Fill, take: TakeFn, views: ViewsFn) -> None:
    files = [sheet(make_filled, ACME, f"2026-0{m}", q_partial_return=1) for m in (3, 4, 5)]
    outcomes = take(*files)
    assert [o.outcome for o in outcomes] == ["record"] * 3
    found = views()
    streaks = [a for a in found if a["source"] == "monitoring_streak"]
    assert len(streaks) == 1
    (action,) = streaks
    today = today_utc()
    assert action["action_id"] == f"CA-{today.year}-0001"
    assert action["cause_key"] == f"monitoring_streak:{ACME}:quality:2026-03"
    assert action["cause"]["months"] == ["2026-03", "2026-04", "2026-05"]
    assert action["department_zh"] == "质量部"
    assert action["raised_on"] == today.isoformat()
    assert action["due"] == working_days_after(today, 7).isoformat()
    assert action["status"] == "open" and action["link"] is None
    assert action["overdue"] is False and action["age_days"] == 0
    assert action["cause_removed_by"] is None
    with open_ledger(ws) as ledger:  # raised by the newest received of the three sheets
        rows = [ledger.record(o.record_id) for o in outcomes]
    newest = max(rows, key=lambda r: (r.received_at, r.record_id))  # type: ignore[union-attr]
    assert action["source_record"] == newest.record_id  # type: ignore[union-attr]
    # 97 a month is above the target: no month below target
    assert [a["source"] for a in found] == ["monitoring_streak"]

    again = take(*files)  # the same files again: duplicates, nothing raised
    assert {o.outcome for o in again} == {"duplicate"}
    assert views() == found


def test_a_revision_that_removes_a_months_deductions_marks_the_cause_removed(
        ws: Workspace, make_filled: Fill, take: TakeFn, views: ViewsFn) -> None:
    take(*[sheet(make_filled, ACME, f"2026-0{m}", q_partial_return=1) for m in (3, 4, 5)])
    (revised,) = take(sheet(make_filled, ACME, "2026-04"))  # April corrected: no deduction
    assert revised.supersedes is not None
    (action,) = views()
    assert action["cause_removed_by"] == revised.record_id
    assert action["action_id"].endswith("-0001")
    # the deduction comes back: the same action, its cause there again
    (back,) = take(sheet(make_filled, ACME, "2026-04", q_partial_return=2))
    (action,) = views()
    assert action["cause_removed_by"] is None and action["action_id"].endswith("-0001")
    assert action["source_record"] != back.record_id  # raised once, by the first run


def test_delivery_streaks_and_months_below_target_go_to_their_departments(
        ws: Workspace, make_filled: Fill, take: TakeFn, views: ViewsFn) -> None:
    # March: a line stop (−10 quality), two unnotified delays (−10) and packaging (−2) → 78
    take(*[sheet(make_filled, ACME, f"2026-0{m}", d_packaging=1) for m in (1, 2)],
         sheet(make_filled, ACME, "2026-03", d_packaging=1, q_disruption_line_stop=1,
               d_delay_unnotified=2))
    found = {a["source"]: a for a in views()}
    assert set(found) == {"monitoring_streak", "month_below_target"}
    streak, month = found["monitoring_streak"], found["month_below_target"]
    assert streak["cause"]["category"] == "delivery"
    assert (streak["department_zh"], streak["department_en"]) == ("生产部/物流部",
                                                                   "Production / logistics")
    assert month["cause_key"] == f"month_below_target:{ACME}:2026-03"
    assert month["cause"]["total"] == 78 and month["cause"]["target"] == 90
    assert month["department_zh"] == "营业部"
    assert month["due"] == working_days_after(today_utc(), 7).isoformat()
    assert [a["action_id"][-4:] for a in views()] == ["0001", "0002"]


def test_voiding_a_record_removes_its_cause_and_voiding_the_correction_brings_it_back(
        ws: Workspace, make_filled: Fill, take: TakeFn, views: ViewsFn) -> None:
    outcomes = take(*[sheet(make_filled, ACME, f"2026-0{m}", q_partial_return=1)
                      for m in (3, 4, 5)])
    void_record(ws, outcomes[1].record_id, "sent for the wrong customer", "qa")
    (action,) = views()
    assert action["cause_removed_by"] == outcomes[1].record_id
    (again,) = take(sheet(make_filled, ACME, "2026-04", q_partial_return=1))
    assert again.outcome == "record"
    (action,) = views()
    assert action["cause_removed_by"] is None and action["action_id"].endswith("-0001")
    journal = json.loads((ws.outbox / "actions" / f"{action['action_id']}.json").read_text(
        encoding="utf-8"))
    assert journal["cause_removed_by"] is None and journal["cause_key"] == action["cause_key"]


def test_a_rebuilt_ledger_holds_the_same_actions_with_the_same_numbers(
        ws: Workspace, make_filled: Fill, take: TakeFn, views: ViewsFn) -> None:
    survey = {"customer": "Beta", "period": "2026", "product_quality": 2, "delivery": 4,
              "packaging": 4, "appearance": 4, "service_attitude": 5, "suggestions": "更快"}
    outcomes = take(*[sheet(make_filled, ACME, f"2026-0{m}", q_partial_return=1,
                            d_packaging=1) for m in (3, 4, 5)],
                    make_filled("satisfaction-survey", survey),
                    make_filled("complaint", ticket_no="TS-1", quality_related="是"))
    take(sheet(make_filled, ACME, "2026-04", d_packaging=1))  # quality removed in April
    void_record(ws, outcomes[4].record_id, "typed twice", "qa")  # the complaint
    before = views()
    assert len(before) == 6
    assert sum(a["cause_removed_by"] is not None for a in before) == 2
    result = rebuild_ledger(ws, force=True)
    assert result["actions"] == 6
    after = views()
    assert [{k: (b[k], a[k]) for k in b if a[k] != b[k]}
            for b, a in zip(before, after, strict=True)] == [{}] * 6


def test_the_same_numbers_come_back_from_the_journal_when_records_tie_in_time(
        ws: Workspace, make_filled: Fill, take: TakeFn, views: ViewsFn) -> None:
    take(make_filled("complaint", ticket_no="TS-1", quality_related="是"),
         make_filled("complaint", ticket_no="TS-2", quality_related="是"))
    before = views()
    with open_ledger(ws) as ledger:  # both processed in one second, in the other order
        stamp = ledger.records()[0].processed_at
    for path in (ws.outbox / "records" / "complaint").glob("*.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        record["processed_at"] = stamp
        path.write_text(json.dumps(record), encoding="utf-8")
    rebuild_ledger(ws, force=True)
    assert [(a["action_id"], a["cause_key"]) for a in views()] == [
        (a["action_id"], a["cause_key"]) for a in before]


def test_a_sheet_returned_under_an_alias_counts_for_the_master_customer(
        ws: Workspace, make_filled: Fill, take: TakeFn, views: ViewsFn) -> None:
    save_master(ws, [Customer(code="C01", name="华东汽车零部件有限公司", aliases=("华东汽车",))],
                "test", None)
    take(sheet(make_filled, "华东汽车零部件有限公司", "2026-03", q_partial_return=1),
         sheet(make_filled, "华东汽车", "2026-04", q_partial_return=1),
         sheet(make_filled, "华东汽车零部件有限公司", "2026-05", q_partial_return=1))
    (action,) = views()
    assert action["customer"] == "华东汽车零部件有限公司"
    assert action["cause_key"] == "monitoring_streak:华东汽车零部件有限公司:quality:2026-03"
    assert len(action["cause"]["records"]) == 3


def test_a_raising_that_fails_takes_the_record_back_with_it(
        ws: Workspace, make_filled: Fill, take: TakeFn, views: ViewsFn,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> list[str]:
        raise RuntimeError("the process died while raising")

    monkeypatch.setattr("qmsforms.intake.pipeline.reconcile", broken)
    assert take(make_filled("complaint", ticket_no="TS-3", quality_related="是")) == []
    with open_ledger(ws) as ledger:  # one transaction: no record without its actions
        assert ledger.records() == [] and ledger.actions() == []
    monkeypatch.undo()
    (outcome,) = take()  # the claim kept is finished by the next pass
    assert outcome.outcome == "record"
    assert [a["cause_key"] for a in views()] == ["complaint:TS-3"]


def _complaint(record_id: str, quality: bool, supersedes: str | None = None) -> RecordRow:
    data = {"ticket_no": "T1", "customer": "X", "quality_related": quality,
            "description": "d", "category": "quality"}
    return RecordRow(
        record_id=record_id, form="complaint", revision="A", instance_id=None,
        sha256=record_id.ljust(64, "0"), natural_key={"ticket_no": "T1"}, data=data,
        scores=None, source_name=f"{record_id}.xlsx", received_at="2026-11-02T08:00:00Z",
        processed_at="2026-11-02T08:00:01Z", path=f"records/complaint/{record_id}.json",
        customer="X", supersedes=supersedes)


def test_a_replayed_revision_follows_what_it_revises_within_one_second(
        ws: Workspace) -> None:
    # the revision's id sorts first; processed in the same second as the record it revises
    rows = [_complaint("R-b", True), _complaint("R-a", False, supersedes="R-b")]
    with Ledger(ws.root / "replay.sqlite") as ledger, ledger.transaction() as db:
        for row in rows:
            ledger.add_record(db, row)
        assert replay_actions(ws, ledger, db, rows, {}) == 1
        (action,) = ledger.actions()
    assert (action.cause_key, action.cause_removed_by) == ("complaint:T1", "R-a")
    assert (action.action_id, action.raised_on) == ("CA-2026-0001", "2026-11-02")
