"""The actions a whole year raises (tests/year.py: six customers through the real intake)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from qmsforms.actions import action_views
from qmsforms.intake import open_ledger

from ..year import B, D, E, F, Year, shared_year


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Year:
    return shared_year(tmp_path_factory)


@pytest.fixture(scope="module")
def actions(year: Year) -> list[dict[str, Any]]:
    with open_ledger(year.ws) as ledger:
        return [v.to_dict() for v in action_views(year.ws, ledger)]


def test_the_year_raises_what_the_procedures_ask(actions: list[dict[str, Any]]) -> None:
    assert Counter(a["source"] for a in actions) == {
        "complaint": 6,  # the quality-related tickets, December 2025 included
        "survey_below_target": 3,  # B 71.0, D 86.3, E 80.0 (A 98.0 is above 90)
        "month_below_target": 2,  # B June 80 (after its correction), F November 84
        "monitoring_streak": 1,  # B quality, March to June
        "year_below_target": 1,  # B 84.3 over twelve months; C and F are incomplete
        "survey_item": 1,  # B complaint handling at level 2
    }
    keys = {a["cause_key"] for a in actions}
    assert {f"month_below_target:{B}:2026-06", f"month_below_target:{F}:2026-11",
            f"year_below_target:{B}:2026", f"monitoring_streak:{B}:quality:2026-03",
            f"survey_below_target:satisfaction-survey:{D}:2026",
            f"survey_below_target:satisfaction-survey:{E}:2026",
            f"survey_item:satisfaction-survey:{B}:2026:complaint_handling"} <= keys
    assert all(a["cause_removed_by"] is None for a in actions)
    numbers = sorted(int(a["action_id"][-4:]) for a in actions)
    assert numbers == list(range(1, len(actions) + 1))


def test_a_streak_follows_the_corrected_month(actions: list[dict[str, Any]]) -> None:
    (streak,) = [a for a in actions if a["source"] == "monitoring_streak"]
    # raised by March to May; June's correction (a line stop) made it four months
    assert streak["cause"]["months"] == ["2026-03", "2026-04", "2026-05", "2026-06"]
    assert "2026-03 – 2026-06" in streak["problem_zh"]
    assert "4 months running" in streak["problem_en"]
    year_action = next(a for a in actions if a["source"] == "year_below_target")
    assert year_action["due"] is None and year_action["department_zh"] == "管理者代表"
    assert year_action["cause"]["score"] == 84.3
