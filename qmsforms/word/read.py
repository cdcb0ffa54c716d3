"""Read the filled values of a Word form back, normalised exactly as workbook values are.

Every input is found by each of

1. its content control's ``w:tag`` (what Word and WPS keep);
2. the bookmark of the same name (LibreOffice 7.4 drops every tag on a re-save but keeps
   bookmarks; it moves a bookmark's start into the control, which is still found);
3. the control's ``w:alias`` (LibreOffice keeps it on plain-text controls only).

Every control found counts: when controls bound to one field show different values (a control
a user copied, or one given another's tag) the field is refused at each of them
(``FIELD_AMBIGUOUS``); the same value twice is that value. A bookmark whose control is gone
(typed over from outside in LibreOffice) is read as the text it holds, unless typed text runs
beyond it (``INPUT_REPLACED``).

A control is empty when its text is one of the placeholder texts qmsforms writes, or its own
placeholder (the glossary building block Word keeps for a placeholder a template author
edited); any other text is a value. The ``w:showingPlcHdr`` flag decides nothing: LibreOffice
drops it from blanks, and a script that replaces a control's text can leave it on.
A plain-text control LibreOffice split into several pieces is read once, every line of it
(see `qmsforms.word.ooxml.split_value`). Repeating tables are read row by row (see
`qmsforms.word.rows`); rows without any value are ignored, and rows a user added (copies of an
issued row) are read too.

Each value's location is ``("document", "table 2 row 3 column 4")`` (or ``"paragraph 14"``),
and the content-control tag is kept beside it, so issues name the tag as their field.
"""

from __future__ import annotations

import io
import logging
import os
import posixpath
import zipfile
from dataclasses import dataclass, field
from typing import Any

from docx.document import Document as DocxDocument
from lxml import etree

from .. import normalize as nz
from ..extraction import NORMALISERS, Extraction, Loc, Where
from ..fields import FieldSpec
from ..issues import Code, Issue, UsageError
from ..opc import PKG_REL_NS
from ..opc.xml import PARSER
from ..registry import FormDef
from ..workspace import Workspace
from . import rows
from .body import Body, Candidates, Found, add_candidate, agree, control_value
from .ooxml import glossary_texts, w
from .props import producer, read_word_identity

SHEET = "document"
"""What `Issue.sheet` says for a location in a Word document."""

MAX_DOCUMENT_BYTES = 64 * 2**20
GLOSSARY = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
            "glossaryDocument")

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
    for rel in rels.iter(f"{{{PKG_REL_NS}}}Relationship"):
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


def _candidates(doc: Body, name: str) -> list[Found]:
    """Every input bound to the single field ``name``: by tag, by bookmark, by alias."""
    out = Candidates()
    for sdt in doc.by_tag.get(name, []):  # a control inside one taken is part of it
        add_candidate(out, control_value(doc, [sdt], "tag"))
    first, start = doc.in_bookmark(name)
    if first is not None:
        found = control_value(doc, doc.pieces(first), "bookmark")
        lo, hi = doc.order[start], doc.order[first]
        if hi > lo + 1:  # something between the bookmark's start and the control
            found.lost_breaks = sum(1 for br in doc.body.iter(w("w:br"))
                                    if lo < doc.order[br] < hi)
        add_candidate(out, found)
    elif start is not None:
        found = doc.text_value(start, doc.bookmark_text(start), "bookmark")
        found.replaced = doc.overflows(start)
        add_candidate(out, found)
    for group in doc.groups(doc.by_alias.get(name, [])):
        add_candidate(out, control_value(doc, group, "alias"))
    return out


def _normalise(spec: FieldSpec, found: Found, tag: str, loc: Loc,
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


def _line_breaks(spec: FieldSpec, found: Found, out: WordExtraction) -> None:
    if spec.kind == "longtext" and found.lost_breaks and found.raw:
        out.issues.append(Issue.make(Code.LINE_BREAKS_LOST, field=spec.name, sheet=SHEET,
                                     cell=found.position, label=spec.labels))


def _ambiguous(spec: FieldSpec, tag: str, loc: Loc, clash: list[Found],
               out: WordExtraction) -> None:
    """Refuse a value shown differently by several controls, at each of them."""
    out.where[loc] = (SHEET, clash[0].position)
    out.failed.add(loc)
    for found in clash:
        out.tags[found.position] = tag
        others = ", ".join(f.position for f in clash if f is not found)
        out.issues.append(Issue.make(Code.FIELD_AMBIGUOUS, field=tag, sheet=SHEET,
                                     cell=found.position, value=found.raw, label=spec.labels,
                                     detail=others))


def _read_field(doc: Body, spec: FieldSpec, out: WordExtraction) -> None:
    candidates = _candidates(doc, spec.name)
    if not candidates:
        _unbound(spec, spec.name, out)
        return
    loc = (spec.name,)
    replaced = next((f for f in candidates if f.replaced), None)
    if replaced is not None:
        out.where[loc] = (SHEET, replaced.position)
        out.tags[replaced.position] = spec.name
        out.failed.add(loc)
        out.issues.append(Issue.make(Code.INPUT_REPLACED, field=spec.name, sheet=SHEET,
                                     cell=replaced.position, value=replaced.raw,
                                     label=spec.labels))
        return
    found, clash = agree(candidates)
    if found is None:
        _ambiguous(spec, spec.name, loc, clash, out)
        return
    value = _normalise(spec, found, spec.name, loc, out)
    _line_breaks(spec, found, out)
    if value is not None:
        out.values[spec.name] = value


def read_word(source: Any, form: FormDef) -> WordExtraction:
    """Read and normalise every field of ``form`` from a .docx (path, bytes or `Document`)."""
    root, app, glossary = _parts(source)
    doc = Body(root, glossary)
    out = WordExtraction(producer=app)
    tables = [spec for spec in form.fields if spec.kind == "table"]
    marks = rows.marks(doc, tables)
    owners = rows.owners(marks, tables)
    for spec in form.fields:
        if spec.kind == "table":
            _read_table(doc, spec, rows.read_table(doc, spec, marks, owners), out)
        else:
            _read_field(doc, spec, out)
    return out


def _read_table(doc: Body, spec: FieldSpec, table: rows.Table | None,
                out: WordExtraction) -> None:
    if table is None:
        _unbound(spec, spec.name, out)
        return
    columns = {column.name: column for column in spec.columns}
    for name in table.missing:
        _unbound(columns[name], f"{spec.name}.{name}", out)
    lines: list[dict[str, Any]] = []
    for row in table.rows:
        if row.unused:
            continue
        index = len(lines)
        line: dict[str, Any] = {}
        for name, found in row.values.items():
            tag = f"{spec.name}.{name}"
            value = _normalise(columns[name], found, tag, (spec.name, index, name), out)
            if value is not None:
                line[name] = value
        for name, clash in row.clashes.items():
            _ambiguous(columns[name], f"{spec.name}.{name}", (spec.name, index, name), clash,
                       out)
        for stray in row.strays:
            out.issues.append(Issue.make(Code.UNKNOWN_INPUT, field=spec.name, sheet=SHEET,
                                         cell=stray.position, value=stray.raw,
                                         label=spec.labels))
        position = doc.row_position(row.tr)
        out.where[(spec.name, index)] = (SHEET, position)
        out.tags[position] = spec.name
        lines.append(line)
    out.where[(spec.name,)] = (SHEET, table.position)
    out.tags[table.position] = spec.name
    out.values[spec.name] = lines


def extract_word(source: Any, form: FormDef | None = None, workspace: Workspace | None = None,
                 ) -> tuple[dict[str, Any], Where, list[Issue]]:
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
