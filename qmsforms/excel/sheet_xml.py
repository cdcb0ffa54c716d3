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
with expat, which is slower but takes XML as XML. Both find the same formulas, errors and
unreadable cells: the fast path checks that every value is plainly written and ends its cell
and that inline-text cells are exactly their text, and counts the values the XML writes
against the values calamine read (given as ``filled``), so a cell written twice with a value,
two values in a cell or text in a number cell sends the sheet to the exact scan.
"""

from __future__ import annotations

import functools
import html
import re
import xml.parsers.expat
from dataclasses import dataclass, field

from openpyxl.utils import column_index_from_string, get_column_letter

from ..safety import EXCEL_COLS, EXCEL_ROWS

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
    "error": ("its error value is not one Excel writes", "其错误值不是 Excel 会写入的错误值"),
}
"""Why a cell is unreadable, by key: (English, Chinese), for the issue's detail."""

EXCEL_ERRORS = frozenset({
    "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
    "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#UNKNOWN!", "#CONNECT!", "#BUSY!", "#PYTHON!",
})
"""The error values Excel stores in an error cell (``t="e"``); any other is unreadable."""


@dataclass(frozen=True)
class Layout:
    """Where the sheet data of a plainly spelled sheet lies, and whether an element in it
    has a prefix where the main namespace has none (found once, used by `scan` and `fits`)."""

    plan: tuple[tuple[bytes, ...], int, int] | None
    """(prefixes of the main namespace, start, end of the sheet data); None when the sheet is
    not plainly spelled."""
    foreign: bool = False
    """A prefixed element in the sheet data of a sheet whose main namespace is the default
    one (only looked for then)."""


def layout(data: bytes) -> Layout:
    """The `Layout` of a sheet's XML."""
    plan = _plan(data)
    if plan is None or plan[0] != (b"",):
        return Layout(plan)
    return Layout(plan, _foreign_prefix(data, plan[1], plan[2]))


def scan(data: bytes, shared_strings: bool = True, filled: int | None = None,
         known: Layout | None = None) -> Scan:
    """Formula, error and unreadable cells of a sheet's XML, by the cheapest certain way.

    ``shared_strings`` False says the workbook has no shared-string table (calamine then
    refuses any shared-string cell itself), which spares one search. ``filled`` is how many
    cells of the sheet calamine read a value for: when the XML writes exactly that many
    values, no cell with a value is written twice, which the byte search cannot see by
    itself; without it a sheet with any value goes to the exact scan. ``known`` is the
    sheet's `layout`, when it was already found.
    """
    known = known or layout(data)
    if known.plan is None:
        return scan_exact(data)
    prefixes, start, end = known.plan
    pats = _patterns(prefixes)
    written = _trouble(data, start, end, pats, shared_strings, known.foreign)
    if written is None or (written and written != filled):
        return scan_exact(data)
    if not _has_special(data, start, end, pats):
        return Scan()
    found = _scan_fast(data, start, end, pats)
    return scan_exact(data) if found is None else found


def may_have_special(data: bytes) -> bool:
    """Whether a sheet might hold a formula, error or unreadable cell (False is certain).

    A cell written twice is not looked for (`scan` needs calamine's count of values for it).
    """
    plan = _plan(data)
    if plan is None:
        return True
    prefixes, start, end = plan
    pats = _patterns(prefixes)
    return _trouble(data, start, end, pats) is None or _has_special(data, start, end, pats)


