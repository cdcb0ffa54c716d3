"""Forms typed into by a real LibreOffice Calc, cell by cell, as a person does (zh-CN).

Each case selects a cell and enters a string through UNO, exactly what the macro recorder
writes for a typed cell, so LibreOffice's own recognition of numbers, percentages and dates
decides what is stored. The file is then read back and must hold what was meant, or be
refused at the cell. All the typing of a module happens in one soffice session.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from qmsforms.blanks import issue_blank
from qmsforms.excel.binding import workbook_names
from qmsforms.issues import Code
from qmsforms.validate import validate_file
from qmsforms.workspace import Workspace

from ..conftest import OfficeFn
from ..test_print import Convert, is_a4_portrait, page_text, pdf_pages

pytestmark = pytest.mark.libreoffice

MONTH = [{"name": "customer", "type": "华东汽车"}, {"name": "month", "type": "2026-10"},
         {"name": "q_full_return", "type": "1"}]

RATES: dict[str, tuple[str | None, str, str]] = {
    # case: (number format forced on the rate cells, typed performance, typed scorecard)
    "percent-sign": (None, "95%", "88%"),
    "spaced-percent": (None, "95 %", "88 %"),
    "plain-number": (None, "95", "88"),
    "old-fixed-format": ("0.0", "95", "88"),
    "percent-format": ("0.0%", "95%", "0.88"),
}


def _blank(ws: Workspace, folder: Path, name: str, number_format: str | None) -> Path:
    path = issue_blank(ws, "satisfaction-monitoring", folder / f"{name}.xlsx")
    if number_format:  # a blank issued before the rate cells were General, or restyled
        wb = load_workbook(path)
        for field in ("performance_rate", "scorecard_pct"):
            cells = workbook_names(wb)[field]
            wb[cells.sheet].cell(cells.min_row, cells.min_col).number_format = number_format
        wb.save(path)
    return path


@pytest.fixture(scope="module")
def typed(office: OfficeFn, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every case typed in one LibreOffice session; case -> saved file."""
    folder = tmp_path_factory.mktemp("calc-typed")
    ws = Workspace(folder)
    jobs: list[dict[str, Any]] = []
    for case, (number_format, performance, scorecard) in RATES.items():
        jobs.append({"open": _blank(ws, folder, case, number_format),
                     "save": folder / f"{case}.typed.xlsx",
                     "steps": [*MONTH, {"name": "performance_rate", "type": performance},
                               {"name": "scorecard_pct", "type": scorecard}]})
    for case, (number_format, typed_value) in AMBIGUOUS.items():
        jobs.append({"open": _blank(ws, folder, case, number_format),
                     "save": folder / f"{case}.typed.xlsx",
                     "steps": [*MONTH, {"name": "performance_rate", "type": typed_value}]})
    saved = office(jobs)
    return {Path(p).name.removesuffix(".typed.xlsx"): p for p in saved}


@pytest.mark.parametrize("case", sorted(RATES))
def test_typed_rates_read_as_meant(typed: dict[str, Path], case: str) -> None:
    report = validate_file(typed[case], Workspace(typed[case].parent))
    assert report.valid, report.flatten(["code", "field", "cell"])
    assert report.data is not None and report.scores is not None
    assert (report.data["performance_rate"], report.data["scorecard_pct"]) == ("95", "88")
    parts = {c["key"]: c["score"] for c in report.scores["categories"]}
    assert (parts["performance"], parts["scorecard"]) == (19.0, 17.6)
    assert report.scores["total"] == 25.0 + 30.0 + 19.0 + 17.6


AMBIGUOUS: dict[str, tuple[str | None, str]] = {
    # LibreOffice keeps a fixed format and stores the typed 95% as 0.95: which was meant?
    "old-format-percent-typed": ("0.0", "95%"),
    "fraction-typed": (None, "0.95"),
}


