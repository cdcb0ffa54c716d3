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


def safe_filename(text: str, fallback: str = "file", max_length: int = 80,
                  max_bytes: int = 150) -> str:
    """A file-name component from untrusted text: no separators, ``..``, colons or controls.

    At most ``max_length`` characters and ``max_bytes`` bytes of UTF-8 (file systems limit a
    name to 255 bytes; 70 Chinese characters are already 210), keeping the extension.
    """
    cleaned = unicodedata.normalize("NFC", str(text))
    cleaned = cleaned.encode("utf-8", "replace").decode("utf-8")  # lone surrogates
    cleaned = _UNSAFE_NAME.sub("_", cleaned).strip(" ._")
    cleaned = re.sub(r"\.{2,}", ".", cleaned)
    cleaned = cleaned[:max_length]
    if len(cleaned.encode("utf-8")) > max_bytes:
        stem, dot, ext = cleaned.rpartition(".")
        if not dot or len(ext) > 8:
            stem, ext = cleaned, ""
        tail = f".{ext}" if ext else ""
        budget = max_bytes - len(tail.encode("utf-8"))
        stem = stem.encode("utf-8")[:budget].decode("utf-8", "ignore").rstrip(" ._")
        cleaned = stem + tail
    return cleaned or fallback