def _trouble(data: bytes, start: int, end: int, pats: _Patterns,
             shared_strings: bool = True, foreign: bool | None = None) -> int | None:
    """How many values (``<v>`` and ``<is>``) the sheet data writes, or None when it holds
    a spelling only the exact scan reads right.

    Plainly written, every ``<v>`` holds a number (or text its cell type allows) and is
    directly followed by the end of its cell, every ``<is>`` is the first child of a cell
    typed ``inlineStr`` and every such cell starts with one. Then each value element
    counted is one value calamine reads, unless two share a cell (a cell written twice, a
    ``<v>`` beside inline text however spaced), which the caller's count of values read
    shows. Character references, CDATA and odd spellings of a value go to the exact scan.
    On a 50,000-line sheet each pass over the bytes costs about a twentieth of a second
    on a small machine, so the checks are as few passes as they can be: a pattern with a
    literal start searched once, counts, and single-byte searches as gates.
    """
    if pats.colon and (foreign if foreign is not None else _foreign_prefix(data, start, end)):
        return None
    quote = data.find(b"'", start, end) != -1
    for gate, pattern in pats.trouble:
        if gate and gate[0] == b'"s"' and not shared_strings:
            continue  # without a shared-string table calamine refuses any shared cell
        if all(data.find(g, start, end) == -1 for g in gate if quote or b"'" not in g):
            continue
        if pattern.search(data, start, end):
            return None
    values = 0
    for one in pats.each:
        for seen, match in enumerate(one.value_check.finditer(data, start, end)):
            if seen >= _MAX_ODD or not _plain_value_cell(data, start, end, one,
                                                         match.start()):
                return None
        values += data.count(one.value_end, start, end)
    inline = data.count(b"inlineStr", start, end)
    opened = sum(data.count(one.is_open, start, end) for one in pats.each)
    if opened != inline or (inline and sum(
            data.count(one.inline_cell, start, end) for one in pats.each) != inline):
        return None  # text in a number cell, or an inline-text cell not spelled plainly
    return values + inline


_MAX_ODD = 2000
"""Values spelled other than plainly that are checked one by one before the exact scan."""


def _plain_value_cell(data: bytes, start: int, end: int, one: _OnePrefix, pos: int) -> bool:
    """Whether the ``<v>`` at ``pos`` is its cell's only value, plainly written, of a kind
    its cell type allows (a formula's cached result, error text, a date, a number)."""
    starts = list(one.cell_start.finditer(data, max(start, pos - _LOOKBACK), pos))
    if not starts:
        return False
    tag = one.cell_tag.match(data, starts[-1].start())
    if tag is None or tag.group(2) or tag.end() > pos:
        return False
    close = data.find(one.value_end, pos, end)
    if close == -1:
        return False
    body = one.cell_body.fullmatch(data, tag.end(), close + one.value_close)
    if body is None:
        return False
    kind = attributes(tag.group(1)).get("t", "n")
    value = body.group(2).decode("utf-8", "replace")
    if body.group(1) is not None or kind in ("str", "b", "d", "e"):
        return True
    if kind == "s":
        return _SHARED_INDEX_RE.fullmatch(value) is not None
    return kind == "n" and _NUMBER_RE.fullmatch(value) is not None


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
    if data.find(b'"e"', start, end) != -1:
        return True
    return data.find(b"'", start, end) != -1 and data.find(b"'e'", start, end) != -1


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
    for gate, marker in ((b"!", b"<!"), (b"?", b"<?"), (b"xmlns", b"xmlns")):
        # a comment or CDATA section could hide or fake a tag, and a prefix declared below
        # the root may mean anything where it is declared; "!" and "?" are rare, and a
        # one-byte search costs a tenth of a longer one
        if data.find(gate, body, last) != -1 and data.find(marker, body, last) != -1:
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
    each: tuple[_OnePrefix, ...]
    """The per-prefix patterns and literals, one for each main-namespace prefix."""
    cell_start: re.Pattern[bytes]
    cell_tag: re.Pattern[bytes]
    cell_end: re.Pattern[bytes]
    formula: re.Pattern[bytes]
    value: re.Pattern[bytes]
    row_or_cell: re.Pattern[bytes]
    prefix: bytes
    """The alternation of the main-namespace prefixes, for patterns built later."""

    def styled_cell(self, letters: bytes, digits: bytes) -> re.Pattern[bytes]:
        """The start tag of the cell at column ``letters``, row ``digits`` (attributes in
        group 1), its reference written with or without ``$``, in either case."""
        return re.compile(rb"<" + self.prefix + rb"c(" + _ATTR + rb"*?\s+r\s*=\s*[\"']\$?(?i:"
                          + letters + rb")\$?" + digits + rb"[\"']" + _ATTR + rb"*)\s*/?>")


