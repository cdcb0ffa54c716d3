"""Extraction: what a cell holds is read as typed, or refused at that cell."""

from __future__ import annotations

import random

import pytest

from qmsforms.excel import extract as extract_module
from qmsforms.excel.binding import bind
from qmsforms.excel.book import Book
from qmsforms.extraction import NORMALISERS, Extraction
from qmsforms.validate import validate_file
from qmsforms.workspace import Workspace

from ..conftest import FillFn
from ..xlsx_parts import named_cell, replace_cell, style_of


def test_a_formula_in_a_tick_cell_is_refused_not_counted(make_filled: FillFn,
                                                          ws: Workspace) -> None:
    path = make_filled("satisfaction-survey", delivery=None, response=5, price=4)
    ref = named_cell(path, "delivery", 1)
    replace_cell(path, ref, f'<c r="{ref}" s="{style_of(path, ref)}" t="str">'
                            '<f>IF(1,"√","")</f><v>√</v></c>')
    report = validate_file(path, ws)
    assert report.flatten(["code", "field", "cell"]) == [
        ["FORMULA_IN_INPUT", "delivery", ref]]
    assert report.data is None


def test_a_libreoffice_true_in_a_tick_cell_is_a_tick(make_filled: FillFn,
                                                     ws: Workspace) -> None:
    path = make_filled("satisfaction-survey", delivery=None)
    ref = named_cell(path, "delivery", 1)
    replace_cell(path, ref, f'<c r="{ref}" s="{style_of(path, ref)}" t="b">'
                            "<f>TRUE()</f><v>1</v></c>")
    report = validate_file(path, ws)
    assert report.issues == []
    assert report.data is not None and report.data["delivery"] == 4


MESSY = ["  螺栓 ", "", " ", "\u3000", 12, 3.5, "1,200", "３件", "-", "x", "2026-13-01",
         "12 pcs", 0, -1, "1e3", "¥12.50", "12.50元", 1e20, "\t", "A\nB", 7.0, 0.1]
LINE_COLUMNS = ("part_name", "drawing_no", "batch_no", "quantity", "unit", "unit_price",
                "amount", "remarks")


@pytest.mark.parametrize("seed", range(12))
def test_a_table_read_by_column_is_the_table_read_cell_by_cell(make_filled: FillFn,
                                                               ws: Workspace,
                                                               seed: int) -> None:
    """The column-wise fast read of a lines table gives exactly the lines, issues, failed
    locations and rows that reading every row cell by cell gives."""
    rng = random.Random(seed)
    columns = LINE_COLUMNS if seed % 2 else LINE_COLUMNS[:-1]  # remarks empty all the way
    lines = [{c: rng.choice([*MESSY, f"P{i}", i + 1, (i + 1) * 0.5])
              for c in columns if rng.random() < 0.6} for i in range(rng.randint(1, 40))]
    path = make_filled("shipping-list", lines=lines)
    form = ws.registry.get("shipping-list")
    spec = form.field("lines")
    with Book(path) as book:
        binding, _ = bind(book, form)
        fast = Extraction()
        got = extract_module._read_table(spec, book, binding, fast)
        table = binding.tables["lines"]
        columns = [(c, table.columns[c.name] - 1, c.kind, NORMALISERS[c.kind])
                   for c in spec.columns if c.name in table.columns]
        slow = Extraction()
        want, rows = [], []
        grid = book.rows(table.sheet)
        for row in range(table.first_row, len(grid) + 1):
            line, is_line = extract_module._read_row(spec, columns, grid[row - 1], row,
                                                     len(want), book, table, set(), slow)
            if is_line:
                want.append(line)
                rows.append(row)
    assert got == want
    assert fast.issues == slow.issues
    assert fast.failed == slow.failed
    assert [fast.where.get(("lines", i)) for i in range(len(rows))] == [
        (table.sheet, table.row_ref(row)) for row in rows]
