"""The look of every workbook qmsforms writes: one font, fills, borders, alignments, A4 pages.

Blanks (`qmsforms.excel.blank`) and reports (`qmsforms.reports`) both print on A4, one page
wide, in a CJK-capable face, with "第 x 页 共 y 页 / Page x of y" in the footer. Grid lines
are one mid grey (the Word blanks' grid grey too), label cells a light grey, header cells a
light blue. Header and footer texts are set as written: a caller whose text may hold ``&``
passes it through `escape` first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.header_footer import HeaderFooterItem
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

FONT = "Microsoft YaHei"
"""The CJK-capable face of every cell (LibreOffice substitutes a CJK face where it is absent)."""
GRID_GREY = "808080"
"""The one grey of every cell border."""

_thin = Side(style="thin", color=GRID_GREY)
BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)
HEAD_FILL = PatternFill("solid", fgColor="D9E1F2")
LABEL_FILL = PatternFill("solid", fgColor="F2F2F2")
TOTAL_FILL = PatternFill("solid", fgColor="EDEDED")
ALERT_FILL = PatternFill("solid", fgColor="FFC7CE")
GOOD_FILL = PatternFill("solid", fgColor="C6EFCE")
UNLOCKED = Protection(locked=False)
WRAP = Alignment(wrap_text=True, vertical="center")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
TOP_LEFT = Alignment(horizontal="left", vertical="top", wrap_text=True)
RIGHT = Alignment(horizontal="right", vertical="center")
PAGE_NUMBERS = "第 &P 页 共 &N 页  Page &P of &N"
"""The centre of every footer."""

Orientation = Literal["portrait", "landscape"]


def font(size: float = 10, bold: bool = False, color: str | None = None) -> Font:
    """The CJK-capable font in ``size`` points."""
    return Font(name=FONT, size=size, bold=bold, color=color)


@dataclass(frozen=True)
class Margins:
    """Page margins in inches; header and footer sit 0.3 in from the edge."""

    side: float
    top: float
    bottom: float


FORM_MARGINS = Margins(side=0.5, top=0.6, bottom=0.7)
"""A blank: a little wider at the sides for the hole punch."""
REPORT_MARGINS = Margins(side=0.4, top=0.7, bottom=0.7)
"""A report: room for the page header with the company and the title."""


def a4_page(ws: Worksheet, *, orientation: Orientation, last_col: int, last_row: int,
            margins: Margins, title_rows: tuple[int, int] | None = None,
            one_page: bool = False) -> None:
    """A4, one page wide (and tall when ``one_page``), centred, printing A1 to the last cell.

    ``title_rows`` repeat on every page; the grid lines are hidden (the cells have borders).
    """
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = orientation
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1 if one_page else 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = margins.side
    ws.page_margins.top, ws.page_margins.bottom = margins.top, margins.bottom
    ws.page_margins.header, ws.page_margins.footer = 0.3, 0.3
    ws.print_area = f"A1:{get_column_letter(last_col)}{max(last_row, 1)}"
    if title_rows:
        ws.print_title_rows = f"{title_rows[0]}:{title_rows[1]}"
    ws.sheet_view.showGridLines = False


Part = tuple[str, int]
"""A header or footer part: its text and its size in points."""


def _item(left: Part | None, center: Part | None, right: Part | None) -> HeaderFooterItem:
    item = HeaderFooterItem()
    for part, value in ((item.left, left), (item.center, center), (item.right, right)):
        if value is not None:
            part.text, part.size = value
    return item


def page_texts(ws: Worksheet, *, footer_left: str, footer_right: str | None = None,
               header: tuple[Part, Part, Part] | None = None) -> None:
    """The footer (``footer_left``, the page numbers, ``footer_right``; 8 pt) and the header."""
    ws.oddFooter = _item((footer_left, 8), (PAGE_NUMBERS, 8),
                         None if footer_right is None else (footer_right, 8))
    if header is not None:
        ws.oddHeader = _item(*header)


def first_sheet(wb: Workbook) -> Worksheet:
    """The worksheet a new workbook comes with."""
    ws = wb.active
    if not isinstance(ws, Worksheet):  # a new Workbook() always starts with one worksheet
        raise TypeError(f"a new workbook starts with a worksheet, not {type(ws).__name__}")
    return ws


def escape(text: str) -> str:
    """Header/footer text with ``&`` doubled (a single one starts a field code)."""
    return text.replace("&", "&&")