@dataclass(frozen=True)
class _OnePrefix:
    """Patterns and literals for the elements of one main-namespace prefix (often none)."""

    value_check: re.Pattern[bytes]
    """A ``<v`` that does not hold a plain number and end its cell right after it."""
    value_end: bytes
    is_open: bytes
    inline_cell: bytes
    cell_start: re.Pattern[bytes]
    cell_tag: re.Pattern[bytes]
    value_close: int
    """The length of ``</v>`` (with the prefix)."""
    cell_body: re.Pattern[bytes]


def _one_prefix(prefix: bytes) -> _OnePrefix:
    p = prefix + b":" if prefix else b""
    q = re.escape(p)
    return _OnePrefix(
        # the common numbers only: anything else is looked at one by one
        value_check=re.compile(rb"<" + q + rb"v(?!>-?[0-9]+(?:\.[0-9]+)?</" + q + rb"v></"
                               + q + rb"c>)"),
        value_end=b"</" + p + b"v></" + p + b"c>",
        is_open=b"<" + p + b"is",
        inline_cell=b' t="inlineStr"><' + p + b"is>",
        cell_start=re.compile(rb"<" + q + rb"c[\s>/]"),
        cell_tag=re.compile(rb"<" + q + rb"c(" + _ATTR + rb"*)\s*(/?)>"),
        value_close=len(b"</" + p + b"v>"),
        cell_body=re.compile(rb"(<" + q + rb"f(?:" + _ATTR + rb"*)\s*(?:/>|>[^<]*</" + q
                             + rb"f>))?<" + q + rb"v>([^<&]*)</" + q + rb"v>"),
    )


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
        ),
        each=tuple(_one_prefix(x) for x in prefixes),
        cell_start=re.compile(rb"<" + p + rb"c[\s>/]"),
        cell_tag=re.compile(rb"<" + p + rb"c(" + a + rb"*)\s*(/?)>"),
        cell_end=re.compile(rb"</" + p + rb"c\s*>"),
        formula=re.compile(rb"<" + p + rb"f(" + a + rb"*)\s*(?:/>|>([^<]*)</" + p + rb"f\s*>)"),
        value=re.compile(v_open + rb"([^<]*)</" + p + rb"v\s*>"),
        row_or_cell=re.compile(rb"<(" + p + rb"(?:row|c))(?=[\s/>])(" + a + rb"*)\s*/?>"),
        prefix=p,
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
            if attrs.get("t") == "e":
                out.errors[key] = "#VALUE!"
            continue
        close = pats.cell_end.search(data, tag.end(), end)
        if close is None or close.start() < pos:
            return None
        body = data[tag.end():close.start()]
        if attrs.get("t") == "e":
            value = pats.value.search(body)
            out.errors[key] = _text(value.group(1)) if value else "#VALUE!"
            if out.errors[key] not in EXCEL_ERRORS:
                out.problems.setdefault(key, PROBLEMS["error"])
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


# -- cell styles ------------------------------------------------------------------------------


def style_of(data: bytes, row: int, col: int) -> int:
    """The style index (``s``) of the cell at (row, col); 0 when it has none.

    A plainly spelled sheet is searched for the cell's reference; a cell written without
    one, or any other spelling, is found by indexing the sheet (`cell_styles`).
    """
    plan = _plan(data)
    if plan is not None:
        prefixes, start, end = plan
        cell = _patterns(prefixes).styled_cell(get_column_letter(col).encode(), str(row).encode())
        tag = cell.search(data, start, end)
        if tag is not None:
            style = attributes(tag.group(1)).get("s", "")
            return int(style) if style.isdigit() else 0
    return cell_styles(data).get((row, col), 0)


def cell_styles(data: bytes) -> dict[Key, int]:
    """(row, col) -> style index of every styled cell, cells without ``r`` by position.

    Rows and cells are located as `scan_exact` locates them; a sheet that is not plainly
    spelled is parsed whole. Raises `SheetXmlError` when its XML is not well formed.
    """
    plan = _plan(data)
    if plan is None:
        return _Exact(data, styles=True).run_styles()
    prefixes, start, end = plan
    out: dict[Key, int] = {}
    row = col = 0
    for tag in _patterns(prefixes).row_or_cell.finditer(data, start, end):
        attrs = attributes(tag.group(2))
        if tag.group(1).endswith(b"row"):
            ref = attrs.get("r", "")
            row = int(ref) if ref.isdigit() else row + 1
            col = 0
            continue
        key = _key(attrs.get("r"))
        if key is None:
            col += 1
            key = (row, col)
        else:
            row, col = key
        style = attrs.get("s", "")
        if style.isdigit():
            out[key] = int(style)
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
    return _Exact(data).run()


