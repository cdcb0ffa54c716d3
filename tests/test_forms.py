"""The form models on their own: constraints SPEC §3–§4 names."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from qmsforms.fields import specs_of
from qmsforms.forms.monitoring import SatisfactionMonitoring
from qmsforms.forms.shipping import ShippingLine, ShippingList
from qmsforms.workspace import Workspace


def _types(exc: ValidationError) -> list[tuple[tuple[Any, ...], str]]:
    return [(tuple(e["loc"]), e["type"]) for e in exc.errors()]


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ({"quantity": 0}, (("quantity",), "greater_than")),
        ({"quantity": 2.5}, (("quantity",), "int_from_float")),
        ({"unit_price": Decimal("-1")}, (("unit_price",), "greater_than_equal")),
        ({"batch_no": None}, (("batch_no",), "string_type")),
        ({"unit_price": Decimal("2"), "amount": Decimal("5")}, ((), "AMOUNT_MISMATCH")),
    ],
)
def test_shipping_line_constraints(line: dict[str, Any], error: tuple[Any, str]) -> None:
    data = {"part_name": "P", "batch_no": "B", "quantity": 2, **line}
    with pytest.raises(ValidationError) as info:
        ShippingLine.model_validate(data)
    assert _types(info.value) == [error]


def test_amount_tolerance_is_one_cent() -> None:
    base = {"part_name": "P", "batch_no": "B", "quantity": 3, "unit_price": Decimal("0.335")}
    ShippingLine.model_validate({**base, "amount": Decimal("1.01")})
    with pytest.raises(ValidationError):
        ShippingLine.model_validate({**base, "amount": Decimal("1.03")})


def test_shipping_list_needs_a_line_and_ordered_dates() -> None:
    with pytest.raises(ValidationError) as info:
        ShippingList.model_validate({"doc_no": "1", "customer": "C", "ship_date": "2026-11-03",
                                     "lines": []})
    assert _types(info.value) == [(("lines",), "too_short")]
    with pytest.raises(ValidationError) as info:
        ShippingList.model_validate({
            "doc_no": "1", "customer": "C", "ship_date": "2026-11-03",
            "actual_delivery_date": "2026-11-01",
            "lines": [{"part_name": "P", "batch_no": "B", "quantity": 1}]})
    assert _types(info.value) == [((), "DATE_ORDER")]


@pytest.mark.parametrize("rate", [Decimal("-0.1"), Decimal("100.1")])
def test_rates_are_percentages(rate: Decimal) -> None:
    with pytest.raises(ValidationError):
        SatisfactionMonitoring.model_validate({"customer": "C", "month": "2026-11",
                                               "performance_rate": rate})


def test_counts_are_whole_and_not_negative() -> None:
    with pytest.raises(ValidationError):
        SatisfactionMonitoring.model_validate({"customer": "C", "month": "2026-11",
                                               "performance_rate": 90, "q_full_return": -1})
    sheet = SatisfactionMonitoring.model_validate({"customer": "C", "month": "2026-11",
                                                   "performance_rate": 90})
    assert sheet.q_full_return == 0 and sheet.scorecard_pct is None


def test_monitoring_has_every_deduction_field_of_the_spec() -> None:
    names = {s.name for s in specs_of(SatisfactionMonitoring)}
    assert {f"q_{n}" for n in ("partial_return", "full_return", "concession", "handling_delay",
                               "disruption_hold", "disruption_line_stop", "notice_rectify",
                               "notice_suspend", "excess_freight")} <= names
    assert {f"d_{n}" for n in ("delay_notified", "delay_unnotified", "delay_complaint",
                               "delay_line_stop", "packaging", "notice_rectify",
                               "notice_suspend", "excess_freight")} <= names


def test_survey_questions_and_weights_come_from_toml(repo_ws: Workspace) -> None:
    form = repo_ws.registry.get("satisfaction-survey")
    weights = {s.name: s.weight for s in form.fields if s.group == "questions"}
    assert weights == {"product_quality": 25, "delivery": 20, "packaging": 10,
                       "appearance": 5, "service_attitude": 10, "response": 10,
                       "complaint_handling": 10, "technical_support": 5, "price": 5}
    levels = form.field("delivery").levels
    assert [lv[0] for lv in levels] == [5, 4, 3, 2, 1] and levels[0][1] == "非常满意"


def test_service_evaluation_scores_one_to_ten(repo_ws: Workspace) -> None:
    form = repo_ws.registry.get("service-evaluation")
    scored = [s for s in form.fields if s.group == "questions"]
    assert len(scored) == 7 and all(s.kind == "score" for s in scored)
    assert {(s.minimum, s.maximum) for s in scored} == {(1, 10)}
    impressions = [s for s in form.fields if s.kind == "ticks"]
    assert len(impressions) == 7 and all(len(s.levels) == 4 for s in impressions)
