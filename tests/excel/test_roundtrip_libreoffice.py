"""Round trips through LibreOffice: a filled form re-saved by Calc reads back the same.

Many customers fill forms in LibreOffice or WPS, not Excel. A file re-saved by LibreOffice must
keep the identity, every defined name and the lines table, and must normalise to exactly the
data (or exactly the issues) of the file that went in.

Conversions cost about a second each, so every file is converted once. Languages are spread so
that each form goes through LibreOffice in all three: the plain filling in ``both``, the rich
filling in one single language and the blank in the other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.cell.cell import MergedCell

from qmsforms.blanks import issue_blank
from qmsforms.excel.binding import workbook_names
from qmsforms.excel.blank import TABLE_ROWS
from qmsforms.excel.templates import check_template
from qmsforms.validate import validate_file
from qmsforms.workspace import Workspace

pytestmark = pytest.mark.libreoffice

Convert = Callable[[Path, str], Path]
FillFn = Callable[..., Path]
RawCells = Mapping[tuple[str, int], Any]
"""(defined name, offset within the name's cells) -> raw value written over the filling."""

FORMS = ["shipping-list", "complaint", "satisfaction-survey", "service-evaluation",
         "satisfaction-monitoring"]

TEXT = "华东汽车 <select> A & B"
"""Chinese text with characters that must survive XML escaping and shared strings."""

_QUANTITIES = [("３件", 3), ("3件", 3), ("１２０", 120), (7, 7), ("1,200", 1200)]


def _shipping_lines(count: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``count`` lines as typed (full-width digits, units, currency) and as read back."""
    typed: list[dict[str, Any]] = []
    read: list[dict[str, Any]] = []
    for i in range(count):
        raw_qty, qty = _QUANTITIES[i % len(_QUANTITIES)]
        amount = f"{qty * 0.5:.2f}"
        line: dict[str, Any] = {
            "part_name": f"螺栓 M{i} <b>", "drawing_no": f"DWG-{i:03d} & co",
            "batch_no": f"批{i:02d}", "quantity": raw_qty, "unit": "件",
            "unit_price": "¥0.50", "amount": f"{amount}元",
        }
        if i == 3:
            line["remarks"] = "=SUM(A1)"  # typed text that looks like a formula
        typed.append(line)
        read.append({
            "part_name": f"螺栓 M{i} <b>", "drawing_no": f"DWG-{i:03d} & co",
            "batch_no": f"批{i:02d}", "quantity": qty, "unit": "件", "unit_price": "0.50",
            "amount": amount, "remarks": line.get("remarks"),
        })
    return typed, read


_LINES, _LINES_READ = _shipping_lines(40)

RICH: dict[str, dict[str, Any]] = {
    "shipping-list": {
        "lang": "zh",
        "data": {
            "doc_no": "FH-2026-0001", "customer": TEXT, "customer_code": "00123",
            "order_no": "PO <select>", "delivery_address": "上海市 A & B 路 1 号",
            "contact": "张三 13800000000", "ship_date": "2026年11月3日",
            "planned_delivery_date": "2026/11/5", "actual_delivery_date": dt.date(2026, 11, 6),
            "ship_method": "托运", "carrier": "顺丰 SF123", "certificates_enclosed": "是",
            "lines": _LINES, "prepared_by": "李四", "received_by": "-王五-",
        },
        "raw": {},
        "expected": {
            "customer": TEXT, "customer_code": "00123", "order_no": "PO <select>",
            "delivery_address": "上海市 A & B 路 1 号", "ship_date": "2026-11-03",
            "planned_delivery_date": "2026-11-05", "actual_delivery_date": "2026-11-06",
            "ship_method": "freight", "certificates_enclosed": True, "received_by": "-王五-",
            "lines": _LINES_READ,
        },
    },
    "complaint": {
        "lang": "en",
        "data": {
            "ticket_no": "TS-2026-001", "customer": TEXT, "customer_contact": "Mr. <Li> & Co",
            "channel": "电话", "received_at": "2026-11-03 14:30",
            "filed_at": dt.datetime(2026, 11, 3, 15, 45), "urgent": "是",
            "category": "Product quality", "part_name": "焊接支架", "qty_delivered": "１，２００",
            "qty_complained": "3件", "qty_returned": "０",
            "description": "焊缝开裂\n第二行 <select> A & B\n=1+1",
            "due_date": "2026年11月10日", "closed_date": "2026-11-09",
            "customer_feedback": "满意 OK",
        },
        # a real boolean cell (LibreOffice writes it back as =TRUE())
        "raw": {("quality_related", 0): True},
        "expected": {
            "customer": TEXT, "customer_contact": "Mr. <Li> & Co", "channel": "phone",
            "received_at": "2026-11-03T14:30:00", "filed_at": "2026-11-03T15:45:00",
            "urgent": True, "category": "quality", "quality_related": True,
            "qty_delivered": 1200, "qty_complained": 3, "qty_returned": 0,
            "description": "焊缝开裂\n第二行 <select> A & B\n=1+1", "due_date": "2026-11-10",
            "closed_date": "2026-11-09",
        },
    },
    "satisfaction-survey": {
        "lang": "en",
        "data": {
            "customer": TEXT, "customer_code": "007", "period": "2026-H2",
            "respondent": "王经理", "survey_date": "2026年11月3日",
            "suggestions": "包装 <select> 需改进\nA & B", "product_quality": 5, "delivery": 4,
            "packaging": 3, "appearance": 2, "service_attitude": 1, "response": 5,
        },
        # other tick marks staff use: ✔ under level 4, 是 under level 5
        "raw": {("complaint_handling", 1): "✔", ("technical_support", 0): "是"},
        "expected": {
            "customer": TEXT, "customer_code": "007", "period": "2026-H2",
            "survey_date": "2026-11-03", "suggestions": "包装 <select> 需改进\nA & B",
            "product_quality": 5, "delivery": 4, "packaging": 3, "appearance": 2,
            "service_attitude": 1, "response": 5, "complaint_handling": 4,
            "technical_support": 5, "price": None,
        },
    },
    "service-evaluation": {
        "lang": "zh",
        "data": {
            "customer": TEXT, "service_ref": "SV-<1>", "service_date": "2026/11/3",
            "response_speed": "９", "resolution": "8分", "expertise": 10,
            "attitude": "7 分", "clarity": "１０", "follow_up": 6.0,
            "impression_response": "fast", "impression_attitude": "friendly",
            "feedback": "很好 & 及时",
        },
        "raw": {("impression_clarity", 0): "x", ("impression_follow_up", 3): "☑"},
        "expected": {
            "customer": TEXT, "service_ref": "SV-<1>", "service_date": "2026-11-03",
            "response_speed": 9, "resolution": 8, "expertise": 10, "attitude": 7,
            "clarity": 10, "follow_up": 6, "improvement": None,
            "impression_response": "fast", "impression_attitude": "friendly",
            "impression_clarity": "clear", "impression_follow_up": "none",
            "feedback": "很好 & 及时",
        },
    },
    "satisfaction-monitoring": {
        "lang": "en",
        "data": {
            "customer": TEXT, "customer_address": "江苏 <select>", "month": "2026年11月",
            "assessor": "A & B", "q_partial_return": "3件", "q_full_return": "２",
            "q_concession": "９５", "d_packaging": "1次", "d_delay_notified": 4,
            "performance_rate": "95 %",
            "remarks": "无 <none>",
        },
        # 0.9 in a cell formatted as a percentage reads as 90
        "raw": {("scorecard_pct", 0): (0.9, "0%")},
        "expected": {
            "customer": TEXT, "customer_address": "江苏 <select>", "month": "2026-11",
            "assessor": "A & B", "q_partial_return": 3, "q_full_return": 2, "d_packaging": 1,
            "d_delay_notified": 4, "q_concession": 95, "q_handling_delay": 0,
            "performance_rate": "95",
            "scorecard_pct": "90", "remarks": "无 <none>",
        },
    },
}
"""Per form: the language, what staff typed, raw cell overrides and what must be read back."""

BLANK_LANG = {"shipping-list": "en", "complaint": "zh", "satisfaction-survey": "zh",
              "service-evaluation": "en", "satisfaction-monitoring": "zh"}
"""The language each blank is re-saved in: the one the rich filling does not use."""


def _write_raw(path: Path, raw: RawCells) -> None:
    """Overwrite cells by defined name, as a person would type them (the name is cleared first).

    A value given as ``(value, number_format)`` also sets the cell's number format.
    """
    if not raw:
        return
    wb = load_workbook(path)
    names = workbook_names(wb)
    for (name, offset), value in raw.items():
        cells = names[name]
        ws = wb[cells.sheet]
        coordinates = cells.coordinates()
        for row, col in coordinates:
            if not isinstance(ws.cell(row=row, column=col), MergedCell):
                ws.cell(row=row, column=col).value = None
        row, col = coordinates[offset]
        cell = ws.cell(row=row, column=col)
        if isinstance(value, tuple):
            cell.value, cell.number_format = value
        else:
            cell.value = value
    wb.save(path)


def _assert_same_reading(original: Path, resaved: Path, ws: Workspace) -> dict[str, Any]:
    """Both files valid with the same issues (none), data and identity; returns the data."""
    before = validate_file(original, ws)
    assert before.valid, before.flatten(["code", "field", "cell", "value"])
    after = validate_file(resaved, ws)
    assert after.valid, after.flatten(["code", "field", "cell", "value"])
    assert after.flatten() == before.flatten()  # no warning appears either
    assert after.data == before.data
    assert after.instance_id == before.instance_id
    assert before.instance_id
    assert (after.form, after.revision) == (before.form, before.revision)
    assert before.data is not None
    return before.data


@pytest.mark.parametrize("form_id", FORMS)
def test_valid_filling_survives_libreoffice(form_id: str, ws: Workspace, make_filled: FillFn,
                                            soffice: Convert) -> None:
    path = make_filled(form_id)
    resaved = soffice(path, "xlsx")
    assert resaved != path
    _assert_same_reading(path, resaved, ws)


@pytest.mark.parametrize("form_id", FORMS)
def test_rich_filling_survives_libreoffice(form_id: str, ws: Workspace, make_filled: FillFn,
                                           soffice: Convert) -> None:
    case = RICH[form_id]
    path = make_filled(form_id, case["data"], lang=case["lang"])
    _write_raw(path, case["raw"])
    data = _assert_same_reading(path, soffice(path, "xlsx"), ws)
    expected: dict[str, Any] = case["expected"]
    assert {key: data[key] for key in expected} == expected
    if "lines" in expected:
        assert len(data["lines"]) > TABLE_ROWS  # the table grew beyond the blank's rows


def test_invalid_filling_reports_the_same_issues_after_libreoffice(
        ws: Workspace, make_filled: FillFn, soffice: Convert) -> None:
    path = make_filled("satisfaction-survey", period="2026-13", survey_date="3/12/2026",
                       respondent="长" * 60)
    wb = load_workbook(path)
    names = workbook_names(wb)
    ticks = names["product_quality"]
    sheet = wb[ticks.sheet]
    sheet.cell(row=ticks.max_row, column=ticks.max_col).value = "√"  # second tick
    delivery = names["delivery"]
    sheet.cell(row=delivery.max_row, column=delivery.max_col).value = "maybe"
    code = names["customer_code"]
    sheet.cell(row=code.min_row, column=code.min_col).value = "=1+1"
    wb.save(path)

    before = validate_file(path, ws)
    keys = ["code", "field", "cell"]
    assert not before.valid
    assert ["MULTIPLE_TICKS", "product_quality", ticks.ref] in before.flatten(keys)
    assert {i.code for i in before.issues} == {
        "MULTIPLE_TICKS", "TICK_UNRECOGNISED", "FORMULA_IN_INPUT", "DATE_AMBIGUOUS",
        "INVALID_VALUE", "TOO_LONG"}

    after = validate_file(soffice(path, "xlsx"), ws)
    assert not after.valid
    assert after.flatten(keys) == before.flatten(keys)
    assert after.instance_id == before.instance_id


@pytest.mark.parametrize("form_id", FORMS)
def test_blank_resaved_by_libreoffice_still_binds(form_id: str, ws: Workspace, tmp_path: Path,
                                                  soffice: Convert) -> None:
    lang = BLANK_LANG[form_id]
    blank = issue_blank(ws, form_id, tmp_path / f"{form_id}.{lang}.xlsx", lang=lang)
    assert check_template(blank, ws).valid
    report = check_template(soffice(blank, "xlsx"), ws)
    assert report.valid, report.flatten(["code", "field", "cell"])
    assert report.flatten() == []
    assert (report.form, report.revision) == (form_id, ws.registry.get(form_id).revision)
