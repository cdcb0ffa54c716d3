"""The annotated copy of a rejected workbook: each bad cell filled red with the issue as a
comment, and a first sheet listing every issue, for the person who has to correct the form."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.workbook import Workbook

from ..issues import Code, Issue, Report
from ..safe_text import set_text
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


def _issue_sheet(wb: Workbook, report: Report) -> None:
    """A first sheet listing every issue, for the person reviewing the rejection."""
    ws = wb.create_sheet("问题 Issues", 0)
    ws.append(["代码 Code", "字段 Field", "工作表 Sheet", "单元格 Cell", "填写值 Value",
               "说明", "Message"])
    for row, issue in enumerate(report.issues, start=2):
        values = (issue.code, issue.field, issue.sheet, issue.cell, issue.value,
                  issue.message_zh, issue.message_en)
        for col, value in enumerate(values, start=1):
            set_text(ws.cell(row=row, column=col), value)
    for letter, width in zip("ABCDEFG", (20, 18, 14, 12, 20, 50, 60), strict=True):
        ws.column_dimensions[letter].width = width
    wb.active = 0
