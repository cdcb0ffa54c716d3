"""Does a workbook template still print as a controlled form? (part of ``templates check``)

Every bound field and lines table, every value of the control block and every picture (a
logo) must lie inside its sheet's print area, and each sheet holding them is set up for A4,
fitted to one page wide. A restyle that moved a block below the print area, or a page set to
Letter, is reported before a blank is issued from it.
"""

from __future__ import annotations

from collections.abc import Iterator

from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from ..issues import Code, Issue
from ..registry import FormDef
from .binding import table_area_name, workbook_names
from .cells import Cells
from .control import locate_control

A4 = 9
"""``pageSetup/@paperSize`` of A4."""

Box = tuple[int, int, int, int]
"""min_col, min_row, max_col, max_row."""


def _print_boxes(ws: Worksheet) -> list[Box] | None:
    area = ws.print_area
    if not area:
        return None
    parts = area if isinstance(area, (list, tuple)) else str(area).split(",")
    boxes = []
    for part in parts:
        ref = str(part).rpartition("!")[2].replace("$", "")
        bounds = range_boundaries(ref)
        if all(b is not None for b in bounds):
            boxes.append(tuple(int(b) for b in bounds))  # type: ignore[arg-type]
    return boxes  # type: ignore[return-value]


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


def page_issues(wb: Workbook, form: FormDef) -> list[Issue]:
    """Print-area and page-setup issues of a template of ``form`` (opened with openpyxl)."""
    issues: list[Issue] = []
    sheets: set[str] = set()
    for sheet, box, (what_zh, what_en), name in _blocks(wb, form):
        if sheet not in wb.sheetnames:
            continue
        ws = wb[sheet]
        if not isinstance(ws, Worksheet):
            continue
        sheets.add(sheet)
        boxes = _print_boxes(ws)
        if boxes is None or _inside(box, boxes):
            continue
        cell = Cells(sheet, box[1], box[0], box[3], box[2]).ref
        issues.append(Issue.make(Code.OUTSIDE_PRINT_AREA, field=name or None, sheet=sheet,
                                 cell=cell, value=ws.print_area, detail=what_en,
                                 detail_zh=what_zh))
    for sheet in sorted(sheets):
        ws = wb[sheet]
        if not isinstance(ws, Worksheet):
            continue
        problems = []
        if _print_boxes(ws) is None:
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
