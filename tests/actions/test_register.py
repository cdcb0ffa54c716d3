"""The register's status of an action, from the corrective-action record that answers it
(`qmsforms.actions.register`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from qmsforms.actions import select
from qmsforms.actions.issue import issue_action
from qmsforms.actions.register import view_of
from qmsforms.excel.fill import fill_workbook
from qmsforms.intake import RecordRow, open_ledger
from qmsforms.workspace import Workspace

from .conftest import TakeFn, ViewsFn, sheet, today_utc

Fill = Callable[..., Path]


def _capa(ws: Workspace, action_no: str, n: int, status: str,
          effective: bool | None = None) -> str:
    """A corrective-action record as the intake stores one (the form's scores contract)."""
    record_id = f"RCAPA-{n}"
    row = RecordRow(
        record_id=record_id, form="corrective-action", revision="A", instance_id=None,
        sha256=f"{n:064x}", natural_key={"action_no": action_no},
        data={"action_no": action_no, "problem": "x"},
        scores={"kind": "capa", "action_no": action_no, "status": status,
                "effective": effective},
        source_name=f"capa{n}.xlsx", received_at=f"2026-12-0{n}T08:00:00Z",
        processed_at=f"2099-12-0{n}T08:00:00Z",
        path=f"records/corrective-action/{record_id}.json")
    with open_ledger(ws, write=True) as ledger, ledger.transaction() as db:
        previous = ledger.latest("corrective-action", {"action_no": action_no})
        ledger.add_record(db, replace(row, supersedes=previous.record_id if previous else None))
    return record_id


def ids(views: Iterable[Any]) -> list[str]:
    return [v.action_id for v in views]


def _streak(make_filled: Fill, take: TakeFn) -> None:
    take(*[sheet(make_filled, "Acme", f"2026-0{m}", q_partial_return=1) for m in (3, 4, 5)])


def test_the_latest_corrective_action_record_gives_the_status(
        ws: Workspace, make_filled: Fill, take: TakeFn, views: ViewsFn) -> None:
    _streak(make_filled, take)
    (action,) = views()
    late = date.fromisoformat(action["due"]) + timedelta(days=1)
    assert views(late)[0]["overdue"] is True

    first = _capa(ws, action["action_id"], 1, "in_progress")
    (action,) = views(late)
    assert action["status"] == "in_progress" and action["overdue"] is True
    assert action["link"] == {"form": "corrective-action", "record_id": first,
                              "status": "in_progress"}
    assert action["effective"] is None

    second = _capa(ws, action["action_id"], 2, "verified", True)
    (action,) = views(late)
    assert (action["status"], action["effective"], action["overdue"]) == ("verified", True,
                                                                          False)
    assert action["link"]["record_id"] == second
    _capa(ws, action["action_id"], 3, "closed", True)
    assert views(late)[0]["status"] == "closed"


def test_a_corrective_action_for_another_number_changes_nothing(
        ws: Workspace, make_filled: Fill, take: TakeFn, views: ViewsFn) -> None:
    _streak(make_filled, take)
    _capa(ws, "CA-1999-0001", 1, "closed", True)
    assert views()[0]["status"] == "open"


def test_the_listing_filters_open_overdue_and_customer(
        ws: Workspace, make_filled: Fill, take: TakeFn) -> None:
    _streak(make_filled, take)
    take(*[sheet(make_filled, "Zeta 五金", f"2026-0{m}", d_packaging=1) for m in (1, 2, 3)])
    with open_ledger(ws) as ledger:
        rows = ledger.actions()
        _capa(ws, rows[0].action_id, 1, "verified", True)
        later = today_utc() + timedelta(days=30)
        found = [view_of(ledger, r, later) for r in ledger.actions()]
    assert ids(select(found, open_only=True)) == [rows[1].action_id]
    assert ids(select(found, overdue=True)) == [rows[1].action_id]
    assert ids(select(found, customer="zeta")) == [rows[1].action_id]
    assert ids(select(found, customer="acme")) == [rows[0].action_id]
    assert [v.age_days for v in found] == [30, 30]


def test_the_corrective_action_form_round_trip_moves_the_action_on(
        ws: Workspace, make_filled: Fill, take: TakeFn, views: ViewsFn,
        tmp_path: Path) -> None:
    _streak(make_filled, take)
    (action,) = views()
    blank = issue_action(ws, action["action_id"], tmp_path / "ca.xlsx")
    wb = load_workbook(blank)
    today = today_utc().isoformat()
    fill_workbook(wb, ws.registry.get("corrective-action"), {
        "containment": "隔离在库品 quarantine stock", "containment_owner": "李四",
        "containment_date": today})
    wb.save(tmp_path / "ca filled.xlsx")
    (outcome,) = take(tmp_path / "ca filled.xlsx")
    assert outcome.outcome == "record", outcome
    (action,) = views()
    assert action["status"] == "in_progress"
    assert action["link"]["record_id"] == outcome.record_id
