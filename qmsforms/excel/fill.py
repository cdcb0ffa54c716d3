"""Fill a form workbook from Python data, by defined name — as a person would in Excel.

Used to pre-fill issued blanks (``new --set``), by the demo, the tests and the benchmarks.
Values are written as the typed cell value (dates as dates, a level as a tick in its column,
table rows into the Excel table, which grows when the rows outnumber it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from copy import copy
from typing import Any

from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.workbook.workbook import Workbook

from ..fields import FieldSpec
from ..issues import UsageError
from ..registry import FormDef
from ..safe_text import set_text
from .binding import bind_table, workbook_names
from .inputs import TICK, YES_NO


def cell_value(spec: FieldSpec, value: Any, lang: str = "both") -> Any:
    """What to write into the cell of ``spec`` for a Python ``value``."""
    if value is None:
        return None
    if spec.kind == "choice" and value in spec.choices:
        zh, en = spec.choices[value]
        return zh if lang == "zh" else en if lang == "en" else f"{zh} {en}"
    if spec.kind == "bool" and isinstance(value, bool):
        return YES_NO[lang][0 if value else 1]
    if spec.kind == "percent" and not isinstance(value, str) and 0 < value <= 1:
        return f"{value}%"  # a bare 0.5 would be ambiguous: 50 % or 0.5 %
    if spec.kind in ("decimal", "percent") and not isinstance(value, (str, int, float)):
        return float(value)
    return value


def _input(cell: Cell | MergedCell, name: str) -> Cell:
    """The cell ``name`` is written into; a merged range takes a value in its first cell only."""
    if isinstance(cell, MergedCell):
        raise UsageError(f"{name}: {cell.coordinate} lies inside a merged range")
    return cell


def _write_table(wb: Workbook, spec: FieldSpec, rows: Sequence[Mapping[str, Any]],
                 lang: str) -> None:
    binding, _ = bind_table(wb, spec)
    if binding is None:
        raise UsageError(f"the workbook has no table named {spec.name}")
    ws = wb[binding.sheet]
    table = next(t for t in ws.tables.values() if spec.name in (t.displayName, t.name))
    capacity = binding.last_row - binding.first_row + 1
    if len(rows) > capacity:
        first, _, end = table.ref.partition(":")
        end_col = end.rstrip("0123456789")
        last = binding.first_row + len(rows) - 1
        table.ref = f"{first}:{end_col}{last}"
        if table.autoFilter is not None:
            table.autoFilter.ref = table.ref
        if ws.print_area:
            widest = max(column_index_from_string(end_col), ws.max_column)
            ws.print_area = f"A1:{get_column_letter(widest)}{last}"
        template = {c: ws.cell(row=binding.last_row, column=c) for c in binding.columns.values()}
        for r in range(binding.last_row + 1, last + 1):
            for c, source in template.items():
                target = ws.cell(row=r, column=c)
                # the whole style array, as Excel copies a line; types-openpyxl leaves
                # StyleableObject._style unannotated
                target._style = copy(source._style)  # type: ignore[union-attr]
    columns = {c.name: c for c in spec.columns}
    for offset, row in enumerate(rows):
        r = binding.first_row + offset
        for name, value in row.items():
            if name not in binding.columns:
                raise UsageError(f"table {spec.name} has no column {name!r}")
            set_text(_input(ws.cell(row=r, column=binding.columns[name]), name),
                     cell_value(columns[name], value, lang))


def fill_workbook(wb: Workbook, form: FormDef, data: Mapping[str, Any],
                  lang: str = "both") -> None:
    """Write ``data`` (field name -> value) into the form's cells.

    A tick-row field takes the level value (``5``) or option code and ticks its cell; a table
    field takes a list of row mappings; other values are written as they are, so a test can
    also write raw text such as ``"９５分"`` to exercise normalisation.
    """
    names = workbook_names(wb)
    for name, value in data.items():
        try:
            spec = form.field(name)
        except KeyError:
            raise UsageError(f"form {form.id} has no field {name!r}") from None
        if spec.kind == "table":
            _write_table(wb, spec, value, lang)
            continue
        cells = names.get(name)
        if cells is None:
            raise UsageError(f"the workbook has no defined name {name!r}")
        ws = wb[cells.sheet]
        if spec.kind == "ticks":
            values = [level[0] for level in spec.levels]
            for (r, c) in cells.coordinates():
                ws.cell(row=r, column=c).value = None
            if value is not None:
                if value not in values:
                    raise UsageError(f"{name}: {value!r} is not one of {values}")
                r, c = cells.coordinates()[values.index(value)]
                ws.cell(row=r, column=c).value = TICK
            continue
        set_text(_input(ws.cell(row=cells.min_row, column=cells.min_col), name),
                 cell_value(spec, value, lang))
