"""The revision-history sheet a released workbook template carries (修订记录 / Revision history).

`qmsforms.release` writes it into each workbook template it carries over: one row per release
of the form (revision, the revision it replaced, effective date, who released it and when,
what changed), so the history travels with the form as IATF 16949 7.5.3 asks. The sheet is
protected, holds no input and no defined name, and prints on one A4 page.
"""

from __future__ import annotations

from collections.abc import Sequence

from openpyxl.workbook.workbook import Workbook

from ..revisions import Release
from .style import BORDER, CENTER, FORM_MARGINS, HEAD_FILL, WRAP, a4_page, font

TITLES = {"zh": "修订记录", "en": "Revision history", "both": "修订记录 Revision history"}
HEADINGS = (("版本", "Revision"), ("替代版本", "Replaces"), ("生效日期", "Effective"),
            ("发布人", "Released by"), ("发布时间 (UTC)", "Released at (UTC)"),
            ("变更说明", "What changed"))
WIDTHS = (9.0, 10.0, 12.0, 14.0, 20.0, 50.0)


def drop_history_sheet(wb: Workbook) -> None:
    """Take the revision-history sheet out of a blank issued from a template: the history is
    the controlled template's record, not part of the form a customer fills in and prints."""
    for name in list(wb.sheetnames):
        if name in TITLES.values():
            del wb[name]


def write_history_sheet(wb: Workbook, releases: Sequence[Release], lang: str) -> None:
    """Replace the template's revision-history sheet with one row per release, the last sheet
    of the workbook (the form stays the first one, the one opened and printed)."""
    title = TITLES.get(lang, TITLES["both"])
    drop_history_sheet(wb)
    ws = wb.create_sheet(title)
    for column, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[chr(64 + column)].width = width
    ws.cell(row=1, column=1, value=title).font = font(12, True)
    for column, (zh, en) in enumerate(HEADINGS, start=1):
        text = zh if lang == "zh" else en if lang == "en" else f"{zh}\n{en}"
        cell = ws.cell(row=2, column=column, value=text)
        cell.fill, cell.font, cell.alignment, cell.border = HEAD_FILL, font(9, True), CENTER, BORDER
    ws.row_dimensions[2].height = 28 if lang == "both" else 18
    for row, entry in enumerate(releases, start=3):
        values = (entry.revision, entry.previous, entry.effective.isoformat()
                  if entry.effective else "", entry.released_by, entry.released_at, entry.note)
        for column, value in enumerate(values, start=1):
            cell = ws.cell(row=row, column=column, value=value)
            cell.font, cell.alignment, cell.border = font(9), WRAP, BORDER
    a4_page(ws, orientation="portrait", last_col=len(HEADINGS),
            last_row=2 + len(releases), margins=FORM_MARGINS)
    ws.protection.sheet = True
