"""The corrective-action form: staged validation, pre-filled issue, and both formats through
the real intake."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from pydantic import ValidationError

from qmsforms.blanks import issue_blank
from qmsforms.excel.binding import workbook_names
from qmsforms.excel.fill import fill_workbook
from qmsforms.forms.capa import CorrectiveAction
from qmsforms.intake import Intake
from qmsforms.validate import validate_file
from qmsforms.word.fill import fill_word
from qmsforms.word.read import extract_word
from qmsforms.workspace import Workspace

PROBLEM = ("2026-09 至 2026-11 连续三个月质量类扣分:\n焊缝开裂 3 次,批号 B-2209、B-2210;\n"
           "客户要求回复")

ISSUED = {
    "action_no": "CA-2026-0001", "source": "monitoring_streak", "source_ref": "R-0012",
    "customer": "华东汽车", "raised_on": "2026-11-03", "responsible_dept": "质量部",
    "due_date": "2026-11-12", "problem": PROBLEM,
}
"""What the action register pre-fills when it issues the form for an action."""

WORKED = {
    "containment": "隔离在库 B-2209/B-2210 共 600 件,全检", "containment_owner": "王工",
    "containment_date": "2026-11-04",
    "root_cause": "焊接电流设定漂移\n首件检验未覆盖焊缝", "cause_category": "machine",
    "corrective_action": "焊机加装电流监控;首件检验增加焊缝项目", "action_owner": "李工",
    "action_date": "2026-11-10",
    "preventive_action": "同类支架 3 个料号同步修改控制计划",
}
"""Filled in by the departments, in the order the form's parts come."""

CLOSED = {
    **WORKED,
    "verified_by": "赵工", "verified_on": "2026-11-20", "verification_result": "effective",
    "verification_notes": "连续 3 批无焊缝不良", "customer_feedback_on": "2026-11-21",
    "customer_feedback": "客户认可", "qc_approved_by": "孙经理", "qc_approved_on": "2026-11-21",
    "gm_approved_by": "周总", "gm_approved_on": "2026-11-22", "closed": True,
}

TYPED = {"action_no": "CA-2026-0001", "problem": "焊缝开裂", "raised_on": "2026-11-03"}


