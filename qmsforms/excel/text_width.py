"""How wide text is in a cell and how many lines it wraps to, for rows sized before printing.

Neither openpyxl nor every spreadsheet reader sizes a row to its wrapped text when the file
is opened (LibreOffice prints such a row one line tall, the rest cut off), so the writers of
printed sheets set row heights themselves from these counts.
"""

from __future__ import annotations

import math
import unicodedata

LINE_HEIGHT = 15
"""Points per line of 11-point text."""


def display_width(text: str) -> int:
    """Columns ``text`` takes: two for a wide (CJK) character, one for any other."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrapped_lines(value: object, width: int) -> int:
    """Lines a value takes wrapped in a column ``width`` characters wide (at least one)."""
    if value is None:
        return 1
    return sum(max(1, math.ceil(display_width(line) / max(1, width - 1)))
               for line in str(value).splitlines() or [""])
