"""Turn raw cell values into the types form fields want, before pydantic validates them.

Forms are filled in by people, in Excel, often on Chinese input methods. The same answer arrives
as ``95``, ``0.95`` in a ``0%`` cell, ``"95 %"`` or ``"９５％"``; a date as a ``datetime``, an
Excel serial, ``"2026/11/3"`` or ``"2026年11月3日"``; a tick as ``√``, ``✔``, ``x``, ``○`` or
``是`` (the configured tick vocabulary, `TickMarks`). Each function here accepts every
reasonable spelling of one kind of value (whatever openpyxl returns: str, int, float,
datetime, date, time, bool or None) and returns one canonical Python value, ``None`` for a
blank cell, or raises `NormalizeError` whose ``code`` names a `qmsforms.issues.Code` member,
so the caller can report the problem in Chinese and English.

Rules kept on purpose: Chinese text is never NFKC-folded (only digits and marks are, for
parsing); ``3/11/2026`` and the whole day/month/year family are refused as ambiguous, even
when the numbers would decide it, so that staff learn to write ``2026-11-03``.
"""

from __future__ import annotations

import datetime
import decimal
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from itertools import permutations
from typing import TypeGuard

__all__ = [
    "BLANK",
    "TICKED_MARKS",
    "UNTICKED_MARKS",
    "NormalizeError",
    "TickMarks",
    "is_blank",
    "is_tick",
    "ticks_in_use",
    "to_bool",
    "to_choice",
    "to_date",
    "to_datetime",
    "to_decimal",
    "to_int",
    "to_month",
    "to_percent",
    "to_text",
]

BLANK = None
"""What every function returns for a blank cell (None, or text that is only whitespace)."""

_MAX_SERIAL = 2958465  # 9999-12-31 in Excel's 1900 date system
SPACE = "".join(chr(c) for c in range(0x3000 + 1) if chr(c).isspace()) + "\u200b\ufeff"
"""What is stripped from both ends of text: every Unicode space, zero-width space and BOM."""
_NUMBER_RE = re.compile(
    r"(?P<sign>[+-]?)\s*(?P<cur>[¥$]|RMB|CNY)?\s*"
    r"(?P<num>(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]*)?|\.[0-9]+)"
    r"\s*(?P<unit>%|[¥$]|°?[^\W\d_]+(?:\s*/\s*[^\W\d_]+)?)?",
    re.IGNORECASE,
)
_TIME = (
    r"(?:\s*T\s*|\s+|(?<=[日号]))"
    r"(?P<h>[0-9]{1,2})\s*[:时点]\s*(?P<mi>[0-9]{1,2})"
    r"(?:\s*[:分]\s*(?P<s>[0-9]{1,2})(?:\.(?P<us>[0-9]{1,6}))?\s*秒?|\s*分)?"
)
_DATE_RES = tuple(
    re.compile(rf"{date}(?:{_TIME})?")
    for date in (
        r"(?P<y>[0-9]{4})\s*[-/.]\s*(?P<m>[0-9]{1,2})\s*[-/.]\s*(?P<d>[0-9]{1,2})",
        r"(?P<y>[0-9]{4})\s*年\s*(?P<m>[0-9]{1,2})\s*月\s*(?P<d>[0-9]{1,2})\s*[日号]",
        r"(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})",
    )
)
_DMY_RE = re.compile(r"[0-9]{1,2}\s*[-/.]\s*[0-9]{1,2}\s*[-/.]\s*[0-9]{4}(?:[\sT].*)?")
_MONTH_RES = (
    re.compile(r"(?P<y>[0-9]{4})\s*[-/.]\s*(?P<m>[0-9]{1,2})"),
    re.compile(r"(?P<y>[0-9]{4})\s*年\s*(?P<m>[0-9]{1,2})\s*月份?"),
    re.compile(r"(?P<y>[0-9]{4})(?P<m>[0-9]{2})"),
)
_CHOICE_SPACING_RE = re.compile(r"\s*([/()])\s*")
_WHITESPACE_RE = re.compile(r"\s+")

TICKED_MARKS = ("√", "✓", "✔", "☑", "☒", "✅", "●", "■", "○", "〇", "x", "×", "v", "1", "是",
                "对", "yes", "y", "ok", "true")
