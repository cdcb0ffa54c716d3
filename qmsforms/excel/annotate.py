"""The annotated copy of a rejected workbook: each bad cell filled red with the issue as a
comment, and a sheet listing every issue, for the person who has to correct the form.

The copy is printed: the form comes first and is the sheet that opens, keeping its own page
setup; the issues sheet follows it, A4 landscape, one page wide, its heading repeated on every
page and long messages wrapped."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.cell import get_column_letter, range_boundaries
from openpyxl.workbook.workbook import Workbook

from ..issues import Code, Issue, Report
from ..safe_text import set_text
from .text_width import LINE_HEIGHT, wrapped_lines
from .workbook import load_quietly

log = logging.getLogger(__name__)

BAD_FILL = PatternFill("solid", fgColor="FFC7CE")

_TOO_LARGE = frozenset({Code.ZIP_BOMB.name, Code.ABSURD_DIMENSIONS.name,
                        Code.CELL_OUT_OF_RANGE.name, Code.SHEET_TOO_LARGE.name})
"""Refusals of a file too large to read: no annotated copy (openpyxl would read it all)."""


def annotate_workbook(path: str | os.PathLike[str], report: Report,
             out: str | os.PathLike[str]) -> Path | None:
    """Write a copy of an invalid workbook with each bad cell highlighted and commented.

    Returns None when the file cannot be opened at all (then only the report can be given),
    and for a file refused for its size: it is not opened again to be annotated.
    """
    if any(i.code in _TOO_LARGE for i in report.issues):
        return None
    try:
        wb = load_quietly(path)
    except Exception as exc:  # openpyxl raises many kinds on files the safety gate let through
        log.info("%s: no annotated copy, openpyxl cannot open it (%s)", path, exc)
        return None
    notes: dict[tuple[str, str], list[Issue]] = {}
    for issue in report.issues:
        if issue.sheet in wb.sheetnames and issue.cell:
            notes.setdefault((issue.sheet, issue.cell), []).append(issue)
    for (sheet, ref), issues in notes.items():
        ws = wb[sheet]
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        if min_col is None or min_row is None or max_col is None or max_row is None:
            continue  # a whole row or column: no cell to mark (issues name cells)
        for row in range(min_row, max_row + 1):
            for col in range(min_col, max_col + 1):
                cell = ws.cell(row=row, column=col)
                if cell.__class__.__name__ != "MergedCell":
                    cell.fill = BAD_FILL
        text = "\n\n".join(f"[{i.code}] {i.message_zh}\n{i.message_en}" for i in issues)
        anchor = ws.cell(row=min_row, column=min_col)
        comment = Comment(text, "qmsforms")
        comment.width, comment.height = 320, 60 + 40 * len(issues)
        anchor.comment = comment
    _issue_sheet(wb, report)
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)
    return target


ISSUE_SHEET = "问题 Issues"
_COLUMNS = (("代码 Code", 22), ("字段 Field", 16), ("工作表 Sheet", 12), ("单元格 Cell", 9),
            ("填写值 Value", 16), ("说明", 44), ("Message", 52))
_WRAP = Alignment(wrap_text=True, vertical="top")
_HEAD = Font(bold=True)


def _issue_sheet(wb: Workbook, report: Report) -> None:
    """The issues sheet, right after the form (the first visible sheet), which stays active."""
    visible = [n for n, sheet in enumerate(wb.worksheets) if sheet.sheet_state == "visible"]
    form_index = visible[0] if visible else 0
    ws = wb.create_sheet(ISSUE_SHEET, form_index + 1)
    ws.append([title for title, _ in _COLUMNS])
    for cell in ws[1]:
        cell.font, cell.alignment = _HEAD, _WRAP
    for row, issue in enumerate(report.issues, start=2):
        values = (issue.code, issue.field, issue.sheet, issue.cell, issue.value,
                  issue.message_zh, issue.message_en)
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=row, column=col)
            set_text(cell, value)
            cell.alignment = _WRAP
        ws.row_dimensions[row].height = LINE_HEIGHT * max(
            wrapped_lines(value, width) for value, (_, width) in zip(values, _COLUMNS, strict=True))
    for col, (_, width) in enumerate(_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = True
    ws.oddHeader.left.text = "退回问题清单 Issues found"
    ws.oddFooter.right.text = "第 &P 页 共 &N 页 / Page &P of &N"
    wb.active = form_index
    for sheet in wb.worksheets:
        sheet.sheet_view.tabSelected = sheet is wb.worksheets[form_index]
