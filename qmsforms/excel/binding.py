"""Where each field lives in a workbook: defined names and Excel tables, never coordinates.

`bind` resolves every field of a form to its cells and reports what is missing or has the
wrong shape. Both intake and ``qmsforms templates check`` use it, so a restyled template that
passes the check is read exactly like the shipped one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..fields import FieldSpec
from ..issues import Code, Issue
from ..registry import FormDef
from .cells import Cells, column_letters
from .source import Source, names_of, source

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook


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
        return f"{column_letters(self.columns[name])}{row}"

    def row_ref(self, row: int) -> str:
        """The A1 range of one worksheet row of the table (its bound columns)."""
        cols = sorted(self.columns.values())
        if not cols:
            return f"A{row}"
        return f"{column_letters(cols[0])}{row}:{column_letters(cols[-1])}{row}"


@dataclass
class Binding:
    """Every field of a form resolved to its cells in one workbook."""

    fields: dict[str, Cells] = field(default_factory=dict)
    tables: dict[str, TableBinding] = field(default_factory=dict)

    def sheets(self) -> set[str]:
        """The sheets that hold any field."""
        return {c.sheet for c in self.fields.values()} | {t.sheet for t in self.tables.values()}


def workbook_names(wb: Workbook | Source) -> dict[str, Cells]:
    """Workbook-scoped defined names that point at one block of cells, by name."""
    return names_of(source(wb))


def _norm(text: object) -> str:
    folded = unicodedata.normalize("NFKC", str(text or "")).casefold()
    return re.sub(r"[\s/()()]+", "", folded)


def _column_aliases(column: FieldSpec) -> set[str]:
    return {_norm(a) for a in (column.name, column.label_zh, column.label_en,
                               column.label_zh + column.label_en)}


def table_area_name(spec: FieldSpec) -> str:
    """The defined name over a lines table (header and rows), kept beside the table itself.

    Some clients (Gnumeric's ``ssconvert``) drop the table part on a re-save but keep the
    defined names; the lines are then found through this name.
    """
    return f"{spec.name}_table"


def product_formula(row: int, factors: tuple[str, str]) -> str:
    """A computed cell: the product of two cells of its row, blank until both are numbers."""
    a, b = (f"{letter}{row}" for letter in factors)
    return f'=IF(COUNT({a},{b})=2,{a}*{b},"")'


def bind_table(wb: Workbook | Source, spec: FieldSpec, *, table_part: bool = False
               ) -> tuple[TableBinding | None, list[Issue]]:
    """Find the Excel table of a table field and map its header cells to column fields.

    The table named after the field is taken first; a returned workbook whose table part a
    client dropped is bound through the defined name `table_area_name` over the same cells.
    With ``table_part`` (checking a template) only the table itself will do.
    """
    src = source(wb)
    found = src.table_refs().get(spec.name)
    table: Cells | None = None
    if found is not None:
        sheet, ref = found
        table = Cells.parse(sheet, ref)
    elif not table_part:
        table = names_of(src).get(table_area_name(spec))
        sheet = table.sheet if table is not None else ""
    if table is None:
        return None, [Issue.make(Code.TABLE_NOT_FOUND, field=spec.name, label=spec.labels)]
    issues: list[Issue] = []
    aliases = {column.name: _column_aliases(column) for column in spec.columns}
    columns: dict[str, int] = {}
    for col in range(table.min_col, table.max_col + 1):
        header = src.value(sheet, table.min_row, col)
        key = _norm(header)
        match = next((n for n, names in aliases.items() if key in names and n not in columns),
                     None)
        if match is None:
            issues.append(Issue.make(Code.TABLE_COLUMN_UNKNOWN, field=spec.name, sheet=sheet,
                                     cell=Cells(sheet, table.min_row, col, table.min_row,
                                                col).ref,
                                     value=header, label=spec.labels))
        else:
            columns[match] = col
    for column in spec.columns:
        if column.name not in columns:
            issues.append(Issue.make(Code.TABLE_COLUMN_MISSING, field=spec.name, sheet=sheet,
                                     value=column.one_line_label("both"), label=spec.labels))
    binding = TableBinding(sheet, table.min_row, table.min_row + 1, table.max_row, columns)
    return binding, issues


def expected_shape(spec: FieldSpec) -> int:
    """How many cells a field's name must cover (1 for a value, one per option for ticks)."""
    return len(spec.levels) if spec.kind == "ticks" else 1


def bind(wb: Workbook | Source, form: FormDef, *, table_part: bool = False
         ) -> tuple[Binding, list[Issue]]:
    """Resolve every field of ``form`` in ``wb``; issues for unbound or misshapen fields.

    ``table_part`` requires each lines table to be an Excel table (see `bind_table`).
    """
    src = source(wb)
    names = names_of(src)
    duplicates = src.duplicate_names()
    binding = Binding()
    issues: list[Issue] = []
    for spec in form.fields:
        if spec.name.casefold() in duplicates:
            issues.append(Issue.make(Code.NAME_DUPLICATED, field=spec.name, value=spec.name,
                                     label=spec.labels))
            continue
        if spec.kind == "table":
            table, found = bind_table(src, spec, table_part=table_part)
            issues.extend(found)
            if table is not None:
                binding.tables[spec.name] = table
            continue
        cells = names.get(spec.name)
        if cells is None:
            text = src.defined_names().get(spec.name)
            if text is None:
                issues.append(Issue.make(Code.FIELD_NOT_BOUND, field=spec.name,
                                         label=spec.labels))
            else:
                issues.append(Issue.make(Code.FIELD_NAME_INVALID, field=spec.name, value=text,
                                         label=spec.labels))
            continue
        want = expected_shape(spec)
        in_one_line = cells.min_row == cells.max_row or cells.min_col == cells.max_col
        if want > 1 and (cells.size != want or not in_one_line):
            issues.append(Issue.make(Code.FIELD_SHAPE, field=spec.name, sheet=cells.sheet,
                                     cell=cells.ref, label=spec.labels,
                                     detail=f"{want} cells in one row"))
            continue
        if want == 1 and cells.size > 1 and cells not in src.merged(cells.sheet):
            issues.append(Issue.make(Code.FIELD_SHAPE, field=spec.name, sheet=cells.sheet,
                                     cell=cells.ref, label=spec.labels,
                                     detail="one cell or one merged block"))
            continue
        binding.fields[spec.name] = cells
    return binding, issues

