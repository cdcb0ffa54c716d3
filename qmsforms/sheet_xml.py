"""What a worksheet's XML says that the cell values alone do not: formulas, errors, bad cells.

python-calamine hands back each cell's cached value. That is not enough to read a form as it
was typed: a formula's cached result is not a typed value, an error cell comes back empty, and
calamine quietly misreads some legal or damaged spellings of a value (a shared-string index
that is not a number reads string #0; a ``<v>`` written with a character reference or CDATA
reads blank or loses digits; an inline-string cell that also has a ``<v>`` reads blank). A
`Scan` of a sheet's XML lists those cells so that the reader can refuse them at their cell.

`scan` first makes sure the sheet is spelled plainly: one ``sheetData`` in the spreadsheetml
namespace, every namespace prefix declared on the root (so a prefix means the same thing
everywhere), no comment, CDATA section or processing instruction inside the sheet data, and
no suspicious value spelling. Then byte searches find the few cells that matter (most sheets
have none). Anything else goes to `scan_exact`, a namespace-aware parse of the whole sheet
with expat, which is slower but takes XML as XML. Both find the same formulas, errors and the
misreads above; the exact scan, which sees every cell anyway, also refuses a few spellings
only damaged files have and the fast one does not search for (a cell written twice, two
values in a cell, text in a number cell).
"""

from __future__ import annotations

import functools
import html
import re
import xml.parsers.expat
from dataclasses import dataclass, field

from openpyxl.utils import column_index_from_string

Key = tuple[int, int]
"""(row, column), 1-based."""

MAIN_NAMESPACES = frozenset({
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",  # ISO 29500 strict
})

_ATTR = rb"""(?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))"""
_ATTR_RE = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ROOT_RE = re.compile(rb"(?:\s|<\?[^>]*\?>|<!--.*?-->)*<(?:([\w.-]+):)?worksheet(" + _ATTR
                      + rb"*)\s*>", re.S)
