"""Read the filled values of a form out of a workbook and normalise what staff typed.

Values are read through the `Binding` (defined names and tables), normalised by field kind
(`qmsforms.extraction.NORMALISERS`), and returned with the cell each came from so that every
later problem can point at a cell. A value that cannot be normalised becomes an issue and is
left out of the data handed to pydantic, so it is reported once, not twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from math import isfinite
from operator import itemgetter
from typing import Any

from .. import normalize as nz
from ..extraction import NORMALISERS, Extraction, Loc, Normaliser
from ..fields import FieldSpec
from ..issues import Code, Issue
from ..registry import FormDef
from .binding import Binding, TableBinding, product_formula
from .book import Book
from .cells import Cell, Cells, column_letters, plain

_TEXT_KINDS = frozenset({"text", "longtext"})
_WHOLE_KINDS = frozenset({"int", "score"})

LO_BOOLEANS = {"=TRUE()": True, "=FALSE()": False}
"""LibreOffice stores a typed TRUE/FALSE as these formulas; they are values, not formulas."""

def refusal(spec: FieldSpec, cell: Cell, sheet: str) -> Issue | None:
    """The issue that stops ``cell`` from being read for ``spec`` at all, if any.

    A stored value the reader cannot take at its word is refused, and so is a formula whatever
    its cached result (the result is not what was typed), except the ``=TRUE()`` /
    ``=FALSE()`` LibreOffice stores for a typed TRUE or FALSE in a yes/no or tick cell.
    """
    if cell.problem is not None:
        return Issue.make(Code.CELL_UNREADABLE, field=spec.name, sheet=sheet,
                          cell=cell.coordinate, value=cell.value, label=spec.labels,
                          detail=cell.problem[0], detail_zh=cell.problem[1])
    if cell.formula is None:
        return None
    if spec.kind in ("bool", "ticks") and cell.formula in LO_BOOLEANS:
        return None
    return Issue.make(Code.FORMULA_IN_INPUT, field=spec.name, sheet=sheet,
                      cell=cell.coordinate, value=cell.formula, label=spec.labels)


def _typed(cell: Cell) -> Any:
    """The value a cell holds as typed: a LibreOffice boolean formula is its boolean."""
    return LO_BOOLEANS.get(cell.formula or "", cell.value)


def read_value(spec: FieldSpec, cell: Cell, sheet: str, out: Extraction, loc: Loc) -> Any:
    """Normalise one cell for ``spec``; on failure record the issue and return None."""
    out.where[loc] = (sheet, cell.coordinate)
    refused = refusal(spec, cell, sheet)
    if refused is not None:
        out.issues.append(refused)
        out.failed.add(loc)
        return None
    if cell.formula is not None:
        return _typed(cell)
    try:
        return NORMALISERS[spec.kind](spec, cell.value, cell.number_format)
    except nz.NormalizeError as exc:
        out.issues.append(_normalize_issue(exc, spec, sheet, cell.coordinate, cell.value))
        out.failed.add(loc)
        return None


def _normalize_issue(exc: nz.NormalizeError, spec: FieldSpec, sheet: str, coordinate: str,
                     value: Any) -> Issue:
    return Issue.make(Code[exc.code], field=spec.name, sheet=sheet, cell=coordinate,
                      value=value, label=spec.labels, detail=exc.detail)


def _read_ticks(spec: FieldSpec, book: Book, cells: Cells, out: Extraction) -> Any:
    loc: Loc = (spec.name,)
    out.where[loc] = (cells.sheet, cells.ref)
    ticked: list[int] = []
    bad = False
    for index, (row, col) in enumerate(cells.coordinates()):
        cell = book.cell(cells.sheet, row, col)
        refused = refusal(spec, cell, cells.sheet)
        if refused is not None:
            bad = True
            out.issues.append(refused)
            continue
        try:
            if nz.is_tick(_typed(cell)):
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


Column = tuple[FieldSpec, int, str, Normaliser]
"""A bound table column: its spec, its 0-based index in the grid, its kind, its normaliser."""


@dataclass
class _ColumnRead:
    """One column of a table read for every grid row below the header (see `_read_column`)."""

    values: list[Any]
    """The normalised value of each row, None when blank or not readable."""
    filled: set[int] = field(default_factory=set)
    """Rows (0-based below the header) holding something though their value is None."""
    failed: dict[int, tuple[nz.NormalizeError, Any]] = field(default_factory=dict)
    """Rows whose value did not normalise: the error and the value as read."""


def _read_column(column: Column, body: list[list[Any]], first: int, book: Book,
                 sheet: str) -> _ColumnRead:
    """Normalise one table column over every row, with fast paths for the common types.

    Text that needs only stripping, floats in number columns: the values calamine gives are
    turned into what the normaliser would return for them without calling it; anything else
    goes through the normaliser, as a single value does.
    """
    spec, index, kind, normalise = column
    try:
        raw = list(map(itemgetter(index), body))
    except IndexError:  # a short row: the cells past its end are empty
        raw = [values[index] if index < len(values) else "" for values in body]
    read = _ColumnRead([])

    def slow(offset: int, value: Any) -> Any:
        value = plain(value)
        if nz.is_blank(value):
            return None
        read.filled.add(offset)
        fmt = book.number_format(sheet, first + offset, index + 1) if kind == "percent" else ""
        try:
            return normalise(spec, value, fmt)
        except nz.NormalizeError as exc:
            read.failed[offset] = (exc, value)
            return None

    if kind in _TEXT_KINDS:
        read.values = [v.strip(nz.SPACE) or None if v.__class__ is str else slow(i, v)
                       for i, v in enumerate(raw)]
    elif kind in _WHOLE_KINDS:  # to_int of a whole float is the int
        read.values = [None if v == "" else int(v) if v.__class__ is float and v.is_integer()
                       else slow(i, v) for i, v in enumerate(raw)]
    elif kind == "decimal":  # to_decimal(plain(v)) of a finite float, once per distinct float
        decimals = {v: Decimal(int(v)) if v.is_integer() else Decimal(repr(v))
                    for v in set(raw) if v.__class__ is float and isfinite(v)}
        read.values = [None if v == "" else decimals[v]
                       if v.__class__ is float and v in decimals else slow(i, v)
                       for i, v in enumerate(raw)]
    else:
        read.values = [None if v == "" else slow(i, v) for i, v in enumerate(raw)]
    return read


def _read_table(spec: FieldSpec, book: Book, binding: Binding, out: Extraction) -> list[Any]:
    """Every non-blank line of a table field, read straight from the sheet's value grid.

    This is what a 50,000-line shipping list runs through, so the table is normalised column
    by column (`_read_column`) and each line's dictionary built in one pass; a row holding a
    formula, error or unreadable cell is read cell by cell (`_read_row`). Issues come out in
    row order and, within a row, in column order, as a cell-by-cell read gives them.
    """
    table = binding.tables[spec.name]
    sheet = table.sheet
    grid = book.rows(sheet)
    special = book.special(sheet)
    odd = special.formulas.keys() | special.errors.keys() | special.problems.keys()
    if any(c.kind == "percent" for c in spec.columns):
        book.index_styles(sheet)
    columns: list[Column] = [(c, table.columns[c.name] - 1, c.kind, NORMALISERS[c.kind])
                             for c in spec.columns if c.name in table.columns]
    first = table.first_row
    # Lines typed under the table (its columns stay unlocked there) are lines too: read on to
    # the last row of the sheet, never stopping at the table's end.
    body = grid[first - 1:]
    bound = {index + 1 for _, index, _, _ in columns}
    by_cell = {row for row, col in odd if row >= first and col in bound}
    reads = [_read_column(column, body, first, book, sheet) for column in columns]
    filled = set().union(*(r.filled for r in reads))
    failed: dict[int, list[int]] = {}
    for position, r in enumerate(reads):
        for offset in r.failed:
            failed.setdefault(offset, []).append(position)
    # a column empty all the way down (remarks, often) is left out of every line at once
    kept = [(c.name, r.values) for (c, _, _, _), r in zip(columns, reads, strict=True)
            if any(v is not None for v in r.values)]
    names = [name for name, _ in kept]
    lines = [dict(zip(names, values, strict=True))
             for values in zip(*(v for _, v in kept), strict=True)]
    if not kept:
        lines = [{} for _ in body]
    # rows with a blank: its key goes (found by identity: comparing a Decimal with None
    # costs an abstract-class check)
    gaps = set().union(*([i for i, v in enumerate(values) if v is None] for _, values in kept))
    for offset in gaps:
        lines[offset] = {name: v for name, v in lines[offset].items() if v is not None}
    by_cell_offsets = {row - first for row in by_cell}
    if not (by_cell_offsets or filled or failed):  # the common case: lines as they are
        rows = [line for line in lines if line]
        source_rows = [first + offset for offset, line in enumerate(lines) if line]
    else:
        rows, source_rows = [], []
        for offset, line in enumerate(lines):
            row = first + offset
            if offset in by_cell_offsets:
                line, is_line = _read_row(spec, columns, body[offset], row, len(rows), book,
                                          table, odd, out)
            else:
                is_line = bool(line) or offset in filled
                for position in failed.get(offset, ()):
                    column, index, _, _ = columns[position]
                    exc, value = reads[position].failed[offset]
                    ref = f"{column_letters(index + 1)}{row}"
                    out.issues.append(_normalize_issue(exc, column, sheet, ref, value))
                    out.failed.add((spec.name, len(rows), column.name))
            if is_line:
                source_rows.append(row)
                rows.append(line)
    out.where.add_table(spec.name, table, source_rows)
    out.where[(spec.name,)] = (sheet, table.row_ref(table.header_row))
    return rows


def _read_row(spec: FieldSpec, columns: list[Column], values: list[Any], row: int, line_no: int,
              book: Book, table: TableBinding, odd: set[tuple[int, int]],
              out: Extraction) -> tuple[dict[str, Any], bool]:
    """One table row read cell by cell (it holds a formula, error or unreadable cell).

    Returns the line and whether the row is a line at all (anything in it but blanks and the
    blank's own computed formulas).
    """
    sheet = table.sheet
    line: dict[str, Any] = {}
    filled = False
    for column, index, kind, normalise in columns:
        value = values[index] if index < len(values) else ""
        special_cell = (row, index + 1) in odd
        if value == "" and not special_cell:
            continue
        if special_cell:
            loc: Loc = (spec.name, line_no, column.name)
            cell = book.cell(sheet, row, index + 1, number_format=kind == "percent")
            if column.product and cell.formula is not None:
                value = _read_product(column, cell, table, row, sheet, out, loc)
                if value is None:
                    continue  # the blank's own formula: computed from the line
                filled = True
            else:
                filled = True
                value = read_value(column, cell, sheet, out, loc)
        elif value.__class__ is str and kind in _TEXT_KINDS:
            value = value.strip(nz.SPACE) or None
            filled = filled or value is not None
        else:
            value = plain(value)
            if nz.is_blank(value):
                continue
            filled = True
            fmt = book.number_format(sheet, row, index + 1) if kind == "percent" else ""
            try:
                value = normalise(column, value, fmt)
            except nz.NormalizeError as exc:
                ref = f"{column_letters(index + 1)}{row}"
                out.issues.append(_normalize_issue(exc, column, sheet, ref, value))
                out.failed.add((spec.name, line_no, column.name))
                value = None
        if value is not None:
            line[column.name] = value
    return line, filled


def _products(column: FieldSpec, table: TableBinding, row: int) -> set[str]:
    """The spellings of "this line's quantity × unit price" that need no evaluating."""
    assert column.product is not None
    if not all(name in table.columns for name in column.product):
        return set()
    a, b = (f"{column_letters(table.columns[name])}{row}" for name in column.product)
    return {f"{a}*{b}", f"{b}*{a}", f'IFERROR({a}*{b},"")', f'IFERROR({b}*{a},"")',
            product_formula(row, (a[:-len(str(row))], b[:-len(str(row))])).lstrip("=")}


def _read_product(column: FieldSpec, cell: Cell, table: TableBinding, row: int, sheet: str,
                  out: Extraction, loc: Loc) -> Any:
    """A formula in a computed column (the amount): what it shows, or None to recompute.

    The value it shows (its cached result) is taken as what the clerk saw, and the form model
    checks it against quantity × unit price. A formula that shows nothing (a script wrote it,
    or a factor is still empty) is recomputed by the model, but only when it is exactly the
    product of this line's two cells; any other formula is refused, since nothing here
    evaluates formulas.
    """
    shown = cell.value
    if not nz.is_blank(shown) and not (isinstance(shown, str) and shown.startswith("#")):
        try:
            return nz.to_decimal(shown)
        except nz.NormalizeError as exc:
            out.issues.append(_normalize_issue(exc, column, sheet, cell.coordinate, shown))
            out.failed.add(loc)
            return None
    assert column.product is not None and cell.formula is not None
    if re.sub(r"[\s$]+", "", cell.formula).upper().lstrip("=") in _products(column, table, row):
        return None
    out.issues.append(Issue.make(Code.FORMULA_IN_INPUT, field=column.name, sheet=sheet,
                                 cell=cell.coordinate, value=cell.formula, label=column.labels))
    out.failed.add(loc)
    return None


def extract(book: Book, form: FormDef, binding: Binding) -> Extraction:
    """Read and normalise every bound field of ``form``; unbound fields are skipped."""
    out = Extraction()
    for spec in form.fields:
        if spec.kind == "table":
            if spec.name in binding.tables:
                out.values[spec.name] = _read_table(spec, book, binding, out)
            continue
        cells = binding.fields.get(spec.name)
        if cells is None:
            continue
        if spec.kind == "ticks":
            value = _read_ticks(spec, book, cells, out)
        else:
            cell = book.cell(cells.sheet, cells.min_row, cells.min_col,
                             number_format=spec.kind == "percent")
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