"""What the shipped configuration counts as ticked (``[ticks] yes``): check marks, a box
ticked or crossed, a filled or drawn circle (a choice circled as on paper, 画圈), a cross,
``1``, 是, 对, yes, OK. Compared after NFKC and casefolding, so ``X``, ``ｘ``, ``OK`` and
``１`` count too."""
UNTICKED_MARKS = ("☐", "□", "否", "错", "0", "no", "n", "false")
"""What the shipped configuration counts as not ticked (``[ticks] no``): an empty box, 否,
错, ``0``, no. A blank cell is not ticked whatever the lists say; any other mark is refused
(``TICK_UNRECOGNISED``) rather than guessed."""


@dataclass(frozen=True)
class TickMarks:
    """A tick vocabulary: the marks that mean ticked and those that mean not ticked, as
    compared (NFKC, casefolded, emoji variation selectors dropped). Build it with `of`."""

    yes: frozenset[str]
    no: frozenset[str]

    @classmethod
    def of(cls, yes: Iterable[str], no: Iterable[str]) -> TickMarks:
        """The vocabulary of marks as a person types them; `ValueError` names a mark that is
        blank, or in both lists (after folding: ``X`` and ``x`` are one mark)."""
        ticked, unticked = frozenset(map(_mark, yes)), frozenset(map(_mark, no))
        if "" in ticked or "" in unticked:
            raise ValueError("a tick mark is blank")
        if both := sorted(ticked & unticked):
            raise ValueError(f"{', '.join(both)} cannot mean both ticked and not ticked")
        return cls(ticked, unticked)


_ACTIVE_TICKS: ContextVar[TickMarks | None] = ContextVar("qmsforms_ticks", default=None)


@contextmanager
def ticks_in_use(marks: TickMarks) -> Iterator[None]:
    """Read tick boxes and yes/no answers with ``marks`` (a workspace's ``[ticks]``) inside
    the ``with`` block; outside it the shipped `TICKED_MARKS` / `UNTICKED_MARKS` apply."""
    token = _ACTIVE_TICKS.set(marks)
    try:
        yield
    finally:
        _ACTIVE_TICKS.reset(token)


class NormalizeError(ValueError):
    """A value that cannot be read as the wanted type."""

    def __init__(self, code: str, detail: str = "") -> None:
        """``code`` is a `qmsforms.issues.Code` member name; ``detail`` fills its ``{detail}``."""
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


def _strip(text: str) -> str:
    return text.strip(SPACE)


def is_blank(value: object) -> bool:
    """Whether a cell value is blank: None, or text that is only whitespace."""
    return value is None or (isinstance(value, str) and not _strip(value))


def _is_number(value: object) -> TypeGuard[int | float | decimal.Decimal]:
    return isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool)


def _folded(text: str) -> str:
    """NFKC (full-width digits, ％, ￥, （） become ASCII) and strip; for parsing only."""
    return _strip(unicodedata.normalize("NFKC", text))


def _decimal(value: object, *, currency: bool = False, percent: bool = False) -> decimal.Decimal:
    if _is_number(value):
        number = decimal.Decimal(repr(value) if isinstance(value, float) else value)
        if not number.is_finite():
            raise NormalizeError("NOT_A_NUMBER")
        return number
    if not isinstance(value, str) or not (match := _NUMBER_RE.fullmatch(_folded(value))):
        raise NormalizeError("NOT_A_NUMBER")
    unit = match["unit"]
    if (match["cur"] or unit in ("¥", "$")) and not currency:
        raise NormalizeError("NOT_A_NUMBER")
    if unit is not None and (unit == "%") != percent:
        raise NormalizeError("NOT_A_NUMBER")  # % only in percents, and percents take no other unit
    return decimal.Decimal(match["sign"] + match["num"].replace(",", ""))


def _serial(value: object, code: str) -> datetime.datetime:
    """An Excel serial date (1900 system), or an 8-digit number typed as yyyymmdd."""
    number = float(value)  # type: ignore[arg-type]
    if number.is_integer() and 10_000_000 <= number <= 99_999_999:
        found = _match_datetime(str(int(number)))
        if found is None:
            raise NormalizeError(code)
        return found
    if not (math.isfinite(number) and 1 <= number < _MAX_SERIAL + 1):
        raise NormalizeError(code)
    from openpyxl.utils.datetime import from_excel  # loaded only for a date typed as a number

    try:
        return from_excel(number)
    except (ValueError, OverflowError) as exc:  # the last fractions of 9999-12-31
        raise NormalizeError(code) from exc


