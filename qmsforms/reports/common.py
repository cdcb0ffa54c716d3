"""The look every report workbook shares: fonts, fills, named places and the A4 print setup.

Reports are read on screen and printed for the management review, so every sheet prints on A4
landscape, one page wide, with its header row repeated on each page, the company and report
title in the page header and "第 x 页 共 y 页 / Page x of y" in the footer. Key places carry
workbook-scoped defined names (``matrix``, ``annual_table`` …) so a person — or a test — can
find them after the layout changes. Every text that came from a record is written with
`set_text`, so a customer called ``=HYPERLINK(…)`` stays text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from openpyxl.cell.cell import Cell
from openpyxl.chart.text import RichText, Text
from openpyxl.chart.title import Title
from openpyxl.drawing.text import (
    CharacterProperties,
    Paragraph,
    ParagraphProperties,
    RegularTextRun,
)
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from ..excel.blank import FONT
from ..safe_text import set_text
from ..scoring.policy import Band

_thin = Side(style="thin", color="A6A6A6")
BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)
HEAD_FILL = PatternFill("solid", fgColor="D9E1F2")
LABEL_FILL = PatternFill("solid", fgColor="F2F2F2")
TOTAL_FILL = PatternFill("solid", fgColor="EDEDED")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
TOP_LEFT = Alignment(horizontal="left", vertical="top", wrap_text=True)
RIGHT = Alignment(horizontal="right", vertical="center")
SCORE_FORMAT = "0.0"
COUNT_FORMAT = "0"
SIGNED_FORMAT = "+0;-0;0"

BAND_COLOURS = {
    "very_satisfied": "63BE7B",
    "satisfied": "C6EFCE",
    "average": "FFEB9C",
    "poor": "F8CBAD",
    "very_poor": "FF7C80",
}
"""Fill colour per band key; bands with other keys take the palette in order."""
_PALETTE = ("63BE7B", "C6EFCE", "FFEB9C", "F8CBAD", "FF7C80", "D9D9D9")
ALERT_FILL = PatternFill("solid", fgColor="FFC7CE")
GOOD_FILL = PatternFill("solid", fgColor="C6EFCE")


def font(size: float = 10, bold: bool = False, color: str | None = None) -> Font:
    """The report font (the CJK-capable face the blanks use)."""
    return Font(name=FONT, size=size, bold=bold, color=color)


def chart_title(text: str, size: float = 11) -> Title:
    """A chart title in a readable size (the default is large for a printed page)."""
    props = CharacterProperties(sz=int(size * 100), b=True)
    paragraph = Paragraph(pPr=ParagraphProperties(defRPr=props),
                          r=[RegularTextRun(rPr=props, t=text)])
    return Title(tx=Text(rich=RichText(p=[paragraph])), overlay=False)


def band_colour(band_key: str, index: int = 0) -> str:
    """The fill colour of a band (RGB hex)."""
    return BAND_COLOURS.get(band_key, _PALETTE[min(index, len(_PALETTE) - 1)])


def num(value: Decimal | float | int | None) -> float | int | None:
    """A number as written into a cell (Decimal becomes float; None stays blank)."""
    return float(value) if isinstance(value, Decimal) else value


@dataclass
class Sheet:
    """A report sheet being written row by row."""

    ws: Worksheet
    row: int = 1

    def put(self, row: int, col: int, value: Any, *, fmt: str | None = None,
            bold: bool = False, fill: PatternFill | None = None,
            align: Alignment | None = None, border: bool = True, size: float = 10) -> Cell:
        """Write one cell (text safely, Decimals as numbers) with the report styling."""
        cell = self.ws.cell(row=row, column=col)
        set_text(cell, num(value) if isinstance(value, Decimal) else value)
        cell.font = font(size, bold)
        if fmt:
            cell.number_format = fmt
        if fill is not None:
            cell.fill = fill
        if border:
            cell.border = BORDER
        cell.alignment = align or (RIGHT if isinstance(value, (int, float, Decimal))
                                   and not isinstance(value, bool) else LEFT)
        return cell

    def title(self, text: str, last_col: int, *, size: float = 14) -> None:
        """A merged title line across the used columns."""
        self.ws.merge_cells(start_row=self.row, start_column=1, end_row=self.row,
                            end_column=last_col)
        cell = self.put(self.row, 1, text, bold=True, border=False, size=size,
                        align=Alignment(horizontal="left", vertical="center"))
        cell.font = font(size, True)
        self.ws.row_dimensions[self.row].height = size * 1.9
        self.row += 1

    def caption(self, text: str, last_col: int, *, size: float = 10) -> None:
        """A bold line naming the table below it, merged across ``last_col`` columns."""
        self.ws.merge_cells(start_row=self.row, start_column=1, end_row=self.row,
                            end_column=last_col)
        self.put(self.row, 1, text, bold=True, border=False, size=size,
                 align=Alignment(horizontal="left", vertical="center"))
        self.ws.row_dimensions[self.row].height = 18
        self.row += 1

    def note(self, text: str, last_col: int, *, size: float = 9, height: float = 15) -> None:
        """A merged line of small explanatory text."""
        self.ws.merge_cells(start_row=self.row, start_column=1, end_row=self.row,
                            end_column=last_col)
        self.put(self.row, 1, text, border=False, size=size, align=TOP_LEFT)
        self.ws.row_dimensions[self.row].height = height
        self.row += 1

    def header(self, labels: Sequence[str], *, col: int = 1, height: float = 30) -> int:
        """A header row; returns its row number."""
        for offset, label in enumerate(labels):
            self.put(self.row, col + offset, label, bold=True, fill=HEAD_FILL, align=CENTER,
                     size=9)
        self.ws.row_dimensions[self.row].height = height
        self.row += 1
        return self.row - 1

    def line(self, values: Sequence[Any], *, col: int = 1,
             fmts: Sequence[str | None] | None = None, bold: bool = False,
             fill: PatternFill | None = None, align: Alignment | None = None) -> int:
        """A body row; returns its row number."""
        for offset, value in enumerate(values):
            fmt = fmts[offset] if fmts and offset < len(fmts) else None
            self.put(self.row, col + offset, value, fmt=fmt, bold=bold, fill=fill,
                     align=align if offset == 0 or align is None else None, size=9)
        self.row += 1
        return self.row - 1


def ref(ws: Worksheet, first_row: int, first_col: int, last_row: int, last_col: int) -> str:
    """An absolute, sheet-qualified reference (``'Sheet'!$A$1:$C$9``)."""
    a = f"${get_column_letter(first_col)}${first_row}"
    b = f"${get_column_letter(last_col)}${max(first_row, last_row)}"
    return f"{quote_sheetname(ws.title)}!{a}:{b}"


def define(wb: Workbook, name: str, ws: Worksheet, first_row: int, first_col: int,
           last_row: int, last_col: int) -> None:
    """A workbook-scoped defined name over a block of ``ws``."""
    wb.defined_names[name] = DefinedName(
        name, attr_text=ref(ws, first_row, first_col, last_row, last_col))


def widths(ws: Worksheet, values: Iterable[float], start: int = 1) -> None:
    """Set column widths from column ``start`` on."""
    for offset, width in enumerate(values):
        ws.column_dimensions[get_column_letter(start + offset)].width = width


def band_rules(ws: Worksheet, cells: str, bands: Sequence[Band]) -> None:
    """Colour numeric cells of ``cells`` (``B5:M12``) by band; blanks stay white.

    One formula rule per band, highest first and each stopping the rest, so Excel, WPS and
    LibreOffice pick the same colour. ``ISNUMBER`` keeps empty months uncoloured.
    """
    first = cells.split(":")[0].replace("$", "")
    ordered = sorted(bands, key=lambda b: b.min, reverse=True)
    for index, band in enumerate(ordered):
        test = f"ISNUMBER({first})" if band.min == 0 else \
            f"AND(ISNUMBER({first}),{first}>={num(band.min)})"
        colour = band_colour(band.key, index)
        ws.conditional_formatting.add(cells, FormulaRule(
            formula=[test], stopIfTrue=True,
            fill=PatternFill("solid", fgColor=colour, bgColor=colour)))


def print_setup(ws: Worksheet, *, title: str, company: str, document_no: str, last_col: int,
                last_row: int, title_rows: tuple[int, int] | None = None,
                one_page: bool = False) -> None:
    """A4 landscape, one page wide (and tall when ``one_page``), titles, header and footer."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1 if one_page else 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top, ws.page_margins.bottom = 0.7, 0.7
    ws.page_margins.header, ws.page_margins.footer = 0.3, 0.3
    ws.print_area = f"A1:{get_column_letter(last_col)}{max(last_row, 1)}"
    if title_rows:
        ws.print_title_rows = f"{title_rows[0]}:{title_rows[1]}"
    ws.oddHeader.left.text, ws.oddHeader.left.size = _escape(company), 8
    ws.oddHeader.center.text, ws.oddHeader.center.size = _escape(title), 9
    ws.oddHeader.right.text, ws.oddHeader.right.size = "&A", 8  # the sheet name
    ws.oddFooter.left.text = _escape(f"{document_no}  qmsforms {date.today().isoformat()}")
    ws.oddFooter.left.size = 8
    ws.oddFooter.center.text = "第 &P 页 共 &N 页  Page &P of &N"
    ws.oddFooter.center.size = 8
    ws.sheet_view.showGridLines = False


def _escape(text: str) -> str:
    """Header/footer text with ``&`` doubled (a single one starts a field code)."""
    return text.replace("&", "&&")


def workspace_labels(workspace: Any, report_id: str) -> dict[str, str]:
    """The company line and document number a workspace prints on a report.

    The document number comes from ``[forms.<report_id>]`` in ``qmsforms.toml`` when the
    quality engineer controls the report as a record form, else a generated one.
    """
    company = workspace.config.company
    return {"company": f"{company.name_zh}  {company.name_en}".strip(),
            "document_no": workspace.config.control(report_id).document_no}


def month_label(month: str) -> str:
    """``2026-03`` as a short bilingual column heading (``3月 Mar``)."""
    names = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
             "Dec")
    m = int(month[5:7])
    return f"{m}月 {names[m - 1]}"


def months_of(year: int, last: int = 12) -> tuple[str, ...]:
    """``YYYY-01`` … ``YYYY-<last>``."""
    return tuple(f"{year}-{m:02d}" for m in range(1, last + 1))
