"""How far the cells of a worksheet reach, measured from its XML before calamine reads it.

python-calamine reads a sheet into one rectangle from its first to its last cell holding a
value (and the reader pads it from A1): one stray cell at XFD1048576 asks for 549 GB and the
native allocator aborts the process. The rectangle is therefore measured from the XML first,
as calamine places cells: by the last ``r`` attribute of a ``c`` element of any namespace in
the first ``sheetData``, a cell without one one column right of the cell before it, in the
row of its ``row`` element (or the row after the one before).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from ..safety import EXCEL_COLS, EXCEL_ROWS
from .cells import column_letters
from .sheet_exact import SheetXmlError
from .sheet_xml import Layout, layout

_LAST_REF_RE = re.compile(rb'[A-Z]{1,3}([1-9][0-9]{0,6})"')
_NO_REF_RE = re.compile(rb'<c(?! r=")[\s/>]')
_ANY_REF_RE = re.compile(r"([A-Za-z]+)([0-9]+)")


@dataclass(frozen=True)
class Extent:
    """How far the cells of a sheet reach, from A1 (1-based; 0 when no cell holds a value)."""

    rows: int = 0
    cols: int = 0
    last_row_cell: str = ""
    """A cell in the last row used."""
    last_col_cell: str = ""
    """A cell in the last column used."""
    outside: str | None = None
    """The first cell placed outside the grid of a worksheet (row 0, past row 1,048,576 or
    column ``XFD``), as its reference is written; None when there is none."""


def fits(data: bytes, max_rows: int, max_cols: int, max_cells: int,
         known: Layout | None = None) -> bool:
    """Whether every cell of a sheet certainly lies in a rectangle from A1 that fits the
    bounds (rows, columns, rows × columns); False means only `extent` can tell.

    Only a plainly written sheet is answered here: no namespace prefix in its sheet data and
    every ``c`` element starting with its reference (``<c r="B7"``). Then two searches do:
    every ``r`` attribute in the sheet data, of a cell or a row and in whatever spelling, must
    be a plain reference no longer than the last cell's row in digits, in columns that keep
    the rectangle within the bounds; and no ``c`` may lack its reference. On a 50,000-line
    sheet they cost about as much as one pass of the formula scan. ``known`` is the
    sheet's `layout`, when it was already found.
    """
    known = known or layout(data)
    if known.plan is None or known.plan[0] != (b"",):
        return False
    _, start, end = known.plan
    if start == end:
        return True
    if known.foreign:
        return False
    last = data.rfind(b'<c r="', start, end)
    found = _LAST_REF_RE.match(data, last + 6) if last != -1 else None
    row = found.group(1) if found is not None else b"1"
    # rows up to the last cell's row with its first digit raised by one: 50040 -> 59999
    first = int(row[:1])
    rows = (first + 1) * 10 ** (len(row) - 1) - 1
    cols = min(max_cols, max_cells // rows) if rows <= max_rows else 0
    if cols < 1:
        return False
    if _attribute_beyond(cols, len(row), first).search(data, start, end):
        return False
    return _NO_REF_RE.search(data, start, end) is None


@functools.lru_cache(maxsize=16)
def _attribute_beyond(cols: int, digits: int, first: int) -> re.Pattern[bytes]:
    """An ``r`` attribute that is not a plain reference, or not spelled ``r="..."``, or past
    ``cols`` columns (at most two letters) or past the ``digits``-digit rows starting with
    ``first`` or less."""
    if cols >= 702:
        letters = rb"[A-Z]{0,2}+"
    elif cols >= 26:
        letters = rb"[A-Z]?"
    else:
        letters = rb"[A-" + chr(64 + cols).encode() + rb"]?"
    rows = rb"(?:[1-" + str(first).encode() + rb"][0-9]{%d}" % (digits - 1)
    if digits > 1:
        rows += rb"|[1-9][0-9]{0,%d}" % (digits - 2)
    return re.compile(rb'r(?!="' + letters + rows + rb')")(?=\s*=)')


def extent(data: bytes) -> Extent:
    """How far the cells of a sheet reach, read as calamine places them (see above).

    The sheet is read as a stream of tags (comments, CDATA sections and processing
    instructions skipped whole), several times faster than a parse on a large sheet. A cell
    counts unless it is written empty (``<c .../>``); a cell placed outside the grid counts
    either way. Raises `SheetXmlError` for a DTD.
    """
    rows = cols = 0
    last_row_cell = last_col_cell = ""
    outside: str | None = None
    row = col = 0
    inside = False
    for token in _LEX_RE.finditer(data):
        name, attrs = token.group("name", "attrs")
        if name is None:
            name, attrs = token.group("prefixed", "pattrs")
        if name is None:
            if token.group("decl") is not None:
                raise SheetXmlError(f"worksheet XML: a declaration at byte {token.start()}")
            if inside and token.group("end") is not None:
                break  # the end of the first sheetData: calamine reads no further
            continue
        local = name.rpartition(b":")[2]
        empty = attrs.rstrip().endswith(b"/")
        if not inside:
            if local == b"sheetData":
                if empty:
                    break
                inside = True
            continue
        if local == b"row":
            ref = _r_attribute(attrs)
            row = _number(ref) if ref.isascii() and ref.isdigit() else row + 1
            col = 0
            continue
        if local != b"c":
            continue
        ref = _r_attribute(attrs)
        found = _ANY_REF_RE.fullmatch(ref)
        if found is None:
            at_row, at_col = max(row, 1), col + 1
            ref = f"{column_letters(min(at_col, 10**6))}{at_row}"
        else:
            at_row, at_col = _number(found.group(2)), _column(found.group(1).upper())
        if outside is None and not (1 <= at_row <= EXCEL_ROWS and at_col <= EXCEL_COLS):
            outside = ref if len(ref) <= 40 else ref[:37] + "..."
        # a cell without a reference after this one follows it; its row is the later of the
        # two candidates, which is never before the one calamine takes
        row, col = max(row, at_row), at_col
        if empty:
            continue
        if at_row > rows:
            rows, last_row_cell = at_row, ref
        if at_col > cols:
            cols, last_col_cell = at_col, ref
    return Extent(rows, cols, last_row_cell, last_col_cell, outside)


_TAG_ATTRS = rb"""[^>"']*+(?:(?:"[^"]*+"|'[^']*+')[^>"']*+)*+"""
_LEX_RE = re.compile(
    rb"<(?:(?P<name>c|row|sheetData)(?=[\s/>])(?P<attrs>" + _TAG_ATTRS + rb")>"
    rb"|(?:!--.*?--|!\[CDATA\[.*?\]\]|\?.*?\?)>"
    rb"|(?P<decl>!)"
    rb"|(?P<end>/(?:[\w.-]+:)?sheetData\s*>)"
    rb"|(?P<prefixed>[\w.-]+:(?:c|row|sheetData))(?=[\s/>])(?P<pattrs>" + _TAG_ATTRS
    + rb")>)", re.S)
"""Tags of interest, and what must be skipped whole (a ``<`` in a comment is no tag)."""
_R_ATTR_RE = re.compile(rb"""(?<![\w:.-])r\s*=\s*["']([^"']*)""")


def _r_attribute(attrs: bytes) -> str:
    """The value of the last ``r`` attribute in a tag's attribute text ("" when none), as
    written (calamine takes the last one and does not decode references in it)."""
    found = _R_ATTR_RE.findall(attrs)
    return found[-1].decode("latin-1") if found else ""


_HUGE = 10**12
"""A row or column number past any sheet (longer numbers are not parsed)."""


def _number(digits: str) -> int:
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= 12 else _HUGE


def _column(letters: str) -> int:
    if len(letters) > 4:
        return _HUGE
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return col
