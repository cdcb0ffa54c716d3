"""Writing untrusted text into workbooks and file names without it turning into something else.

openpyxl stores a string that starts with ``=`` as a formula; a value a customer typed must
never become one in a file we write. Values used in file names lose path separators, drive
colons, control characters and leading dots.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def set_text(cell: Cell, value: Any) -> None:
    """Put ``value`` into ``cell``; strings are stored as text even when they look like formulas.

    Control characters a worksheet cannot hold (a file name may carry them) are dropped.
    """
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell.value = value
    if isinstance(value, str) and value.startswith(FORMULA_START):
        cell.data_type = "s"


def safe_cell_text(value: Any) -> Any:
    """``value`` for display in a cell: non-strings unchanged, formula-like strings neutralised.

    Used where a value goes through an API that cannot force the text type (``ws.append``):
    a leading apostrophe-like marker keeps the visible text and removes the formula meaning.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "\u2019" + value
    return value


def safe_filename(text: str, fallback: str = "file", max_length: int = 80) -> str:
    """A file-name component from untrusted text: no separators, ``..``, colons or controls."""
    cleaned = unicodedata.normalize("NFC", str(text))
    cleaned = _UNSAFE_NAME.sub("_", cleaned).strip(" ._")
    cleaned = re.sub(r"\.{2,}", ".", cleaned)
    return cleaned[:max_length] or fallback