@pytest.mark.parametrize("case", sorted(AMBIGUOUS))
def test_typed_fraction_without_percent_is_refused_at_its_cell(
        typed: dict[str, Path], case: str) -> None:
    path = typed[case]
    report = validate_file(path, Workspace(path.parent))
    cells = workbook_names(load_workbook(path))["performance_rate"]
    top_left = f"{get_column_letter(cells.min_col)}{cells.min_row}"
    assert report.flatten(["code", "field", "cell"]) == [
        [Code.RATE_AMBIGUOUS.name, "performance_rate", top_left]]


LINES = 30
"""Five more than the blank's table holds: a clerk types the rest straight under it."""

TABLE_COLUMNS = {"part_name": 0, "drawing_no": 1, "batch_no": 2, "quantity": 3, "unit": 4,
                 "unit_price": 5, "amount": 6, "remarks": 7}


def _line_steps(i: int) -> list[dict[str, Any]]:
    """Typing line ``i`` (0-based) into its row under the lines header."""
    typed = {"part_name": f"螺栓 M{i + 1}", "batch_no": f"B{i + 1:02d}",
             "quantity": f"{(i + 1) * 10}", "unit": "件", "unit_price": "0.5"}
    if i == 27:
        typed["amount"] = "=D{row}*F{row}"  # what clerks type in an amount cell
    if i == 28:
        typed["amount"] = f"{(i + 1) * 5}"
    steps = []
    for name, text in typed.items():
        steps.append({"name": "lines_table", "offset": [i + 1, TABLE_COLUMNS[name]],
                      "type": text})
    return steps


