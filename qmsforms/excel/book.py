"""Read a returned workbook fast: values through python-calamine, structure from the package XML.

Validation needs a few things of a workbook: the defined names and Excel tables that bind
fields to cells, merged blocks, the identity, the values of the bound cells (every cell of a
50,000-line table on a large shipping list), which of those cells hold formulas or error
values, and the number format of percent cells. openpyxl builds a Python object for every cell
and style, which on a large sheet costs seconds and hundreds of megabytes. A `Book` takes the
values from calamine (Rust) as plain lists, the little structure it needs from the package
parts (`qmsforms.excel.package`), and finds formula, error and unreadable cells by scanning
each sheet's XML once (`qmsforms.excel.sheet_xml`). openpyxl is not loaded to read a file; it
remains the tool for writing: blanks, record copies, annotated rejections.

Call `open_book` only on a file that passed `qmsforms.safety.inspect_file`.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import zipfile
from pathlib import Path
from typing import Any

from defusedxml import ElementTree

from ..issues import Code, Issue
from ..opc.parts import Parts, PartsError
from ..safety import Limits
from .cells import Cell, Cells, column_letters, plain
from .package import BookError, WorkbookPackage, _corrupt
from .sheet_extent import extent, fits
from .sheet_styles import cell_styles, style_of
from .sheet_xml import Layout, Scan, layout, scan

log = logging.getLogger(__name__)

_ERROR_TYPE_RE = re.compile(
    rb"""(<(?:[\w.-]+:)?c(?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*?\s+t\s*=\s*)(["'])e\2""")
"""The type attribute of an error cell (``t="e"``)."""


class Book:
    """A workbook opened for reading (see the module docstring). Use as a context manager."""

    def __init__(self, path: str | Path, data: bytes | None = None,
                 limits: Limits | None = None,
                 inflated: dict[str, bytes] | None = None) -> None:
        """Open ``path`` (or ``data``, the bytes of a file called ``path``).

        ``limits`` bounds the cells a sheet may use (`Limits.fits`); a sheet past them is
        refused before its values are read. ``inflated``: parts the safety gate already
        inflated (see `qmsforms.safety.inspect_file`). Raises `BookError` when the package
        or a part cannot be read.
        """
        from python_calamine import CalamineError, CalamineWorkbook

        self.path = Path(path)
        self.limits = limits or Limits()
        try:
            self._zip = zipfile.ZipFile(self.path if data is None else io.BytesIO(data))
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise _corrupt(self.path, exc) from exc
        try:
            self._parts = Parts(self._zip, self.path.name, self.limits, inflated)
            copy = self._parts.utf8_package()
        except PartsError as error:
            self._zip.close()
            raise BookError(error.issue) from error
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            self._zip.close()
            raise _corrupt(self.path, exc) from exc
        try:
            if copy is not None:
                self._calamine = CalamineWorkbook.from_filelike(io.BytesIO(copy))
            elif data is None and _utf8(str(self.path)):
                self._calamine = CalamineWorkbook.from_path(str(self.path))
            else:  # calamine opens only UTF-8 paths: a GBK name from a zip is read here
                self._calamine = CalamineWorkbook.from_filelike(
                    io.BytesIO(self.path.read_bytes() if data is None else data))
        except (CalamineError, OSError, ValueError) as exc:
            self._zip.close()
            raise _corrupt(self.path, exc) from exc
        except BaseException as exc:  # a panic in the Rust reader is a BaseException
            self._zip.close()
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            raise _corrupt(self.path, exc) from exc
        del copy
        self._sheets: dict[str, Any] = {}
        self._grids: dict[str, list[list[Any]]] = {}
        self._special: dict[str, Scan] = {}
        self._merged: dict[str, list[Cells]] = {}
        self._styles: dict[str, dict[tuple[int, int], int]] = {}
        self._measured: set[str] = set()
        self._layouts: dict[str, Layout] = {}
        try:
            self._package = WorkbookPackage(self.path, self._parts)
            if list(self._calamine.sheet_names) != self._package.sheetnames:
                # the values and the structure must come from the same sheets
                raise BookError(Issue.make(Code.CORRUPT_FILE, value=self.path.name,
                                           detail="the sheets listed differ between readers"))
        except BookError:
            self._close_readers()
            raise
        except PartsError as error:
            self._close_readers()
            raise BookError(error.issue) from error
        except (KeyError, ElementTree.ParseError, ValueError) as exc:
            self._close_readers()
            raise _corrupt(self.path, exc) from exc

    # -- package structure ---------------------------------------------------------------------

    @property
    def sheetnames(self) -> list[str]:
        """Sheet names in workbook order."""
        return self._package.sheetnames

    def defined_names(self) -> dict[str, str]:
        """Workbook-scoped defined names: name -> formula text."""
        return self._package.defined_names()

    @property
    def print_areas(self) -> dict[str, str]:
        """Sheet name -> its print area as written."""
        return dict(self._package.print_areas)

    def duplicate_names(self) -> set[str]:
        """Names (case-folded) defined twice in one scope, or given to two tables.

        Excel calls such a workbook corrupt; which definition a reader takes is arbitrary.
        """
        return self._package.duplicate_names()

    def table_refs(self) -> dict[str, tuple[str, str]]:
        """Excel tables by name and display name: -> (sheet, ref including the header)."""
        return self._package.table_refs()

    @property
    def custom_properties(self) -> dict[str, str]:
        """Custom document properties (name -> text), as the identity is stored."""
        return self._package.custom_properties

    def _sheet_xml(self, sheet: str) -> bytes:
        return self._package.sheet_xml(sheet)

    # -- cells ---------------------------------------------------------------------------------

    def rows(self, sheet: str) -> list[list[Any]]:
        """Every row of a sheet from A1 as calamine reads it (empty cells are ``""``)."""
        grid = self._grids.get(sheet)
        if grid is None:
            found = self._sheet(sheet)
            try:
                grid = self._grids[sheet] = found.to_python(skip_empty_area=False)
            except BaseException as exc:  # a CalamineError, or a panic (see _sheet)
                if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    raise
                raise _corrupt(self.path, exc) from exc
        return grid

    def _sheet(self, sheet: str) -> Any:
        """The calamine sheet, parsed once, after its extent was found within the limits."""
        found = self._sheets.get(sheet)
        if found is None:
            from python_calamine import CalamineError

            self._measure(sheet)
            try:
                found = self._calamine.get_sheet_by_name(sheet)
            except CalamineError as exc:
                if "error value" not in str(exc):
                    raise _corrupt(self.path, exc) from exc
                found = self._without_error_types(sheet, exc)
            except BaseException as exc:  # a panic in the Rust reader is a BaseException
                if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    raise
                raise _corrupt(self.path, exc) from exc
            self._sheets[sheet] = found
        return found

    def _measure(self, sheet: str) -> None:
        """Refuse a sheet whose cells reach past the grid of a worksheet or past the limits.

        calamine reads a sheet into one rectangle from A1 to its farthest cell; the XML is
        measured first (`sheet_extent.fits`, else `sheet_extent.extent`) so that no stray cell
        can make it ask for gigabytes.
        """
        if sheet in self._measured:
            return
        data = self._sheet_xml(sheet)
        limits = self.limits
        if not fits(data, limits.max_rows, limits.max_cols, limits.max_cells,
                    self._layout(sheet)):
            try:
                found = extent(data)
            except ValueError as exc:  # not well-formed XML
                raise _corrupt(self.path, exc) from exc
            if found.outside is not None:
                log.info("%s: sheet %s has a cell at %s, outside the grid", self.path.name,
                         sheet, found.outside)
                raise BookError(Issue.make(Code.CELL_OUT_OF_RANGE, sheet=sheet,
                                           cell=found.outside, value=found.outside))
            if not limits.fits(found.rows, found.cols):
                en, zh = limits.exceeded(found.rows, found.cols)
                far = found.last_row_cell
                if found.cols / limits.max_cols > found.rows / limits.max_rows:
                    far = found.last_col_cell
                used = f"A1:{column_letters(found.cols)}{found.rows}"
                log.info("%s: sheet %s uses %s, more than %s", self.path.name, sheet, used, en)
                raise BookError(Issue.make(Code.SHEET_TOO_LARGE, sheet=sheet, cell=far,
                                           value=far, detail=used, limit=en, limit_zh=zh))
        self._measured.add(sheet)

    def _without_error_types(self, sheet: str, exc: Exception) -> Any:
        """The calamine sheet of a sheet holding an error value calamine does not know
        (``#SPILL!``, or a damaged ``7``): read from a copy of the package in which error
        cells are typed as text. The values of error cells are taken from the XML
        (`special`), so what calamine makes of them is never used."""
        from python_calamine import CalamineError, CalamineWorkbook

        part = self._package.sheet_parts.get(sheet, "")
        member = self._parts.member(part)
        data, changed = _ERROR_TYPE_RE.subn(rb"\1\2str\2", self._sheet_xml(sheet))
        if member is None or not changed:
            raise _corrupt(self.path, exc)
        log.info("%s: sheet %s read with its error cells typed as text (%s)", self.path.name,
                 sheet, exc)
        try:
            copy = CalamineWorkbook.from_filelike(io.BytesIO(self._parts.package({member: data})))
            return copy.get_sheet_by_name(sheet)
        except PartsError as error:
            raise BookError(error.issue) from error
        except (CalamineError, OSError, ValueError) as again:
            raise _corrupt(self.path, again) from again

    def value(self, sheet: str, row: int, col: int) -> Any:
        """The value at (row, col) as openpyxl would give it: None when empty, whole numbers
        as int, the text of an error value; a formula cell gives its cached value."""
        special = self.special(sheet)
        error = special.errors.get((row, col))
        if error is not None:
            return error
        grid = self.rows(sheet)
        if row > len(grid) or col > len(grid[row - 1]):
            return None
        return plain(grid[row - 1][col - 1])

    def cell(self, sheet: str, row: int, col: int, number_format: bool = False) -> Cell:
        """The cell at (row, col), or the top-left cell of the merged block covering it.

        Its number format is looked up only when asked for (percent fields need it).
        """
        for block in self.merged(sheet):
            if block.covers(row, col):
                row, col = block.min_row, block.min_col
                break
        coordinate = f"{column_letters(col)}{row}"
        special = self.special(sheet)
        formula = special.formulas.get((row, col))
        fmt = self.number_format(sheet, row, col) if number_format else "General"
        return Cell(self.value(sheet, row, col), coordinate, formula, fmt,
                    special.problems.get((row, col)))

    def merged(self, sheet: str) -> list[Cells]:
        """The merged blocks of a sheet."""
        if sheet not in self._merged:
            ranges = self._sheet(sheet).merged_cell_ranges or []
            self._merged[sheet] = [Cells(sheet, a[0] + 1, a[1] + 1, b[0] + 1, b[1] + 1)
                                   for a, b in ranges]
        return self._merged[sheet]

    def special(self, sheet: str) -> Scan:
        """Formula, error and unreadable cells of a sheet, found by one scan of its XML."""
        found = self._special.get(sheet)
        if found is None:
            try:
                found = self._special[sheet] = scan(
                    self._sheet_xml(sheet), self._package.has_shared_strings,
                    self._filled(sheet), self._layout(sheet))
            except ValueError as exc:  # not well-formed XML
                raise _corrupt(self.path, exc) from exc
        return found

    def _layout(self, sheet: str) -> Layout:
        """Where the sheet data of a sheet lies, found once."""
        found = self._layouts.get(sheet)
        if found is None:
            found = self._layouts[sheet] = layout(self._sheet_xml(sheet))
        return found

    def _filled(self, sheet: str) -> int:
        """How many cells of a sheet calamine read a value for."""
        grid = self.rows(sheet)
        return sum(map(len, grid)) - sum(row.count("") for row in grid)

    def formulas(self, sheet: str) -> dict[tuple[int, int], str]:
        """(row, col) -> ``=formula`` for every formula cell of a sheet."""
        return self.special(sheet).formulas

    def number_format(self, sheet: str, row: int, col: int) -> str:
        """The number format of one cell (``General`` when it has no style).

        One lookup searches the sheet's XML for the cell; `index_styles` indexes a sheet
        for many lookups. Cells written without a reference are located by position.
        """
        formats = self._package.number_formats
        if not formats:
            return "General"
        styles = self._styles.get(sheet)
        if styles is not None:
            index = styles.get((row, col), 0)
        else:
            try:
                index = style_of(self._sheet_xml(sheet), row, col)
            except ValueError as exc:  # not well-formed XML
                raise _corrupt(self.path, exc) from exc
        return formats[index] if index < len(formats) else "General"

    def index_styles(self, sheet: str) -> None:
        """Index the style of every cell of a sheet, before many `number_format` lookups."""
        if sheet not in self._styles and self._package.number_formats:
            self._styles[sheet] = self._cell_styles(sheet)

    def _cell_styles(self, sheet: str) -> dict[tuple[int, int], int]:
        try:
            return cell_styles(self._sheet_xml(sheet))
        except ValueError as exc:  # not well-formed XML
            raise _corrupt(self.path, exc) from exc

    def release(self) -> None:
        """Drop the cached values and sheet XML (they are read again if needed)."""
        self._grids.clear()
        self._sheets.clear()
        self._package.release()

    def close(self) -> None:
        """Release the file."""
        self.release()
        self._close_readers()

    def _close_readers(self) -> None:
        self._parts.drop_inflated()
        self._zip.close()
        with contextlib.suppress(Exception):  # already closed
            self._calamine.close()

    def __enter__(self) -> Book:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _utf8(text: str) -> bool:
    """Whether ``text`` is valid Unicode (a file name that was not UTF-8 has surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def open_book(path: str | Path, limits: Limits | None = None,
              inflated: dict[str, bytes] | None = None) -> tuple[Book | None, list[Issue]]:
    """Open a file that passed the safety gate; a broken package becomes an issue."""
    try:
        return Book(path, limits=limits, inflated=inflated), []
    except BookError as error:
        return None, [error.issue]


