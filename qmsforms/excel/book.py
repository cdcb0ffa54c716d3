"""Read a returned workbook fast: values through python-calamine, structure from the package XML.

Validation needs a few things of a workbook: the defined names and Excel tables that bind
fields to cells, merged blocks, the identity, the values of the bound cells (every cell of a
50,000-line table on a large shipping list), which of those cells hold formulas or error
values, and the number format of percent cells. openpyxl builds a Python object for every cell
and style, which on a large sheet costs seconds and hundreds of megabytes. A `Book` takes the
values from calamine (Rust) as plain lists, reads the little structure it needs from the
workbook, relationship, table, styles and custom-property parts with defusedxml, and finds
formula, error and unreadable cells by scanning each sheet's XML once (`qmsforms.excel.sheet_xml`).
openpyxl remains the tool for writing: blanks, record copies, annotated rejections.

Call `open_book` only on a file that passed `qmsforms.safety.inspect_file`.
"""

from __future__ import annotations

import contextlib
import io
import logging
import posixpath
import re
import zipfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from defusedxml import ElementTree
from openpyxl.styles.numbers import BUILTIN_FORMATS
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.workbook import Workbook

from ..issues import Code, Issue
from ..opc.parts import Parts, PartsError
from ..safety import EXCEL_COLS, EXCEL_ROWS, Limits
from .sheet_xml import (
    Layout,
    Scan,
    cell_styles,
    column_letters,
    extent,
    fits,
    layout,
    scan,
    style_of,
)

log = logging.getLogger(__name__)

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CUSTOM = "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}"
_VT = "{http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes}"

MAX_ROW = EXCEL_ROWS
"""The last row of a worksheet (Excel 2007 and later)."""
MAX_COL = EXCEL_COLS
"""The last column of a worksheet (``XFD``)."""
_ERROR_TYPE_RE = re.compile(
    rb"""(<(?:[\w.-]+:)?c(?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*?\s+t\s*=\s*)(["'])e\2""")
"""The type attribute of an error cell (``t="e"``)."""