_XMLNS_RE = re.compile(rb"""xmlns(?::([\w.-]+))?\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_REF_RE = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")
_SHARED_INDEX_RE = re.compile(r"[0-9]{1,9}")
_NUMBER_RE = re.compile(r"\s*[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\s*")
_LOOKBACK = 1024  # bytes before a <f> in which its <c ...> start tag must lie


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
}
"""Why a cell is unreadable, by key: (English, Chinese), for the issue's detail."""


def scan(data: bytes, shared_strings: bool = True) -> Scan:
    """Formula, error and unreadable cells of a sheet's XML, by the cheapest certain way.

    ``shared_strings`` False says the workbook has no shared-string table (calamine then
    refuses any shared-string cell itself), which spares one search.
    """
    plan = _plan(data)
    if plan is None:
        return scan_exact(data)
    prefixes, start, end = plan
    pats = _patterns(prefixes)
    if _trouble(data, start, end, pats, shared_strings):
        return scan_exact(data)
    if not _has_special(data, start, end, pats):
        return Scan()
    found = _scan_fast(data, start, end, pats)
    return scan_exact(data) if found is None else found


def may_have_special(data: bytes) -> bool:
    """Whether a sheet might hold a formula, error or unreadable cell (False is certain)."""
    plan = _plan(data)
    if plan is None:
        return True
    prefixes, start, end = plan
    pats = _patterns(prefixes)
    return _trouble(data, start, end, pats) or _has_special(data, start, end, pats)


def _trouble(data: bytes, start: int, end: int, pats: _Patterns,
             shared_strings: bool = True) -> bool:
    """Whether the sheet data holds a spelling only the exact scan reads right.

    On a 50,000-line sheet every pass over the bytes costs about as much as a tenth of the
    whole validation, so each check is a literal search first, and its pattern is searched
    only where the literal is found (which in most sheets it is not).
    """
    if pats.colon and _foreign_prefix(data, start, end):
        return True
    if _entity_in_value(data, start, end, pats):
        return True
    for gate, pattern in pats.trouble:
        if gate and gate[0] == b'"s"' and not shared_strings:
            continue  # without a shared-string table calamine refuses any shared cell
        if all(data.find(g, start, end) == -1 for g in gate):
            continue
        if pattern.search(data, start, end):
            return True
    return False


def _entity_in_value(data: bytes, start: int, end: int, pats: _Patterns) -> bool:
    """Whether a ``<v>`` holds a character or entity reference (``&`` in text is common)."""
    pos = data.find(b"&", start, end)
    seen = 0
    while pos != -1:
        seen += 1
        if seen > 1000:
            return pats.entity.search(data, start, end) is not None
        opener = data.rfind(b"<", start, pos)
        if opener != -1 and pats.entity.match(data, opener, pos + 1):
            return True
        pos = data.find(b"&", pos + 1, end)
    return False


def _foreign_prefix(data: bytes, start: int, end: int) -> bool:
    """Whether a prefixed element (``<q:c``) lies in a sheet whose main namespace is the
    default one; colons elsewhere (text, ``xml:space``) do not count."""
    pos = data.find(b":", start, end)
    seen = 0
    while pos != -1:
        seen += 1
        if seen > 1000:  # a text-heavy sheet: let the pattern decide
            return re.search(rb"</?[\w.-]+:", data[start:end]) is not None
        opener = data.rfind(b"<", max(start, pos - 64), pos)
        name = data[opener + 1:pos].lstrip(b"/") if opener != -1 else b""
        if name and re.fullmatch(rb"[\w.-]+", name):
            return True
        pos = data.find(b":", pos + 1, end)
    return False


def _has_special(data: bytes, start: int, end: int, pats: _Patterns) -> bool:
    """Whether the sheet data may hold a formula or an error cell."""
    for opener in pats.formula_openers:
        pos = data.find(opener, start, end)
        while pos != -1:
            if data[pos + len(opener):pos + len(opener) + 1] in (b" ", b"\t", b"\r", b"\n",
                                                                 b">", b"/"):
                return True
            pos = data.find(opener, pos + len(opener), end)
    return any(data.find(q, start, end) != -1 for q in (b'"e"', b"'e'"))


# -- the fast, byte-search scan ---------------------------------------------------------------


def _plan(data: bytes) -> tuple[tuple[bytes, ...], int, int] | None:
    """(prefixes of the main namespace, start, end of the sheet data) when the bytes can be
    trusted to mean what they look like; None when only a real parse can tell."""
    root = _ROOT_RE.match(data, 0, 1 << 16)
    if root is None:
        return None
    bound: dict[bytes, bytes] = {}
    for decl in _XMLNS_RE.finditer(root.group(2)):
        bound[decl.group(1) or b""] = decl.group(2) if decl.group(2) is not None else decl.group(3)
    main = tuple(sorted(p for p, uri in bound.items() if uri.decode("utf-8", "replace")
                        in MAIN_NAMESPACES))
    if (root.group(1) or b"") not in main:
        return None
    body = root.end()
    openers = [data.find(b"<" + p + (b":" if p else b"") + b"sheetData", body) for p in main]
    first = min((pos for pos in openers if pos != -1), default=-1)
    if first == -1:
        return None
    tag = re.compile(rb"<(?:[\w.-]+:)?sheetData(?:" + _ATTR + rb"*)\s*(/?)>").match(data, first)
    if tag is None:
        return None
    if tag.group(1):
        return main, tag.end(), tag.end()
    closers = [data.rfind(b"</" + p + (b":" if p else b"") + b"sheetData") for p in main]
    last = max(closers)
    if last < tag.end():
        return None
    for marker in (b"<!", b"<?", b"xmlns"):
        # a comment or CDATA section could hide or fake a tag, and a prefix declared below
        # the root may mean anything where it is declared
        if data.find(marker, body, last) != -1:
            return None
    return main, tag.end(), last


@dataclass(frozen=True)
class _Patterns:
    """The byte patterns for one set of main-namespace prefixes."""

    formula_openers: tuple[bytes, ...]
    entity: re.Pattern[bytes]
    colon: bool
    """Whether to look for prefixed elements (the main namespace is the default one)."""
    special: re.Pattern[bytes]
    trouble: tuple[tuple[tuple[bytes, ...], re.Pattern[bytes]], ...]
    """(literal gates, pattern): the pattern is searched only where a gate is found."""
    cell_start: re.Pattern[bytes]
    cell_tag: re.Pattern[bytes]
    cell_end: re.Pattern[bytes]
    formula: re.Pattern[bytes]
    value: re.Pattern[bytes]


@functools.lru_cache(maxsize=8)
def _patterns(prefixes: tuple[bytes, ...]) -> _Patterns:
    p = rb"(?:" + b"|".join(re.escape(x + b":") if x else b"" for x in prefixes) + rb")"
    a = _ATTR
    v_open = rb"<" + p + rb"v" + a + rb"*\s*>"
    named = [re.escape(x + b":") for x in prefixes if x]
    foreign = rb"</?" + (rb"(?!" + b"|".join(named) + rb")" if named else b"") + rb"[\w.-]+:"
    if b"" not in prefixes:
        foreign += rb"|</?[\w.-]+[\s/>]"
    return _Patterns(
        formula_openers=tuple(b"<" + x + (b":" if x else b"") + b"f" for x in prefixes),
        colon=prefixes == (b"",),
        entity=re.compile(v_open + rb"[^<]*&"),
        special=re.compile(rb"<" + p + rb"f[\s>/]|\st\s*=\s*[\"']e[\"']"),
        trouble=(
            # an element of another namespace where prefixes are not all the main one
            ((b":",) if prefixes != (b"",) else (), re.compile(foreign)),
            # a shared-string index that is not a plain whole number
            ((b'"s"', b"'s'"), re.compile(rb"""(?:"s"|'s')""" + a + rb"*\s*>\s*" + v_open
                                         + rb"(?![0-9]{1,9}</" + p + rb"v\s*>)")),
            # an inline-text cell with a <v> before or after its text (plainly spelled:
            # the exact scan also sees them spelled with spaces or attributes)
            ((b'"inlineStr"><v', b"'inlineStr'><v", b"</is><v"),
             re.compile(rb"inlineStr[\"']" + a + rb"*\s*>\s*<" + p + rb"v[\s>/]|</" + p
                        + rb"is\s*>\s*<" + p + rb"v[\s>/]")),
        ),
        cell_start=re.compile(rb"<" + p + rb"c[\s>/]"),
        cell_tag=re.compile(rb"<" + p + rb"c(" + a + rb"*)\s*(/?)>"),
        cell_end=re.compile(rb"</" + p + rb"c\s*>"),
        formula=re.compile(rb"<" + p + rb"f(" + a + rb"*)\s*(?:/>|>([^<]*)</" + p + rb"f\s*>)"),
        value=re.compile(v_open + rb"([^<]*)</" + p + rb"v\s*>"),
    )


def attributes(raw: bytes) -> dict[str, str]:
    """The attributes of a start tag's attribute text, by qualified name, entities decoded."""
    out = {}
    for m in _ATTR_RE.finditer(raw):
        value = m.group(2) if m.group(2) is not None else m.group(3)
        out[m.group(1).decode("utf-8", "replace")] = html.unescape(
            value.decode("utf-8", "replace"))
    return out


def _key(ref: str | None) -> Key | None:
    found = _REF_RE.fullmatch(ref or "")
    if found is None:
        return None
    return int(found.group(2)), column_index_from_string(found.group(1).upper())


def _scan_fast(data: bytes, start: int, end: int, pats: _Patterns) -> Scan | None:
    """The special cells of a plainly spelled sheet; None when a cell does not parse."""
    out = Scan()
    shared: dict[str, str] = {}
    pending: list[tuple[Key, str]] = []
    done: set[int] = set()
    for match in pats.special.finditer(data, start, end):
        pos = match.start()
        starts = list(pats.cell_start.finditer(data, max(start, pos - _LOOKBACK), pos + 1))
        if not starts:
            return None
        tag = pats.cell_tag.match(data, starts[-1].start())
        if tag is None:
            return None
        if tag.start() in done:
            continue
        done.add(tag.start())
        attrs = attributes(tag.group(1))
        key = _key(attrs.get("r"))
        if key is None:
            return None
        if tag.group(2):
            if pos >= tag.end():  # the match lies beyond an empty cell: not inside a cell
                return None
            continue
        close = pats.cell_end.search(data, tag.end(), end)
        if close is None or close.start() < pos:
            return None
        body = data[tag.end():close.start()]
        if attrs.get("t") == "e":
            value = pats.value.search(body)
            out.errors[key] = _text(value.group(1)) if value else "#VALUE!"
        formula = pats.formula.search(body)
        if formula is None:
            if b"<" in body and re.search(rb"<[\w.-]*:?f[\s>/]", body):
                return None  # an <f> the pattern could not read
            continue
        fattrs = attributes(formula.group(1))
        si = fattrs.get("si", "")
        text = _text(formula.group(2))
        if text:
            out.formulas[key] = "=" + text
            if si:
                shared.setdefault(si, out.formulas[key])
        else:
            pending.append((key, si))
    for key, si in pending:
        out.formulas[key] = shared.get(si, "=")
    return out


def _text(raw: bytes | None) -> str:
    return html.unescape(raw.decode("utf-8", "replace")) if raw else ""


# -- the exact scan -----------------------------------------------------------------------------


class SheetXmlError(ValueError):
    """A worksheet's XML is not well formed, or has a DTD (never expanded here)."""


class _Exact:
    """Expat handlers that follow sheetData > row > c and record what the cells say.

    Elements are followed by local name, as calamine reads them; a cell that is not a
    spreadsheetml ``c`` directly in a ``row`` directly in ``sheetData``, or that has a child
    ``f``, ``v`` or ``is`` of another namespace, is unreadable (calamine would still read it).
    """

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.out = Scan()
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
        key = _key(attrs.get("r"))
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
        if key in self.seen:
            self.out.problems[key] = PROBLEMS["twice"]
        self.seen.add(key)

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
        if self.text is not None:
            self.text.append(text)

    def _cell_done(self) -> None:
        key, kind, values = self.key, self.kind, self.values
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
        elif self.formula is not None or kind == "e":
            problem = None
        elif len(values) > 1:
            problem = "two_values"
        elif values and self.odd_spelling:
            problem = "spelling"
        elif kind == "s" and values and not _SHARED_INDEX_RE.fullmatch(values[0]):
            problem = "shared"
        elif kind == "inlineStr" and values:
            problem = "inline"
        elif kind == "n" and self.inline:
            problem = "text_in_number"
        elif kind == "n" and values and not _NUMBER_RE.fullmatch(values[0]):
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


def scan_exact(data: bytes) -> Scan:
    """The slow, exact scan: a namespace-aware parse of the whole sheet.

    Only ``f`` and ``v`` elements of the spreadsheetml namespace directly inside a ``c``
    inside a ``row`` inside ``sheetData`` count; cells without an ``r`` are placed by position.
    Raises `SheetXmlError` when the XML is not well formed or has a DTD.
    """
    return _Exact(data).run()
