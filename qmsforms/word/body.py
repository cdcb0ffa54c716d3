"""The body of a returned Word form as the reader sees it: controls, bookmarks, cells, values.

`Body` indexes one ``w:body`` once (document order, tags, aliases, bookmarks, table rows and
cells); `control_value` reads what one control (or the pieces LibreOffice split it into) holds;
`agree` decides what several controls bound to the same input say together: one value, or a
clash to refuse. Positions are what issues show: ``"table 2 row 3 column 4"`` or
``"paragraph 14"``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .ooxml import (
    ALL_PLACEHOLDERS,
    checkbox_state,
    content_text,
    control_kind,
    dropdown_items,
    iter_sdts,
    placeholder_part,
    prop,
    split_value,
    w,
)


@dataclass
class Found:
    """One value as found in the document, before normalisation."""

    raw: Any
    """The text (None when empty or a placeholder), or a check box's state."""
    position: str
    kind: str
    via: str
    """How the input was found: ``tag``, ``bookmark``, ``alias`` or ``position``."""
    key: tuple[Any, ...] = ()
    """The elements the value was read from: a control's pieces, a cell or a bookmark start."""
    lost_breaks: int = 0
    """Line breaks LibreOffice moved out of the control, in front of it."""
    replaced: bool = False
    """The control is gone and typed text runs beyond its bookmark (see `Body.overflows`)."""


def nearest(node: Any, tag: str, self_too: bool = False) -> Any | None:
    """The nearest ancestor of ``node`` (or ``node`` itself with ``self_too``) named ``tag``."""
    if node is None:
        return None
    if self_too and node.tag == w(tag):
        return node
    return next(node.iterancestors(w(tag)), None)


def related(a: Any, b: Any) -> bool:
    """Whether one element is the other or contains it."""
    return a is b or any(x is a for x in b.iterancestors()) or any(
        x is b for x in a.iterancestors())


def is_blank(found: Found) -> bool:
    """No value: empty, a placeholder or an unticked check box (a row of these is unused)."""
    return found.raw is None or found.raw is False or (
        isinstance(found.raw, str) and not found.raw.strip())


def holds_value(found: Found) -> bool:
    """Something a person put there: text, or a check box in either state."""
    return found.raw is not None and not (isinstance(found.raw, str) and not found.raw.strip())


def _comparable(raw: Any) -> Any:
    return raw.strip() if isinstance(raw, str) else raw


def agree(candidates: list[Found]) -> tuple[Found | None, list[Found]]:
    """What the controls bound to one input say together.

    ``(value, [])`` when every control holding a value holds the same one (the first of them;
    or the first control when none holds a value), ``(None, clashing)`` when they differ.
    """
    valued = [f for f in candidates if holds_value(f)]
    if len({_comparable(f.raw) for f in valued}) > 1:
        return None, valued
    if valued:
        return valued[0], []
    return (candidates[0] if candidates else None), []


def same_source(a: Found, b: Found) -> bool:
    """Whether two values were read from the same elements (or one from within the other)."""
    return any(related(x, y) for x in a.key for y in b.key)


class Sources:
    """The elements some values were read from, and every element above them: whether
    another value was read from (part of) one of them costs the depth of the document, not
    the number of values (a table of thousands of rows, thousands of copies of a control)."""

    def __init__(self, founds: Iterable[Found] = ()) -> None:
        """Start with the elements of ``founds``."""
        self.nodes: set[Any] = set()
        self.above: set[Any] = set()
        for found in founds:
            self.add(found)

    def add(self, found: Found) -> None:
        """Note the elements ``found`` was read from."""
        for node in found.key:
            if node not in self.nodes:
                self.nodes.add(node)
                self.above.update(node.iterancestors())

    def overlaps(self, found: Found) -> bool:
        """Whether ``found`` was read from a noted element, from within one, or from one
        holding one (`same_source` with any noted value)."""
        return any(node in self.nodes or node in self.above
                   or any(up in self.nodes for up in node.iterancestors())
                   for node in found.key)


class Candidates(list[Found]):
    """The values bound to one input, none read from (part of) an element another was."""

    def __init__(self) -> None:
        """No value yet."""
        super().__init__()
        self.sources = Sources()


def add_candidate(candidates: list[Found], found: Found) -> None:
    """Append ``found`` unless it was read from (part of) an element already read."""
    if isinstance(candidates, Candidates):
        if not candidates.sources.overlaps(found):
            candidates.append(found)
            candidates.sources.add(found)
    elif not any(same_source(found, other) for other in candidates):
        candidates.append(found)