def _match_datetime(text: str) -> datetime.datetime | None:
    """Parse a folded date or date-time string; None if it is not one, raise if ambiguous."""
    if _DMY_RE.fullmatch(text):
        raise NormalizeError("DATE_AMBIGUOUS")
    for pattern in _DATE_RES:
        if match := pattern.fullmatch(text):
            parts = [match[k] for k in ("y", "m", "d", "h", "mi", "s")]
            micro = int((match["us"] or "0").ljust(6, "0"))
            try:
                year, month, day, hour, minute, second = (int(p or 0) for p in parts)
                return datetime.datetime(year, month, day, hour, minute, second, micro)
            except ValueError:
                return None
    return None


def to_text(value: object, *, max_length: int | None = None) -> str | None:
    """Text with surrounding whitespace removed; numbers and dates rendered the way Excel shows."""
    if isinstance(value, str):
        text = _strip(value)
        if not text:
            return BLANK
    elif value is None:
        return BLANK
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, (datetime.date, datetime.time)):
        text = value.isoformat()
    else:
        text = str(value)
    if max_length is not None and len(text) > max_length:
        raise NormalizeError("TOO_LONG", str(max_length))
    return text


def to_int(value: object) -> int | None:
    """A whole number from a number or text such as ``"1,200"``, ``"３件"`` or ``"12 pcs"``."""
    if type(value) is int:
        return value
    if is_blank(value):
        return BLANK
    number = _decimal(value)
    if number != number.to_integral_value():
        raise NormalizeError("NOT_WHOLE")
    return int(number)


def to_decimal(value: object) -> decimal.Decimal | None:
    """An exact decimal; text may carry units and currency marks (``"¥12.50"``, ``"12.50元"``)."""
    if type(value) is float and math.isfinite(value):
        return decimal.Decimal(repr(value))
    if is_blank(value):
        return BLANK
    return _decimal(value, currency=True)


_QUOTED = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')
"""Literal text, escaped characters and [colour]/[locale] sections of a number format."""


def is_percent_format(number_format: str | None) -> bool:
    """Whether a number format shows its value times 100 with ``%`` (``0%``, ``0.0%``).

    A ``%`` inside quotes (``0.0"%"``) or escaped (``0.0\\%``) is literal text: the value is
    shown as it is.
    """
    return bool(number_format) and "%" in _QUOTED.sub("", number_format or "")


def to_percent(value: object, *, number_format: str | None = None) -> decimal.Decimal | None:
    """A rate on the 0-100 scale, as the person meant it.

    ``95``, ``"95"``, ``"95%"``, ``"95 %"`` and ``"９５％"`` give 95, and so does 0.95 in a
    cell formatted as a percentage (what Excel and LibreOffice store for a typed ``95%``; the
    cell then shows ``95%``). A number above 0 and up to 1 *without* a percent sign or format
    is refused as ``RATE_AMBIGUOUS``: 0.95 may be 95 % written as a fraction or 0.95 %, and
    LibreOffice stores a typed ``95%`` as 0.95 in a cell whose fixed format it keeps.
    """
    if is_blank(value):
        return BLANK
    number = _decimal(value, percent=True)
    if _is_number(value) and is_percent_format(number_format):
        number = (number * 100).normalize()
        if number.as_tuple().exponent > 0:  # type: ignore[operator]
            number = number.quantize(decimal.Decimal(1))
        return number
    explicit = isinstance(value, str) and "%" in _folded(value)
    if not explicit and 0 < number <= 1:
        raise NormalizeError("RATE_AMBIGUOUS")
    return number


_SERIAL_TEXT = re.compile(r"[1-9]\d{4}")
"""A date serial stored as text: five digits (1927-05-18 .. 2173-10-14), never a year."""


def to_date(value: object) -> datetime.date | None:
    """A calendar date from a date, an Excel serial or text in year-month-day order."""
    if is_blank(value):
        return BLANK
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if _is_number(value):
        return _serial(value, "NOT_A_DATE").date()
    if isinstance(value, str) and _SERIAL_TEXT.fullmatch(_folded(value)):
        return _serial(int(_folded(value)), "NOT_A_DATE").date()
    if isinstance(value, str) and (found := _match_datetime(_folded(value))):
        return found.date()
    raise NormalizeError("NOT_A_DATE")