@pytest.fixture(scope="module")
def shipping(office: OfficeFn, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Shipping lists typed in LibreOffice, the sheet never unprotected: ``long`` has 30
    lines, ``mismatch`` one line under the table whose typed amount is not quantity × price."""
    folder = tmp_path_factory.mktemp("calc-shipping")
    ws = Workspace(folder)
    header: list[dict[str, Any]] = [
        {"name": "doc_no", "type": "FH-2026-118"}, {"name": "customer", "type": "华东汽车"},
        {"name": "ship_date", "type": "2026-11-03"}]
    long_blank = issue_blank(ws, "shipping-list", folder / "long.xlsx")
    area = workbook_names(load_workbook(long_blank))["lines_table"]
    steps = list(header)
    for i in range(LINES):
        for step in _line_steps(i):
            step["type"] = step["type"].format(row=area.min_row + i + 1)
            steps.append(step)
    under = area.max_row - area.min_row + 1  # the first row under the table
    mismatch = [*header, *({"name": "lines_table", "offset": [under, TABLE_COLUMNS[name]],
                            "type": text} for name, text in (
        ("part_name", "垫圈"), ("batch_no", "B9"), ("quantity", "100"), ("unit_price", "0.5"),
        ("amount", "450")))]
    jobs = [{"open": long_blank, "save": folder / "long.typed.xlsx", "steps": steps},
            {"open": issue_blank(ws, "shipping-list", folder / "mismatch.xlsx"),
             "save": folder / "mismatch.typed.xlsx", "steps": mismatch}]
    return {path.name.removesuffix(".typed.xlsx"): path for path in office(jobs)}


def test_lines_typed_under_the_table_are_read(shipping: dict[str, Path]) -> None:
    path = shipping["long"]
    report = validate_file(path, Workspace(path.parent))
    assert report.valid, report.flatten(["code", "field", "cell"])
    assert report.data is not None
    lines = report.data["lines"]
    assert len(lines) == LINES
    assert [line["batch_no"] for line in lines] == [f"B{i + 1:02d}" for i in range(LINES)]
    assert all(line["quantity"] == (i + 1) * 10 for i, line in enumerate(lines))
    assert all(Decimal(line["amount"]) == (i + 1) * 5 for i, line in enumerate(lines))


def test_a_typed_amount_that_is_not_the_product_is_refused_with_its_value(
        shipping: dict[str, Path]) -> None:
    path = shipping["mismatch"]
    area = workbook_names(load_workbook(path))["lines_table"]
    report = validate_file(path, Workspace(path.parent))
    assert [(i.code, i.cell, i.value) for i in report.issues] == [
        ("AMOUNT_MISMATCH", f"G{area.max_row + 1}", "450")]


def test_typed_list_prints_every_line_on_a4(shipping: dict[str, Path], soffice: Convert) -> None:
    pdf = soffice(shipping["long"], "pdf")
    pages = pdf_pages(pdf)
    assert all(is_a4_portrait(page) for page in pages)
    text = "\n".join(page_text(pdf, n) for n in range(1, len(pages) + 1))
    assert all(f"B{i + 1:02d}" in text for i in range(LINES))
    assert len(pages) <= 3  # the page grows with the lines, not down the whole column


ANSWERS = {"product_quality": 5, "delivery": 4, "packaging": 4, "appearance": 3,
           "service_attitude": 5, "response": 4, "complaint_handling": 3,
           "technical_support": 4, "price": 3}


def _tick_steps(ws: Workspace, formula_in: str | None) -> list[dict[str, Any]]:
    """Tick each answer with a typed √; in ``formula_in`` the tick is a formula instead."""
    form = ws.registry.get("satisfaction-survey")
    steps: list[dict[str, Any]] = [{"name": "customer", "type": "华东汽车"},
                                   {"name": "period", "type": "2026"}]
    for field, level in ANSWERS.items():
        column = [value for value, _zh, _en in form.field(field).levels].index(level)
        typed = '=IF(1=1;"√";"")' if field == formula_in else "√"
        steps.append({"name": field, "offset": [0, column], "type": typed})
    return steps


@pytest.fixture(scope="module")
def surveys(office: OfficeFn, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A survey ticked by hand, and one whose delivery tick is a typed formula."""
    folder = tmp_path_factory.mktemp("calc-survey")
    ws = Workspace(folder)
    jobs = [{"open": issue_blank(ws, "satisfaction-survey", folder / f"{case}.xlsx"),
             "save": folder / f"{case}.typed.xlsx", "steps": _tick_steps(ws, formula_in)}
            for case, formula_in in (("ticked", None), ("formula", "delivery"))]
    return {path.name.removesuffix(".typed.xlsx"): path for path in office(jobs)}


def test_typed_ticks_are_read(surveys: dict[str, Path]) -> None:
    path = surveys["ticked"]
    report = validate_file(path, Workspace(path.parent))
    assert report.valid, report.flatten(["code", "field", "cell"])
    assert report.data is not None and report.scores is not None
    assert {field: report.data[field] for field in ANSWERS} == ANSWERS


def test_a_formula_typed_in_a_tick_cell_is_refused_at_that_cell(
        surveys: dict[str, Path]) -> None:
    path = surveys["formula"]
    ws = Workspace(path.parent)
    cells = workbook_names(load_workbook(path))["delivery"]
    levels = [value for value, _zh, _en in ws.registry.get("satisfaction-survey")
              .field("delivery").levels]
    ref = f"{get_column_letter(cells.min_col + levels.index(4))}{cells.min_row}"
    report = validate_file(path, ws)
    assert report.flatten(["code", "field", "cell"]) == [
        [Code.FORMULA_IN_INPUT.name, "delivery", ref]]


TYPED: dict[str, tuple[str, str, str, Any]] = {
    # case: (field or lines column, typed, field read back, value read back or issue code)
    "date-slashes": ("ship_date", "2026/11/3", "ship_date", "2026-11-03"),
    "date-chinese": ("ship_date", "2026年11月3日", "ship_date", "2026-11-03"),
    "date-iso": ("ship_date", "2026-11-03", "ship_date", "2026-11-03"),
    "date-day-month": ("ship_date", "3/11/2026", "ship_date", Code.DATE_AMBIGUOUS),
    "quantity-grouped": ("quantity", "1,200", "quantity", 1200),
    "quantity-full-width": ("quantity", "３件", "quantity", 3),
    "price-yuan": ("unit_price", "¥0.50", "unit_price", "0.50"),
}
"""What LibreOffice makes of what a clerk types (zh-CN), and what must be read."""


@pytest.fixture(scope="module")
def typed_values(office: OfficeFn, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One shipping list per case, the rest of it typed plainly."""
    folder = tmp_path_factory.mktemp("calc-values")
    ws = Workspace(folder)
    jobs = []
    for case, (field, text, _read, _expected) in TYPED.items():
        plain = {"doc_no": "FH-1", "customer": "华东汽车", "ship_date": "2026-11-03",
                 "part_name": "螺栓", "batch_no": "B1", "quantity": "10", "unit_price": "0.5"}
        plain[field] = text
        steps = [{"name": name, "type": plain[name]}
                 for name in ("doc_no", "customer", "ship_date")]
        steps += [{"name": "lines_table", "offset": [1, TABLE_COLUMNS[name]], "type": plain[name]}
                  for name in ("part_name", "batch_no", "quantity", "unit_price")]
        jobs.append({"open": issue_blank(ws, "shipping-list", folder / f"{case}.xlsx"),
                     "save": folder / f"{case}.typed.xlsx", "steps": steps})
    return {path.name.removesuffix(".typed.xlsx"): path for path in office(jobs)}


@pytest.mark.parametrize("case", sorted(TYPED))
def test_typed_values_read_as_meant(typed_values: dict[str, Path], case: str) -> None:
    path = typed_values[case]
    _field, _text, read, expected = TYPED[case]
    report = validate_file(path, Workspace(path.parent))
    if isinstance(expected, Code):
        assert [(i.code, i.field) for i in report.issues] == [(expected.name, read)]
        return
    assert report.valid, report.flatten(["code", "field", "cell"])
    assert report.data is not None
    data = report.data["lines"][0] if read in TABLE_COLUMNS else report.data
    assert data[read] == expected


CAPA_ISSUED = {"action_no": "CA-2026-0003", "source": "monitoring_streak",
               "customer": "华东汽车", "raised_on": "2026-11-03",
               "problem": "连续三个月质量扣分\n焊缝开裂 3 次"}
CAPA_TYPED = {
    # case: what is typed into the issued corrective action, by field
    "worked": {"containment": "隔离 600 件", "containment_date": "2026/11/4",
               "root_cause": "焊接电流漂移", "cause_category": "机 Machine"},
    "verified-early": {"containment": "隔离 600 件", "verified_by": "赵工",
                       "verified_on": "2026年11月20日", "verification_result": "有效 Effective"},
}


@pytest.fixture(scope="module")
def capa(office: OfficeFn, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Corrective actions issued pre-filled for their action, then typed into in Calc."""
    folder = tmp_path_factory.mktemp("calc-capa")
    ws = Workspace(folder)
    jobs = [{"open": issue_blank(ws, "corrective-action", folder / f"{case}.xlsx",
                                 values=CAPA_ISSUED),
             "save": folder / f"{case}.typed.xlsx",
             "steps": [{"name": name, "type": text} for name, text in typed.items()]}
            for case, typed in CAPA_TYPED.items()]
    return {path.name.removesuffix(".typed.xlsx"): path for path in office(jobs)}


def test_a_corrective_action_worked_on_in_calc_keeps_its_prefill(
        capa: dict[str, Path]) -> None:
    report = validate_file(capa["worked"], Workspace(capa["worked"].parent))
    assert report.valid, report.flatten(["code", "field", "cell"])
    assert report.data is not None and report.scores is not None
    assert {k: report.data[k] for k in ("problem", "containment_date", "cause_category")} == {
        "problem": CAPA_ISSUED["problem"], "containment_date": "2026-11-04",
        "cause_category": "machine"}
    assert report.scores["status"] == "in_progress"


def test_a_verification_typed_before_the_action_is_refused_at_its_cell(
        capa: dict[str, Path]) -> None:
    path = capa["verified-early"]
    cells = workbook_names(load_workbook(path))["verification_result"]
    ref = f"{get_column_letter(cells.min_col)}{cells.min_row}"
    report = validate_file(path, Workspace(path.parent))
    assert report.flatten(["code", "field", "cell"]) == [
        [Code.STAGE_ORDER.name, "verification_result", ref]]
