"""Read the filled values of a Word form back, normalised exactly as workbook values are.

Every input is found, in this order of trust, by

1. its content control's ``w:tag`` (what Word and WPS keep);
2. the bookmark of the same name (LibreOffice 7.4 drops every tag on a re-save but keeps
   bookmarks; it moves a bookmark's start into the control, which is still found);
3. the control's ``w:alias`` (LibreOffice keeps it on plain-text controls only).

A control is empty when its text is one of the placeholder texts qmsforms writes, or its own
placeholder (the glossary building block Word keeps for a placeholder a template author
edited); any other text is a value. The ``w:showingPlcHdr`` flag decides nothing: LibreOffice
drops it from blanks, and a script that replaces a control's text can leave it on.
A plain-text control LibreOffice split into several pieces is read once, every line of it
(see `qmsforms.word.ooxml.split_value`). Repeating tables are read row by row; rows without any
value are ignored, and rows a user added (copies of an issued row) are read too.

Each value's location is ``("document", "table 2 row 3 column 4")`` (or ``"paragraph 14"``),
and the content-control tag is kept beside it, so issues name the tag as their field.
"""

from __future__ import annotations

import io
import logging
import os
import posixpath
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from docx.document import Document as DocxDocument
from lxml import etree  # type: ignore[import-untyped]

from .. import normalize as nz
from ..extract import NORMALISERS, Extraction, Loc
from ..fields import FieldSpec
from ..issues import Code, Issue, UsageError
from ..registry import FormDef
from ..workspace import Workspace
from .blank import table_bookmark
from .ooxml import (
    ALL_PLACEHOLDERS,
    checkbox_state,
    content_text,
    control_kind,
    dropdown_items,
    glossary_texts,
    iter_sdts,
    placeholder_part,
    prop,
    split_value,
    w,
)
from .props import PARSER, producer, read_word_identity

SHEET = "document"
"""What `Issue.sheet` says for a location in a Word document."""

MAX_DOCUMENT_BYTES = 64 * 2**20
GLOSSARY = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
            "glossaryDocument")
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"

log = logging.getLogger(__name__)


@dataclass
class WordExtraction(Extraction):
    """An `Extraction` of a Word form, plus the tag behind each location and the producer."""

    tags: dict[str, str] = field(default_factory=dict)
    """Position string -> content-control tag (``d3_actions.owner``) found there."""
    producer: str = ""
    unbound: list[str] = field(default_factory=list)

    def tag_at(self, loc: Loc) -> str | None:
        """The tag of the control a location was read from."""
        where = self.where.get(loc)
        return self.tags.get(where[1]) if where else None


@dataclass
class _Found:
    raw: Any
    position: str
    kind: str
    via: str
    lost_breaks: int = 0
    """Line breaks LibreOffice moved out of the control, in front of it."""


def document_xml(source: Any) -> tuple[Any, str]:
    """The parsed ``word/document.xml`` root and the producing application of a .docx."""
    root, app, _ = _parts(source)
    return root, app


def _parts(source: Any) -> tuple[Any, str, dict[str, str]]:
    """``document.xml`` root, producing application and glossary texts of a .docx."""
    if isinstance(source, DocxDocument):
        blob = etree.tostring(source.element)
        glossary = next((rel.target_part.blob for rel in source.part.rels.values()
                         if rel.reltype == GLOSSARY and not rel.is_external), None)
        return etree.fromstring(blob, PARSER), "", _glossary(glossary)
    data = source if isinstance(source, bytes) else None
    handle = io.BytesIO(data) if data is not None else os.fspath(source)
    with zipfile.ZipFile(handle) as zf:
        blob = _member(zf, "word/document.xml")
        glossary = _glossary_part(zf)
    root = etree.fromstring(blob, PARSER)
    return root, producer(data if data is not None else handle), _glossary(glossary)


def _member(zf: zipfile.ZipFile, name: str) -> bytes:
    info = zf.getinfo(name)
    if info.file_size > MAX_DOCUMENT_BYTES:
        raise ValueError(f"{name} is too large")
    return zf.read(info)


