"""Where each field lives in a workbook: defined names and Excel tables, never coordinates.

`bind` resolves every field of a form to its cells and reports what is missing or has the
wrong shape. Both intake and ``qmsforms templates check`` use it, so a restyled template that
passes the check is read exactly like the shipped one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from .fields import FieldSpec
from .issues import Code, Issue
from .registry import FormDef


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
        from openpyxl.utils import get_column_letter as col

        first = f"{col(self.min_col)}{self.min_row}"
        last = f"{col(self.max_col)}{self.max_row}"
        return first if first == last else f"{first}:{last}"

    @property
    def size(self) -> int:
        """How many cells the block covers."""
        return (self.max_row - self.min_row + 1) * (self.max_col - self.min_col + 1)

    def coordinates(self) -> list[tuple[int, int]]:
        """(row, column) of every cell, row by row."""
        return [(r, c) for r in range(self.min_row, self.max_row + 1)
                for c in range(self.min_col, self.max_col + 1)]


@dataclass(frozen=True)
class TableBinding:
    """An Excel table bound to a table field: its data rows and which column holds what."""

    sheet: str
    header_row: int
    first_row: int
    last_row: int
    columns: dict[str, int]

    def cell(self, row: int, name: str) -> str:
        """A1 reference of column ``name`` in worksheet row ``row``."""
        from openpyxl.utils import get_column_letter

        return f"{get_column_letter(self.columns[name])}{row}"


@dataclass
class Binding:
    """Every field of a form resolved to its cells in one workbook."""

    fields: dict[str, Cells] = field(default_factory=dict)
    tables: dict[str, TableBinding] = field(default_factory=dict)

    def sheets(self) -> set[str]:
        """The sheets that hold any field."""
        return {c.sheet for c in self.fields.values()} | {t.sheet for t in self.tables.values()}


def workbook_names(wb: Workbook) -> dict[str, Cells]:
    """Workbook-scoped defined names that point at one block of cells, by name."""
    found: dict[str, Cells] = {}
    for name, defined in wb.defined_names.items():
        try:
            destinations = list(defined.destinations)
        except (ValueError, TypeError, AttributeError):
            continue
        if len(destinations) != 1:
            continue
        sheet, ref = destinations[0]
        if sheet not in wb.sheetnames:
            continue
        try:
            min_col, min_row, max_col, max_row = range_boundaries(ref.replace("$", ""))
        except (ValueError, TypeError):
            continue
        if None in (min_col, min_row, max_col, max_row):
            continue
        found[name] = Cells(sheet, min_row, min_col, max_row, max_col)  # type: ignore[arg-type]
    return found


def _norm(text: object) -> str:
    folded = unicodedata.normalize("NFKC", str(text or "")).casefold()
    return re.sub(r"[\s/()()]+", "", folded)


def _column_aliases(column: FieldSpec) -> set[str]:
    return {_norm(a) for a in (column.name, column.label_zh, column.label_en,
                               column.label_zh + column.label_en)}


def _find_table(wb: Workbook, name: str) -> tuple[Worksheet, str] | None:
    for ws in wb.worksheets:
        for table in ws.tables.values():
            if name in (table.displayName, table.name):
                return ws, table.ref
    return None


def bind_table(wb: Workbook, spec: FieldSpec) -> tuple[TableBinding | None, list[Issue]]:
    """Find the Excel table of a table field and map its header cells to column fields."""
    issues: list[Issue] = []
    found = _find_table(wb, spec.name)
    if found is None:
        return None, [Issue.make(Code.TABLE_NOT_FOUND, field=spec.name, label=spec.labels)]
    ws, ref = found
    min_col, min_row, max_col, max_row = range_boundaries(ref)
    aliases = {column.name: _column_aliases(column) for column in spec.columns}
    columns: dict[str, int] = {}
    for col in range(min_col, max_col + 1):  # type: ignore[arg-type]
        header = ws.cell(row=min_row, column=col).value
        key = _norm(header)
        match = next((n for n, names in aliases.items() if key in names and n not in columns),
                     None)
        if match is None:
            issues.append(Issue.make(Code.TABLE_COLUMN_UNKNOWN, field=spec.name, sheet=ws.title,
                                     cell=ws.cell(row=min_row, column=col).coordinate,
                                     value=header, label=spec.labels))
        else:
            columns[match] = col
    for column in spec.columns:
        if column.name not in columns:
            issues.append(Issue.make(Code.TABLE_COLUMN_MISSING, field=spec.name, sheet=ws.title,
                                     value=column.one_line_label("both"), label=spec.labels))
    binding = TableBinding(ws.title, min_row, min_row + 1, max_row, columns)  # type: ignore[arg-type,operator]
    return binding, issues


def expected_shape(spec: FieldSpec) -> int:
    """How many cells a field's name must cover (1 for a value, one per option for ticks)."""
    return len(spec.levels) if spec.kind == "ticks" else 1


def bind(wb: Workbook, form: FormDef) -> tuple[Binding, list[Issue]]:
    """Resolve every field of ``form`` in ``wb``; issues for unbound or misshapen fields."""
    names = workbook_names(wb)
    binding = Binding()
    issues: list[Issue] = []
    merged = {ws.title: [r for r in ws.merged_cells.ranges] for ws in wb.worksheets}
    for spec in form.fields:
        if spec.kind == "table":
            table, found = bind_table(wb, spec)
            issues.extend(found)
            if table is not None:
                binding.tables[spec.name] = table
            continue
        cells = names.get(spec.name)
        if cells is None:
            issues.append(Issue.make(Code.FIELD_NOT_BOUND, field=spec.name, label=spec.labels))
            continue
        want = expected_shape(spec)
        in_one_line = cells.min_row == cells.max_row or cells.min_col == cells.max_col
        if want > 1 and (cells.size != want or not in_one_line):
            issues.append(Issue.make(Code.FIELD_SHAPE, field=spec.name, sheet=cells.sheet,
                                     cell=cells.ref, label=spec.labels,
                                     detail=f"{want} cells in one row"))
            continue
        if want == 1 and cells.size > 1 and not _is_one_merged(cells, merged[cells.sheet]):
            issues.append(Issue.make(Code.FIELD_SHAPE, field=spec.name, sheet=cells.sheet,
                                     cell=cells.ref, label=spec.labels,
                                     detail="one cell or one merged block"))
            continue
        binding.fields[spec.name] = cells
    return binding, issues


def _is_one_merged(cells: Cells, merged: list) -> bool:  # type: ignore[type-arg]
    for rng in merged:
        if (rng.min_row, rng.min_col, rng.max_row, rng.max_col) == (
                cells.min_row, cells.min_col, cells.max_row, cells.max_col):
            return True
    return False