class Body:
    """Index of one document body: positions, tags, aliases, bookmarks, rows and cells."""

    def __init__(self, root: Any, glossary: dict[str, str] | None = None) -> None:
        self.glossary = glossary or {}
        body = root.find(w("w:body"))
        self.body = body if body is not None else root
        self.order = {node: i for i, node in enumerate(self.body.iter())}
        for tc in self.body.iter(w("w:tc")):
            tr = nearest(tc, "w:tr")
            if tr is None or nearest(tr, "w:tbl") is None:
                raise ValueError("a table cell outside a table row or table")
        self.tables = {t: i for i, t in enumerate(self.body.iter(w("w:tbl")), start=1)}
        self.paragraphs = {p: i for i, p in enumerate(self.body.iterchildren(w("w:p")),
                                                         start=1)}
        self.sdts = list(iter_sdts(self.body))
        self.by_tag: dict[str, list[Any]] = {}
        self.by_alias: dict[str, list[Any]] = {}
        for sdt in self.sdts:
            tag, alias = prop(sdt, "w:tag"), prop(sdt, "w:alias")
            if tag:
                self.by_tag.setdefault(tag, []).append(sdt)
            elif alias:
                self.by_alias.setdefault(alias, []).append(sdt)
        self._rows: dict[Any, list[Any]] = {}
        self._cells: dict[Any, list[Any]] = {}
        self._numbers: dict[Any, dict[Any, int]] = {}
        self.starts: dict[str, Any] = {}
        self.ends: dict[str, Any] = {}
        for mark in self.body.iter(w("w:bookmarkStart")):
            self.starts.setdefault(mark.get(w("w:name"), ""), mark)
        for mark in self.body.iter(w("w:bookmarkEnd")):
            self.ends.setdefault(mark.get(w("w:id"), ""), mark)

    # -- positions ------------------------------------------------------------------------

    def rows_of(self, tbl: Any) -> list[Any]:
        """The rows of a table (not of the tables nested in it)."""
        if tbl not in self._rows:
            self._rows[tbl] = [tr for tr in tbl.iter(w("w:tr")) if nearest(tr, "w:tbl") is tbl]
        return self._rows[tbl]

    def cells_of(self, tr: Any) -> list[Any]:
        """The cells of a row (not of the tables nested in them)."""
        if tr not in self._cells:
            self._cells[tr] = [tc for tc in tr.iter(w("w:tc")) if nearest(tc, "w:tr") is tr]
        return self._cells[tr]

    def cell_of(self, node: Any) -> Any | None:
        """The table cell holding ``node``, or the one a cell-level control wraps."""
        inner = node.find(f".//{w('w:tc')}") if node.tag == w("w:sdt") else None
        return inner if inner is not None else nearest(node, "w:tc", self_too=True)

    def grid_start(self, tc: Any) -> int:
        """The grid column a cell starts at (merged cells count as the columns they span)."""
        tr = nearest(tc, "w:tr")
        before = tr.find(f"{w('w:trPr')}/{w('w:gridBefore')}") if tr is not None else None
        column = _int(before.get(w("w:val")) if before is not None else None, 0)
        for cell in self.cells_of(tr) if tr is not None else [tc]:
            if cell is tc:
                break
            span = cell.find(f"{w('w:tcPr')}/{w('w:gridSpan')}")
            column += _int(span.get(w("w:val")) if span is not None else None, 1)
        return column

    def position(self, node: Any) -> str:
        """Where ``node`` is, as issues show it."""
        tc = self.cell_of(node)
        if tc is not None:
            tr = nearest(tc, "w:tr")
            tbl = nearest(tr, "w:tbl")
            row = self.row_number(tr)
            col = self.cells_of(tr).index(tc) + 1
            return f"table {self.tables.get(tbl, 0)} row {row} column {col}"
        for ancestor in [node, *node.iterancestors()]:
            if ancestor in self.paragraphs:
                return f"paragraph {self.paragraphs[ancestor]}"
        return "document"

    def row_position(self, tr: Any) -> str:
        """Where a table row is: ``"table 5 row 3"``."""
        return f"table {self.tables.get(nearest(tr, 'w:tbl'), 0)} row {self.row_number(tr)}"

    def row_number(self, tr: Any) -> int:
        """The 1-based number of a row in its table."""
        tbl = nearest(tr, "w:tbl")
        if tbl not in self._numbers:
            self._numbers[tbl] = {row: i for i, row in enumerate(self.rows_of(tbl), start=1)}
        return self._numbers[tbl][tr]

    # -- finding controls --------------------------------------------------------------------

    def pieces(self, first: Any) -> list[Any]:
        """``first`` and the pieces LibreOffice split off it (same alias, same kind)."""
        out = [first]
        if prop(first, "w:tag"):
            return out
        alias, kind = prop(first, "w:alias"), control_kind(first)
        for sibling in first.itersiblings():
            if sibling.tag in (w("w:bookmarkStart"), w("w:bookmarkEnd")):
                continue
            if (sibling.tag != w("w:sdt") or prop(sibling, "w:tag")
                    or prop(sibling, "w:alias") != alias or control_kind(sibling) != kind):
                break
            out.append(sibling)
        return out

    def groups(self, sdts: Iterable[Any]) -> list[list[Any]]:
        """``sdts`` (in document order) as controls: LibreOffice's pieces of one go together."""
        out: list[list[Any]] = []
        seen: set[Any] = set()
        for sdt in sdts:
            if sdt in seen:
                continue
            group = self.pieces(sdt)
            seen.update(group)
            out.append(group)
        return out

    def cell_controls(self, tc: Any) -> list[Any]:
        """The outermost controls of a cell: the one wrapping it, or those inside it."""
        parent = tc.getparent()
        if parent is not None and parent.tag == w("w:sdtContent"):
            return [parent.getparent()]
        return [s for s in tc.iter(w("w:sdt"))
                if not any(a.tag == w("w:sdt") for a in _until(s, tc))]

    def in_bookmark(self, name: str) -> tuple[Any | None, Any | None]:
        """(first control, start mark) of the bookmark ``name``; (None, mark) if no control."""
        start = self.starts.get(name)
        if start is None:
            return None, None
        holder = nearest(start, "w:sdt")
        if holder is not None:
            return holder, start
        end = self.ends.get(start.get(w("w:id"), ""))
        stop = self.order.get(end, len(self.order)) if end is not None else len(self.order)
        begin = self.order[start]
        for node in start.itersiblings():
            if self.order.get(node, stop) > stop:
                break
            if node.tag == w("w:sdt"):
                return node, start
            inner = node.find(f".//{w('w:sdt')}")
            if inner is not None and begin < self.order.get(inner, stop) <= stop:
                return inner, start
        return None, start

    def placeholders(self, sdt: Any) -> frozenset[str]:
        """The texts that mean the control is empty: ours, and its own placeholder."""
        own = self.glossary.get(placeholder_part(sdt) or "")
        return ALL_PLACEHOLDERS | {own.strip()} if own and own.strip() else ALL_PLACEHOLDERS

    def _span(self, start: Any) -> tuple[int, int]:
        end = self.ends.get(start.get(w("w:id"), ""))
        return self.order[start], self.order.get(end, self.order[start])

    def bookmark_text(self, start: Any) -> str:
        """The text between a bookmark's start and its end."""
        lo, hi = self._span(start)
        return "".join(t.text or "" for t in self.body.iter(w("w:t"))
                       if lo < self.order[t] < hi)

    def overflows(self, start: Any) -> bool:
        """Whether the cell (or paragraph) of a bookmark holds plain text outside the bookmark.

        A person who selects a whole LibreOffice Input field from outside and types replaces
        the field with plain text, and the bookmark keeps only part of it (measured with
        LibreOffice 7.4): where the value ends can no longer be told. Text in other controls
        is theirs, not this input's.
        """
        container = nearest(start, "w:tc")
        if container is None:
            container = nearest(start, "w:p")
        if container is None:
            return False
        lo, hi = self._span(start)
        return any((t.text or "").strip() for t in container.iter(w("w:t"))
                   if not lo < self.order[t] < hi
                   and not any(a.tag == w("w:sdt") for a in _until(t, container)))

    def text_value(self, node: Any, text: str, via: str) -> Found:
        """A value typed as plain text (no control): empty when it is a placeholder."""
        return Found(text if text.strip() not in ALL_PLACEHOLDERS else None,
                     self.position(node), "text", via, key=(node,))

    def cell_values(self, tc: Any, via: str) -> list[Found]:
        """What a cell holds: each of its controls, or its text when it has none."""
        controls = self.cell_controls(tc)
        if not controls:
            return [self.text_value(tc, content_text(tc), via)]
        return [control_value(self, group, via) for group in self.groups(controls)]


