"""Rewrite parts of a real issued workbook, as another writer (or a hostile one) would save it."""

from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from openpyxl import load_workbook

from qmsforms.excel.binding import workbook_names

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SST_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
SST_CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
SHEET = "xl/worksheets/sheet1.xml"
"""The form sheet of every issued blank (the identity sheet comes after it)."""


def parts_of(path: Path) -> dict[str, bytes]:
    """Every member of the package, by name, in order."""
    with zipfile.ZipFile(path) as src:
        return {info.filename: src.read(info.filename) for info in src.infolist()}


def write_parts(path: Path, parts: dict[str, bytes]) -> None:
    """Write ``parts`` as the package at ``path``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(name, data)


def rewrite(path: Path, member: str, edit: Callable[[bytes], bytes]) -> None:
    """Replace one part of the package by ``edit`` of its bytes; the edit must change it."""
    parts = parts_of(path)
    new = edit(parts[member])
    assert new != parts[member], f"the edit left {member} unchanged"
    parts[member] = new
    write_parts(path, parts)


def cell_xml(data: bytes, ref: str) -> bytes:
    """The ``<c r=ref>`` element of a sheet part, as written."""
    found = re.search(rb'<c r="' + ref.encode() + rb'"(?:[^>]*/>|[^>]*>.*?</c>)', data, re.S)
    assert found, ref
    return found.group(0)


def replace_cell(path: Path, ref: str, new: str | bytes, member: str = SHEET) -> None:
    """Replace the cell ``ref`` of the form sheet by the XML ``new``."""
    raw = new.encode() if isinstance(new, str) else new
    rewrite(path, member, lambda data: data.replace(cell_xml(data, ref), raw, 1))


def style_of(path: Path, ref: str, member: str = SHEET) -> str:
    """The ``s`` attribute of a cell (to keep its look when it is rewritten)."""
    found = re.search(rb'\ss="([0-9]+)"', cell_xml(parts_of(path)[member], ref))
    return found.group(1).decode() if found else "0"


def named_cell(path: Path, name: str, offset: int = 0) -> str:
    """A1 reference of the ``offset``-th cell of a workbook-scoped defined name."""
    wb = load_workbook(path)
    cells = workbook_names(wb)[name]
    row, col = cells.coordinates()[offset]
    return wb[cells.sheet].cell(row=row, column=col).coordinate


def to_shared_strings(path: Path, first: str = "") -> list[str]:
    """Store every inline string of the form sheet in a shared-string table, as Excel saves.

    ``first`` (when given) becomes string #0, before the sheet's own strings. Returns the table.
    """
    parts = parts_of(path)
    table: list[str] = [first] if first else []

    def shared(match: re.Match[bytes]) -> bytes:
        texts = re.findall(rb"<t[^>]*>(.*?)</t>", match.group(2), re.S)
        text = "".join(html.unescape(t.decode()) for t in texts)
        if text not in table:
            table.append(text)
        return match.group(1) + b' t="s"><v>' + str(table.index(text)).encode() + b"</v></c>"

    parts[SHEET] = re.sub(rb'(<c r="[A-Z]+[0-9]+"(?: s="[0-9]+")?) t="inlineStr">(.*?)</c>',
                          shared, parts[SHEET], flags=re.S)
    items = "".join(f'<si><t xml:space="preserve">{html.escape(t, quote=False)}</t></si>'
                    for t in table)
    parts["xl/sharedStrings.xml"] = (
        f'<sst xmlns="{MAIN}" count="{len(table)}" uniqueCount="{len(table)}">{items}</sst>'
    ).encode()
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        f'<Relationship Id="rIdSst" Type="{SST_TYPE}" Target="sharedStrings.xml"/>'
        "</Relationships>".encode())
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SST_CONTENT}"/></Types>'
        .encode())
    write_parts(path, parts)
    return table
