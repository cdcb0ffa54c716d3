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

from qmsforms.binding import workbook_names
from qmsforms.issues import Code
from qmsforms.templates import issue_blank
from qmsforms.validate import validate_file
from qmsforms.workspace import Workspace

from .conftest import OfficeFn
from .test_print import Convert, is_a4_portrait, page_text, pdf_pages

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
def shipping(office: OfficeFn, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A shipping list with 30 lines typed in LibreOffice, the sheet never unprotected."""
    folder = tmp_path_factory.mktemp("calc-shipping")
    blank = issue_blank(Workspace(folder), "shipping-list", folder / "ship.xlsx")
    area = workbook_names(load_workbook(blank))["lines_table"]
    steps: list[dict[str, Any]] = [
        {"name": "doc_no", "type": "FH-2026-118"}, {"name": "customer", "type": "华东汽车"},
        {"name": "ship_date", "type": "2026-11-03"}]
    for i in range(LINES):
        for step in _line_steps(i):
            step["type"] = step["type"].format(row=area.min_row + i + 1)
            steps.append(step)
    (saved,) = office([{"open": blank, "save": folder / "ship.typed.xlsx", "steps": steps}])
    return saved


def test_lines_typed_under_the_table_are_read(shipping: Path) -> None:
    report = validate_file(shipping, Workspace(shipping.parent))
    assert report.valid, report.flatten(["code", "field", "cell"])
    assert report.data is not None
    lines = report.data["lines"]
    assert len(lines) == LINES
    assert [line["batch_no"] for line in lines] == [f"B{i + 1:02d}" for i in range(LINES)]
    assert all(line["quantity"] == (i + 1) * 10 for i, line in enumerate(lines))
    assert all(Decimal(line["amount"]) == (i + 1) * 5 for i, line in enumerate(lines))


def test_typed_list_prints_every_line_on_a4(shipping: Path, soffice: Convert) -> None:
    pdf = soffice(shipping, "pdf")
    pages = pdf_pages(pdf)
    assert all(is_a4_portrait(page) for page in pages)
    text = "\n".join(page_text(pdf, n) for n in range(1, len(pages) + 1))
    assert all(f"B{i + 1:02d}" in text for i in range(LINES))
    assert len(pages) <= 3  # the page grows with the lines, not down the whole column
