"""The record copy of a filled workbook: the file as it came, with a first sheet "记录 Record".

The record sheet prints on A4, one page wide: its labels and values side by side, long values
wrapped.

The sheet is added to the package directly — one new worksheet part, its relationship and
content type, three cell styles appended to ``styles.xml``, and the sheet listed first in
``workbook.xml`` (sheet-scoped defined names move up one position with it). Every other part
is copied raw (`qmsforms.intake.zip_copy`: its compressed bytes as they are), except that the
sheet that was selected stops being selected. Nothing is parsed cell by cell and nothing the
customer filled in is inflated and deflated again, so a 50,000-line shipping list gets its
record copy in a fraction of a second, and what the customer filled in is kept exactly. A
package this does not understand is left to the openpyxl writer
(`qmsforms.intake.outputs.add_record_sheet`).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree

from ..excel.package import rels_part, resolve_target
from ..excel.text_width import LINE_HEIGHT, wrapped_lines
from ..opc import CONTENT_TYPES_NS, PKG_REL_NS, REL_NS, SPREADSHEET_NS
from ..opc.xml import PARSER
from .zip_copy import ZipCopyUnsupported, ZipWriter

MAIN, REL, PKG_REL, CONTENT_TYPES = SPREADSHEET_NS, REL_NS, PKG_REL_NS, CONTENT_TYPES_NS
WORKSHEET_REL = REL + "/worksheet"
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
LABEL_WIDTH, VALUE_WIDTH = 40, 66
"""Column widths of the record sheet, in characters: together one A4 page wide."""
_TAB_SELECTED = re.compile(rb"""\stabSelected\s*=\s*["'](?:1|true)["']""")


class Unsupported(Exception):
    """The package has a shape this writer does not handle; use the openpyxl writer."""


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _xml(data: bytes) -> Any:
    try:
        return etree.fromstring(data, PARSER)
    except etree.XMLSyntaxError as exc:
        raise Unsupported(str(exc)) from exc


def _dump(root: Any) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _cell(ref: str, value: Any, style: int) -> str:
    if value is None or value == "":
        return f'<c r="{ref}" s="{style}"/>'
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<c r="{ref}" s="{style}"><v>{value!r}</v></c>'
    text = escape(_NOT_XML.sub("", str(value)))
    return (f'<c r="{ref}" s="{style}" t="inlineStr"><is><t xml:space="preserve">{text}</t>'
            "</is></c>")


def _sheet_xml(rows: Sequence[tuple[str, Any]], title: str, styles: tuple[int, int, int]) -> bytes:
    head, label, value = styles
    cells = [f'<row r="1">{_cell("A1", title, head)}{_cell("B1", None, head)}</row>']
    for r, (name, data) in enumerate(rows, start=2):
        lines = max(wrapped_lines(name, LABEL_WIDTH), wrapped_lines(data, VALUE_WIDTH))
        height = f' ht="{LINE_HEIGHT * lines}" customHeight="1"' if lines > 1 else ""
        cells.append(f'<row r="{r}"{height}>{_cell(f"A{r}", name, label)}'
                     f'{_cell(f"B{r}", data, value)}</row>')
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<worksheet xmlns="{MAIN}" xmlns:r="{REL}">'
        '<sheetPr><tabColor rgb="FF305496"/><pageSetUpPr fitToPage="1"/></sheetPr>'
        f'<dimension ref="A1:B{len(rows) + 1}"/>'
        '<sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>'
        f'<cols><col min="1" max="1" width="{LABEL_WIDTH}" customWidth="1"/>'
        f'<col min="2" max="2" width="{VALUE_WIDTH}" customWidth="1"/></cols>'
        f'<sheetData>{"".join(cells)}</sheetData>'
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3"'
        ' footer="0.3"/>'
        '<pageSetup paperSize="9" orientation="portrait" fitToWidth="1" fitToHeight="0"/>'
        '</worksheet>'
    ).encode()


def _append(parent: Any, child: Any) -> int:
    """Append ``child`` to a counted list element; returns its index."""
    parent.append(child)
    count = len(parent)
    parent.set("count", str(count))
    return count - 1


def _add_styles(data: bytes) -> tuple[bytes, tuple[int, int, int]]:
    """Append the record sheet's fonts, fill and cell styles; returns their xf indices."""
    root = _xml(data)
    fonts, fills, xfs = (root.find(_q(MAIN, t)) for t in ("fonts", "fills", "cellXfs"))
    if fonts is None or fills is None or xfs is None:
        raise Unsupported("styles.xml without fonts, fills or cellXfs")

    def font(white: bool) -> Any:
        el = etree.Element(_q(MAIN, "font"))
        etree.SubElement(el, _q(MAIN, "b"))
        etree.SubElement(el, _q(MAIN, "sz"), val="11")
        if white:
            etree.SubElement(el, _q(MAIN, "color"), rgb="FFFFFFFF")
        etree.SubElement(el, _q(MAIN, "name"), val="Calibri")
        return el

    fill = etree.Element(_q(MAIN, "fill"))
    pattern = etree.SubElement(fill, _q(MAIN, "patternFill"), patternType="solid")
    etree.SubElement(pattern, _q(MAIN, "fgColor"), rgb="FF305496")
    head_font, label_font = _append(fonts, font(True)), _append(fonts, font(False))
    head_fill = _append(fills, fill)

    def xf(font_id: int, fill_id: int, **extra: str) -> int:
        el = etree.Element(_q(MAIN, "xf"), {
            "numFmtId": "0", "fontId": str(font_id), "fillId": str(fill_id), "borderId": "0",
            "xfId": "0", "applyFont": "1", **extra})
        if "applyAlignment" in extra:
            etree.SubElement(el, _q(MAIN, "alignment"), horizontal="left", vertical="top",
                             wrapText="1")
        return _append(xfs, el)

    styles = (xf(head_font, head_fill, applyFill="1"), xf(label_font, 0, applyAlignment="1"),
              xf(0, 0, applyAlignment="1"))
    return _dump(root), styles


