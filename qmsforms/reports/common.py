"""What every report sheet shares: the row writer, band colours, named places, A4 print setup.

Reports are read on screen and printed for the management review, so every sheet prints on A4
landscape, one page wide, with its header row repeated on each page, the company and report
title in the page header and "第 x 页 共 y 页 / Page x of y" in the footer. Key places carry
workbook-scoped defined names (``matrix``, ``annual_table`` …) so a person — or a test — can
find them after the layout changes. Fonts, fills, borders and the page itself come from
`qmsforms.excel.style`, as for the blanks. Every text that came from a record is written with
`set_text`, so a customer called ``=HYPERLINK(…)`` stays text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from ..excel.style import (
    BORDER,
    CENTER,
    HEAD_FILL,
    LEFT,
    REPORT_MARGINS,
    RIGHT,
    TOP_LEFT,
    a4_page,
    escape,
    font,
    page_texts,
)
from ..safe_text import set_text
from ..scoring.policy import Band

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
        if isinstance(cell, MergedCell):  # of a merged range only the top-left cell is written
            raise ValueError(f"{cell.coordinate} lies inside a merged range")
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


def fit_rows(sheet: Sheet, first: int, last: int, col_widths: Mapping[int, float]) -> None:
    """Row heights for wrapped text (Excel does not grow rows written by a program).

    ``col_widths`` are the widths of the columns whose text wraps; a CJK character takes two.
    """
    for r in range(first, last + 1):
        lines = 1
        for col, width in col_widths.items():
            value = sheet.ws.cell(row=r, column=col).value
            if not isinstance(value, str):
                continue
            need = 0
            for part in value.split("\n"):
                used = sum(2 if ord(ch) > 0x2E7F else 1 for ch in part)
                need += max(1, -(-used // max(int(width * 0.95), 1)))
            lines = max(lines, need)
        sheet.ws.row_dimensions[r].height = max(15, 12.5 * lines + 3)


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
    """A4 landscape, one page wide (and tall when ``one_page``), titles, header and footer.

    The page header names the company, the report and the sheet; the footer the document
    number and the day the report was written.
    """
    a4_page(ws, orientation="landscape", last_col=last_col, last_row=last_row,
            margins=REPORT_MARGINS, title_rows=title_rows, one_page=one_page)
    page_texts(ws, footer_left=escape(f"{document_no}  qmsforms {date.today().isoformat()}"),
               header=((escape(company), 8), (escape(title), 9), ("&A", 8)))  # &A: sheet name


def workspace_labels(workspace: Any, report_id: str, site: str | None = None) -> dict[str, str]:
    """The company line and document number a workspace prints on a report; a report of one
    ``site`` says so on its company line.

    The document number comes from ``[forms.<report_id>]`` in ``qmsforms.toml`` when the
    quality engineer controls the report as a record form, else a generated one.
    """
    company = workspace.config.company
    line = f"{company.name_zh}  {company.name_en}".strip()
    if site is not None:
        line += f"  站点 Site: {site}"
    return {"company": line,
            "document_no": workspace.config.control(report_id).document_no}


def site_suffix(site: str | None) -> str:
    """What a report file of one site carries in its default name (``-NB``)."""
    return "" if site is None else f"-{site}"


def month_label(month: str) -> str:
    """``2026-03`` as a short bilingual column heading (``3月 Mar``)."""
    names = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
             "Dec")
    m = int(month[5:7])
    return f"{m}月 {names[m - 1]}"


def months_of(year: int, last: int = 12) -> tuple[str, ...]:
    """``YYYY-01`` … ``YYYY-<last>``."""
    return tuple(f"{year}-{m:02d}" for m in range(1, last + 1))