# -- how far the cells reach ------------------------------------------------------------------
#
# python-calamine reads a sheet into one rectangle from its first to its last cell holding a
# value (and the reader pads it from A1): one stray cell at XFD1048576 asks for 549 GB and the
# native allocator aborts the process. The rectangle is therefore measured from the XML first,
# as calamine places cells: by the last ``r`` attribute of a ``c`` element of any namespace in
# the first ``sheetData``, a cell without one one column right of the cell before it, in the
# row of its ``row`` element (or the row after the one before).

_LAST_REF_RE = re.compile(rb'[A-Z]{1,3}([1-9][0-9]{0,6})"')
_NO_REF_RE = re.compile(rb'<c(?! r=")[\s/>]')
_ANY_REF_RE = re.compile(r"([A-Za-z]+)([0-9]+)")


@dataclass(frozen=True)
class Extent:
    """How far the cells of a sheet reach, from A1 (1-based; 0 when no cell holds a value)."""

    rows: int = 0
    cols: int = 0
    last_row_cell: str = ""
    """A cell in the last row used."""
    last_col_cell: str = ""
    """A cell in the last column used."""
    outside: str | None = None
    """The first cell placed outside the grid of a worksheet (row 0, past row 1,048,576 or
    column ``XFD``), as its reference is written; None when there is none."""