def write_record_copy(source: Path, target: Path, rows: Sequence[tuple[str, Any]],
                      sheet_name: str, title: str) -> None:
    """Write ``source`` to ``target`` with a first, selected sheet ``sheet_name`` of ``rows``.

    Raises `Unsupported` for a package shape it does not handle (nothing is written then).
    """
    with zipfile.ZipFile(source) as src:
        names = [i.filename for i in src.infolist()]
        if len(set(names)) != len(names):
            raise Unsupported("duplicate member names")
        if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
            raise Unsupported("not a workbook package")
        book_rels_name = rels_part("xl/workbook.xml")
        book = _xml(src.read("xl/workbook.xml"))
        rels = _xml(src.read(book_rels_name))
        types = _xml(src.read("[Content_Types].xml"))
        sheets = book.find(_q(MAIN, "sheets"))
        listed = [] if sheets is None else list(sheets.iterchildren(_q(MAIN, "sheet")))
        if sheets is None or any(s.get("name") == sheet_name for s in listed):
            raise Unsupported("no sheets, or a record sheet already there")
        styles_target = next((resolve_target("xl/workbook.xml", r.get("Target", ""))
                              for r in rels if r.get("Type", "").endswith("/styles")), None)
        if styles_target is None or styles_target not in names:
            raise Unsupported("no styles part")
        styles, style_ids = _add_styles(src.read(styles_target))

        number = 1
        while f"xl/worksheets/sheet{number}.xml" in names:
            number += 1
        part = f"xl/worksheets/sheet{number}.xml"
        ids = {r.get("Id") for r in rels}
        rid = next(f"rId{n}" for n in range(1, len(ids) + 2) if f"rId{n}" not in ids)
        etree.SubElement(rels, _q(PKG_REL, "Relationship"), Id=rid, Type=WORKSHEET_REL,
                         Target=posixpath.relpath(part, "xl"))
        etree.SubElement(types, _q(CONTENT_TYPES, "Override"), PartName="/" + part,
                         ContentType=WORKSHEET_TYPE)
        sheet_id = 1 + max((int(s.get("sheetId", "0")) for s in listed), default=0)
        entry = etree.Element(_q(MAIN, "sheet"), name=sheet_name, sheetId=str(sheet_id))
        entry.set(_q(REL, "id"), rid)
        sheets.insert(0, entry)
        for defined in book.iter(_q(MAIN, "definedName")):
            local = defined.get("localSheetId")
            if local is not None and local.isdigit():
                defined.set("localSheetId", str(int(local) + 1))
        for view in book.iter(_q(MAIN, "workbookView")):
            view.set("activeTab", "0")
            view.set("firstSheet", "0")
        sheet_parts = {resolve_target("xl/workbook.xml", r.get("Target", ""))
                       for r in rels if r.get("Type") == WORKSHEET_REL}

        replaced = {
            "xl/workbook.xml": _dump(book),
            book_rels_name: _dump(rels),
            "[Content_Types].xml": _dump(types),
            styles_target: styles,
        }
        try:
            with open(source, "rb") as raw, open(target, "wb") as fh:
                out = ZipWriter(fh)
                for info in src.infolist():
                    data = replaced.get(info.filename)
                    if data is None and info.filename in sheet_parts:
                        data = _unselected(src, info)
                    if data is None:
                        out.copy(raw, info)
                    else:
                        out.write(info.filename, data)
                out.write(part, _sheet_xml(rows, title, style_ids))
                out.close()
        except ZipCopyUnsupported as exc:
            Path(target).unlink(missing_ok=True)
            raise Unsupported(str(exc)) from exc
        except BaseException:
            Path(target).unlink(missing_ok=True)
            raise


def _unselected(src: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | None:
    """A worksheet part with its selection taken off, or None when it is not selected.

    Only the start of the part is inflated to look: ``<sheetViews>`` comes before the data.
    """
    with src.open(info) as fh:
        head = b""
        while chunk := fh.read(1 << 16):
            head += chunk
            end = head.find(b"sheetData")
            if end >= 0:
                break
        else:
            end = len(head)
        if _TAB_SELECTED.search(head, 0, end) is None:
            return None
        return _TAB_SELECTED.sub(b"", head[:end]) + head[end:] + fh.read()
