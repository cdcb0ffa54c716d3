"""The exact scan of a worksheet's XML, and what any scan of a sheet finds.

`scan_exact` is a namespace-aware parse of the whole sheet with expat: slower than the byte
searches of `qmsforms.excel.sheet_xml.scan`, but it takes XML as XML, so any spelling the
fast path is not sure of is read here. Both report a `Scan`.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from dataclasses import dataclass, field

from .cells import column_index

Key = tuple[int, int]
"""(row, column), 1-based."""

MAIN_NAMESPACES = frozenset({
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",  # ISO 29500 strict
})

_REF_RE = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")
SHARED_INDEX_RE = re.compile(r"[0-9]{1,9}")
"""A shared-string index as calamine reads it."""
NUMBER_RE = re.compile(r"\s*[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\s*")
"""A number cell's value as calamine reads it."""


@dataclass
class Scan:
    """The cells of one sheet whose value calamine alone would get wrong."""

    formulas: dict[Key, str] = field(default_factory=dict)
    """``=formula`` of every formula cell (its cached value is not what was typed)."""
    errors: dict[Key, str] = field(default_factory=dict)
    """The error text (``#N/A``) of every error cell (calamine reads them as empty)."""
    problems: dict[Key, tuple[str, str]] = field(default_factory=dict)
    """Cells whose stored value cannot be read reliably: (English, Chinese) reason."""


PROBLEMS: dict[str, tuple[str, str]] = {
    "shared": ("its shared-string index is not a whole number", "其共享字符串编号不是整数"),
    "spelling": ("its value is written with a character reference or CDATA",
                 "其值以字符引用或 CDATA 形式写入"),
    "inline": ("an inline-text cell also carries a stored value", "内嵌文本单元格另有存储值"),
    "number": ("a number cell holds something that is not a number", "数字单元格中存放的不是数字"),
    "text_in_number": ("a number cell carries inline text", "数字单元格中带有内嵌文本"),
    "two_values": ("the cell carries more than one value", "单元格带有多个值"),
    "twice": ("the cell is written twice", "该单元格被写入了两次"),
    "foreign": ("the cell is not written in the spreadsheet's own XML vocabulary",
                "该单元格不是以电子表格的标准 XML 元素写入"),
    "error": ("its error value is not one Excel writes", "其错误值不是 Excel 会写入的错误值"),
}
"""Why a cell is unreadable, by key: (English, Chinese), for the issue's detail."""

EXCEL_ERRORS = frozenset({
    "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
    "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#UNKNOWN!", "#CONNECT!", "#BUSY!", "#PYTHON!",
})
"""The error values Excel stores in an error cell (``t="e"``); any other is unreadable."""


def key_of(ref: str | None) -> Key | None:
    """(row, column) of an A1 reference (``$`` allowed); None for anything else."""
    found = _REF_RE.fullmatch(ref or "")
    if found is None:
        return None
    return int(found.group(2)), column_index(found.group(1))


class SheetXmlError(ValueError):
    """A worksheet's XML is not well formed, or has a DTD (never expanded here)."""


