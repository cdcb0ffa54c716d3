"""Repeating tables of a Word form, read row by row whatever happened to their controls.

A cell of a row is bound to its column by every way the blank left to find it: the control's
tag (``d3_actions.owner``: Word and WPS keep it, also on rows a user added), the bookmark around
it (``d3_actions_1_owner``, issued rows only: what LibreOffice keeps), its alias (LibreOffice
keeps it on plain-text controls) and its place in the row: the grid column where that column's
cells are in the other rows, or, when no row says, the one cell left between its neighbours.

Nothing is dropped silently. Controls bound to one cell that show different values are a clash
(refused as ``FIELD_AMBIGUOUS``); a control holding a value that no column takes is refused
(``UNKNOWN_INPUT``); a column found nowhere is not bound. A table belongs to the table field
most of its controls name, so a control carrying another table's tag is read by its place.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..fields import FieldSpec
from .body import (
    Body,
    Candidates,
    Found,
    Sources,
    add_candidate,
    agree,
    control_value,
    is_blank,
    nearest,
)
from .ooxml import prop, w


@dataclass
class Row:
    """One row of a repeating table as read: a value per column, and what could not be read."""

    tr: Any
    values: dict[str, Found] = field(default_factory=dict)
    clashes: dict[str, list[Found]] = field(default_factory=dict)
    """Column -> the controls bound to it that show different values."""
    strays: list[Found] = field(default_factory=list)
    """Controls in the row holding a value that no column takes."""

    @property
    def unused(self) -> bool:
        """Nothing was entered in the row (rows left blank are not lines)."""
        return not self.clashes and not self.strays and all(
            is_blank(f) for f in self.values.values())


@dataclass
class Table:
    """The rows of one table field, in document order, and the columns found nowhere."""

    rows: list[Row]
    position: str
    """Where the (first) table is: ``"table 5"``."""
    missing: list[str]


@dataclass(frozen=True)
class Mark:
    """A control (or, for a bookmark holding none, its start) that names a table column."""

    table: str
    column: str
    via: str
    node: Any
    tc: Any
    tr: Any


def marks(doc: Body, specs: list[FieldSpec]) -> list[Mark]:
    """Every control in a table row whose tag, alias or bookmark names a column of ``specs``."""
    columns = {f"{s.name}.{c.name}": (s.name, c.name) for s in specs for c in s.columns}
    out: list[Mark] = []

    def add(table: str, column: str, via: str, node: Any) -> None:
        tc = doc.cell_of(node)
        tr = nearest(tc, "w:tr") if tc is not None else None
        if tr is not None:
            out.append(Mark(table, column, via, node, tc, tr))

    for sdt in doc.sdts:
        tag = prop(sdt, "w:tag")
        name = tag or prop(sdt, "w:alias")
        if name in columns:
            add(*columns[name], "tag" if tag else "alias", sdt)
    # bookmarks are table_bookmark(table, row, column): <table>_<row>_<column>
    patterns = [(s, re.compile(rf"{re.escape(s.name)}_\d+_(\w+)")) for s in specs]
    for name in doc.starts:
        for spec, pattern in patterns:
            match = pattern.fullmatch(name)
            if match and match[1] in {c.name for c in spec.columns}:
                first, start = doc.in_bookmark(name)
                add(spec.name, match[1], "bookmark", first if first is not None else start)
    return out


def owners(marks: list[Mark], specs: list[FieldSpec]) -> dict[Any, str]:
    """``w:tbl`` -> the table field most of its marked controls belong to.

    A table owned by a field names at least two of its columns (its only one, for a table of
    one column): a single control tagged with a column, in a table of single fields, does not
    make that table a repeating one.
    """
    needed = {s.name: min(2, len(s.columns)) for s in specs}
    votes: dict[Any, Counter[str]] = {}
    named: dict[tuple[Any, str], set[str]] = {}
    for mark in marks:
        tbl = nearest(mark.tr, "w:tbl")
        votes.setdefault(tbl, Counter())[mark.table] += 1
        named.setdefault((tbl, mark.table), set()).add(mark.column)
    out = {}
    for tbl, counter in votes.items():
        table = counter.most_common(1)[0][0]
        if len(named[(tbl, table)]) >= needed[table]:
            out[tbl] = table
    return out


def read_table(doc: Body, spec: FieldSpec, found: list[Mark],
               owner: dict[Any, str]) -> Table | None:
    """The rows of ``spec`` from the tables it owns; None when no table holds it."""
    mine = [m for m in found
            if m.table == spec.name and owner.get(nearest(m.tr, "w:tbl")) == spec.name]
    if not mine:
        return None
    names = [c.name for c in spec.columns]
    tables = sorted({nearest(m.tr, "w:tbl") for m in mine}, key=lambda t: doc.order[t])
    overall: dict[str, Counter[int]] = {}
    per_table: dict[Any, dict[str, Counter[int]]] = {}
    for m in mine:
        grid = doc.grid_start(m.tc)
        overall.setdefault(m.column, Counter())[grid] += 1
        table = per_table.setdefault(nearest(m.tr, "w:tbl"), {})
        table.setdefault(m.column, Counter())[grid] += 1
    by_row: dict[Any, list[Mark]] = {}
    for m in mine:
        by_row.setdefault(m.tr, []).append(m)
    rows: list[Row] = []
    located: set[str] = set()
    for tbl in tables:
        first = min(doc.row_number(m.tr) for m in mine if nearest(m.tr, "w:tbl") is tbl)
        data = doc.rows_of(tbl)[first - 1:]
        votes = {**overall, **per_table.get(tbl, {})}
        where = {name: votes[name].most_common(1)[0][0] for name in names if name in votes}
        _infer(where, names, sorted({doc.grid_start(tc) for tr in data for tc in doc.cells_of(tr)
                                     if doc.cell_controls(tc)}))
        located.update(where)
        rows.extend(_row(doc, names, tr, where, by_row.get(tr, [])) for tr in data)
    return Table(rows, f"table {doc.tables.get(tables[0], 0)}",
                 [name for name in names if name not in located])


def _infer(where: dict[str, int], names: list[str], positions: list[int]) -> None:
    """Place columns no control names: the cells left between their neighbours, one each."""
    taken = set(where.values())
    i = 0
    while i < len(names):
        if names[i] in where:
            i += 1
            continue
        j = i
        while j < len(names) and names[j] not in where:
            j += 1
        lo = where[names[i - 1]] if i else -1
        hi = where[names[j]] if j < len(names) else math.inf
        free = [p for p in positions if lo < p < hi and p not in taken]
        if len(free) == j - i:
            where.update(zip(names[i:j], free, strict=True))
        i = j


def _row(doc: Body, names: list[str], tr: Any, where: dict[str, int],
         row_marks: list[Mark]) -> Row:
    held = {doc.grid_start(tc): doc.cell_values(tc, "position") for tc in doc.cells_of(tr)}
    row = Row(tr)
    used = Sources()
    for name in names:
        candidates = Candidates()
        for via in ("tag", "bookmark", "alias"):
            for mark in row_marks:
                if mark.column != name or mark.via != via:
                    continue
                if mark.node.tag == w("w:sdt"):
                    add_candidate(candidates, control_value(doc, doc.pieces(mark.node), via))
                else:  # a bookmark whose control is gone: what its cell holds
                    for value in doc.cell_values(mark.tc, via):
                        add_candidate(candidates, value)
        for value in held.get(where.get(name, -1), []):
            add_candidate(candidates, value)
        chosen, clash = agree(candidates)
        for found in candidates:
            used.add(found)
        if clash:
            row.clashes[name] = clash
        elif chosen is not None:
            row.values[name] = chosen
    row.strays = [f for values in held.values() for f in values
                  if f.key[0].tag == w("w:sdt") and not is_blank(f)
                  and not used.overlaps(f)]
    return row
