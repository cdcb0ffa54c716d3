"""The style of each cell of a worksheet, read from its XML (for number formats).

Percent fields read a cell's number format; its style index is found here, by a byte search
on a plainly spelled sheet and by the exact parse otherwise (`qmsforms.excel.sheet_exact`).
"""

from __future__ import annotations

from .cells import column_letters
from .sheet_exact import ExactScan, Key, key_of
from .sheet_xml import attributes, patterns_for, plan_of


def style_of(data: bytes, row: int, col: int) -> int:
    """The style index (``s``) of the cell at (row, col); 0 when it has none.

    A plainly spelled sheet is searched for the cell's reference; a cell written without
    one, or any other spelling, is found by indexing the sheet (`cell_styles`).
    """
    plan = plan_of(data)
    if plan is not None:
        prefixes, start, end = plan
        cell = patterns_for(prefixes).styled_cell(column_letters(col).encode(), str(row).encode())
        tag = cell.search(data, start, end)
        if tag is not None:
            style = attributes(tag.group(1)).get("s", "")
            return int(style) if style.isdigit() else 0
    return cell_styles(data).get((row, col), 0)


def cell_styles(data: bytes) -> dict[Key, int]:
    """(row, col) -> style index of every styled cell, cells without ``r`` by position.

    Rows and cells are located as `scan_exact` locates them; a sheet that is not plainly
    spelled is parsed whole. Raises `SheetXmlError` when its XML is not well formed.
    """
    plan = plan_of(data)
    if plan is None:
        return ExactScan(data, styles=True).run_styles()
    prefixes, start, end = plan
    out: dict[Key, int] = {}
    row = col = 0
    for tag in patterns_for(prefixes).row_or_cell.finditer(data, start, end):
        attrs = attributes(tag.group(2))
        if tag.group(1).endswith(b"row"):
            ref = attrs.get("r", "")
            row = int(ref) if ref.isdigit() else row + 1
            col = 0
            continue
        key = key_of(attrs.get("r"))
        if key is None:
            col += 1
            key = (row, col)
        else:
            row, col = key
        style = attrs.get("s", "")
        if style.isdigit():
            out[key] = int(style)
    return out