def _errors(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as info:
        CorrectiveAction.model_validate(data)
    return [(e["type"], e["ctx"]["field"]) for e in info.value.errors()]


# -- staged validation ---------------------------------------------------------------------

def test_a_fresh_a_worked_and_a_closed_form_are_valid() -> None:
    CorrectiveAction.model_validate(TYPED)
    CorrectiveAction.model_validate({**ISSUED, **WORKED})
    closed = CorrectiveAction.model_validate({**ISSUED, **CLOSED})
    assert closed.closed is True and closed.problem == PROBLEM


def test_action_no_and_problem_are_required() -> None:
    with pytest.raises(ValidationError) as info:
        CorrectiveAction.model_validate({"source": "complaint"})
    assert {e["loc"][0] for e in info.value.errors()} == {"action_no", "problem"}


def test_verification_before_a_corrective_action_is_out_of_order() -> None:
    verified = {"verified_by": "赵工", "verified_on": "2026-11-20",
                "verification_result": "effective"}
    assert _errors({**TYPED, **verified}) == [("STAGE_ORDER", "verification_result")]
    assert _errors({**TYPED, "verified_by": "赵工"}) == [
        ("STAGE_ORDER", "verified_by"), ("STAGE_INCOMPLETE", "verified_on"),
        ("STAGE_INCOMPLETE", "verification_result")]


def test_a_verification_needs_who_when_and_result_together() -> None:
    base = {**TYPED, **WORKED}
    assert _errors({**base, "verification_result": "not_effective"}) == [
        ("STAGE_INCOMPLETE", "verified_by"), ("STAGE_INCOMPLETE", "verified_on")]
    assert _errors({**base, "verified_by": "赵工", "verified_on": "2026-11-20"}) == [
        ("STAGE_INCOMPLETE", "verification_result")]


def test_dates_never_go_backwards() -> None:
    assert _errors({**TYPED, **CLOSED, "containment_date": "2026-11-02",
                    "verified_on": "2026-11-09"}) == [
        ("DATE_ORDER", "containment_date"), ("DATE_ORDER", "verified_on")]
    # feedback and approvals come on or after the verification
    assert _errors({**TYPED, **CLOSED, "customer_feedback_on": "2026-11-19",
                    "gm_approved_on": "2026-11-01"}) == [
        ("DATE_ORDER", "customer_feedback_on"), ("DATE_ORDER", "gm_approved_on")]
    # a stage without a date does not break the chain
    CorrectiveAction.model_validate({**TYPED, **CLOSED, "action_date": None})


def test_closing_needs_every_part_one_issue_per_missing_field() -> None:
    missing = ("root_cause", "preventive_action", "customer_feedback_on", "gm_approved_by")
    data = {**TYPED, **CLOSED, **dict.fromkeys(missing)}
    assert _errors(data) == [("CLOSURE_INCOMPLETE", name) for name in missing]
    assert _errors({**TYPED, "closed": True}) == [
        ("CLOSURE_INCOMPLETE", name) for name in (
            "containment", "root_cause", "corrective_action", "preventive_action",
            "verified_by", "verified_on", "verification_result", "customer_feedback_on",
            "qc_approved_by", "gm_approved_by")]


def test_closing_after_a_verification_that_failed_is_refused() -> None:
    assert _errors({**TYPED, **CLOSED, "verification_result": "not_effective"}) == [
        ("CLOSURE_INCOMPLETE", "verification_result")]


def test_a_field_already_flagged_is_not_flagged_again_for_closure() -> None:
    assert _errors({**TYPED, **CLOSED, "verified_on": None}) == [
        ("STAGE_INCOMPLETE", "verified_on")]


# -- issued pre-filled, filled like a person, taken by the intake -------------------------

def _record(ws: Workspace) -> dict[str, Any]:
    with Intake(ws, settle=0.05) as intake:
        (outcome,) = intake.process().outcomes
    assert outcome.outcome == "record", outcome
    assert outcome.form == "corrective-action"
    record: dict[str, Any] = json.loads((ws.outbox / outcome.location).read_text(
        encoding="utf-8"))
    return record


def _expected(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in CorrectiveAction.model_validate(values).model_dump(
        mode="json").items() if v not in (None, False)}


def test_xlsx_issued_for_an_action_carries_the_prefill(ws: Workspace, tmp_path: Path) -> None:
    form = ws.registry.get("corrective-action")
    path = issue_blank(ws, "corrective-action", tmp_path / "ca.xlsx", values=ISSUED)
    wb = load_workbook(path)
    names = workbook_names(wb)
    sheet = wb.worksheets[0]
    for name in ("action_no", "source_ref", "customer", "responsible_dept", "problem"):
        cells = names[name]
        assert str(sheet.cell(row=cells.min_row, column=cells.min_col).value) == ISSUED[name]
    assert form.formats == ("xlsx", "docx") and form.natural_key == ("action_no",)


def test_xlsx_round_trip_through_the_intake(ws: Workspace, tmp_path: Path) -> None:
    path = issue_blank(ws, "corrective-action", tmp_path / "ca.xlsx", values=ISSUED, lang="zh")
    wb = load_workbook(path)
    fill_workbook(wb, ws.registry.get("corrective-action"), CLOSED, "zh")
    wb.save(ws.inbox / "CA-2026-0001.xlsx")
    record = _record(ws)
    data = {k: v for k, v in record["data"].items() if v not in (None, False)}
    assert data == _expected({**ISSUED, **CLOSED})
    assert data["problem"].count("\n") == 2
    assert record["scores"] == {"kind": "capa", "action_no": "CA-2026-0001",
                                "status": "closed", "effective": True}


def test_docx_round_trip_through_the_intake(ws: Workspace, tmp_path: Path) -> None:
    path = issue_blank(ws, "corrective-action", tmp_path / "ca.docx", values=ISSUED)
    values, _, issues = extract_word(path, ws.registry.get("corrective-action"))
    assert issues == [] and values["problem"] == PROBLEM and values["source"] == (
        "monitoring_streak")
    fill_word(path, WORKED, ws.inbox / "CA-2026-0001.docx")
    record = _record(ws)
    data = {k: v for k, v in record["data"].items() if v not in (None, False)}
    assert data == _expected({**ISSUED, **WORKED})
    assert record["scores"] == {"kind": "capa", "action_no": "CA-2026-0001",
                                "status": "in_progress", "effective": None}


def test_staged_rejection_in_xlsx_is_located_on_the_cells(ws: Workspace,
                                                          tmp_path: Path) -> None:
    path = issue_blank(ws, "corrective-action", tmp_path / "ca.xlsx", values=ISSUED)
    wb = load_workbook(path)
    names = workbook_names(wb)
    fill_workbook(wb, ws.registry.get("corrective-action"),
                  {**CLOSED, "corrective_action": None, "containment_date": "2026-11-01",
                   "gm_approved_by": None})
    wb.save(path)
    report = validate_file(path, ws)
    cell = {n: f"{get_column_letter(c.min_col)}{c.min_row}" for n, c in names.items()}
    assert report.flatten(["code", "field", "cell"]) == [
        ["STAGE_ORDER", "verification_result", cell["verification_result"]],
        ["DATE_ORDER", "containment_date", cell["containment_date"]],
        ["CLOSURE_INCOMPLETE", "corrective_action", cell["corrective_action"]],
        ["CLOSURE_INCOMPLETE", "gm_approved_by", cell["gm_approved_by"]],
    ]
    path.replace(ws.inbox / path.name)
    with Intake(ws, settle=0.05) as intake:
        (outcome,) = intake.process().outcomes
    assert outcome.outcome == "rejected"
    assert set(outcome.codes) == {"STAGE_ORDER", "DATE_ORDER", "CLOSURE_INCOMPLETE"}


def test_staged_rejection_in_docx_is_located_on_the_controls(ws: Workspace,
                                                             tmp_path: Path) -> None:
    path = issue_blank(ws, "corrective-action", tmp_path / "ca.docx", values=ISSUED)
    fill_word(path, {**CLOSED, "verification_result": "not_effective"},
              ws.inbox / "CA-2026-0001.docx")
    report = validate_file(ws.inbox / "CA-2026-0001.docx", ws)
    ((code, field, where),) = report.flatten(["code", "field", "cell"])
    assert (code, field) == ("CLOSURE_INCOMPLETE", "verification_result")
    assert where == "table 6 row 2 column 2"  # the verification block, result row
    with Intake(ws, settle=0.05) as intake:
        (outcome,) = intake.process().outcomes
    assert outcome.outcome == "rejected" and outcome.codes == ("CLOSURE_INCOMPLETE",)