def _glossary_part(zf: zipfile.ZipFile) -> bytes | None:
    """The glossary document (Word's building blocks, placeholders among them), if any."""
    try:
        rels = etree.fromstring(_member(zf, "word/_rels/document.xml.rels"), PARSER)
    except KeyError:
        return None
    for rel in rels.iter(f"{{{PACKAGE_RELS}}}Relationship"):
        if rel.get("Type") == GLOSSARY and rel.get("TargetMode") != "External":
            target = rel.get("Target", "")
            name = (target.lstrip("/") if target.startswith("/")
                    else posixpath.normpath(posixpath.join("word", target)))
            try:
                return _member(zf, name)
            except KeyError:
                log.warning("the glossary part %s named by the document is missing", name)
    return None


def _glossary(blob: bytes | None) -> dict[str, str]:
    return glossary_texts(etree.fromstring(blob, PARSER)) if blob else {}


class _Document:
    """Index of one document body: positions, tags, aliases and bookmarks."""

    def __init__(self, root: Any, glossary: dict[str, str] | None = None) -> None:
        self.glossary = glossary or {}
        body = root.find(w("w:body"))
        self.body = body if body is not None else root
        self.order = {node: i for i, node in enumerate(self.body.iter())}
        self.tables = {t: i for i, t in enumerate(self.body.iter(w("w:tbl")), start=1)}
        self.paragraphs = {p: i for i, p in enumerate(self.body.iterchildren(w("w:p")),
                                                         start=1)}
        self.by_tag: dict[str, list[Any]] = {}
        self.by_alias: dict[str, list[Any]] = {}
        for sdt in iter_sdts(self.body):
            tag, alias = prop(sdt, "w:tag"), prop(sdt, "w:alias")
            if tag:
                self.by_tag.setdefault(tag, []).append(sdt)
            elif alias:
                self.by_alias.setdefault(alias, []).append(sdt)
        self.starts: dict[str, Any] = {}
        self.ends: dict[str, Any] = {}
        for mark in self.body.iter(w("w:bookmarkStart")):
            self.starts.setdefault(mark.get(w("w:name"), ""), mark)
        for mark in self.body.iter(w("w:bookmarkEnd")):
            self.ends.setdefault(mark.get(w("w:id"), ""), mark)

    # -- positions ------------------------------------------------------------------------

    def rows_of(self, tbl: Any) -> list[Any]:
        return [tr for tr in tbl.iter(w("w:tr")) if _nearest(tr, "w:tbl") is tbl]

    def cells_of(self, tr: Any) -> list[Any]:
        return [tc for tc in tr.iter(w("w:tc")) if _nearest(tc, "w:tr") is tr]

    def position(self, node: Any) -> str:
        inner = node.find(f".//{w('w:tc')}") if node.tag == w("w:sdt") else None
        tc = inner if inner is not None else _nearest(node, "w:tc", self_too=True)
        if tc is not None:
            tr = _nearest(tc, "w:tr")
            tbl = _nearest(tr, "w:tbl")
            row = self.rows_of(tbl).index(tr) + 1
            col = self.cells_of(tr).index(tc) + 1
            return f"table {self.tables.get(tbl, 0)} row {row} column {col}"
        for ancestor in [node, *node.iterancestors()]:
            if ancestor in self.paragraphs:
                return f"paragraph {self.paragraphs[ancestor]}"
        return "document"

    def row_position(self, tr: Any) -> str:
        tbl = _nearest(tr, "w:tbl")
        return f"table {self.tables.get(tbl, 0)} row {self.rows_of(tbl).index(tr) + 1}"

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

    def in_bookmark(self, name: str) -> tuple[Any | None, Any | None]:
        """(first control, start mark) of the bookmark ``name``; (None, mark) if no control."""
        start = self.starts.get(name)
        if start is None:
            return None, None
        holder = _nearest(start, "w:sdt")
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

    def bookmark_text(self, start: Any) -> str:
        end = self.ends.get(start.get(w("w:id"), ""))
        lo, hi = self.order[start], self.order.get(end, self.order[start])
        return "".join(t.text or "" for t in self.body.iter(w("w:t"))
                       if lo < self.order[t] < hi)


