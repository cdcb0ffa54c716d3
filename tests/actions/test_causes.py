"""Surveys and complaints raise their actions (`qmsforms.actions.causes`), through the real
intake."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from qmsforms.blanks import issue_blank
from qmsforms.word.fill import fill_word
from qmsforms.workspace import Workspace

from .conftest import TakeFn, ViewsFn, today_utc, working_days_after

Fill = Callable[..., Path]
LOW = {"customer": "Beta 精密", "period": "2026", "product_quality": 2, "delivery": 4,
       "packaging": 4, "appearance": 4, "service_attitude": 5,
       "suggestions": "包装再加固 / stronger packaging"}
"""Product quality at level 2 (40 %): score (25×40 + 20×80 + 10×80 + 5×80 + 10×100) / 70."""


def test_a_low_survey_raises_its_item_its_score_and_its_suggestion(
        ws: Workspace, make_filled: Fill, take: TakeFn, views: ViewsFn) -> None:
    (outcome,) = take(make_filled("satisfaction-survey", LOW))
    found = {a["source"]: a for a in views()}
    assert set(found) == {"survey_item", "survey_below_target", "suggestion"}
    item = found["survey_item"]
    assert item["cause_key"] == "survey_item:satisfaction-survey:Beta 精密:2026:product_quality"
    assert (item["cause"]["answer"], item["cause"]["pct"]) == (2, 40.0)
    assert item["department_zh"] == "营业部→质量部"
    below = found["survey_below_target"]
    assert below["cause"]["score"] == 68.6 and below["cause"]["target"] == 90
    assert below["department_zh"] == "质量部(统筹)"
    suggestion = found["suggestion"]
    assert suggestion["cause"]["text"] == LOW["suggestions"]
    assert suggestion["department_zh"] == "营业部"
    due = working_days_after(today_utc(), 7).isoformat()
    assert {a["due"] for a in found.values()} == {due}
    assert {a["source_record"] for a in found.values()} == {outcome.record_id}
    # numbered in the order of their cause keys, one sequence for the year
    assert [a["action_id"][-4:] for a in views()] == ["0001", "0002", "0003"]


def test_a_corrected_survey_removes_the_causes_it_no_longer_shows(
        ws: Workspace, make_filled: Fill, take: TakeFn, views: ViewsFn) -> None:
    take(make_filled("satisfaction-survey", LOW))
    fixed = {**LOW, "product_quality": 5, "delivery": 5, "packaging": 5, "appearance": 5}
    fixed.pop("suggestions")
    (revised,) = take(make_filled("satisfaction-survey", fixed))
    assert revised.supersedes is not None
    assert {a["cause_removed_by"] for a in views()} == {revised.record_id}
    assert len(views()) == 3


def test_a_survey_at_target_without_comments_raises_nothing(
        ws: Workspace, make_filled: Fill, take: TakeFn, views: ViewsFn) -> None:
    take(make_filled("satisfaction-survey", {**LOW, "product_quality": 5, "suggestions": "  "}))
    assert views() == []


COMPLAINT: dict[str, Any] = {
    "ticket_no": "TS-9", "customer": "Gamma 电子", "received_at": "2026-11-03 09:00",
    "filed_at": "2026-11-03 10:00", "category": "quality", "quality_related": "是",
    "description": "焊缝开裂 cracked welds"}


def _eight_d(ws: Workspace, tmp: Path, values: dict[str, Any]) -> Path:
    blank = issue_blank(ws, "8d-report", tmp / "8d-blank.docx", values={
        "complaint_no": "TS-9", "customer": "Gamma 电子", "opened_date": "2026-11-04"})
    out = tmp / f"8D {len(values)}.docx"
    fill_word(blank, values, out)
    return out


D1 = {"team_leader": "张三", "team_members": "李四", "d1_owner": "张三",
      "d1_date": "2026-11-05", "d1_done": True}
D3 = {**D1, "description": "裂纹", "d2_owner": "张三", "d2_date": "2026-11-05",
      "d2_done": True, "d3_actions": [{"action": "全检 100 % sorting", "owner": "李四"}],
      "d3_owner": "李四", "d3_date": "2026-11-06", "d3_done": True}


def test_a_quality_complaint_raises_one_action_its_8d_answers(
        ws: Workspace, make_filled: Fill, take: TakeFn, views: ViewsFn,
        tmp_path: Path) -> None:
    take(make_filled("complaint", COMPLAINT),
         make_filled("complaint", {**COMPLAINT, "ticket_no": "TS-10",
                                   "quality_related": "否", "category": "delivery"}))
    (action,) = views()
    assert action["source"] == "complaint" and action["cause_key"] == "complaint:TS-9"
    assert action["department_zh"] == "质量部" and action["customer"] == "Gamma 电子"
    assert action["due"] == working_days_after(today_utc(), 20).isoformat()
    assert (action["status"], action["link"]) == ("open", None)

    take(_eight_d(ws, tmp_path, D1))
    (action,) = views()
    assert action["status"] == "open" and action["link"]["form"] == "8d-report"
    assert action["link"]["reached"] == "D1"
    take(_eight_d(ws, tmp_path, D3))
    (action,) = views()
    assert (action["status"], action["link"]["reached"]) == ("in_progress", "D3")
    assert len(views()) == 1  # the 8D is the action: never a second one


def test_a_complaints_own_due_date_is_its_actions(
        ws: Workspace, make_filled: Fill, take: TakeFn, views: ViewsFn) -> None:
    take(make_filled("complaint", {**COMPLAINT, "due_date": "2026-11-20"}))
    (action,) = views()
    assert action["due"] == "2026-11-20"
    assert views(today=date(2026, 11, 20))[0]["overdue"] is False
    late = views(today=date(2026, 11, 21))[0]
    assert late["overdue"] is True and late["status"] == "open"
    assert late["age_days"] == (date(2026, 11, 21) - today_utc()).days