class BookError(Exception):
    """The workbook's package is not what an .xlsx must be; carries the issue to report."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.code)
        self.issue = issue


@dataclass(frozen=True)
class Cells:
    """A rectangular block of cells on one sheet (1-based rows and columns)."""

    sheet: str
    min_row: int
    min_col: int
    max_row: int
    max_col: int

    @property
    def ref(self) -> str:
        """The A1 reference, ``C5`` or ``D20:H20``."""
        first = f"{get_column_letter(self.min_col)}{self.min_row}"
        last = f"{get_column_letter(self.max_col)}{self.max_row}"
        return first if first == last else f"{first}:{last}"

    @property
    def size(self) -> int:
        """How many cells the block covers."""
        return (self.max_row - self.min_row + 1) * (self.max_col - self.min_col + 1)

    def coordinates(self) -> list[tuple[int, int]]:
        """(row, column) of every cell, row by row."""
        return [(r, c) for r in range(self.min_row, self.max_row + 1)
                for c in range(self.min_col, self.max_col + 1)]

    def covers(self, row: int, col: int) -> bool:
        """Whether (row, col) lies in the block."""
        return self.min_row <= row <= self.max_row and self.min_col <= col <= self.max_col

    @classmethod
    def parse(cls, sheet: str, ref: str) -> Cells | None:
        """The block an A1 reference (``$C$5:$D$5``) names.

        None for whole rows or columns and for anything outside the sheet (row 0, a row past
        1,048,576, a column past ``XFD``); corners given in reverse (``C5:C2``) are put in order.
        """
        try:
            bounds = range_boundaries(ref.replace("$", ""))
        except (ValueError, TypeError):
            return None
        if any(b is None for b in bounds):
            return None
        col_a, row_a, col_b, row_b = (int(b) for b in bounds)  # type: ignore[arg-type]
        min_row, max_row = sorted((row_a, row_b))
        min_col, max_col = sorted((col_a, col_b))
        if min_row < 1 or max_row > MAX_ROW or min_col < 1 or max_col > MAX_COL:
            return None
        return cls(sheet, min_row, min_col, max_row, max_col)


@dataclass(frozen=True)
class Cell:
    """One cell as validation sees it."""

    value: Any
    """The typed value (str, int, float, bool, date, datetime, time) or None when empty."""
    coordinate: str
    formula: str | None = None
    """``=SUM(D21:D30)`` when the cell holds a formula (its cached value is then ignored)."""
    number_format: str = "General"
    problem: tuple[str, str] | None = None
    """Why the stored value cannot be read reliably (English, Chinese); None when it can."""


class Source(Protocol):
    """What binding needs of a workbook; an open `Book`, or an openpyxl workbook via `source`."""

    @property
    def sheetnames(self) -> list[str]:
        """Sheet names in workbook order."""

    def defined_names(self) -> dict[str, str]:
        """Workbook-scoped defined names: name -> formula text (``'Sheet'!$C$5``)."""

    def duplicate_names(self) -> set[str]:
        """Names (case-folded) defined twice in one scope, or given to two tables."""

    def table_refs(self) -> dict[str, tuple[str, str]]:
        """Excel tables by name and by display name: -> (sheet, ref including the header)."""

    def value(self, sheet: str, row: int, col: int) -> Any:
        """The value at (row, col), None when empty."""

    def merged(self, sheet: str) -> list[Cells]:
        """The merged blocks of a sheet."""


class WorkbookSource:
    """An openpyxl workbook seen as a `Source` (for blanks being built and filled)."""

    def __init__(self, wb: Workbook) -> None:
        """Wrap ``wb``."""
        self.wb = wb

    @property
    def sheetnames(self) -> list[str]:
        """Sheet names in workbook order."""
        return list(self.wb.sheetnames)

    def defined_names(self) -> dict[str, str]:
        """Workbook-scoped defined names."""
        return {name: str(d.attr_text) for name, d in self.wb.defined_names.items()}

    def duplicate_names(self) -> set[str]:
        """None: an openpyxl workbook keeps one definition per name."""
        return set()

    def table_refs(self) -> dict[str, tuple[str, str]]:
        """Excel tables by name and display name."""
        found: dict[str, tuple[str, str]] = {}
        for ws in self.wb.worksheets:
            for table in ws.tables.values():
                for name in (table.name, table.displayName):
                    found.setdefault(name, (ws.title, table.ref))
        return found

    def value(self, sheet: str, row: int, col: int) -> Any:
        """The value at (row, col)."""
        return self.wb[sheet].cell(row=row, column=col).value

    def merged(self, sheet: str) -> list[Cells]:
        """The merged blocks of a sheet."""
        return [Cells(sheet, r.min_row, r.min_col, r.max_row, r.max_col)
                for r in self.wb[sheet].merged_cells.ranges]


def source(wb: Workbook | Source) -> Source:
    """Anything binding can read: a `Book` as it is, an openpyxl workbook wrapped."""
    return WorkbookSource(wb) if isinstance(wb, Workbook) else wb


def destination(text: str) -> tuple[str, str] | None:
    """The one (sheet, ref) a defined name's formula points at; None for anything else."""
    if not text or not text.strip():
        return None  # an empty name points nowhere (openpyxl's tokenizer fails on it)
    try:
        found = list(DefinedName(name="_", attr_text=text).destinations)
    except (ValueError, TypeError, AttributeError, KeyError, IndexError):
        return None
    return found[0] if len(found) == 1 else None


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
        self._xml: dict[str, bytes] = {}
        self._special: dict[str, Scan] = {}
        self._merged: dict[str, list[Cells]] = {}
        self._styles: dict[str, dict[tuple[int, int], int]] = {}
        self._measured: set[str] = set()
        self._layouts: dict[str, Layout] = {}
        try:
            self._read_workbook_part()
        except BookError:
            self.close()
            raise
        except PartsError as error:
            self.close()
            raise BookError(error.issue) from error
        except (KeyError, ElementTree.ParseError, ValueError) as exc:
            self.close()
            raise _corrupt(self.path, exc) from exc

    # -- package structure ---------------------------------------------------------------------

    def _part(self, name: str) -> bytes:
        """The bytes of a part (name in any case), XML in UTF-8; `KeyError` when missing."""
        return self._parts.read(name)

    def _relationships(self, part: str) -> list[tuple[str, str, str]]:
        """(id, type, target part name) of each internal relationship of the part ``part``."""
        name = rels_part(part)
        if name not in self._parts:
            return []
        out = []
        for rel in ElementTree.fromstring(self._part(name)).iter(f"{_PKG_REL}Relationship"):
            if rel.get("TargetMode") != "External":
                out.append((rel.get("Id", ""), rel.get("Type", ""),
                            resolve_target(part, rel.get("Target", ""))))
        return out

    def _rels(self, part: str) -> dict[str, str]:
        """Relationship id -> target part name, for the part ``part``."""
        return {rid: target for rid, _, target in self._relationships(part)}

    def _read_workbook_part(self) -> None:
        root = ElementTree.fromstring(self._part("xl/workbook.xml"))
        rels = self._rels("xl/workbook.xml")
        self._sheet_parts: dict[str, str] = {}
        self._sheetnames: list[str] = []
        for sheet in root.iter(f"{_MAIN}sheet"):
            name = sheet.get("name", "")
            self._sheetnames.append(name)
            part = rels.get(sheet.get(f"{_REL}id", ""))
            if not part or part not in self._parts:
                raise BookError(Issue.make(Code.CORRUPT_FILE, value=self.path.name,
                                           detail=f"sheet {name!r} has no part"[:160]))
            self._sheet_parts[name] = part
        if list(self._calamine.sheet_names) != self._sheetnames:
            # the values and the structure must come from the same sheets
            raise BookError(Issue.make(Code.CORRUPT_FILE, value=self.path.name,
                                       detail="the sheets listed differ between readers"))
        self._names: dict[str, str] = {}
        self._duplicates: set[str] = set()
        # Excel compares names without case, in the workbook scope or one sheet's scope
        scopes: set[tuple[str, str | None]] = set()
        for defined in root.iter(f"{_MAIN}definedName"):
            name = defined.get("name")
            if not name:
                continue
            scope = defined.get("localSheetId")
            key = (name.casefold(), scope)
            if key in scopes:
                self._duplicates.add(key[0])
            scopes.add(key)
            if scope is None:
                self._names[name] = (defined.text or "").strip()

    @property
    def sheetnames(self) -> list[str]:
        """Sheet names in workbook order."""
        return list(self._sheetnames)

    def defined_names(self) -> dict[str, str]:
        """Workbook-scoped defined names: name -> formula text."""
        return dict(self._names)

    def duplicate_names(self) -> set[str]:
        """Names (case-folded) defined twice in one scope, or given to two tables.

        Excel calls such a workbook corrupt; which definition a reader takes is arbitrary.
        """
        try:
            return self._duplicates | self._tables[1]
        except (KeyError, ElementTree.ParseError) as exc:
            raise _corrupt(self.path, exc) from exc

    @cached_property
    def _tables(self) -> tuple[dict[str, tuple[str, str]], set[str]]:
        """Tables by name and display name, and the names (case-folded) two tables share."""
        found: dict[str, tuple[str, str]] = {}
        owner: dict[str, str] = {}
        duplicates: set[str] = set()
        for sheet, part in self._sheet_parts.items():
            for _, kind, target in self._relationships(part):
                if not (kind.endswith("/table") or target.casefold().startswith("xl/tables/")):
                    continue
                table = ElementTree.fromstring(self._part(target))
                ref = table.get("ref", "")
                for name in (table.get("name"), table.get("displayName")):
                    if not name:
                        continue
                    if owner.setdefault(name.casefold(), target) != target:
                        duplicates.add(name.casefold())
                    if ref:
                        found.setdefault(name, (sheet, ref))
        return found, duplicates

    def table_refs(self) -> dict[str, tuple[str, str]]:
        """Excel tables by name and display name: -> (sheet, ref including the header)."""
        try:
            return dict(self._tables[0])
        except (KeyError, ElementTree.ParseError) as exc:
            raise _corrupt(self.path, exc) from exc

    @cached_property
    def _has_shared_strings(self) -> bool:
        """Whether the workbook has a shared-string table (Excel's way of storing text)."""
        rels = self._rels("xl/workbook.xml")
        return any(part.casefold().endswith("sharedstrings.xml") for part in rels.values()) or any(
            name.casefold().endswith("sharedstrings.xml") for name in self._parts.names())

    @cached_property
    def custom_properties(self) -> dict[str, str]:
        """Custom document properties (name -> text), as the identity is stored."""
        name = "docProps/custom.xml"
        if name not in self._parts:
            return {}
        try:
            root = ElementTree.fromstring(self._part(name))
        except ElementTree.ParseError:
            return {}
        out = {}
        for prop in root.iter(f"{_CUSTOM}property"):
            # the value is the first vt: element; anything else an editor put there is not
            value = next((child for child in prop if child.tag.startswith(_VT)), None)
            if prop.get("name") and value is not None:
                out[prop.get("name", "")] = "".join(value.itertext())
        return out

    @cached_property
    def _number_formats(self) -> list[str]:
        """Number format of each cell style (``cellXfs`` index)."""
        name = "xl/styles.xml"
        if name not in self._parts:
            return []
        root = ElementTree.fromstring(self._part(name))
        custom = {int(f.get("numFmtId", "-1")): f.get("formatCode", "")
                  for f in root.iter(f"{_MAIN}numFmt")}
        xfs = root.find(f"{_MAIN}cellXfs")
        out = []
        for xf in [] if xfs is None else xfs.iter(f"{_MAIN}xf"):
            fid = int(xf.get("numFmtId", "0"))
            out.append(custom.get(fid) or BUILTIN_FORMATS.get(fid, "General"))
        return out

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
        measured first (`sheet_xml.fits`, else `sheet_xml.extent`) so that no stray cell
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

        part = self._sheet_parts.get(sheet, "")
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
        coordinate = f"{get_column_letter(col)}{row}"
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

    def _sheet_xml(self, sheet: str) -> bytes:
        data = self._xml.get(sheet)
        if data is None:
            part = self._sheet_parts.get(sheet)
            try:
                data = self._part(part) if part else b""
            except KeyError as exc:
                raise _corrupt(self.path, exc) from exc
            self._xml[sheet] = data
        return data

    def special(self, sheet: str) -> Scan:
        """Formula, error and unreadable cells of a sheet, found by one scan of its XML."""
        found = self._special.get(sheet)
        if found is None:
            try:
                found = self._special[sheet] = scan(self._sheet_xml(sheet),
                                                    self._has_shared_strings, self._filled(sheet),
                                                    self._layout(sheet))
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
        formats = self._number_formats
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
        if sheet not in self._styles and self._number_formats:
            self._styles[sheet] = self._cell_styles(sheet)

    def _cell_styles(self, sheet: str) -> dict[tuple[int, int], int]:
        try:
            return cell_styles(self._sheet_xml(sheet))
        except ValueError as exc:  # not well-formed XML
            raise _corrupt(self.path, exc) from exc

    def release(self) -> None:
        """Drop the cached values and sheet XML (they are read again if needed)."""
        self._grids.clear()
        self._xml.clear()
        self._sheets.clear()
        self._parts.drop_inflated()

    def close(self) -> None:
        """Release the file."""
        self.release()
        self._zip.close()
        with contextlib.suppress(Exception):  # already closed
            self._calamine.close()

    def __enter__(self) -> Book:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def rels_part(part: str) -> str:
    """The relationships part of a package part (``xl/_rels/workbook.xml.rels``)."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def resolve_target(source: str, target: str) -> str:
    """The part a relationship of ``source`` points at: absolute, or relative to its folder."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def plain(value: Any) -> Any:
    """A calamine value as openpyxl gives it: ``""`` is None, a whole float is an int."""
    if value == "":
        return None
    if type(value) is float and value.is_integer():
        return int(value)
    return value


