"""Tests for qmsforms.normalize: every accepted spelling and every rejection, by code."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qmsforms import normalize
from qmsforms.issues import Code
from qmsforms.normalize import (
    BLANK,
    NormalizeError,
    is_percent_format,
    is_tick,
    to_bool,
    to_choice,
    to_date,
    to_datetime,
    to_decimal,
    to_int,
    to_month,
    to_percent,
    to_text,
)

D = dt.date(2026, 11, 3)
FUNCTIONS = [to_text, to_int, to_decimal, to_percent, to_date, to_datetime, to_month, to_bool]
CHOICES = {"quality": ["质量", "Quality"], "delivery": ["交付", "Delivery"], "other": []}


def code_of(func, *args, **kwargs) -> str:
    with pytest.raises(NormalizeError) as info:
        func(*args, **kwargs)
    return info.value.code


# -- blanks ------------------------------------------------------------------------------------


@pytest.mark.parametrize("func", FUNCTIONS)
@pytest.mark.parametrize("blank", [None, "", "   ", "\u3000", "\xa0\t\n "])
def test_blank_is_none(func, blank):
    assert BLANK is None
    assert func(blank) is None


@pytest.mark.parametrize("blank", [None, "", "  ", "\u3000"])
def test_blank_choice_none_and_tick_false(blank):
    assert to_choice(blank, CHOICES) is None
    assert is_tick(blank) is False


@pytest.mark.parametrize("placeholder", ["-", "—", "/", "N/A", "n/a"])
def test_placeholders_are_not_blank(placeholder):
    assert to_text(placeholder) == placeholder
    assert code_of(to_int, placeholder) == "NOT_A_NUMBER"
    assert code_of(to_date, placeholder) == "NOT_A_DATE"


# -- text --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  abc  ", "abc"),
        ("\u3000张三\u3000", "张三"),
        ("\xa0x\xa0", "x"),
        ("\u200b备注\ufeff", "备注"),
        ("Ａ１ 全角", "Ａ１ 全角"),  # inner text is not NFKC-folded
        ("a  b", "a  b"),
        (12, "12"),
        (12.0, "12"),
        (12.5, "12.5"),
        (Decimal("1.50"), "1.50"),
        (dt.datetime(2026, 11, 3, 14, 30), "2026-11-03T14:30:00"),
        (D, "2026-11-03"),
        (dt.time(9, 5), "09:05:00"),
        (True, "True"),
    ],
)
def test_to_text(value, expected):
    assert to_text(value) == expected


def test_to_text_max_length():
    assert to_text("  12345  ", max_length=5) == "12345"
    with pytest.raises(NormalizeError) as info:
        to_text("123456", max_length=5)
    assert info.value.code == "TOO_LONG"
    assert info.value.detail == "5"


# -- numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, 3),
        (-4, -4),
        (3.0, 3),
        (Decimal("7"), 7),
        ("12", 12),
        (" 12 ", 12),
        ("+12", 12),
        ("-12", -12),
        ("９５", 95),
        ("１，２００", 1200),
        ("1,200", 1200),
        ("1,234,567", 1234567),
        ("3.0", 3),
        ("3件", 3),
        ("5分", 5),
        ("12 pcs", 12),
        ("3 个", 3),
        ("３件", 3),
        ("10 个/箱", 10),
        ("12元", 12),
    ],
)
def test_to_int(value, expected):
    result = to_int(value)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (3.5, "NOT_WHOLE"),
        ("3.5", "NOT_WHOLE"),
        ("3.5件", "NOT_WHOLE"),
        (Decimal("0.1"), "NOT_WHOLE"),
        ("abc", "NOT_A_NUMBER"),
        (True, "NOT_A_NUMBER"),
        (False, "NOT_A_NUMBER"),
        (float("nan"), "NOT_A_NUMBER"),
        (float("inf"), "NOT_A_NUMBER"),
        ("95%", "NOT_A_NUMBER"),
        ("¥12", "NOT_A_NUMBER"),
        ("约3件", "NOT_A_NUMBER"),
        ("3-5", "NOT_A_NUMBER"),
        ("1,20", "NOT_A_NUMBER"),
        ("1e5", "NOT_A_NUMBER"),
        ("#N/A", "NOT_A_NUMBER"),
        (D, "NOT_A_NUMBER"),
        ([3], "NOT_A_NUMBER"),
    ],
)
def test_to_int_rejects(value, code):
    assert code_of(to_int, value) == code


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.1, Decimal("0.1")),
        (12, Decimal(12)),
        (Decimal("1.50"), Decimal("1.50")),
        ("12.50", Decimal("12.50")),
        ("12.50元", Decimal("12.50")),
        ("¥12.50", Decimal("12.50")),
        ("￥12.50", Decimal("12.50")),
        ("$ 3.2", Decimal("3.2")),
        ("12.5¥", Decimal("12.5")),
        ("RMB 1,200.00", Decimal("1200.00")),
        ("1200 RMB", Decimal("1200")),
        ("-0.5", Decimal("-0.5")),
        (".5", Decimal("0.5")),
        ("12.", Decimal("12")),
        ("１２．５ｋｇ", Decimal("12.5")),
    ],
)
def test_to_decimal(value, expected):
    result = to_decimal(value)
    assert result == expected
    assert str(result) == str(expected)


@pytest.mark.parametrize("value", ["abc", "12%", True, float("nan"), "1.2.3", D])
def test_to_decimal_rejects(value):
    assert code_of(to_decimal, value) == "NOT_A_NUMBER"


@pytest.mark.parametrize(
    ("value", "number_format", "expected"),
    [
        ("95 %", None, Decimal(95)),
        ("95%", None, Decimal(95)),
        ("９５％", None, Decimal(95)),
        ("95", None, Decimal(95)),
        ("0.95%", None, Decimal("0.95")),  # a percent sign says what is meant
        ("0.5 %", "0.0", Decimal("0.5")),
        (95, None, Decimal(95)),
        (95, "0.0", Decimal(95)),
        (0.95, "0%", Decimal(95)),
        (0.955, "0.0%", Decimal("95.5")),
        (0.95, "0.00%;[Red]-0.00%", Decimal(95)),
        (1, "0%", Decimal(100)),
        (95, "0.0%", Decimal(9500)),  # shown as 9500 %: refused by the range check
        (0, None, Decimal(0)),
        (0, "General", Decimal(0)),
        (1.5, None, Decimal("1.5")),
        (120, None, Decimal(120)),  # no range check here
    ],
)
def test_to_percent(value, number_format, expected):
    result = to_percent(value, number_format=number_format)
    assert result == expected
    assert str(result) == str(expected)


@pytest.mark.parametrize("value", ["abc", "95 pcs", "¥95", True, "95%%"])
def test_to_percent_rejects(value):
    assert code_of(to_percent, value) == "NOT_A_NUMBER"


@pytest.mark.parametrize(
    ("value", "number_format"),
    [(0.95, None), (0.95, "General"), (0.95, "0.0"), (0.95, '0.0"%"'), (0.95, "0.0\\%"),
     ("0.95", None), ("0.95", "0%"), (1, None), ("1", "@"), (0.001, None)],
)
def test_to_percent_refuses_a_fraction_without_a_percent(value, number_format):
    """0.95 with no % anywhere may be 95 % or 0.95 %: LibreOffice stores a typed 95% so."""
    with pytest.raises(NormalizeError) as caught:
        to_percent(value, number_format=number_format)
    assert caught.value.code == "RATE_AMBIGUOUS"


@pytest.mark.parametrize(
    ("number_format", "expected"),
    [("0%", True), ("0.0%", True), ("#,##0.00%;[Red]-0.00%", True), ('0.0"%"', False),
     ("0.0\\%", False), ("General", False), ("", False), (None, False), ("[$%-804]0", False)],
)
def test_is_percent_format(number_format, expected):
    assert is_percent_format(number_format) is expected


# -- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D, D),
        (dt.datetime(2026, 11, 3, 14, 30), D),
        (46329, D),
        (46329.75, D),
        (Decimal(46329), D),
        (20261103, D),
        (1, dt.date(1900, 1, 1)),
        (2958465, dt.date(9999, 12, 31)),
        ("2026-11-03", D),
        ("2026/11/3", D),
        ("2026.11.3", D),
        ("2026-11-3", D),
        ("2026年11月3日", D),
        ("2026年11月3号", D),
        ("2026 年 11 月 3 日", D),
        ("20261103", D),
        ("２０２６－１１－０３", D),
        ("２０２６年１１月３日", D),
        ("  2026-11-03\u3000", D),
        ("2026-11-03 00:00:00", D),
        ("2026-11-03T00:00:00", D),
        ("2026-11-03 14:30", D),
    ],
)
def test_to_date(value, expected):
    assert to_date(value) == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("3/11/2026", "DATE_AMBIGUOUS"),
        ("11/3/2026", "DATE_AMBIGUOUS"),
        ("13/11/2026", "DATE_AMBIGUOUS"),
        ("3-11-2026", "DATE_AMBIGUOUS"),
        ("03.11.2026", "DATE_AMBIGUOUS"),
        ("3/11/2026 14:30", "DATE_AMBIGUOUS"),
        ("2026-02-30", "NOT_A_DATE"),
        ("2026-13-01", "NOT_A_DATE"),
        ("2026年2月30日", "NOT_A_DATE"),
        ("26-11-03", "NOT_A_DATE"),
        ("3/11/26", "NOT_A_DATE"),
        ("26年11月3日", "NOT_A_DATE"),
        ("2026-11", "NOT_A_DATE"),
        ("tomorrow", "NOT_A_DATE"),
        ("2026-11-03 25:00", "NOT_A_DATE"),
        (0, "NOT_A_DATE"),
        (-5, "NOT_A_DATE"),
        (2958466, "NOT_A_DATE"),
        (20261399, "NOT_A_DATE"),
        (float("nan"), "NOT_A_DATE"),
        (True, "NOT_A_DATE"),
        (dt.time(9, 0), "NOT_A_DATE"),
    ],
)
def test_to_date_rejects(value, code):
    assert code_of(to_date, value) == code


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.datetime(2026, 11, 3, 14, 30), dt.datetime(2026, 11, 3, 14, 30)),
        (D, dt.datetime(2026, 11, 3)),
        (46329 + 14.5 / 24, dt.datetime(2026, 11, 3, 14, 30)),
        (46329, dt.datetime(2026, 11, 3)),
        ("2026-11-03 14:30", dt.datetime(2026, 11, 3, 14, 30)),
        ("2026-11-03 14:30:15", dt.datetime(2026, 11, 3, 14, 30, 15)),
        ("2026-11-03T14:30:15.5", dt.datetime(2026, 11, 3, 14, 30, 15, 500000)),
        ("2026/11/3 9:05", dt.datetime(2026, 11, 3, 9, 5)),
        ("2026年11月3日 14:30", dt.datetime(2026, 11, 3, 14, 30)),
        ("2026年11月3日14时30分", dt.datetime(2026, 11, 3, 14, 30)),
        ("2026年11月3日 14点30分", dt.datetime(2026, 11, 3, 14, 30)),
        ("2026年11月3日14时30分15秒", dt.datetime(2026, 11, 3, 14, 30, 15)),
        ("2026-11-03T14:30", dt.datetime(2026, 11, 3, 14, 30)),
        ("２０２６－１１－０３　１４：３０", dt.datetime(2026, 11, 3, 14, 30)),
        ("2026-11-03", dt.datetime(2026, 11, 3)),
        ("2026年11月3日", dt.datetime(2026, 11, 3)),
    ],
)
def test_to_datetime(value, expected):
    result = to_datetime(value)
    assert result == expected
    assert result.tzinfo is None


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("3/11/2026 14:30", "DATE_AMBIGUOUS"),
        ("11/3/2026", "DATE_AMBIGUOUS"),
        ("2026-11-03 24:00", "NOT_A_DATETIME"),
        ("2026-11-03 14:60", "NOT_A_DATETIME"),
        ("2026-11-03 14", "NOT_A_DATETIME"),
        ("14:30", "NOT_A_DATETIME"),
        ("2026-11-03 14:30+08:00", "NOT_A_DATETIME"),
        ("now", "NOT_A_DATETIME"),
        (dt.time(14, 30), "NOT_A_DATETIME"),
        (-1, "NOT_A_DATETIME"),
        (False, "NOT_A_DATETIME"),
    ],
)
def test_to_datetime_rejects(value, code):
    assert code_of(to_datetime, value) == code


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D, "2026-11"),
        (dt.datetime(2026, 1, 31, 8), "2026-01"),
        (46329, "2026-11"),
        (202611, "2026-11"),
        (20261103, "2026-11"),
        ("2026-11", "2026-11"),
        ("2026-1", "2026-01"),
        ("2026/11", "2026-11"),
        ("2026.11", "2026-11"),
        ("2026.1", "2026-01"),
        ("2026年11月", "2026-11"),
        ("2026年11月份", "2026-11"),
        ("２０２６年１１月", "2026-11"),
        ("202611", "2026-11"),
        ("2026-11-03", "2026-11"),
        ("2026年11月3日", "2026-11"),
        ("20261103", "2026-11"),
        (" 2026/11/3 ", "2026-11"),
    ],
)
def test_to_month(value, expected):
    assert to_month(value) == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("2026-13", "NOT_A_MONTH"),
        ("2026年0月", "NOT_A_MONTH"),
        ("202613", "NOT_A_MONTH"),
        ("11月", "NOT_A_MONTH"),
        ("26-11", "NOT_A_MONTH"),
        ("November", "NOT_A_MONTH"),
        (2026.11, "NOT_A_MONTH"),  # typed into a General cell: 2026.1 and 2026.10 look alike
        (2026, "NOT_A_MONTH"),
        (202613, "NOT_A_MONTH"),
        (0, "NOT_A_MONTH"),
        (True, "NOT_A_MONTH"),
        ("3/11/2026", "DATE_AMBIGUOUS"),
    ],
)
def test_to_month_rejects(value, code):
    assert code_of(to_month, value) == code


# -- ticks and yes/no --------------------------------------------------------------------------


TICKED = ["√", "✓", "✔", "☑", "☒", "●", "■", "x", "X", "ｘ", "×", "是", 1, 1.0, "1", "１",
          True, "yes", "YES", "y", "Y", "true", "TRUE", "v", "V", " √ ", "○", "〇", "对", "OK",
          "ok", "ＯＫ", "✅", "✔\ufe0f"]
UNTICKED = [None, "", "  ", "☐", "□", "否", "错", 0, 0.0, "0", False, "no", "No", "n", "N",
            "false", "FALSE"]


@pytest.mark.parametrize("value", TICKED)
def test_is_tick_true(value):
    assert is_tick(value) is True


@pytest.mark.parametrize("value", UNTICKED)
def test_is_tick_false(value):
    assert is_tick(value) is False


@pytest.mark.parametrize("value", ["有", "无", "?", 2, 0.5, float("nan"), D, "√√", "✗", "好"])
def test_is_tick_rejects(value):
    assert code_of(is_tick, value) == "TICK_UNRECOGNISED"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(v, True) for v in TICKED if v != " √ "]
    + [(v, False) for v in UNTICKED if v not in (None, "", "  ")]
    + [("有", True), ("无", False), (" 是 ", True), ("Ｙ", True)],
)
def test_to_bool(value, expected):
    assert to_bool(value) is expected


@pytest.mark.parametrize("value", ["maybe", "好", 2, "?", D])
def test_to_bool_rejects(value):
    assert code_of(to_bool, value) == "NOT_A_BOOL"


# -- choices -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("quality", "quality"),
        ("QUALITY", "quality"),
        ("质量", "quality"),
        ("Quality", "quality"),
        (" quality ", "quality"),
        ("质量 Quality", "quality"),
        ("质量  quality", "quality"),
        ("质量/Quality", "quality"),
        ("质量 / Quality", "quality"),
        ("质量(Quality)", "quality"),
        ("质量 (Quality)", "quality"),
        ("质量（Quality）", "quality"),
        ("Quality 质量", "quality"),
        ("质量Quality", "quality"),
        ("交付", "delivery"),
        ("交付 / DELIVERY", "delivery"),
        ("ｄｅｌｉｖｅｒｙ", "delivery"),
        ("other", "other"),
    ],
)
def test_to_choice(value, expected):
    assert to_choice(value, CHOICES) == expected


def test_to_choice_numeric_codes():
    assert to_choice(2, {"1": ["一级"], "2": ["二级"]}) == "2"
    assert to_choice(2.0, {"1": ["一级"], "2": ["二级"]}) == "2"


@pytest.mark.parametrize("value", ["cost", "质量 交付", "质量/Delivery", "Quality Quality", 3])
def test_to_choice_rejects(value):
    with pytest.raises(NormalizeError) as info:
        to_choice(value, CHOICES)
    assert info.value.code == "NOT_A_CHOICE"
    assert info.value.detail == "质量 / 交付 / other"


# -- properties --------------------------------------------------------------------------------

_FULL_WIDTH = str.maketrans("0123456789-+", "０１２３４５６７８９－＋")


@given(st.integers())
def test_int_round_trips_through_text(n):
    assert to_int(str(n)) == n


@given(st.integers())
def test_int_from_full_width_text(n):
    assert to_int(str(n).translate(_FULL_WIDTH)) == n


@given(st.dates(min_value=dt.date(1000, 1, 1)))
def test_date_round_trips_through_iso(d):
    assert to_date(d.isoformat()) == d


@given(st.dates(min_value=dt.date(1000, 1, 1)))
def test_date_from_chinese_text(d):
    assert to_date(f"{d.year}年{d.month}月{d.day}日") == d


# -- the error codes ---------------------------------------------------------------------------

RAISED = [
    (to_text, ("x" * 3,), {"max_length": 2}),
    (to_int, ("abc",), {}),
    (to_int, ("3.5",), {}),
    (to_decimal, ("abc",), {}),
    (to_percent, ("abc",), {}),
    (to_date, ("3/11/2026",), {}),
    (to_date, ("abc",), {}),
    (to_datetime, ("abc",), {}),
    (to_month, ("abc",), {}),
    (is_tick, ("abc",), {}),
    (to_bool, ("abc",), {}),
    (to_choice, ("abc", CHOICES), {}),
]


def test_codes_are_catalogue_members():
    codes = {code_of(func, *args, **kwargs) for func, args, kwargs in RAISED}
    assert codes == {
        "TOO_LONG", "NOT_A_NUMBER", "NOT_WHOLE", "DATE_AMBIGUOUS", "NOT_A_DATE",
        "NOT_A_DATETIME", "NOT_A_MONTH", "TICK_UNRECOGNISED", "NOT_A_BOOL", "NOT_A_CHOICE",
    }
    for code in codes:
        assert code in Code.__members__


def test_every_code_in_the_module_is_a_catalogue_member():
    source = Path(normalize.__file__).read_text(encoding="utf-8")
    literals = set(re.findall(r"\"([A-Z]+_[A-Z_]+)\"", source)) - set(normalize.__all__)
    assert "NOT_A_NUMBER" in literals
    assert literals <= set(Code.__members__)


def test_normalize_error_is_a_value_error():
    err = NormalizeError("NOT_A_NUMBER")
    assert isinstance(err, ValueError)
    assert (err.code, err.detail) == ("NOT_A_NUMBER", "")


# -- the tick vocabulary of qmsforms.toml, through filled workbooks -----------------------------


def _type_mark(path: Path, name: str, mark: object, offset: int) -> None:
    """Type ``mark`` into the ``offset``-th cell of a named tick row, as a person would."""
    from openpyxl import load_workbook

    from qmsforms.excel.binding import workbook_names

    wb = load_workbook(path)
    cells = workbook_names(wb)[name]
    row, col = cells.coordinates()[offset]
    wb[cells.sheet].cell(row=row, column=col).value = mark
    wb.save(path)


@pytest.mark.parametrize("mark", [*normalize.TICKED_MARKS, "X", "OK", "✔\ufe0f"])
def test_every_shipped_tick_mark_ticks_a_survey_answer(make_filled, ws, mark) -> None:
    from qmsforms.validate import validate_file

    path = make_filled("satisfaction-survey", product_quality=None)
    _type_mark(path, "product_quality", mark, offset=1)  # the second box: level 4
    report = validate_file(path, ws)
    assert report.valid, report.codes()
    assert report.data["product_quality"] == 4


@pytest.mark.parametrize("mark", normalize.UNTICKED_MARKS)
def test_every_shipped_untick_mark_leaves_a_box_empty(make_filled, ws, mark) -> None:
    from qmsforms.validate import validate_file

    path = make_filled("satisfaction-survey", response=4)
    _type_mark(path, "price", mark, offset=0)
    report = validate_file(path, ws)
    assert report.valid, report.codes()
    assert report.data["price"] is None


def test_the_tick_vocabulary_is_read_from_the_workspace_config(make_filled, ws) -> None:
    from qmsforms.validate import validate_file
    from qmsforms.workspace import Workspace

    config = ws.root / "qmsforms.toml"
    text = config.read_text(encoding="utf-8").partition("[ticks]")[0]
    config.write_text(text + '[ticks]\nyes = ["√", "好"]\nno = ["☐", "○"]\n', encoding="utf-8")
    here = Workspace(ws.root)
    path = make_filled("satisfaction-survey", product_quality=None, workspace=here)
    _type_mark(path, "product_quality", "好", offset=0)
    _type_mark(path, "product_quality", "○", offset=1)
    report = validate_file(path, here)
    assert report.valid, report.codes()
    assert report.data["product_quality"] == 5
    _type_mark(path, "product_quality", "✓", offset=2)  # not in this workspace's list
    report = validate_file(path, here)
    assert ["TICK_UNRECOGNISED", "product_quality"] in report.flatten(["code", "field"])
    assert is_tick("✓") is True  # outside a validation the shipped list applies


def test_a_mark_in_both_lists_is_a_config_error(tmp_path) -> None:
    from qmsforms.config import ConfigError, load_config

    path = tmp_path / "qmsforms.toml"
    path.write_text('[ticks]\nyes = ["√", "X"]\nno = ["x"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="x"):
        load_config(path)


def test_the_shipped_config_lists_the_default_marks() -> None:
    from qmsforms.config import Config, package_defaults

    shipped = normalize.TickMarks.of(*_shipped_lists(package_defaults() / "qmsforms.toml"))
    assert shipped == Config().ticks.marks()
    assert {"○", "〇", "对", "ok", "✅"} <= shipped.yes


def _shipped_lists(path: Path) -> tuple[list[str], list[str]]:
    from qmsforms.config import tomllib

    ticks = tomllib.loads(path.read_text(encoding="utf-8"))["ticks"]
    return ticks["yes"], ticks["no"]
