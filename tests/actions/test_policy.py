"""The action policy (`qmsforms.actions.policy`): shipped, replaced by a workspace, broken."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from qmsforms.actions import add_working_days, load_action_policy
from qmsforms.actions.policy import SOURCES, policy_file
from qmsforms.definitions import DefinitionBroken
from qmsforms.intake.status import intake_status
from qmsforms.workspace import Workspace

from .conftest import TakeFn, ViewsFn

SHIPPED = Path(__file__).resolve().parents[2] / "schemas" / "policies" / "actions-000.toml"


def test_the_shipped_policy_names_every_source(ws: Workspace) -> None:
    policy = load_action_policy(ws)
    assert policy_file(ws).read_bytes() == SHIPPED.read_bytes()  # init copies it
    assert set(policy.sources) == set(SOURCES)
    assert policy.survey_target == 90 and policy.prefix == "CA"
    assert policy.due("year_below_target", date(2026, 11, 2)) is None
    assert policy.department("monitoring_streak", "delivery").department_zh == "生产部/物流部"
    assert policy.department("monitoring_streak", "other").department_zh == "质量部"
    assert "actions-000" not in ws.policies.broken  # not a scoring policy: read here


def test_working_days_skip_weekends_and_holidays() -> None:
    friday = date(2026, 10, 30)
    assert add_working_days(friday, 1) == date(2026, 11, 2)
    assert add_working_days(friday, 7) == date(2026, 11, 10)
    assert add_working_days(date(2026, 9, 30), 1, (date(2026, 10, 1), date(2026, 10, 2))) \
        == date(2026, 10, 5)
    assert add_working_days(friday, 0) == friday


def _own(ws: Workspace, text: str) -> Path:
    path = ws.schemas_dir / "policies" / "actions-000.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_workspace_file_replaces_the_shipped_one(ws: Workspace) -> None:
    text = SHIPPED.read_text(encoding="utf-8").replace(
        "holidays = []", 'holidays = ["2026-11-03"]').replace("survey_target = 90",
                                                              "survey_target = 95")
    _own(ws, text)
    policy = load_action_policy(ws)
    assert policy.survey_target == 95
    assert policy.due("suggestion", date(2026, 11, 2)) == date(2026, 11, 12)


def test_a_broken_policy_names_file_line_and_key(ws: Workspace) -> None:
    text = SHIPPED.read_text(encoding="utf-8").replace("survey_target = 90",
                                                       "survey_targt = 90")
    _own(ws, text)
    with pytest.raises(DefinitionBroken) as err:
        load_action_policy(ws)
    (problem,) = err.value.problems
    line = text.splitlines().index(next(t for t in text.splitlines()
                                        if t.startswith("survey_targt"))) + 1
    assert (problem.file, problem.line, problem.key) == ("actions-000.toml", line,
                                                         "survey_targt")
    assert problem.message_zh and problem.message_en


def test_a_broken_policy_raises_nothing_and_stops_no_record(
        ws: Workspace, make_filled: Callable[..., Path], take: TakeFn,
        views: ViewsFn) -> None:
    _own(ws, "id = 'actions-000'\nkind = 'actions'\nversion = '1'\nsources = 3\n")
    (outcome,) = take(make_filled("complaint", quality_related="是"))
    assert outcome.outcome == "record"
    assert views() == []
    found = intake_status(ws)  # a person must mend it
    (entry,) = found.sections["definitions"]
    assert (entry.state, entry.person) == ("definition_broken", True)
    assert entry.name == "actions-000.toml:4 sources"


def test_a_disabled_source_raises_nothing_and_removes_nothing(
        ws: Workspace, make_filled: Callable[..., Path], take: TakeFn,
        views: ViewsFn) -> None:
    survey = {"customer": "Beta", "period": "2026", "product_quality": 5, "delivery": 5,
              "packaging": 5, "appearance": 5, "service_attitude": 5, "suggestions": "更快"}
    take(make_filled("satisfaction-survey", survey))
    assert [a["source"] for a in views()] == ["suggestion"]
    text = SHIPPED.read_text(encoding="utf-8").replace(
        "[sources.suggestion]\n", "[sources.suggestion]\nenabled = false\n")
    _own(ws, text)
    take(make_filled("satisfaction-survey", {**survey, "suggestions": "再快些"}))
    (action,) = views()
    assert action["cause_removed_by"] is None  # switched off, not answered
    take(make_filled("complaint", ticket_no="TS-2", quality_related="是"))
    assert [a["source"] for a in views()] == ["suggestion", "complaint"]