def fits(data: bytes, max_rows: int, max_cols: int, max_cells: int,
         known: Layout | None = None) -> bool:
    """Whether every cell of a sheet certainly lies in a rectangle from A1 that fits the
    bounds (rows, columns, rows × columns); False means only `extent` can tell.

    Only a plainly written sheet is answered here: no namespace prefix in its sheet data and
    every ``c`` element starting with its reference (``<c r="B7"``). Then two searches do:
    every ``r`` attribute in the sheet data, of a cell or a row and in whatever spelling, must
    be a plain reference no longer than the last cell's row in digits, in columns that keep
    the rectangle within the bounds; and no ``c`` may lack its reference. On a 50,000-line
    sheet they cost about as much as one pass of the formula scan. ``known`` is the
    sheet's `layout`, when it was already found.
    """
    known = known or layout(data)
    if known.plan is None or known.plan[0] != (b"",):
        return False
    _, start, end = known.plan
    if start == end:
        return True
    if known.foreign:
        return False
    last = data.rfind(b'<c r="', start, end)
    found = _LAST_REF_RE.match(data, last + 6) if last != -1 else None
    row = found.group(1) if found is not None else b"1"
    # rows up to the last cell's row with its first digit raised by one: 50040 -> 59999
    first = int(row[:1])
    rows = (first + 1) * 10 ** (len(row) - 1) - 1
    cols = min(max_cols, max_cells // rows) if rows <= max_rows else 0
    if cols < 1:
        return False
    if _attribute_beyond(cols, len(row), first).search(data, start, end):
        return False
    return _NO_REF_RE.search(data, start, end) is None


@functools.lru_cache(maxsize=16)
def _attribute_beyond(cols: int, digits: int, first: int) -> re.Pattern[bytes]:
    """An ``r`` attribute that is not a plain reference, or not spelled ``r="..."``, or past
    ``cols`` columns (at most two letters) or past the ``digits``-digit rows starting with
    ``first`` or less."""
    if cols >= 702:
        letters = rb"[A-Z]{0,2}+"
    elif cols >= 26:
        letters = rb"[A-Z]?"
    else:
        letters = rb"[A-" + chr(64 + cols).encode() + rb"]?"
    rows = rb"(?:[1-" + str(first).encode() + rb"][0-9]{%d}" % (digits - 1)
    if digits > 1:
        rows += rb"|[1-9][0-9]{0,%d}" % (digits - 2)
    return re.compile(rb'r(?!="' + letters + rows + rb')")(?=\s*=)')


def column_letters(col: int) -> str:
    """``A`` for 1, ``XFD`` for 16,384, any positive column."""
    out = ""
    while col > 0:
        col, rest = divmod(col - 1, 26)
        out = chr(65 + rest) + out
    return out


def extent(data: bytes) -> Extent:
    """How far the cells of a sheet reach, read as calamine places them (see above).

    The sheet is read as a stream of tags (comments, CDATA sections and processing
    instructions skipped whole), several times faster than a parse on a large sheet. A cell
    counts unless it is written empty (``<c .../>``); a cell placed outside the grid counts
    either way. Raises `SheetXmlError` for a DTD.
    """
    rows = cols = 0
    last_row_cell = last_col_cell = ""
    outside: str | None = None
    row = col = 0
    inside = False
    for token in _LEX_RE.finditer(data):
        name, attrs = token.group("name", "attrs")
        if name is None:
            name, attrs = token.group("prefixed", "pattrs")
        if name is None:
            if token.group("decl") is not None:
                raise SheetXmlError(f"worksheet XML: a declaration at byte {token.start()}")
            if inside and token.group("end") is not None:
                break  # the end of the first sheetData: calamine reads no further
            continue
        local = name.rpartition(b":")[2]
        empty = attrs.rstrip().endswith(b"/")
        if not inside:
            if local == b"sheetData":
                if empty:
                    break
                inside = True
            continue
        if local == b"row":
            ref = _r_attribute(attrs)
            row = _number(ref) if ref.isascii() and ref.isdigit() else row + 1
            col = 0
            continue
        if local != b"c":
            continue
        ref = _r_attribute(attrs)
        found = _ANY_REF_RE.fullmatch(ref)
        if found is None:
            at_row, at_col = max(row, 1), col + 1
            ref = f"{column_letters(min(at_col, 10**6))}{at_row}"
        else:
            at_row, at_col = _number(found.group(2)), _column(found.group(1).upper())
        if outside is None and not (1 <= at_row <= EXCEL_ROWS and at_col <= EXCEL_COLS):
            outside = ref if len(ref) <= 40 else ref[:37] + "..."
        # a cell without a reference after this one follows it; its row is the later of the
        # two candidates, which is never before the one calamine takes
        row, col = max(row, at_row), at_col
        if empty:
            continue
        if at_row > rows:
            rows, last_row_cell = at_row, ref
        if at_col > cols:
            cols, last_col_cell = at_col, ref
    return Extent(rows, cols, last_row_cell, last_col_cell, outside)


_TAG_ATTRS = rb"""[^>"']*+(?:(?:"[^"]*+"|'[^']*+')[^>"']*+)*+"""
_LEX_RE = re.compile(
    rb"<(?:(?P<name>c|row|sheetData)(?=[\s/>])(?P<attrs>" + _TAG_ATTRS + rb")>"
    rb"|(?:!--.*?--|!\[CDATA\[.*?\]\]|\?.*?\?)>"
    rb"|(?P<decl>!)"
    rb"|(?P<end>/(?:[\w.-]+:)?sheetData\s*>)"
    rb"|(?P<prefixed>[\w.-]+:(?:c|row|sheetData))(?=[\s/>])(?P<pattrs>" + _TAG_ATTRS
    + rb")>)", re.S)
"""Tags of interest, and what must be skipped whole (a ``<`` in a comment is no tag)."""
_R_ATTR_RE = re.compile(rb"""(?<![\w:.-])r\s*=\s*["']([^"']*)""")


def _r_attribute(attrs: bytes) -> str:
    """The value of the last ``r`` attribute in a tag's attribute text ("" when none), as
    written (calamine takes the last one and does not decode references in it)."""
    found = _R_ATTR_RE.findall(attrs)
    return found[-1].decode("latin-1") if found else ""


_HUGE = 10**12
"""A row or column number past any sheet (longer numbers are not parsed)."""


def _number(digits: str) -> int:
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= 12 else _HUGE


def _column(letters: str) -> int:
    if len(letters) > 4:
        return _HUGE
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return col
