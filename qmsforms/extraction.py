"""What reading a filled form yields, whatever its file format: values, locations, issues.

Both wings fill an `Extraction`: the workbook reader (`qmsforms.excel.extract`) and the Word
reader (`qmsforms.word.read`). Values are normalised by field kind through `NORMALISERS`, so a
date typed in a cell and a date typed in a content control become the same value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from . import normalize as nz
from .fields import FieldSpec
from .issues import Issue

Loc = tuple[Any, ...]
"""A pydantic-style location: ``("customer",)`` or ``("lines", 3, "quantity")``."""


class TableRows(Protocol):
    """A table whose lines were read one worksheet row each (an Excel table binding)."""

    @property
    def sheet(self) -> str:
        """The sheet the table is on."""

    @property
    def columns(self) -> dict[str, int]:
        """Column field name -> column number."""

    def cell(self, row: int, name: str) -> str:
        """The A1 reference of column ``name`` in worksheet row ``row``."""

    def row_ref(self, row: int) -> str:
        """The A1 range of one worksheet row of the table (its bound columns)."""


class Where:
    """Where each value came from, by pydantic location: ``(sheet, A1 reference)``.

    Single values are entered one by one; the cells of a table are located on demand from the
    table's binding and the worksheet row of each line, so a 50,000-line table costs one list,
    not a dictionary entry per cell.
    """

    def __init__(self) -> None:
        """An empty map."""
        self._fixed: dict[Loc, tuple[str, str]] = {}
        self._tables: dict[str, tuple[TableRows, list[int]]] = {}

    def __setitem__(self, loc: Loc, where: tuple[str, str]) -> None:
        self._fixed[loc] = where

    def __getitem__(self, loc: Loc) -> tuple[str, str]:
        found = self.get(loc)
        if found is None:
            raise KeyError(loc)
        return found

    def __contains__(self, loc: object) -> bool:
        return isinstance(loc, tuple) and self.get(loc) is not None

    def add_table(self, name: str, table: TableRows, rows: list[int]) -> None:
        """Line ``i`` of table field ``name`` was read from worksheet row ``rows[i]``."""
        self._tables[name] = (table, rows)

    def get(self, loc: Loc, default: tuple[str, str] | None = None) -> tuple[str, str] | None:
        """The sheet and cell (or row range) of ``loc``; ``default`` when unknown."""
        found = self._fixed.get(loc)
        if found is not None:
            return found
        if len(loc) in (2, 3) and loc[0] in self._tables and isinstance(loc[1], int):
            table, rows = self._tables[loc[0]]
            if 0 <= loc[1] < len(rows):
                row = rows[loc[1]]
                if len(loc) == 2:
                    return table.sheet, table.row_ref(row)
                if loc[2] in table.columns:
                    return table.sheet, table.cell(row, loc[2])
        return default

    def locate(self, loc: Loc) -> tuple[str | None, str | None]:
        """The sheet and cell of ``loc`` or of the nearest enclosing location found."""
        for length in range(len(loc), -1, -1):
            found = self.get(loc[:length])
            if found:
                return found
        return None, None


@dataclass
class Extraction:
    """Normalised values ready for the form model, where each came from, and the problems."""

    values: dict[str, Any] = field(default_factory=dict)
    where: Where = field(default_factory=Where)
    issues: list[Issue] = field(default_factory=list)
    failed: set[Loc] = field(default_factory=set)


Normaliser = Callable[[FieldSpec, Any, str], Any]
"""``(spec, value, number format) -> normalised value``; raises `normalize.NormalizeError`."""


def _simple(fn: Callable[[Any], Any]) -> Normaliser:
    return lambda spec, value, fmt: fn(value)


def to_bool(value: Any) -> bool | None:
    """Yes/no as typed, or as picked from the blank's bilingual drop-down (``是 Yes``)."""
    if isinstance(value, str):
        folded = " ".join(value.split()).casefold()
        for answer, labels in ((True, ("是 yes", "是yes")), (False, ("否 no", "否no"))):
            if folded in labels:
                return answer
    return nz.to_bool(value)


NORMALISERS: dict[str, Normaliser] = {
    "text": _simple(nz.to_text),
    "longtext": _simple(nz.to_text),
    "int": _simple(nz.to_int),
    "score": _simple(nz.to_int),
    "decimal": _simple(nz.to_decimal),
    "percent": lambda spec, value, fmt: nz.to_percent(value, number_format=fmt),
    "date": _simple(nz.to_date),
    "datetime": _simple(nz.to_datetime),
    "month": _simple(nz.to_month),
    "bool": _simple(to_bool),
    "choice": lambda spec, value, fmt: nz.to_choice(value, spec.choice_aliases()),
}
"""The normaliser of each field kind (tables and tick rows are read by each wing itself)."""
