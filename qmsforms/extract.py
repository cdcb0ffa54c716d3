"""Read the filled values of a form out of a workbook and normalise what staff typed.

Values are read through the `Binding` (defined names and tables), normalised by field kind
(`qmsforms.normalize`), and returned with the cell each came from so that every later problem
can point at a cell. A value that cannot be normalised becomes an issue and is left out of
the data handed to pydantic, so it is reported once, not twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from openpyxl.cell.cell import MergedCell
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from . import normalize as nz
from .binding import Binding, Cells
from .fields import FieldSpec
from .issues import Code, Issue
from .registry import FormDef

Loc = tuple[Any, ...]
"""A pydantic-style location: ``("customer",)`` or ``("lines", 3, "quantity")``."""


@dataclass
class Extraction:
    """Normalised values ready for the form model, where each came from, and the problems."""

    values: dict[str, Any] = field(default_factory=dict)
    where: dict[Loc, tuple[str, str]] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    failed: set[Loc] = field(default_factory=set)


def _simple(fn: Callable[[Any], Any]) -> Callable[[FieldSpec, Any, str], Any]:
    return lambda spec, value, fmt: fn(value)


def _to_bool(value: Any) -> bool | None:
    """Yes/no as typed, or as picked from the blank's bilingual drop-down (``是 Yes``)."""
    if isinstance(value, str):
        folded = " ".join(value.split()).casefold()
        for answer, labels in ((True, ("是 yes", "是yes")), (False, ("否 no", "否no"))):
            if folded in labels:
                return answer
    return nz.to_bool(value)


LO_BOOLEANS = {"=TRUE()": True, "=FALSE()": False}
"""LibreOffice stores a typed TRUE/FALSE as these formulas; they are values, not formulas."""

NORMALISERS: dict[str, Callable[[FieldSpec, Any, str], Any]] = {
    "text": _simple(nz.to_text),
    "longtext": _simple(nz.to_text),
    "int": _simple(nz.to_int),
    "score": _simple(nz.to_int),
    "decimal": _simple(nz.to_decimal),
    "percent": lambda spec, value, fmt: nz.to_percent(value, number_format=fmt),
    "date": _simple(nz.to_date),
    "datetime": _simple(nz.to_datetime),
    "month": _simple(nz.to_month),
    "bool": _simple(_to_bool),
    "choice": lambda spec, value, fmt: nz.to_choice(value, spec.choice_aliases()),
}


def _value_cell(ws: Worksheet, row: int, col: int) -> Any:
    """The cell holding the value at (row, col): the top-left one when it is merged over."""
    cell = ws.cell(row=row, column=col)
    if isinstance(cell, MergedCell):
        for rng in ws.merged_cells.ranges:
            if rng.min_row <= row <= rng.max_row and rng.min_col <= col <= rng.max_col:
                return ws.cell(row=rng.min_row, column=rng.min_col)
    return cell


def read_value(spec: FieldSpec, cell: Any, sheet: str, out: Extraction, loc: Loc) -> Any:
    """Normalise one cell for ``spec``; on failure record the issue and return None."""
    out.where[loc] = (sheet, cell.coordinate)
    if cell.data_type == "f" and spec.kind == "bool" and cell.value in LO_BOOLEANS:
        return LO_BOOLEANS[cell.value]
    if cell.data_type == "f":
        out.issues.append(Issue.make(Code.FORMULA_IN_INPUT, field=spec.name, sheet=sheet,
                                     cell=cell.coordinate, value=cell.value, label=spec.labels))
        out.failed.add(loc)
        return None
    try:
        return NORMALISERS[spec.kind](spec, cell.value, cell.number_format or "")
    except nz.NormalizeError as exc:
        out.issues.append(Issue.make(Code[exc.code], field=spec.name, sheet=sheet,
                                     cell=cell.coordinate, value=cell.value, label=spec.labels,
                                     detail=exc.detail))
        out.failed.add(loc)
        return None


def _read_ticks(spec: FieldSpec, ws: Worksheet, cells: Cells, out: Extraction) -> Any:
    loc: Loc = (spec.name,)
    out.where[loc] = (cells.sheet, cells.ref)
    ticked: list[int] = []
    bad = False
    for index, (row, col) in enumerate(cells.coordinates()):
        cell = _value_cell(ws, row, col)
        try:
            if nz.is_tick(cell.value):
                ticked.append(index)
        except nz.NormalizeError as exc:
            bad = True
            out.issues.append(Issue.make(Code[exc.code], field=spec.name, sheet=cells.sheet,
                                         cell=cell.coordinate, value=cell.value,
                                         label=spec.labels))
    if bad:
        out.failed.add(loc)
        return None
    if len(ticked) > 1:
        out.issues.append(Issue.make(Code.MULTIPLE_TICKS, field=spec.name, sheet=cells.sheet,
                                     cell=cells.ref, value=len(ticked), label=spec.labels,
                                     detail=len(ticked)))
        out.failed.add(loc)
        return None
    return spec.levels[ticked[0]][0] if ticked else None


def _read_table(spec: FieldSpec, wb: Workbook, binding: Binding, out: Extraction) -> list[Any]:
    table = binding.tables[spec.name]
    ws = wb[table.sheet]
    columns = [c for c in spec.columns if c.name in table.columns]
    rows: list[dict[str, Any]] = []
    for row in range(table.first_row, table.last_row + 1):
        raw = {c.name: ws.cell(row=row, column=table.columns[c.name]) for c in columns}
        if all(nz.to_text(cell.value) is None for cell in raw.values()):
            continue
        index = len(rows)
        line: dict[str, Any] = {}
        for column in columns:
            loc: Loc = (spec.name, index, column.name)
            value = read_value(column, raw[column.name], table.sheet, out, loc)
            if value is not None:
                line[column.name] = value
        out.where[(spec.name, index)] = (table.sheet, _row_ref(table, row))
        rows.append(line)
    out.where[(spec.name,)] = (table.sheet, _row_ref(table, table.header_row))
    return rows


def _row_ref(table: Any, row: int) -> str:
    from openpyxl.utils import get_column_letter

    cols = sorted(table.columns.values())
    if not cols:
        return f"A{row}"
    return f"{get_column_letter(cols[0])}{row}:{get_column_letter(cols[-1])}{row}"


def extract(wb: Workbook, form: FormDef, binding: Binding) -> Extraction:
    """Read and normalise every bound field of ``form``; unbound fields are skipped."""
    out = Extraction()
    for spec in form.fields:
        if spec.kind == "table":
            if spec.name in binding.tables:
                out.values[spec.name] = _read_table(spec, wb, binding, out)
            continue
        cells = binding.fields.get(spec.name)
        if cells is None:
            continue
        ws = wb[cells.sheet]
        if spec.kind == "ticks":
            value = _read_ticks(spec, ws, cells, out)
        else:
            cell = _value_cell(ws, cells.min_row, cells.min_col)
            value = read_value(spec, cell, cells.sheet, out, (spec.name,))
        if value is not None:
            out.values[spec.name] = value
    questions = [binding.fields[s.name] for s in form.fields
                 if s.group == "questions" and s.name in binding.fields]
    if questions:
        first, last = questions[0], questions[-1]
        block = Cells(first.sheet, first.min_row, first.min_col, last.max_row, last.max_col)
        out.where[()] = (first.sheet, block.ref)
    return out