def _nearest(node: Any, tag: str, self_too: bool = False) -> Any | None:
    if node is None:
        return None
    if self_too and node.tag == w(tag):
        return node
    return next(node.iterancestors(w(tag)), None)


def _value(doc: _Document, pieces: list[Any], via: str) -> _Found:
    first = pieces[0]
    kind = control_kind(first)
    position = doc.position(first)
    if kind == "checkbox":
        return _Found(checkbox_state(first), position, kind, via)
    placeholders = doc.placeholders(first)
    content = first.find(w("w:sdtContent"))
    text = content_text(content) if content is not None else ""
    if kind == "dropdown":
        shown = text.strip()
        items = dropdown_items(first)
        value = next((v for v, s in items if s.strip() == shown), shown)
        if shown in placeholders or not value:
            return _Found(None, position, kind, via)
        return _Found(value, position, kind, via)
    if kind == "date":
        if not text.strip():
            picker = first.find(f"{w('w:sdtPr')}/{w('w:date')}")
            full = picker.get(w("w:fullDate")) if picker is not None else None
            text = (full or "")[:10]
        return _Found(text if text.strip() not in placeholders else None, position, kind, via)
    text = split_value(pieces)
    return _Found(None if text.strip() in placeholders else text, position, kind, via)


def _find(doc: _Document, name: str) -> _Found | None:
    tagged = doc.by_tag.get(name)
    if tagged:
        return _value(doc, [tagged[0]], "tag")
    first, start = doc.in_bookmark(name)
    if first is not None:
        found = _value(doc, doc.pieces(first), "bookmark")
        lo, hi = doc.order[start], doc.order[first]
        found.lost_breaks = sum(1 for br in doc.body.iter(w("w:br")) if lo < doc.order[br] < hi)
        return found
    if start is not None:
        text = doc.bookmark_text(start)
        return _Found(text if text.strip() not in ALL_PLACEHOLDERS else None,
                      doc.position(start), "text", "bookmark")
    aliased = doc.by_alias.get(name)
    if aliased:
        return _value(doc, doc.pieces(aliased[0]), "alias")
    return None


def _cell_found(doc: _Document, tc: Any) -> _Found:
    sdts = [s for s in tc.iter(w("w:sdt"))]
    if sdts:
        return _value(doc, doc.pieces(sdts[0]), "bookmark")
    text = content_text(tc)
    return _Found(text if text.strip() not in ALL_PLACEHOLDERS else None, doc.position(tc),
                  "text", "bookmark")


def _table_rows(doc: _Document, spec: FieldSpec) -> list[tuple[Any, dict[str, _Found]]] | None:
    """(row element, column -> value) for every row of a repeating table; None if not found."""
    names = {c.name for c in spec.columns}
    tagged: dict[Any, dict[str, _Found]] = {}
    for tag, sdts in doc.by_tag.items():
        table, _, column = tag.partition(".")
        if table != spec.name or column not in names:
            continue
        for sdt in sdts:
            tr = _nearest(sdt, "w:tr")
            if tr is not None:
                tagged.setdefault(tr, {}).setdefault(column, _value(doc, [sdt], "tag"))
    if tagged:
        return sorted(tagged.items(), key=lambda item: doc.order[item[0]])
    columns: dict[int, str] = {}
    rows: Counter[Any] = Counter()
    for row in range(1, 100):
        for col in spec.columns:
            start = doc.starts.get(table_bookmark(spec.name, row, col.name))
            tc = _nearest(start, "w:tc") if start is not None else None
            if tc is None:
                continue
            tr = _nearest(tc, "w:tr")
            columns[doc.cells_of(tr).index(tc)] = col.name
            rows[tr] += 1
    if not rows:
        return None
    first = min(rows, key=lambda tr: doc.order[tr])
    table_rows = doc.rows_of(_nearest(first, "w:tbl"))
    out = []
    for tr in table_rows[table_rows.index(first):]:
        cells = doc.cells_of(tr)
        out.append((tr, {name: _cell_found(doc, cells[i]) for i, name in columns.items()
                         if i < len(cells)}))
    return out