class ExactScan:
    """The exact scan of one sheet (`scan_exact`).

    Expat handlers that follow sheetData > row > c and record what the cells say.

    Elements are followed by local name, as calamine reads them; a cell that is not a
    spreadsheetml ``c`` directly in a ``row`` directly in ``sheetData``, or that has a child
    ``f``, ``v`` or ``is`` of another namespace, is unreadable (calamine would still read it).
    """

    def __init__(self, data: bytes, styles: bool = False) -> None:
        self.data = data
        self.out = Scan()
        self.collect_styles = styles
        self.styles: dict[Key, int] = {}
        self.parser = xml.parsers.expat.ParserCreate(namespace_separator="}")
        self.stack: list[tuple[str, bool]] = []
        self.row = 0
        self.col = 0
        self.cell_depth = 0
        self.key: Key = (0, 0)
        self.kind = "n"
        self.seen: set[Key] = set()
        self.values: list[str] = []
        self.inline = False
        self.foreign = False
        self.formula: tuple[str, list[str]] | None = None
        self.value_start = 0
        self.text: list[str] | None = None
        self.odd_spelling = False
        self.shared: dict[str, str] = {}
        self.pending: list[tuple[Key, str]] = []

    def _in_data(self) -> bool:
        return len(self.stack) >= 2 and self.stack[1][0] == "sheetData"

    def start(self, name: str, attrs: dict[str, str]) -> None:
        """Expat's start-element handler."""
        ns, _, local = name.rpartition("}")
        main = ns in MAIN_NAMESPACES
        parent = self.stack[-1][0] if self.stack else ""
        self.stack.append((local, main))
        depth = len(self.stack)
        if self.cell_depth:
            if depth == self.cell_depth + 1:
                self._cell_child(local, main, attrs)
        elif local == "row" and parent == "sheetData" and self._in_data():
            self.row = int(attrs["r"]) if attrs.get("r", "").isdigit() else self.row + 1
            self.col = 0
        elif local == "c" and self._in_data():
            self._cell_start(attrs, depth)

    def _cell_start(self, attrs: dict[str, str], depth: int) -> None:
        key = key_of(attrs.get("r"))
        if key is None:
            self.col += 1
            key = (self.row, self.col)
        else:
            self.row, self.col = key
        self.cell_depth = depth
        self.key, self.kind = key, attrs.get("t", "n")
        self.values, self.inline, self.formula = [], False, None
        self.odd_spelling = False
        path = [local for local, _ in self.stack]
        self.foreign = (path != ["worksheet", "sheetData", "row", "c"]
                        or not all(main for _, main in self.stack))
        if self.collect_styles:
            style = attrs.get("s", "")
            if style.isdigit():
                self.styles[key] = int(style)

    def _cell_child(self, local: str, main: bool, attrs: dict[str, str]) -> None:
        if local in ("f", "v", "is") and not main:
            self.foreign = True
        if local == "f":
            self.formula = (attrs.get("si", ""), [])
            self.text = self.formula[1]
        elif local == "v":
            self.text = []
            self.value_start = self.parser.CurrentByteIndex
        elif local == "is":
            self.inline = True

    def end(self, name: str) -> None:
        """Expat's end-element handler."""
        depth = len(self.stack)
        local = self.stack.pop()[0]
        if not self.cell_depth:
            return
        if depth == self.cell_depth + 1:
            if local == "v" and self.text is not None:
                self.values.append("".join(self.text))
                raw = self.data[self.value_start:self.parser.CurrentByteIndex]
                content = raw[raw.find(b">") + 1:]
                self.odd_spelling = self.odd_spelling or b"&" in content or b"<" in content
            self.text = None
        elif depth == self.cell_depth:
            self.cell_depth = 0
            self._cell_done()

    def chars(self, text: str) -> None:
        """Expat's character-data handler."""
        if self.text is not None:
            self.text.append(text)

    def _cell_done(self) -> None:
        key, kind, values = self.key, self.kind, self.values
        if values or self.inline or self.formula is not None or kind == "e":
            # two copies of a cell that say something: which one a reader takes is arbitrary
            # (an empty copy beside one with a value changes nothing)
            if key in self.seen:
                self.out.problems[key] = PROBLEMS["twice"]
            self.seen.add(key)
        if self.formula is not None:
            si, parts = self.formula
            text = "".join(parts)
            if text:
                self.out.formulas[key] = "=" + text
                if si:
                    self.shared.setdefault(si, "=" + text)
            else:
                self.pending.append((key, si))
        if kind == "e":
            self.out.errors[key] = values[0] if values else "#VALUE!"
        problem = None
        if self.foreign:
            problem = "foreign"
        elif kind == "e" and self.out.errors[key] not in EXCEL_ERRORS:
            problem = "error"
        elif self.formula is not None or kind == "e":
            problem = None
        elif len(values) > 1:
            problem = "two_values"
        elif values and self.odd_spelling:
            problem = "spelling"
        elif kind == "s" and values and not SHARED_INDEX_RE.fullmatch(values[0]):
            problem = "shared"
        elif kind == "inlineStr" and values:
            problem = "inline"
        elif kind == "n" and self.inline:
            problem = "text_in_number"
        elif kind == "n" and values and not NUMBER_RE.fullmatch(values[0]):
            problem = "number"
        if problem is not None:
            self.out.problems.setdefault(key, PROBLEMS[problem])

    def run(self) -> Scan:
        """Parse the sheet; raises ``ValueError`` when it is not well-formed XML."""
        def refuse(*_: object) -> None:
            raise SheetXmlError("DTD in a worksheet")

        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.chars
        self.parser.StartDoctypeDeclHandler = refuse
        self.parser.EntityDeclHandler = refuse
        self.parser.buffer_text = False
        try:
            self.parser.Parse(self.data, True)
        except xml.parsers.expat.ExpatError as exc:
            raise SheetXmlError(f"worksheet XML: {exc}") from exc
        for key, si in self.pending:
            self.out.formulas[key] = self.shared.get(si, "=")
        return self.out

    def run_styles(self) -> dict[Key, int]:
        """Parse the sheet for the style of every cell (see `run`)."""
        self.run()
        return self.styles


def scan_exact(data: bytes) -> Scan:
    """The slow, exact scan: a namespace-aware parse of the whole sheet.

    Only ``f`` and ``v`` elements of the spreadsheetml namespace directly inside a ``c``
    inside a ``row`` inside ``sheetData`` count; cells without an ``r`` are placed by position.
    Raises `SheetXmlError` when the XML is not well formed or has a DTD.
    """
    return ExactScan(data).run()

