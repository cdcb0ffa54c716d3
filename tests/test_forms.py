"""The form models on their own: constraints SPEC §3–§4 names."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pydantic import ValidationError

from qmsforms.excel.binding import bind, workbook_names
from qmsforms.fields import specs_of
from qmsforms.forms.monitoring import AUTOMOTIVE_EVENTS, AUTOMOTIVE_SECTION, SatisfactionMonitoring
from qmsforms.forms.shipping import ShippingLine, ShippingList
from qmsforms.issues import Report
from qmsforms.validate import validate_file
from qmsforms.workspace import Workspace

from .conftest import VALID, FillFn


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


QDO_FIELDS = ["a_late_delivery", "ppm_actual", "ppm_target", "a_batch_reject", "o_concession",
              "o_fine", "o_late_reply", "o_excess_freight", "o_recall", "o_other"]
"""The automotive QDO inputs [SPEC §4.3, seed 002 5.7.1], in the order of the form."""

MONITORING = {"customer": "C", "month": "2026-11", "performance_rate": 90}


def test_monitoring_carries_the_automotive_qdo_inputs_after_delivery() -> None:
    specs = list(specs_of(SatisfactionMonitoring))
    names = [s.name for s in specs]
    assert [s.name for s in specs if s.section == AUTOMOTIVE_SECTION] == QDO_FIELDS
    assert names.index("a_late_delivery") == names.index("d_excess_freight") + 1
    assert list(AUTOMOTIVE_EVENTS) == QDO_FIELDS
    by_name = {s.name: s for s in specs}
    for name in QDO_FIELDS:
        spec = by_name[name]
        assert spec.group == "body" and spec.labels == AUTOMOTIVE_EVENTS[name]
        if name.startswith("ppm_"):
            assert spec.kind == "decimal" and not spec.required
        else:
            assert spec.kind == "int" and (spec.minimum, spec.maximum) == (0, 999)
    assert (by_name["ppm_actual"].minimum, by_name["ppm_actual"].exclusive_minimum) == (0, False)
    assert (by_name["ppm_target"].minimum, by_name["ppm_target"].exclusive_minimum) == (0, True)


def test_qdo_inputs_default_to_zero_and_blank() -> None:
    sheet = SatisfactionMonitoring.model_validate(MONITORING)
    assert all(getattr(sheet, n) == 0 for n in QDO_FIELDS if not n.startswith("ppm_"))
    assert sheet.ppm_actual is None and sheet.ppm_target is None
    with pytest.raises(ValidationError) as info:
        SatisfactionMonitoring.model_validate({**MONITORING, "o_recall": -1})
    assert _types(info.value) == [(("o_recall",), "greater_than_equal")]
    with pytest.raises(ValidationError) as info:
        SatisfactionMonitoring.model_validate({**MONITORING, "ppm_actual": 10, "ppm_target": 0})
    assert _types(info.value) == [(("ppm_target",), "greater_than")]


def test_ppm_without_its_target_is_an_error_on_the_target() -> None:
    with pytest.raises(ValidationError) as info:
        SatisfactionMonitoring.model_validate({**MONITORING, "ppm_actual": 120})
    assert _types(info.value) == [((), "REQUIRED")]
    assert info.value.errors()[0]["ctx"] == {"field": "ppm_target"}
    # a target alone is fine (no PPM measured this month), and so are both
    SatisfactionMonitoring.model_validate({**MONITORING, "ppm_target": 500})
    SatisfactionMonitoring.model_validate({**MONITORING, "ppm_actual": 0, "ppm_target": 500})


QDO_FILLING = {**VALID["satisfaction-monitoring"], "a_late_delivery": 1, "ppm_actual": 350.5,
               "ppm_target": 500, "o_excess_freight": 1}
"""A monitoring sheet with automotive QDO inputs (a decimal PPM and its target)."""


def _cell(path: Path, name: str) -> str:
    wb = load_workbook(path)
    cells = workbook_names(wb)[name]
    return wb[cells.sheet].cell(row=cells.min_row, column=cells.min_col).coordinate


def _errors(report: Report) -> list[list[Any]]:
    """Code, field and cell of the errors (which scoring policy applies may add warnings)."""
    return [[i.code, i.field, i.cell] for i in report.issues if i.severity == "error"]


@pytest.mark.parametrize("lang", ["both", "zh", "en"])
def test_qdo_inputs_bind_in_the_value_column(ws: Workspace, make_filled: FillFn,
                                             lang: str) -> None:
    path = make_filled("satisfaction-monitoring", QDO_FILLING, lang=lang)
    wb = load_workbook(path)
    binding, issues = bind(wb, ws.registry.get("satisfaction-monitoring"))
    assert issues == []
    rows = [binding.fields[n].min_row for n in QDO_FIELDS]
    assert rows == list(range(rows[0], rows[0] + len(QDO_FIELDS)))
    assert rows[0] > binding.fields["d_excess_freight"].min_row
    assert {(binding.fields[n].min_col, binding.fields[n].size) for n in QDO_FIELDS} == {(8, 1)}
    sheet = wb[binding.fields["a_late_delivery"].sheet]
    head = sheet.cell(row=rows[0] - 1, column=8).value
    count = sheet.cell(row=binding.fields["d_delay_notified"].min_row - 1, column=8).value
    expected = {"both": ("次数/数值\nCount / value", "次数\nCount"),
                "zh": ("次数/数值", "次数"), "en": ("Count / value", "Count")}[lang]
    assert (head, count) == expected
    for name, rule in (("ppm_actual", ("between", "0")), ("ppm_target", ("greaterThan", "0")),
                       ("o_other", ("between", "0"))):
        cell = sheet.cell(row=binding.fields[name].min_row, column=8)
        dvs = [dv for dv in sheet.data_validations.dataValidation if cell.coordinate in dv.sqref]
        kind = "whole" if name == "o_other" else "decimal"
        assert [(dv.type, dv.operator, dv.formula1) for dv in dvs] == [(kind, *rule)], name
        assert cell.number_format == ("0" if kind == "whole" else "#,##0.00")
    report = validate_file(path, ws)
    assert report.valid and _errors(report) == []
    assert {n: report.data[n] for n in QDO_FIELDS} == {
        "a_late_delivery": 1, "ppm_actual": "350.5", "ppm_target": "500", "a_batch_reject": 0,
        "o_concession": 0, "o_fine": 0, "o_late_reply": 0, "o_excess_freight": 1,
        "o_recall": 0, "o_other": 0}


def test_ppm_without_target_is_reported_at_the_target_cell(ws: Workspace,
                                                           make_filled: FillFn) -> None:
    path = make_filled("satisfaction-monitoring", QDO_FILLING, ppm_target=None)
    report = validate_file(path, ws)
    assert not report.valid
    assert _errors(report) == [["REQUIRED", "ppm_target", _cell(path, "ppm_target")]]
    issue = next(i for i in report.issues if i.code == "REQUIRED")
    assert "PPM 目标值" in issue.message_zh and "PPM target" in issue.message_en


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("1,250", "1250"), ("350.5", "350.5"), ("１２５０", "1250"), (1250, "1250"),
     ("80 ppm", "80")],
)
def test_ppm_typed_as_text_normalises(ws: Workspace, make_filled: FillFn, typed: Any,
                                      expected: str) -> None:
    path = make_filled("satisfaction-monitoring", QDO_FILLING, ppm_actual=typed,
                       ppm_target="1,000")
    report = validate_file(path, ws)
    assert _errors(report) == []
    assert (report.data["ppm_actual"], report.data["ppm_target"]) == (expected, "1000")


def test_ppm_that_is_not_a_number_is_reported_once(ws: Workspace,
                                                   make_filled: FillFn) -> None:
    path = make_filled("satisfaction-monitoring", QDO_FILLING, ppm_target="about 500")
    report = validate_file(path, ws)
    assert _errors(report) == [["NOT_A_NUMBER", "ppm_target", _cell(path, "ppm_target")]]


@pytest.mark.libreoffice
def test_qdo_inputs_survive_libreoffice(ws: Workspace, make_filled: FillFn,
                                        soffice: Callable[[Path, str], Path]) -> None:
    path = make_filled("satisfaction-monitoring", QDO_FILLING, lang="zh", ppm_actual="1,250",
                       o_recall="2次")
    before = validate_file(path, ws)
    after = validate_file(soffice(path, "xlsx"), ws)
    assert _errors(before) == _errors(after) == []
    assert after.flatten() == before.flatten() and after.data == before.data
    assert before.data is not None
    assert {n: before.data[n] for n in ("ppm_actual", "ppm_target", "o_recall")} == {
        "ppm_actual": "1250", "ppm_target": "500", "o_recall": 2}


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


def test_a_broken_questionnaire_names_file_line_and_key(tmp_path: Path) -> None:
    from qmsforms.definitions import line_of
    from qmsforms.forms.questionnaire import read_questionnaire
    from qmsforms.registry import FormRegistry

    shipped = Path(__file__).resolve().parents[1] / "schemas" / "questionnaires"
    text = (shipped / "service-evaluation.toml").read_text(encoding="utf-8")
    second = text.index("[[questions]]", text.index("[[questions]]") + 1)
    at = text.index("\nzh = ", second) + 1
    broken = text[:at] + "z" + text[at:]  # the second question's zh becomes zzh
    folder = tmp_path / "questionnaires"
    folder.mkdir()
    (folder / "service-evaluation.toml").write_text(broken, encoding="utf-8")
    problems = read_questionnaire(folder / "service-evaluation.toml")
    assert isinstance(problems, list)
    line = text.count("\n", 0, at) + 1
    assert sorted((p.line, p.key) for p in problems) == sorted([
        (line, "questions[2].zzh"), (text.count("\n", 0, second) + 1, "questions[2].zh")])
    assert {p.target for p in problems} == {"service-evaluation"}

    registry = FormRegistry([shipped, folder])
    assert "service-evaluation" not in registry and "satisfaction-survey" in registry
    assert set(registry.broken) == {"service-evaluation"}
    assert "service-evaluation" not in [f.id for f in registry]
    assert line_of('a = 1\n[b]\nc = 2\n[[d]]\ne = 1\n[[d]]\ne = 2\n', ("d", 1, "e")) == 7
    assert line_of('a = 1\n[b]\nc = 2\n', ("b", "x")) == 2
    assert line_of('a = 1\n', ("z",)) is None
