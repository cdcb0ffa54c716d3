"""Extraction: what a cell holds is read as typed, or refused at that cell."""

from __future__ import annotations

from qmsforms.validate import validate_file
from qmsforms.workspace import Workspace

from .conftest import FillFn
from .xlsx_parts import named_cell, replace_cell, style_of


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