def _until(node: Any, stop: Any) -> list[Any]:
    """The ancestors of ``node`` below ``stop``."""
    out = []
    for ancestor in node.iterancestors():
        if ancestor is stop:
            break
        out.append(ancestor)
    return out


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def control_value(doc: Body, pieces: list[Any], via: str) -> Found:
    """What one control shows, read as its kind says (``pieces``: see `Body.pieces`)."""
    first = pieces[0]
    kind = control_kind(first)
    position = doc.position(first)
    key = tuple(pieces)
    if kind == "checkbox":
        return Found(checkbox_state(first), position, kind, via, key=key)
    placeholders = doc.placeholders(first)
    content = first.find(w("w:sdtContent"))
    text = content_text(content) if content is not None else ""
    if kind == "dropdown":
        shown = text.strip()
        items = dropdown_items(first)
        value = next((v for v, s in items if s.strip() == shown), shown)
        if shown in placeholders or not value:
            return Found(None, position, kind, via, key=key)
        return Found(value, position, kind, via, key=key)
    if kind == "date":
        if not text.strip():
            picker = first.find(f"{w('w:sdtPr')}/{w('w:date')}")
            full = picker.get(w("w:fullDate")) if picker is not None else None
            text = (full or "")[:10]
        return Found(text if text.strip() not in placeholders else None, position, kind, via,
                     key=key)
    text = split_value(pieces)
    return Found(None if text.strip() in placeholders else text, position, kind, via,
                 key=key)
