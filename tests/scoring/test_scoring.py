"""Scores as part of validation: the policy chosen per customer, its checks at their cells."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qmsforms.validate import validate_file
from qmsforms.workspace import Workspace

from ..test_validate import cell_of

AUTO = "一汽零部件"


def automotive(ws: Workspace) -> Workspace:
    with (ws.root / "qmsforms.toml").open("a", encoding="utf-8") as fh:
        fh.write(f'\n[scoring.customers]\n"{AUTO}" = "automotive-qdo"\n')
    return Workspace(ws.root)


def test_general_policy_needs_the_performance_rate(ws: Workspace, make_filled: Any) -> None:
    path = make_filled("satisfaction-monitoring", performance_rate=None)
    report = validate_file(path, ws)
    assert report.flatten() == [["REQUIRED", "performance_rate",
                                 cell_of(path, "performance_rate")]]
    assert report.scores is None and report.data is None


def test_general_policy_scores_and_warns_on_unused_qdo_inputs(ws: Workspace,
                                                              make_filled: Any) -> None:
    path = make_filled("satisfaction-monitoring", q_full_return=1, a_late_delivery=2,
                       ppm_actual=120, ppm_target=100)
    report = validate_file(path, ws)
    assert report.valid
    assert report.flatten() == [
        ["UNUSED_INPUT", name, cell_of(path, name)]
        for name in ("a_late_delivery", "ppm_actual", "ppm_target")]
    assert report.scores["total"] == 94.0                     # 25 + 30 + 19 + 20
    assert report.scores["policy"]["id"] == "monitoring-000"


def test_automotive_customer_is_scored_by_qdo(ws: Workspace, make_filled: Any,
                                              tmp_path: Path) -> None:
    ws = automotive(ws)
    data = {"customer": AUTO, "month": "2026-11", "a_late_delivery": 1, "ppm_actual": 1100,
            "ppm_target": 1000, "a_batch_reject": 1, "o_recall": 1}
    path = make_filled("satisfaction-monitoring", data, workspace=ws)
    report = validate_file(path, ws)
    assert report.valid and report.issues == []
    scores = report.scores
    assert scores["policy"]["id"] == "automotive-qdo"
    assert [c["score"] for c in scores["categories"]] == [20.0, 44.0, 20.0]
    assert scores["total"] == 84.0 and scores["source"] == "internal"
    assert scores["customer"] == AUTO and scores["month"] == "2026-11"


def test_automotive_customer_scorecard_replaces_internal(ws: Workspace,
                                                         make_filled: Any) -> None:
    ws = automotive(ws)
    data = {"customer": AUTO, "month": "2026-11", "a_late_delivery": 4,
            "scorecard_pct": 91, "performance_rate": 80}
    path = make_filled("satisfaction-monitoring", data, workspace=ws)
    report = validate_file(path, ws)
    assert report.flatten() == [["UNUSED_INPUT", "performance_rate",
                                 cell_of(path, "performance_rate")]]
    assert report.scores["total"] == 91.0 and report.scores["internal"] == 80.0
    assert report.scores["source"] == "customer"


def test_shipping_list_has_no_scores(ws: Workspace, make_filled: Any) -> None:
    report = validate_file(make_filled("shipping-list"), ws)
    assert report.valid and report.scores is None