def _utf8(text: str) -> bool:
    """Whether ``text`` is valid Unicode (a file name that was not UTF-8 has surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _corrupt(path: Path, exc: BaseException) -> BookError:
    return BookError(Issue.make(Code.CORRUPT_FILE, value=path.name,
                                detail=f"{type(exc).__name__}: {exc}"[:160]))


def open_book(path: str | Path, limits: Limits | None = None,
              inflated: dict[str, bytes] | None = None) -> tuple[Book | None, list[Issue]]:
    """Open a file that passed the safety gate; a broken package becomes an issue."""
    try:
        return Book(path, limits=limits, inflated=inflated), []
    except BookError as error:
        return None, [error.issue]


def as_book(wb: Workbook, name: str = "workbook.xlsx") -> Book:
    """An openpyxl workbook as it reads back once saved (for checks of what was written)."""
    buffer = io.BytesIO()
    wb.save(buffer)
    return Book(name, buffer.getvalue())


def names_of(src: Source) -> dict[str, Cells]:
    """Workbook-scoped defined names that point at one block of cells, by name."""
    sheets = set(src.sheetnames)
    found: dict[str, Cells] = {}
    for name, text in src.defined_names().items():
        target = destination(text)
        if target is None or target[0] not in sheets:
            continue
        cells = Cells.parse(target[0], target[1])
        if cells is not None:
            found[name] = cells
    return found

