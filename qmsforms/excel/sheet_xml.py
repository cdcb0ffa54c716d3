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
import heapq
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

from .sheet_exact import (
    EXCEL_ERRORS,
    MAIN_NAMESPACES,
    NUMBER_RE,
    PROBLEMS,
    SHARED_INDEX_RE,
    Key,
    Scan,
    key_of,
    scan_exact,
)

_ATTR = rb"""(?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))"""
_ATTR_RE = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ROOT_RE = re.compile(rb"(?:\s|<\?[^>]*\?>|<!--.*?-->)*<(?:([\w.-]+):)?worksheet(" + _ATTR
                      + rb"*)\s*>", re.S)
_XMLNS_RE = re.compile(rb"""xmlns(?::([\w.-]+))?\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_LOOKBACK = 1024  # bytes before a <f> in which its <c ...> start tag must lie


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
    plan = plan_of(data)
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
    pats = patterns_for(prefixes)
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
    plan = plan_of(data)
    if plan is None:
        return True
    prefixes, start, end = plan
    pats = patterns_for(prefixes)
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
        if gate and gate[0] in _SHARED_TYPES and not shared_strings:
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
_SHARED_TYPES = (b'"s"', b"'s'")
"""The type attribute's value of a shared-string cell, in either quote."""
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
        return SHARED_INDEX_RE.fullmatch(value) is not None
    return kind == "n" and NUMBER_RE.fullmatch(value) is not None


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


def plan_of(data: bytes) -> tuple[tuple[bytes, ...], int, int] | None:
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
    formula_start: re.Pattern[bytes]
    """A formula element's start tag (``<f>``, ``<f t="shared" ...``)."""
    error_type: re.Pattern[bytes]
    """An error type attribute (``t="e"``), found by its literal start; the caller checks
    the whitespace before it."""
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
def patterns_for(prefixes: tuple[bytes, ...]) -> _Patterns:
    """The byte patterns of a sheet whose main namespace has these prefixes (built once)."""
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
        formula_start=re.compile(rb"<" + p + rb"f[\s>/]"),
        error_type=re.compile(rb"t\s*=\s*[\"']e[\"']"),
        trouble=(
            # an element of another namespace where prefixes are not all the main one
            ((b":",) if prefixes != (b"",) else (), re.compile(foreign)),
            # a shared-string index that is not a plain whole number, one pattern per quote:
            # a literal start is searched several times faster than a choice of two quotes
            *(((typed,), re.compile(typed + a + rb"*\s*>\s*" + v_open + rb"(?![0-9]{1,9}</"
                                    + p + rb"v\s*>)")) for typed in _SHARED_TYPES),
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


def _special_positions(data: bytes, start: int, end: int, pats: _Patterns) -> Iterator[int]:
    """Where each formula start tag and each whitespace before ``t="e"`` lies, in order.

    One pattern with the two as alternatives would be tried at every ``<`` and every space of
    the sheet; two patterns with literal starts are searched many times faster. A space that
    one pattern would have taken as part of a formula tag (``<f t="e">``) is skipped, as
    that pattern skips it.
    """
    formulas = ((m.start(), m.end()) for m in pats.formula_start.finditer(data, start, end))
    errors = ((m.start() - 1, 0) for m in pats.error_type.finditer(data, start + 1, end)
              if data[m.start() - 1] in _XML_SPACE)
    covered = start
    for pos, until in heapq.merge(formulas, errors):
        if pos >= covered:
            covered = max(covered, until)
            yield pos


_XML_SPACE = frozenset(b" \t\n\r\f\v")
"""The bytes ``\\s`` matches in a bytes pattern."""


def _scan_fast(data: bytes, start: int, end: int, pats: _Patterns) -> Scan | None:
    """The special cells of a plainly spelled sheet; None when a cell does not parse."""
    out = Scan()
    shared: dict[str, str] = {}
    pending: list[tuple[Key, str]] = []
    done: set[int] = set()
    for pos in _special_positions(data, start, end, pats):
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
        key = key_of(attrs.get("r"))
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


def _text(raw: bytes | None) -> str:
    return html.unescape(raw.decode("utf-8", "replace")) if raw else ""


