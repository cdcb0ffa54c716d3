"""Cells as the workbook reader names them: A1 references, blocks, one cell's reading.

Plain Python, no openpyxl: a returned file is read without loading it (openpyxl is the tool
for writing blanks). A defined name's formula that is not one plain reference is handed to
openpyxl's tokenizer, loaded only then, so both spellings are read exactly as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..safety import EXCEL_COLS, EXCEL_ROWS

MAX_ROW = EXCEL_ROWS
"""The last row of a worksheet (Excel 2007 and later)."""
MAX_COL = EXCEL_COLS
"""The last column of a worksheet (``XFD``)."""

_RANGE_RE = re.compile(r"^([A-Za-z]{1,3})?(\d+)?(:([A-Za-z]{1,3})?(\d+)?)?$")
"""An A1 range without ``$`` (openpyxl's ``ABSOLUTE_RE``)."""
_PLAIN_NAME_RE = re.compile(
    r"(?:'([^']+)'|([A-Za-z_][A-Za-z0-9_.]*))!"
    r"(\$?[A-Za-z]{1,3}\$?[0-9]+(?::\$?[A-Za-z]{1,3}\$?[0-9]+)?)")
"""A defined name's formula that is one plain reference: ``'发货单'!$C$5`` or ``S!$A$1:$B$2``."""


def column_letters(col: int) -> str:
    """``A`` for 1, ``XFD`` for 16,384, any positive column."""
    out = ""
    while col > 0:
        col, rest = divmod(col - 1, 26)
        out = chr(65 + rest) + out
    return out


def column_index(letters: str) -> int:
    """1 for ``A`` (or ``a``), 16,384 for ``XFD``."""
    col = 0
    for ch in letters.upper():
        col = col * 26 + ord(ch) - 64
    return col


def range_bounds(ref: str) -> tuple[int | None, int | None, int | None, int | None]:
    """(min_col, min_row, max_col, max_row) of an A1 range without ``$``; None for the
    side a whole row or column leaves open. Raises ``ValueError`` as openpyxl's
    ``range_boundaries`` does."""
    m = _RANGE_RE.match(ref)
    if not m:
        raise ValueError(f"{ref} is not a valid coordinate or range")
    min_col, min_row, sep, max_col, max_row = m.groups()
    if sep:
        cols, rows = (min_col, max_col), (min_row, max_row)
        if not (all(cols + rows) or (all(cols) and not any(rows))
                or (all(rows) and not any(cols))):
            raise ValueError(f"{ref} is not a valid coordinate or range")
    first_col = column_index(min_col) if min_col is not None else None
    first_row = int(min_row) if min_row is not None else None
    last_col = column_index(max_col) if max_col is not None else first_col
    last_row = int(max_row) if max_row is not None else first_row
    return first_col, first_row, last_col, last_row


@dataclass(frozen=True)
class Cells:
    """A rectangular block of cells on one sheet (1-based rows and columns)."""

    sheet: str
    min_row: int
    min_col: int
    max_row: int
    max_col: int

    @property
    def ref(self) -> str:
        """The A1 reference, ``C5`` or ``D20:H20``."""
        first = f"{column_letters(self.min_col)}{self.min_row}"
        last = f"{column_letters(self.max_col)}{self.max_row}"
        return first if first == last else f"{first}:{last}"

    @property
    def size(self) -> int:
        """How many cells the block covers."""
        return (self.max_row - self.min_row + 1) * (self.max_col - self.min_col + 1)

    def coordinates(self) -> list[tuple[int, int]]:
        """(row, column) of every cell, row by row."""
        return [(r, c) for r in range(self.min_row, self.max_row + 1)
                for c in range(self.min_col, self.max_col + 1)]

    def covers(self, row: int, col: int) -> bool:
        """Whether (row, col) lies in the block."""
        return self.min_row <= row <= self.max_row and self.min_col <= col <= self.max_col

    @classmethod
    def parse(cls, sheet: str, ref: str) -> Cells | None:
        """The block an A1 reference (``$C$5:$D$5``) names.

        None for whole rows or columns and for anything outside the sheet (row 0, a row past
        1,048,576, a column past ``XFD``); corners given in reverse (``C5:C2``) are put in order.
        """
        try:
            col_a, row_a, col_b, row_b = range_bounds(ref.replace("$", ""))
        except (ValueError, TypeError):
            return None
        if col_a is None or row_a is None or col_b is None or row_b is None:
            return None
        min_row, max_row = sorted((row_a, row_b))
        min_col, max_col = sorted((col_a, col_b))
        if min_row < 1 or max_row > MAX_ROW or min_col < 1 or max_col > MAX_COL:
            return None
        return cls(sheet, min_row, min_col, max_row, max_col)


@dataclass(frozen=True)
class Cell:
    """One cell as validation sees it."""

    value: Any
    """The typed value (str, int, float, bool, date, datetime, time) or None when empty."""
    coordinate: str
    formula: str | None = None
    """``=SUM(D21:D30)`` when the cell holds a formula (its cached value is then ignored)."""
    number_format: str = "General"
    problem: tuple[str, str] | None = None
    """Why the stored value cannot be read reliably (English, Chinese); None when it can."""


def plain(value: Any) -> Any:
    """A calamine value as openpyxl gives it: ``""`` is None, a whole float is an int."""
    if value == "":
        return None
    if type(value) is float and value.is_integer():
        return int(value)
    return value


def destination(text: str) -> tuple[str, str] | None:
    """The one (sheet, ref) a defined name's formula points at; None for anything else.

    One plain reference is read here; anything else goes through openpyxl's formula
    tokenizer (as every name did before), which is loaded only for it.
    """
    if not text or not text.strip():
        return None  # an empty name points nowhere (openpyxl's tokenizer fails on it)
    plain_ref = _PLAIN_NAME_RE.fullmatch(text)
    if plain_ref is not None:
        return plain_ref.group(1) or plain_ref.group(2), plain_ref.group(3)
    from openpyxl.workbook.defined_name import DefinedName

    try:
        found = list(DefinedName(name="_", attr_text=text).destinations)
    except (ValueError, TypeError, AttributeError, KeyError, IndexError):
        return None
    return found[0] if len(found) == 1 else None
