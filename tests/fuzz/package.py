"""Zip packages as lists of members: read, rebuild with fixed timestamps, edit XML parts.

Every mutation works on a `Package` and writes it back with `build`, so the zip directory,
sizes and CRCs are always consistent unless an operator breaks them on purpose (after
`build`, on the bytes).
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, replace

from lxml import etree  # type: ignore[import-untyped]

FIXED_TIME = (2026, 1, 1, 0, 0, 0)
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                         remove_blank_text=False)


@dataclass(frozen=True)
class Member:
    """One zip member: its name, its bytes and how it is compressed."""

    name: str
    data: bytes
    compression: int = zipfile.ZIP_DEFLATED
    level: int | None = None


Package = list[Member]


def read(data: bytes) -> Package:
    """The members of a zip, in directory order."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [Member(i.filename, zf.read(i), i.compress_type) for i in zf.infolist()]


def build(members: Package) -> bytes:
    """A zip of ``members`` in order, with fixed timestamps (so equal input, equal bytes)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for member in members:
            info = zipfile.ZipInfo(member.name, date_time=FIXED_TIME)
            info.compress_type = member.compression
            info.external_attr = 0o600 << 16
            zf.writestr(info, member.data, compresslevel=member.level)
    return buf.getvalue()


def get(members: Package, name: str) -> bytes | None:
    """The bytes of member ``name`` (first of that name), None when absent."""
    return next((m.data for m in members if m.name == name), None)


def put(members: Package, name: str, data: bytes) -> Package:
    """``members`` with member ``name`` replaced by ``data`` (appended when absent)."""
    out = [replace(m, data=data) if m.name == name else m for m in members]
    if not any(m.name == name for m in members):
        out.append(Member(name, data))
    return out


def parse(data: bytes) -> etree._Element:
    """An XML part parsed with entities and network access off."""
    return etree.fromstring(data, PARSER)


def dump(root: etree._Element) -> bytes:
    """An XML part serialised as Office writes it: UTF-8 with a standalone declaration."""
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def rels_name(part: str) -> str:
    """The relationships part of ``part``."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def targets(members: Package, part: str) -> dict[str, str]:
    """Relationship id -> resolved target part of ``part``."""
    blob = get(members, rels_name(part))
    if blob is None:
        return {}
    out = {}
    for rel in parse(blob).iter(f"{{{PKG_REL}}}Relationship"):
        target = rel.get("Target", "")
        out[rel.get("Id", "")] = (target.lstrip("/") if target.startswith("/") else
                                  posixpath.normpath(posixpath.join(posixpath.dirname(part),
                                                                    target)))
    return out


def xml_members(members: Package) -> list[str]:
    """Names of the members that are XML parts (including relationships)."""
    return [m.name for m in members if m.name.endswith((".xml", ".rels"))]


_CORE_TIME = re.compile(rb"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)")


def fixed_core_times(data: bytes) -> bytes:
    """``docProps/core.xml`` with its created/modified times pinned (deterministic seeds)."""
    return _CORE_TIME.sub(rb"\g<1>2026-01-01T00:00:00Z\g<3>", data)
