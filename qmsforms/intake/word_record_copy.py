"""The record copy of a Word form: the document as it came, with the record printed after it.

A block "qmsforms 记录 Record" is added at the end of the body, after the form and before its
section properties: a heading and a two-column table with the record id, the source, and what
was computed (for a complaint whether it was filed in time and whether it needs an 8D; for an
8D how far it has got). The form prints first, the block follows on its last page where it
fits, its rows never split. Only the main document part is rewritten; every other part of the
package is copied raw (`qmsforms.intake.zip_copy`), so what the customer filled in is kept
exactly.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lxml import etree

from ..opc import PKG_REL_NS, WORD_NS
from ..opc.xml import PARSER
from .record_copy import Unsupported
from .zip_copy import ZipCopyUnsupported, ZipWriter

_OFFICE_DOCUMENT = "/officeDocument"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_TEXT_WIDTH = 9638  # twips: A4 less 2 cm margins, when the section does not say
_HEAD_FILL = "305496"


def _w(tag: str) -> str:
    return f"{{{WORD_NS}}}{tag}"


def _sub(parent: Any, tag: str, **attrs: str) -> Any:
    return etree.SubElement(parent, _w(tag), {_w(k): v for k, v in attrs.items()})


def _run(paragraph: Any, text: str, *, bold: bool = False, size: int = 18,
         color: str | None = None) -> None:
    run = _sub(paragraph, "r")
    props = _sub(run, "rPr")
    _sub(props, "rFonts", eastAsia="SimSun")
    if bold:
        _sub(props, "b")
    if color:
        _sub(props, "color", val=color)
    _sub(props, "sz", val=str(size))
    _sub(props, "szCs", val=str(size))
    for n, line in enumerate(_NOT_XML.sub("", text).split("\n")):
        if n:
            _sub(run, "br")
        t = _sub(run, "t")
        t.text = line
        t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")


def _cell(row: Any, width: int, text: str, *, bold: bool = False, fill: str | None = None,
          color: str | None = None) -> None:
    cell = _sub(row, "tc")
    props = _sub(cell, "tcPr")
    _sub(props, "tcW", w=str(width), type="dxa")
    if fill:
        _sub(props, "shd", val="clear", color="auto", fill=fill)
    paragraph = _sub(cell, "p")
    spacing = _sub(paragraph, "pPr")
    _sub(spacing, "keepNext")
    _sub(spacing, "spacing", before="20", after="20")
    _run(paragraph, text, bold=bold, color=color)


def _text_width(body: Any) -> int:
    """The width between the margins of the document's last section, in twips."""
    size, margins = body.find(f"{_w('sectPr')}/{_w('pgSz')}"), body.find(
        f"{_w('sectPr')}/{_w('pgMar')}")
    if size is None or margins is None:
        return _TEXT_WIDTH
    try:
        width = int(size.get(_w("w"))) - int(margins.get(_w("left"))) - int(
            margins.get(_w("right")))
    except (TypeError, ValueError):
        return _TEXT_WIDTH
    return width if 2000 <= width <= 30000 else _TEXT_WIDTH


def record_block(body: Any, rows: Sequence[tuple[str, Any]], title: str) -> list[Any]:
    """The heading and table of the record block (not yet in ``body``)."""
    heading = etree.Element(_w("p"))
    props = _sub(heading, "pPr")
    _sub(props, "keepNext")
    _sub(props, "spacing", before="240", after="60")
    width = _text_width(body)
    label_width = width // 3
    table = etree.Element(_w("tbl"))
    table_props = _sub(table, "tblPr")
    _sub(table_props, "tblW", w=str(width), type="dxa")
    borders = _sub(table_props, "tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        _sub(borders, side, val="single", sz="4", space="0", color="808080")
    _sub(table_props, "tblLayout", type="fixed")
    grid = _sub(table, "tblGrid")
    _sub(grid, "gridCol", w=str(label_width))
    _sub(grid, "gridCol", w=str(width - label_width))
    head = _sub(table, "tr")
    _sub(_sub(head, "trPr"), "cantSplit")
    _cell(head, label_width, title, bold=True, fill=_HEAD_FILL, color="FFFFFF")
    _cell(head, width - label_width, "", fill=_HEAD_FILL)
    for label, value in rows:
        row = _sub(table, "tr")
        _sub(_sub(row, "trPr"), "cantSplit")
        _cell(row, label_width, label, bold=True)
        _cell(row, width - label_width, "" if value is None else str(value))
    return [heading, table]


def _main_part(src: zipfile.ZipFile, names: list[str]) -> str:
    """The main document part named by the package relationships."""
    if "_rels/.rels" not in names:
        raise Unsupported("no package relationships")
    try:
        rels = etree.fromstring(src.read("_rels/.rels"), PARSER)
    except etree.XMLSyntaxError as exc:
        raise Unsupported(str(exc)) from exc
    for rel in rels.iter(f"{{{PKG_REL_NS}}}Relationship"):
        if rel.get("Type", "").endswith(_OFFICE_DOCUMENT):
            part = posixpath.normpath(rel.get("Target", "").lstrip("/"))
            if part in names:
                return part
    raise Unsupported("no main document part")


def write_word_record_copy(source: Path, target: Path, rows: Sequence[tuple[str, Any]],
                           title: str) -> None:
    """Write ``source`` to ``target`` with the record block after the form.

    Raises `Unsupported` for a package shape it does not handle (nothing is written then).
    """
    with zipfile.ZipFile(source) as src:
        names = [i.filename for i in src.infolist()]
        if len(set(names)) != len(names):
            raise Unsupported("duplicate member names")
        part = _main_part(src, names)
        try:
            document = etree.fromstring(src.read(part), PARSER)
        except etree.XMLSyntaxError as exc:
            raise Unsupported(str(exc)) from exc
        body = document.find(_w("body"))
        if body is None:
            raise Unsupported("a document without a body")
        section = body.find(_w("sectPr"))
        for element in record_block(body, rows, title):
            if section is not None:
                section.addprevious(element)
            else:
                body.append(element)
        data = etree.tostring(document, xml_declaration=True, encoding="UTF-8",
                              standalone=True)
        try:
            with open(source, "rb") as raw, open(target, "wb") as fh:
                out = ZipWriter(fh)
                for info in src.infolist():
                    if info.filename == part:
                        out.write(part, data)
                    else:
                        out.copy(raw, info)
                out.close()
        except ZipCopyUnsupported as exc:
            Path(target).unlink(missing_ok=True)
            raise Unsupported(str(exc)) from exc
        except BaseException:
            Path(target).unlink(missing_ok=True)
            raise