def _blank(found: _Found) -> bool:
    return found.raw is None or found.raw is False or (
        isinstance(found.raw, str) and not found.raw.strip())


def _normalise(spec: FieldSpec, found: _Found, tag: str, loc: Loc,
               out: WordExtraction) -> Any:
    out.where[loc] = (SHEET, found.position)
    out.tags[found.position] = tag
    raw = found.raw
    if isinstance(raw, bool):
        return raw
    if spec.kind == "ticks":
        return next((level[0] for level in spec.levels if str(level[0]) == raw), raw)
    try:
        return NORMALISERS[spec.kind](spec, raw, "")
    except nz.NormalizeError as exc:
        out.issues.append(Issue.make(Code[exc.code], field=tag, sheet=SHEET,
                                     cell=found.position, value=raw, label=spec.labels,
                                     detail=exc.detail))
        out.failed.add(loc)
        return None


def _unbound(spec: FieldSpec, tag: str, out: WordExtraction) -> None:
    out.unbound.append(tag)
    out.issues.append(Issue.make(Code.FIELD_NOT_BOUND, field=tag, sheet=SHEET,
                                 label=spec.labels))


def _line_breaks(spec: FieldSpec, found: _Found, out: WordExtraction) -> None:
    if spec.kind == "longtext" and found.lost_breaks and found.raw:
        out.issues.append(Issue.make(Code.LINE_BREAKS_LOST, field=spec.name, sheet=SHEET,
                                     cell=found.position, label=spec.labels))


def read_word(source: Any, form: FormDef) -> WordExtraction:
    """Read and normalise every field of ``form`` from a .docx (path, bytes or `Document`)."""
    root, app, glossary = _parts(source)
    doc = _Document(root, glossary)
    out = WordExtraction(producer=app)
    for spec in form.fields:
        if spec.kind == "table":
            _read_table(doc, spec, out)
            continue
        found = _find(doc, spec.name)
        if found is None:
            _unbound(spec, spec.name, out)
            continue
        value = _normalise(spec, found, spec.name, (spec.name,), out)
        _line_breaks(spec, found, out)
        if value is not None:
            out.values[spec.name] = value
    return out


def _read_table(doc: _Document, spec: FieldSpec, out: WordExtraction) -> None:
    rows = _table_rows(doc, spec)
    if rows is None:
        _unbound(spec, spec.name, out)
        return
    lines: list[dict[str, Any]] = []
    for tr, found in rows:
        if all(_blank(f) for f in found.values()):
            continue
        index = len(lines)
        line: dict[str, Any] = {}
        for column in spec.columns:
            if column.name not in found:
                continue
            tag = f"{spec.name}.{column.name}"
            value = _normalise(column, found[column.name], tag, (spec.name, index, column.name),
                               out)
            if value is not None:
                line[column.name] = value
        position = doc.row_position(tr)
        out.where[(spec.name, index)] = (SHEET, position)
        out.tags[position] = spec.name
        lines.append(line)
    first_tr = rows[0][0]
    table_position = f"table {doc.tables.get(_nearest(first_tr, 'w:tbl'), 0)}"
    out.where[(spec.name,)] = (SHEET, table_position)
    out.tags[table_position] = spec.name
    out.values[spec.name] = lines


def extract_word(source: Any, form: FormDef | None = None, workspace: Workspace | None = None,
                 ) -> tuple[dict[str, Any], dict[Loc, tuple[str, str]], list[Issue]]:
    """``(values, where, issues)`` of a filled Word form; see `read_word` for the details.

    Without ``form`` the form is the one the file's identity names, looked up in
    ``workspace`` (default: the current one); `UsageError` when the file has no known identity.
    """
    if form is None:
        identity = read_word_identity(source)
        if identity is None:
            raise UsageError("the document carries no qmsforms identity")
        form = (workspace or Workspace()).registry.get(identity.form)
    found = read_word(source, form)
    return found.values, found.where, found.issues
