"""Monthly monitoring scores (SPEC §4.2 monitoring-000, §4.3 automotive-qdo), by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from qmsforms.scoring import MonitoringPolicy, score_monitoring
from qmsforms.workspace import Workspace


@pytest.fixture
def general(repo_ws: Workspace) -> MonitoringPolicy:
    policy = repo_ws.policies.get("monitoring-000")
    assert isinstance(policy, MonitoringPolicy)
    return policy


@pytest.fixture
def qdo(repo_ws: Workspace) -> MonitoringPolicy:
    policy = repo_ws.policies.get("automotive-qdo")
    assert isinstance(policy, MonitoringPolicy)
    return policy


def cats(score) -> dict[str, Decimal]:
    return {c.key: c.score for c in score.categories}


def test_clean_month_is_100(general) -> None:
    score = score_monitoring({"performance_rate": 100}, general)
    assert score.total == 100 and score.band.key == "very_satisfied" and not score.missing


@pytest.mark.parametrize(("field", "each"), [
    ("q_partial_return", 3), ("q_full_return", 5), ("q_concession", 2),
    ("q_handling_delay", 3), ("q_disruption_hold", 5), ("q_disruption_line_stop", 10),
    ("q_notice_rectify", 5), ("q_notice_suspend", 10), ("q_excess_freight", 3),
])
def test_each_quality_deduction(general, field: str, each: int) -> None:
    score = score_monitoring({field: 1, "performance_rate": 100}, general)
    assert cats(score)["quality"] == 30 - each and score.total == 100 - each


@pytest.mark.parametrize(("field", "each"), [
    ("d_delay_notified", 3), ("d_delay_unnotified", 5), ("d_delay_complaint", 3),
    ("d_delay_line_stop", 10), ("d_packaging", 2), ("d_notice_rectify", 3),
    ("d_notice_suspend", 8), ("d_excess_freight", 3),
])
def test_each_delivery_deduction(general, field: str, each: int) -> None:
    score = score_monitoring({field: 1, "performance_rate": 100}, general)
    assert cats(score)["delivery"] == 30 - each and score.total == 100 - each


def test_quality_with_40_points_of_deductions_scores_0_not_minus_10(general) -> None:
    data = {"q_disruption_line_stop": 2, "q_notice_suspend": 2, "performance_rate": 100}
    score = score_monitoring(data, general)
    assert cats(score)["quality"] == 0
    assert score.category("quality").lost == 30
    assert score.total == 70                             # 0 + 30 + 20 + 20


def test_blank_scorecard_gives_20(general) -> None:
    score = score_monitoring({"performance_rate": 100, "scorecard_pct": None}, general)
    assert cats(score)["scorecard"] == 20
    assert score.category("scorecard").parts[0].blank


def test_rates_times_20(general) -> None:
    score = score_monitoring({"performance_rate": "97.5", "scorecard_pct": 85}, general)
    assert cats(score)["performance"] == Decimal("19.5") and cats(score)["scorecard"] == 17
    assert score.total == Decimal("96.5")


def test_worked_example(general) -> None:
    data = {"q_partial_return": 1, "q_concession": 2,       # 30 − 3 − 4 = 23
            "d_delay_unnotified": 1, "d_delay_complaint": 1,  # 30 − 5 − 3 = 22
            "performance_rate": 90, "scorecard_pct": 85}      # 18 + 17
    score = score_monitoring(data, general)
    assert cats(score) == {"quality": 23, "delivery": 22, "performance": 18, "scorecard": 17}
    assert score.total == 80 and score.band.key == "average" and score.below_target
    d = score.to_dict()
    assert d["total"] == 80.0 and d["policy"]["id"] == "monitoring-000"
    assert d["categories"][0]["parts"][0]["deductions"] == [
        {"field": "q_partial_return", "count": 1.0, "each": 3.0, "points": 3.0},
        {"field": "q_concession", "count": 2.0, "each": 2.0, "points": 4.0}]


def test_total_rounds_half_up(general) -> None:
    # 93.33 % × 20 = 18.666 → total 98.666 → 98.7
    assert score_monitoring({"performance_rate": "93.33"}, general).total == Decimal("98.7")


def test_blank_performance_rate_is_missing(general) -> None:
    score = score_monitoring({}, general)
    assert score.missing == ("performance_rate",) and cats(score)["performance"] == 0


def test_target_boundary(general) -> None:
    assert not score_monitoring({"performance_rate": 50}, general).below_target   # 90.0
    assert score_monitoring({"performance_rate": "49.5"}, general).below_target   # 89.9


# automotive-qdo: D 25, Q 50 (PPM 25 + batch rejects 25), O 25


def qdo_data(**values: object) -> dict[str, object]:
    return {"ppm_actual": 80, "ppm_target": 100, **values}


def test_qdo_clean_month(qdo) -> None:
    score = score_monitoring(qdo_data(), qdo)
    assert cats(score) == {"delivery": 25, "quality": 50, "other": 25}
    assert score.total == 100 and score.source == "internal"


@pytest.mark.parametrize(("actual", "lost"), [
    (100, 0), (109, 0), (110, 1), (119, 1), (120, 2), (199, 9), (200, 10), (340, 24),
    (350, 25), (500, 25),
])
def test_ppm_loses_one_point_per_full_10_percent_over_target(qdo, actual: int,
                                                              lost: int) -> None:
    score = score_monitoring(qdo_data(ppm_actual=actual), qdo)
    ppm = score.category("quality").parts[0]
    assert ppm.key == "ppm" and ppm.score == 25 - lost


def test_ppm_steps_are_exact_decimals(qdo) -> None:
    # 330 over 300 is exactly 10 % (binary floats would give 9.999…)
    score = score_monitoring(qdo_data(ppm_actual=330, ppm_target=300), qdo)
    assert score.category("quality").parts[0].score == 24
    score = score_monitoring(qdo_data(ppm_actual="0.33", ppm_target="0.3"), qdo)
    assert score.category("quality").parts[0].score == 24


def test_ppm_not_reported_is_full_marks_target_missing_is_reported(qdo) -> None:
    score = score_monitoring({}, qdo)
    assert score.category("quality").parts[0].score == 25 and not score.missing
    score = score_monitoring({"ppm_actual": 50}, qdo)
    assert score.missing == ("ppm_target",)


def test_qdo_deductions_each_part_floored(qdo) -> None:
    score = score_monitoring(qdo_data(a_late_delivery=2, a_batch_reject=6, o_fine=1,
                                      o_recall=1), qdo)
    assert cats(score) == {"delivery": 15, "quality": 25, "other": 15}
    assert score.category("quality").parts[1].score == 0     # 6 × 5 = 30 > 25
    score = score_monitoring(qdo_data(a_late_delivery=9), qdo)
    assert cats(score)["delivery"] == 0


@pytest.mark.parametrize("field", ["o_concession", "o_fine", "o_late_reply",
                                   "o_excess_freight", "o_recall", "o_other"])
def test_each_other_occurrence_costs_5(qdo, field: str) -> None:
    assert cats(score_monitoring(qdo_data(**{field: 1}), qdo))["other"] == 20


def test_qdo_worked_example(qdo) -> None:
    data = qdo_data(a_late_delivery=1, ppm_actual=115, a_batch_reject=1, o_late_reply=1)
    score = score_monitoring(data, qdo)          # D 20 + Q (24 + 20) + O 20
    assert cats(score) == {"delivery": 20, "quality": 44, "other": 20}
    assert score.total == 84 and score.band.key == "average"


def test_customer_scorecard_replaces_internal_value(qdo) -> None:
    score = score_monitoring(qdo_data(a_late_delivery=3, scorecard_pct=88), qdo)
    assert score.internal == 85 and score.total == 88 and score.source == "customer"
    assert score.to_dict()["customer_value"] == 88.0


def test_policy_inputs_are_fields_of_the_monitoring_form(repo_ws: Workspace) -> None:
    names = {f.name for f in repo_ws.registry.get("satisfaction-monitoring").fields}
    for pid in ("monitoring-000", "automotive-qdo"):
        policy = repo_ws.policies.get(pid)
        assert policy.inputs <= names, sorted(policy.inputs - names)
        assert policy.points == 100
