"""Forms re-saved by GnumericFn (``ssconvert``), an xlsx writer nobody here wrote.

GnumericFn keeps the cells, defined names and custom properties but drops the Excel table part;
the lines are then bound through the ``lines_table`` name beside the table. Every filled
form must read back to exactly the data of the file that went in.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qmsforms.validate import validate_file
from qmsforms.workspace import Workspace

from ..conftest import VALID, FillFn, GnumericFn

FORMS = sorted(VALID)


@pytest.mark.parametrize("form_id", FORMS)
def test_a_gnumeric_resave_reads_the_same(make_filled: FillFn, ws: Workspace,
                                          gnumeric: GnumericFn, form_id: str) -> None:
    original = make_filled(form_id)
    before = validate_file(original, ws)
    assert before.valid, before.flatten(["code", "field", "cell"])
    after = validate_file(gnumeric(original), ws)
    assert after.valid, after.flatten(["code", "field", "cell"])
    assert after.data == before.data


def test_gnumeric_keeps_every_line_of_a_long_list(make_filled: FillFn, ws: Workspace,
                                                  gnumeric: GnumericFn) -> None:
    line = VALID["shipping-list"]["lines"][0]
    lines = [{**line, "batch_no": f"B{i}"} for i in range(40)]
    resaved: Path = gnumeric(make_filled("shipping-list", lines=lines))
    report = validate_file(resaved, ws)
    assert report.valid, report.flatten(["code", "field", "cell"])
    assert [row["batch_no"] for row in report.data["lines"]] == [f"B{i}" for i in range(40)]
