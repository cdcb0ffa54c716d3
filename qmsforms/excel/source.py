"""What binding reads of a workbook: a returned `Book`, or an openpyxl workbook being built.

`bind` (`qmsforms.excel.binding`) works on a `Source`: a `Book` is one as it is; an openpyxl
workbook (a blank being built or checked) is wrapped in a `WorkbookSource`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .cells import Cells, destination

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook


@runtime_checkable
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
    return wb if isinstance(wb, Source) else WorkbookSource(wb)


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

