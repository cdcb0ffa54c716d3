"""Does a workbook template still print as a controlled form? (part of ``templates check``)

Every bound field and lines table, every value of the control block and every picture (a
logo) must lie inside its sheet's print area, and each sheet holding them is set up for A4,
fitted to one page wide. A restyle that moved a block below the print area, or a page set to
Letter, is reported before a blank is issued from it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from ..issues import Code, Issue
from ..registry import FormDef
from ..safety import EXCEL_COLS, EXCEL_ROWS
from .binding import table_area_name, workbook_names
from .cells import Cells
from .control import locate_control

A4 = 9
"""``pageSetup/@paperSize`` of A4."""

Box = tuple[int, int, int, int]
"""min_col, min_row, max_col, max_row."""


def _print_boxes(area: str | None) -> list[Box] | None:
    """The rectangles of a print area as the workbook writes it; whole columns (``$A:$H``,
    as LibreOffice saves one) and whole rows reach to the sheet's last row or column."""
    if not area:
        return None
    boxes = []
    for part in area.split(","):
        ref = part.rpartition("!")[2].replace("$", "").strip()
        try:
            min_col, min_row, max_col, max_row = range_boundaries(ref)
        except ValueError:
            continue
        boxes.append((min_col or 1, min_row or 1, max_col or EXCEL_COLS, max_row or EXCEL_ROWS))
    return boxes


def _inside(box: Box, boxes: list[Box]) -> bool:
    return any(b[0] <= box[0] and b[1] <= box[1] and box[2] <= b[2] and box[3] <= b[3]
               for b in boxes)


def _blocks(wb: Workbook, form: FormDef) -> Iterator[tuple[str, Box, tuple[str, str], str]]:
    """(sheet, box, what it is (zh, en), field) of everything that must print."""
    names = workbook_names(wb)
    for spec in form.fields:
        cells: Cells | None = names.get(table_area_name(spec) if spec.kind == "table"
                                        else spec.name)
        if spec.kind == "table" and cells is not None:  # the header and the first line
            cells = Cells(cells.sheet, cells.min_row, cells.min_col,
                          min(cells.max_row, cells.min_row + 1), cells.max_col)
        if cells is not None:
            yield (cells.sheet, (cells.min_col, cells.min_row, cells.max_col, cells.max_row),
                   (f"字段 {spec.label_zh}", f"Field {spec.label_en}"), spec.name)
    for key, (ws, cell) in locate_control(wb).items():
        yield (ws.title, (cell.column, cell.row, cell.column, cell.row),
               (f"受控信息 {key}", f"Control block value {key}"), "")
    for ws in wb.worksheets:
        for image in getattr(ws, "_images", []):
            start = getattr(image.anchor, "_from", None)
            if start is not None:
                col, row = start.col + 1, start.row + 1
                yield ws.title, (col, row, col, row), ("图片", "Picture"), ""


def page_issues(wb: Workbook, form: FormDef, print_areas: Mapping[str, str]) -> list[Issue]:
    """Print-area and page-setup issues of a template of ``form`` (opened with openpyxl),
    with each sheet's print area as the package writes it (openpyxl drops one it cannot
    take, such as LibreOffice's whole columns)."""
    issues: list[Issue] = []
    sheets: set[str] = set()
    for sheet, box, (what_zh, what_en), name in _blocks(wb, form):
        if sheet not in wb.sheetnames:
            continue
        ws = wb[sheet]
        if not isinstance(ws, Worksheet):
            continue
        sheets.add(sheet)
        boxes = _print_boxes(print_areas.get(sheet))
        if boxes is None or _inside(box, boxes):
            continue
        cell = Cells(sheet, box[1], box[0], box[3], box[2]).ref
        issues.append(Issue.make(Code.OUTSIDE_PRINT_AREA, field=name or None, sheet=sheet,
                                 cell=cell, value=print_areas.get(sheet), detail=what_en,
                                 detail_zh=what_zh))
    for sheet in sorted(sheets):
        ws = wb[sheet]
        if not isinstance(ws, Worksheet):
            continue
        problems = []
        if _print_boxes(print_areas.get(sheet)) is None:
            problems.append(("没有打印区域", "no print area"))
        if str(ws.page_setup.paperSize or "") != str(A4):
            problems.append(("纸张不是 A4", "the paper is not A4"))
        fit = ws.sheet_properties.pageSetUpPr
        if not (fit is not None and fit.fitToPage and ws.page_setup.fitToWidth in (1, "1")):
            problems.append(("未设置缩放为一页宽", "not fitted to one page wide"))
        if problems:
            issues.append(Issue.make(Code.PAGE_SETUP, sheet=sheet,
                                     detail="; ".join(en for _zh, en in problems),
                                     detail_zh=";".join(zh for zh, _en in problems)))
    return issues