def to_datetime(value: object) -> datetime.datetime | None:
    """A naive date and time; a date alone means midnight."""
    if is_blank(value):
        return BLANK
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, datetime.date):
        return datetime.datetime.combine(value, datetime.time())
    if _is_number(value):
        return _serial(value, "NOT_A_DATETIME")
    if isinstance(value, str) and (found := _match_datetime(_folded(value))):
        return found
    raise NormalizeError("NOT_A_DATETIME")


def to_month(value: object) -> str | None:
    """A month as ``"YYYY-MM"`` from a date, ``"2026-11"``, ``"2026年11月"``, ``"202611"``..."""
    if is_blank(value):
        return BLANK
    if isinstance(value, datetime.date):
        return f"{value.year:04d}-{value.month:02d}"
    if _is_number(value):
        number = float(value)
        if 1900 <= number < 10_000:  # 2026.11 typed into a General cell: 2026.1 or 2026.10?
            raise NormalizeError("NOT_A_MONTH")
        if number.is_integer() and 190_001 <= number <= 999_912:
            value = str(int(number))
        else:
            return to_month(_serial(value, "NOT_A_MONTH"))
    if not isinstance(value, str):
        raise NormalizeError("NOT_A_MONTH")
    text = _folded(value)
    for pattern in _MONTH_RES:
        if (match := pattern.fullmatch(text)) and 1 <= int(match["m"]) <= 12:
            return f"{match['y']}-{int(match['m']):02d}"
    if found := _match_datetime(text):
        return f"{found.year:04d}-{found.month:02d}"
    raise NormalizeError("NOT_A_MONTH")


def _mark(value: object) -> str:
    """The comparable spelling of a tick or yes/no answer."""
    if isinstance(value, bool):
        return str(value).lower()
    if _is_number(value):
        whole = math.isfinite(value) and value == int(value)
        return str(int(value)) if whole else repr(value)
    if not isinstance(value, str):
        return repr(value)
    return _folded(value.replace("\ufe0f", "").replace("\ufe0e", "")).casefold()


_SHIPPED_TICKS = TickMarks.of(TICKED_MARKS, UNTICKED_MARKS)


def _ticks() -> TickMarks:
    return _ACTIVE_TICKS.get() or _SHIPPED_TICKS


def is_tick(value: object) -> bool:
    """Whether a tick box cell is ticked; blank means not ticked.

    The marks are the configured vocabulary (`ticks_in_use`, default `TICKED_MARKS` and
    `UNTICKED_MARKS`); any other mark raises `NormalizeError` ``TICK_UNRECOGNISED``.
    """
    if is_blank(value):
        return False
    mark, ticks = _mark(value), _ticks()
    if mark in ticks.yes or mark in ticks.no:
        return mark in ticks.yes
    raise NormalizeError("TICK_UNRECOGNISED")


def to_bool(value: object) -> bool | None:
    """A yes/no answer: the tick vocabulary (see `is_tick`: ``是/否``, ``Y/N``, ``yes/no``,
    ``true/false`` ...) and ``有/无``."""
    if is_blank(value):
        return BLANK
    mark, ticks = _mark(value), _ticks()
    if mark in ticks.yes or mark == "有":
        return True
    if mark in ticks.no or mark == "无":
        return False
    raise NormalizeError("NOT_A_BOOL")


def _choice_key(text: str) -> str:
    text = _WHITESPACE_RE.sub(" ", _folded(text).casefold())
    return _CHOICE_SPACING_RE.sub(r"\1", text)


def _choice_names(code: str, labels: Sequence[str]) -> set[str]:
    """Every accepted spelling of one choice, in `_choice_key` form."""
    keys = [_choice_key(label) for label in labels]
    names = {_choice_key(code), *keys}
    for a, b in permutations(keys, 2):
        names.update({f"{a} {b}", f"{a}/{b}", f"{a}({b})", f"{a}{b}"})
    return names


def to_choice(value: object, choices: Mapping[str, Sequence[str]]) -> str | None:
    """The code of the choice named by its code, a label, or two labels (``"质量 / Quality"``)."""
    text = to_text(value)
    if text is None:
        return BLANK
    wanted = _choice_key(text)
    for code, labels in choices.items():
        if wanted in _choice_names(code, labels):
            return code
    shown = " / ".join(labels[0] if labels else code for code, labels in choices.items())
    raise NormalizeError("NOT_A_CHOICE", shown)
