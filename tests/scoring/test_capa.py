"""Where a corrective action stands, from its validated data or its record JSON."""

from __future__ import annotations

from typing import Any

import pytest

from qmsforms.scoring.capa import capa_status


@pytest.mark.parametrize(("data", "status", "effective"), [
    ({}, "open", None),
    ({"containment": "  "}, "open", None),
    ({"containment": "隔离在库品"}, "in_progress", None),
    ({"root_cause": "电流漂移"}, "in_progress", None),
    ({"corrective_action": "加装监控"}, "in_progress", None),
    ({"corrective_action": "加装监控", "verification_result": "not_effective"},
     "in_progress", False),
    ({"verification_result": "not_effective"}, "in_progress", False),
    ({"corrective_action": "加装监控", "verification_result": "effective"}, "verified", True),
    ({"verification_result": "effective", "closed": True}, "closed", True),
    ({"containment": "隔离", "closed": False}, "in_progress", None),
])
def test_status_follows_the_form(data: dict[str, Any], status: str,
                                 effective: bool | None) -> None:
    assert capa_status({"action_no": "CA-2026-0001", **data}) == {
        "kind": "capa", "action_no": "CA-2026-0001", "status": status, "effective": effective}


def test_a_scored_record_keeps_its_status(ws: Any) -> None:
    from qmsforms.scoring.form import score_form

    form = ws.registry.get("corrective-action")
    scores, issues = score_form(form, {"action_no": "CA-2026-0002", "problem": "x",
                                       "root_cause": "y"}, ws)
    assert issues == [] and scores == {"kind": "capa", "action_no": "CA-2026-0002",
                                       "status": "in_progress", "effective": None}
