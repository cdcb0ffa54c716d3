"""The identity of a Word form, kept in custom document properties (``docProps/custom.xml``).

The property names and values are those `qmsforms.identity` writes into workbooks
(``qmsforms.form``, ``qmsforms.revision`` …, ``-`` for an empty value), so one `Identity` reads
the same from either kind of file. Custom properties survive Word, WPS and a LibreOffice
re-save (measured with LibreOffice 7.4).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import asdict
from typing import Any

from docx.document import Document as DocxDocument
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from lxml import etree

from ..identity import KEYS, PROPERTY_PREFIX, Identity
from ..opc import APP_NS
from ..opc.xml import PARSER, custom_properties_xml, parse_custom_properties

CUSTOM_PART = "/docProps/custom.xml"
MAX_PART_BYTES = 4 * 2**20


def _custom_part(doc: DocxDocument) -> Part | None:
    for rel in doc.part.package.rels.values():
        if rel.reltype == RT.CUSTOM_PROPERTIES and not rel.is_external:
            return rel.target_part
    return None


def set_custom_properties(doc: DocxDocument, values: dict[str, str]) -> None:
    """Add or replace custom document properties of ``doc`` (others are kept)."""
    part = _custom_part(doc)
    props = parse_custom_properties(part.blob) if part is not None else {}
    props.update(values)
    blob = custom_properties_xml(props)
    if part is not None:
        part._blob = blob  # python-docx keeps unknown parts as opaque blobs
        return
    package = doc.part.package
    new = Part(PackURI(CUSTOM_PART), CT.OFC_CUSTOM_PROPERTIES, blob, package)
    package.relate_to(new, RT.CUSTOM_PROPERTIES)


def write_word_identity(doc: DocxDocument, identity: Identity, **extra: str) -> None:
    """Store ``identity`` (and ``extra`` ``qmsforms.*`` values) as custom properties."""
    values = asdict(identity)
    props = {PROPERTY_PREFIX + key: str(values[key] or "-") for key in KEYS}
    props.update({PROPERTY_PREFIX + key: value or "-" for key, value in extra.items()})
    set_custom_properties(doc, props)


def _identity(props: dict[str, str]) -> Identity | None:
    found = {name[len(PROPERTY_PREFIX):]: value for name, value in props.items()
             if name.startswith(PROPERTY_PREFIX) and value not in ("", "-")}
    if not found.get("form"):
        return None
    return Identity(form=found["form"], revision=found.get("revision", ""),
                    fingerprint=found.get("fingerprint", ""),
                    instance_id=found.get("instance_id", ""), lang=found.get("lang", "both"),
                    generator=found.get("generator", ""))


def _zip_member(source: Any, name: str) -> bytes | None:
    opened = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    with opened as zf:
        try:
            info = zf.getinfo(name)
        except KeyError:
            return None
        if info.file_size > MAX_PART_BYTES:
            return None
        return zf.read(info)


def word_properties(source: Any) -> dict[str, str]:
    """Every custom property of a .docx (path, bytes or python-docx `Document`)."""
    if isinstance(source, DocxDocument):
        part = _custom_part(source)
        return parse_custom_properties(part.blob) if part is not None else {}
    blob = _zip_member(source, CUSTOM_PART.lstrip("/"))
    return parse_custom_properties(blob) if blob else {}


def read_word_identity(source: Any) -> Identity | None:
    """The qmsforms identity of a .docx (path, bytes or `Document`); None when it has none."""
    try:
        return _identity(word_properties(source))
    except (etree.XMLSyntaxError, zipfile.BadZipFile, OSError, ValueError):
        return None


def producer(source: Any) -> str:
    """The application that last saved a .docx (``docProps/app.xml``), '' when unknown."""
    try:
        blob = _zip_member(source, "docProps/app.xml")
        if not blob:
            return ""
        node = etree.fromstring(blob, PARSER).find(f"{{{APP_NS}}}Application")
    except (etree.XMLSyntaxError, zipfile.BadZipFile, OSError, ValueError):
        return ""
    return (node.text or "").strip() if node is not None else ""
