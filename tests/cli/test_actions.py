"""``qmsforms actions``: the register listed, one action shown, its form issued; overdue
actions in ``qmsforms status``."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from qmsforms.actions import action_views
from qmsforms.intake import open_ledger
from qmsforms.workspace import Workspace

from ..actions.conftest import sheet
from ..conftest import FillFn
from .test_void import run, run_json


def process(ws: Workspace, *files: Path) -> None:
    for i, path in enumerate(files):
        shutil.copyfile(path, ws.inbox / f"{i:02d} {path.name}")
    assert run(ws, "process", "--settle", "0.05").exit_code == 0


@pytest.fixture
def raised(ws: Workspace, make_filled: FillFn) -> Workspace:
    """A quality streak of Acme (one action) and a quality complaint of Gamma, due long ago."""
    process(ws, *[sheet(make_filled, "Acme", f"2026-0{m}", q_partial_return=1)
                  for m in (3, 4, 5)],
            make_filled("complaint", ticket_no="TS-7", customer="Gamma", quality_related="是",
                        due_date="2026-11-05"))
    return ws


def test_an_empty_register(ws: Workspace) -> None:
    result = run(ws, "actions")
    assert result.exit_code == 0 and "0 " in result.output
    assert run_json(ws, "actions") == []


def test_the_listing_is_the_register_and_filters(raised: Workspace) -> None:
    ws = raised
    listed = run_json(ws, "actions")
    with open_ledger(ws) as ledger:
        assert listed == [v.to_dict() for v in action_views(ws, ledger)]
    assert [a["source"] for a in listed] == ["monitoring_streak", "complaint"]
    assert [a["source"] for a in run_json(ws, "actions", "--overdue")] == ["complaint"]
    assert [a["customer"] for a in run_json(ws, "actions", "--customer", "acm")] == ["Acme"]
    assert len(run_json(ws, "actions", "--open")) == 2
    text = run(ws, "actions").output
    assert listed[0]["action_id"] in text and "OVERDUE" in text and "2 " in text


def test_show_prints_one_action(raised: Workspace) -> None:
    ws = raised
    first = run_json(ws, "actions")[0]
    assert run_json(ws, "actions", "show", first["action_id"]) == first
    result = run(ws, "actions", "show", first["action_id"])
    assert result.exit_code == 0 and first["cause_key"] in result.output
    assert run(ws, "actions", "show", "CA-1999-0001").exit_code == 2


def test_a_complaint_action_is_answered_by_its_8d_not_a_form(raised: Workspace,
                                                            tmp_path: Path) -> None:
    ws = raised
    complaint = run_json(ws, "actions", "--customer", "Gamma")[0]
    result = run(ws, "actions", "issue", complaint["action_id"], "-o", str(tmp_path / "x.xlsx"))
    assert result.exit_code == 2
    assert f"8d new --from {complaint['source_record']}" in result.output
    assert not (tmp_path / "x.xlsx").exists()


def test_issue_writes_the_corrective_action_form_pre_filled(raised: Workspace,
                                                           tmp_path: Path) -> None:
    ws = raised
    action = run_json(ws, "actions", "--customer", "Acme")[0]
    out = tmp_path / "ca.xlsx"
    result = run(ws, "actions", "issue", action["action_id"], "-o", str(out))
    assert result.exit_code == 0, result.output
    wb = load_workbook(out)

    def value(name: str) -> Any:
        ((sheet_name, ref),) = list(wb.defined_names[name].destinations)
        return wb[sheet_name][ref.replace("$", "").split(":")[0]].value

    assert value("action_no") == action["action_id"]
    assert value("source_ref") == action["source_record"]
    assert value("customer") == "Acme"
    assert action["problem_zh"] in str(value("problem"))
    assert action["problem_en"] in str(value("problem"))
    with open_ledger(ws) as ledger:
        assert any(i["form"] == "corrective-action" for i in ledger.issued())
    word = run(ws, "actions", "issue", action["action_id"], "-o", str(tmp_path / "ca.docx"))
    assert word.exit_code == 0, word.output
    with zipfile.ZipFile(tmp_path / "ca.docx") as docx:
        assert action["action_id"] in docx.read("word/document.xml").decode("utf-8")


def test_status_lists_overdue_actions_as_needing_a_person(raised: Workspace) -> None:
    ws = raised
    result = run(ws, "status", "--json")
    found = json.loads(result.stdout)
    assert result.exit_code == 1 and found["needs_person"] is True
    (entry,) = found["actions"]
    complaint = run_json(ws, "actions", "--overdue")[0]
    assert (entry["name"], entry["state"], entry["needs_person"]) == (
        complaint["action_id"], "overdue", True)
    assert entry["since"] == "2026-11-05" and entry["source"] == "complaint"


def test_the_register_workbook_and_the_review_pack_read_the_same_actions(
        raised: Workspace, tmp_path: Path) -> None:
    ws = raised
    listed = run_json(ws, "actions")
    assert run_json(ws, "report", "actions") == listed
    result = run(ws, "report", "actions", "-o", str(tmp_path / "register.xlsx"))
    assert result.exit_code == 0, result.output
    assert "2 actions, 1 overdue" in result.output


def test_ledger_rebuild_raises_the_actions_again(raised: Workspace) -> None:
    ws = raised
    before = run_json(ws, "actions")
    result = run(ws, "ledger", "rebuild", "--force")
    assert result.exit_code == 0, result.output
    assert "corrective actions: 2" in result.output
    assert run_json(ws, "actions") == before


def test_status_names_the_overdue_action_in_both_languages(raised: Workspace) -> None:
    result = run(raised, "status")
    assert result.exit_code == 1
    assert "逾期的纠正/预防措施 Overdue corrective actions: 1" in result.output
    assert "逾期 overdue" in result.output
