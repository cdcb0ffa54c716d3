"""The document-control block of a workbook template: find it, stamp the current values.

A blank built by qmsforms names each value cell of its control block (`name_of`, e.g.
``_qmsforms_document_no``), so the block is found wherever a quality engineer moved it. A
template laid out before those names existed is searched by its captions (文件编号 / Doc. no.
…, the value is the next cell to the right). Only the values change: fonts, fills, borders,
images and the layout stay as the engineer left them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from ..control import KEYS, LABELS, ControlBlock, name_of
from ..identity import IDENTITY_SHEET
from .style import escape

log = logging.getLogger(__name__)

_FOOTER = re.compile(r"\S*\s+Rev\.\s+\S*")


def form_sheets(wb: Workbook) -> Iterator[Worksheet]:
    """The worksheets of a template other than the hidden identity sheet."""
    for ws in wb.worksheets:
        if ws.title != IDENTITY_SHEET and isinstance(ws, Worksheet):
            yield ws


def _writable(ws: Worksheet, cell: Cell | MergedCell) -> Cell | None:
    """The cell that holds the value of ``cell``'s merged block (itself when not merged)."""
    if not isinstance(cell, MergedCell):
        return cell
    for merged in ws.merged_cells.ranges:
        if cell.coordinate in merged:
            top = ws.cell(row=merged.min_row, column=merged.min_col)
            return top if isinstance(top, Cell) else None
    return None


def _named(wb: Workbook, key: str) -> tuple[Worksheet, Cell] | None:
    defined = wb.defined_names.get(name_of(key))
    if defined is None:
        return None
    for sheet, ref in defined.destinations:
        if sheet not in wb.sheetnames:
            continue
        ws = wb[sheet]
        if not isinstance(ws, Worksheet):
            continue
        first = ref.replace("$", "").split(":")[0]
        cell = _writable(ws, ws[first])
        if cell is not None:
            return ws, cell
    return None


def _caption(value: object) -> str:
    return re.sub(r"\s+", "", str(value or "")).casefold()


def _by_caption(wb: Workbook, key: str) -> tuple[Worksheet, Cell] | None:
    """The value cell to the right of the caption of ``key`` (a template without names)."""
    zh, en = LABELS[key]
    wanted = {_caption(zh), _caption(en), _caption(zh + en)}
    for ws in form_sheets(wb):
        for row in ws.iter_rows(max_row=min(ws.max_row, 60)):
            for cell in row:
                if isinstance(cell, MergedCell) or _caption(cell.value) not in wanted:
                    continue
                right = cell.column + 1
                for merged in ws.merged_cells.ranges:
                    if cell.coordinate in merged:
                        right = merged.max_col + 1
                target = _writable(ws, ws.cell(row=cell.row, column=right))
                if target is not None:
                    return ws, target
    return None


def locate_control(wb: Workbook) -> dict[str, tuple[Worksheet, Cell]]:
    """Where each value of the control block is, by key; a key not found is left out."""
    found: dict[str, tuple[Worksheet, Cell]] = {}
    for key in KEYS:
        place = _named(wb, key) or (_by_caption(wb, key) if key in LABELS else None)
        if place is not None:
            found[key] = place
    return found


def stamp_control(wb: Workbook, block: ControlBlock, lang: str) -> list[str]:
    """Write the current control values into a template; returns the keys it could not find.

    The print footer's "document number  Rev. x" is brought up to date too.
    """
    shown = block.shown(lang)
    found = locate_control(wb)
    for key, (_ws, cell) in found.items():
        cell.value = shown[key]
    for ws in form_sheets(wb):
        footer = ws.oddFooter
        left = footer.left if footer is not None else None
        if left is not None and left.text and _FOOTER.search(left.text):
            left.text = _FOOTER.sub(lambda _m: escape(block.footer()), left.text, count=1)
    missing = [key for key in KEYS if key not in found]
    if missing:
        log.warning("%s: control block values without a cell: %s", block.form,
                    ", ".join(missing))
    return missing
