"""A report workbook being written: its sheets, the labels each page prints, the summary page.

Both reports are written the same way: a sheet per table, each printed with the same page
header (company, report title, sheet name) and footer (document number, day written); the
places other sheets chart from kept by name; last the one-page summary, which becomes the
first sheet: the company, the title, a note on the period, the key figures, then the report's
own tables and charts.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from ..excel.style import CENTER, first_sheet
from .common import SCORE_FORMAT, Sheet, define, print_setup


@dataclass
class ReportBook:
    """The workbook of one report and what every one of its pages prints."""

    title: str
    """The report title in each page header."""
    company: str
    document_no: str
    wb: Workbook = field(default_factory=Workbook)
    places: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Header and last row of tables a chart on another sheet draws from, by name."""

    def sheet(self, name: str) -> Sheet:
        """A new sheet at the end, written from its first row."""
        return Sheet(self.wb.create_sheet(name))

    def define(self, name: str, ws: Worksheet, first_row: int, first_col: int, last_row: int,
               last_col: int) -> None:
        """A workbook-scoped defined name over a block of ``ws``."""
        define(self.wb, name, ws, first_row, first_col, last_row, last_col)

    def print_setup(self, ws: Worksheet, last_col: int, last_row: int, head: int | None = None,
                    one_page: bool = False) -> None:
        """A4 landscape with this report's header and footer; row ``head`` repeats on pages."""
        print_setup(ws, title=self.title, company=self.company, document_no=self.document_no,
                    last_col=last_col, last_row=last_row,
                    title_rows=(head, head) if head else None, one_page=one_page)

    def summary(self, name: str, *, heading: str, note: str, last_col: int) -> Sheet:
        """The summary on the first sheet: company, ``heading`` and ``note``, a row free."""
        ws = first_sheet(self.wb)
        ws.title = name
        s = Sheet(ws)
        s.caption(self.company, last_col, size=11)
        s.title(heading, last_col, size=16)
        s.note(note, last_col)
        s.row += 1
        return s

    def key_figures(self, s: Sheet, name: str, rows: Sequence[tuple[str, Any]], *,
                    value_cols: int) -> None:
        """The key-figure table (label, value merged over ``value_cols`` columns) as ``name``."""
        ws = s.ws
        head = s.header(["关键指标 Key figure", "数值 Value"], height=20)
        ws.merge_cells(start_row=head, start_column=2, end_row=head, end_column=1 + value_cols)
        for label, value in rows:
            r = s.line([label, value], fmts=[None, SCORE_FORMAT if isinstance(value, float)
                                             else None])
            ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=1 + value_cols)
            ws.cell(row=r, column=2).alignment = CENTER
        self.define(name, ws, head, 1, s.row - 1, 2)

    def save(self, path: str | os.PathLike[str], doc_title: str) -> Path:
        """Open on the summary and write the workbook at ``path`` (folders created)."""
        self.wb.active = 0
        self.wb.properties.title = doc_title
        self.wb.properties.creator = "qmsforms"
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        self.wb.save(target)
        return target
