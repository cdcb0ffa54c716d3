"""Operators for any Office package: bytes, zip structure, and XML spellings of a part.

The XML spellings (comments between elements, whitespace inside tags, a part re-encoded as
UTF-16, a namespace prefix respelled) do not change what a part means, so they must read the
same. Byte and zip damage may be refused.
"""

from __future__ import annotations

import random
import re
import struct
import warnings
import zipfile
from dataclasses import replace

from . import package as pk
from .mutation import Expect, Mutation, operator
from .seeds import Seed

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

TAG = re.compile(rb"<(/?)([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)"
                 rb"((?:[^<>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>")
"""A start, end or empty-element tag: (slash, prefix:, local name, attributes, empty slash)."""

_DECL = re.compile(rb"^\s*<\?xml[^>]*\?>")


def content_parts(seed: Seed, members: pk.Package) -> list[str]:
    """The XML parts a reader takes values or structure from, most important first."""
    if seed.fmt == "docx":
        wanted = ["word/document.xml", "docProps/custom.xml"]
    else:
        wanted = ["xl/workbook.xml", "xl/sharedStrings.xml", "docProps/custom.xml",
                  "xl/styles.xml"]
        wanted += [m.name for m in members if m.name.startswith(("xl/worksheets/sheet",
                                                                   "xl/tables/"))]
    names = {m.name for m in members}
    return [n for n in wanted if n in names]


def pick_part(rng: random.Random, seed: Seed, members: pk.Package) -> str:
    """A content part most of the time, any XML part (rels, content types) sometimes."""
    parts = content_parts(seed, members)
    if rng.random() < 0.8 and parts:
        return rng.choice(parts)
    return rng.choice(pk.xml_members(members))


# -- bytes -----------------------------------------------------------------------------------

@operator("byte_flip")
def byte_flip(rng: random.Random, seed: Seed) -> Mutation:
    """Flip one to eight random bits anywhere in the file."""
    data = bytearray(seed.data)
    spots = sorted(rng.randrange(len(data)) for _ in range(rng.randint(1, 8)))
    for pos in spots:
        data[pos] ^= 1 << rng.randrange(8)
    return Mutation(bytes(data), Expect.KEEP, f"bits flipped at {spots}")


@operator("truncate")
def truncate(rng: random.Random, seed: Seed) -> Mutation:
    """Cut the file short."""
    cut = rng.randrange(1, len(seed.data))
    return Mutation(seed.data[:cut], Expect.KEEP, f"cut at {cut} of {len(seed.data)}")


# -- zip structure ---------------------------------------------------------------------------

@operator("zip_drop")
def zip_drop(rng: random.Random, seed: Seed) -> Mutation:
    """Leave one member out."""
    members = pk.read(seed.data)
    gone = rng.choice(members)
    return Mutation(pk.build([m for m in members if m is not gone]), Expect.KEEP,
                    f"dropped {gone.name}")


@operator("zip_duplicate")
def zip_duplicate(rng: random.Random, seed: Seed) -> Mutation:
    """A second member with the name of an existing one (same or other content)."""
    members = pk.read(seed.data)
    victim = rng.choice(members)
    other = rng.choice(members)
    copy = victim if rng.random() < 0.5 else replace(victim, data=other.data)
    at = rng.randrange(len(members) + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = pk.build([*members[:at], copy, *members[at:]])
    what = "same" if copy is victim else f"{other.name}'s"
    return Mutation(data, Expect.KEEP, f"{victim.name} duplicated at {at} with {what} content")


@operator("zip_reorder")
def zip_reorder(rng: random.Random, seed: Seed) -> Mutation | None:
    """Members in another order (OPC does not care)."""
    members = pk.read(seed.data)
    order = members[:]
    rng.shuffle(order)
    if order == members:
        return None
    return Mutation(pk.build(order), Expect.SAME, "order " + ",".join(m.name for m in order))


@operator("zip_compression")
def zip_compression(rng: random.Random, seed: Seed) -> Mutation:
    """Members stored or deflated at other levels; sometimes one with an exotic method."""
    members = pk.read(seed.data)
    out = []
    for m in members:
        if rng.random() < 0.5:
            out.append(replace(m, compression=zipfile.ZIP_STORED, level=None))
        else:
            out.append(replace(m, compression=zipfile.ZIP_DEFLATED, level=rng.randint(0, 9)))
    expect, note = Expect.SAME, "stored/deflated mix"
    if rng.random() < 0.2:
        i = rng.randrange(len(out))
        method = rng.choice([zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
        out[i] = replace(out[i], compression=method, level=None)
        expect, note = Expect.KEEP, f"{out[i].name} compressed with method {method}"
    return Mutation(pk.build(out), expect, note)


def _records(data: bytes, signature: bytes) -> list[int]:
    return [m.start() for m in re.finditer(re.escape(signature), data)]


@operator("zip_crc")
def zip_crc(rng: random.Random, seed: Seed) -> Mutation:
    """A wrong CRC in the central directory, the local header, or both."""
    data = bytearray(seed.data)
    central = _records(data, b"PK\x01\x02")
    local = _records(data, b"PK\x03\x04")
    i = rng.randrange(min(len(central), len(local)))
    where = rng.choice(["central", "local", "both"])
    bad = rng.getrandbits(32)
    if where in ("central", "both"):
        struct.pack_into("<I", data, central[i] + 16, bad)
    if where in ("local", "both"):
        struct.pack_into("<I", data, local[i] + 14, bad)
    return Mutation(bytes(data), Expect.KEEP, f"CRC of member {i} wrong in {where}")


@operator("zip_rename_case")
def zip_rename_case(rng: random.Random, seed: Seed) -> Mutation:
    """One member renamed in another case (``XL/Workbook.xml``)."""
    members = pk.read(seed.data)
    i = rng.randrange(len(members))
    name = members[i].name
    new = rng.choice([name.upper(), name.title(), name.swapcase()])
    members[i] = replace(members[i], name=new)
    return Mutation(pk.build(members), Expect.KEEP, f"{name} renamed {new}")


@operator("zip_extra_member")
def zip_extra_member(rng: random.Random, seed: Seed) -> Mutation:
    """An unreferenced extra member (custom XML, a picture): ignored by every reader."""
    members = pk.read(seed.data)
    extra = rng.choice([
        pk.Member("customXml/qmsfuzz1.xml", b'<?xml version="1.0"?><root><a>1</a></root>'),
        pk.Member("media/qmsfuzz1.png", b"\x89PNG\r\n\x1a\n" + bytes(rng.randbytes(64))),
        pk.Member("qmsfuzz-notes.txt", "备注 note".encode()),
    ])
    members.insert(rng.randrange(len(members) + 1), extra)
    return Mutation(pk.build(members), Expect.SAME, f"added {extra.name}")


# -- XML spellings ---------------------------------------------------------------------------

@operator("xml_reserialize")
def xml_reserialize(rng: random.Random, seed: Seed) -> Mutation:
    """Every XML part parsed and written again by lxml (entities as characters, quotes...)."""
    members = [replace(m, data=pk.dump(pk.parse(m.data)))
               if m.name.endswith((".xml", ".rels")) else m for m in pk.read(seed.data)]
    return Mutation(pk.build(members), Expect.SAME, "all XML parts re-serialised")


def _gaps(data: bytes) -> list[int]:
    """Offsets between two tags (``>`` directly followed by ``<``), after the declaration."""
    start = _DECL.match(data)
    begin = start.end() if start else 0
    return [m.start() + 1 for m in re.finditer(rb"><", data[begin:])] if data else []


@operator("xml_comment")
def xml_comment(rng: random.Random, seed: Seed) -> Mutation | None:
    """Comments and processing instructions between elements of one part."""
    members = pk.read(seed.data)
    part = pick_part(rng, seed, members)
    data = pk.get(members, part) or b""
    start = _DECL.match(data)
    offset = start.end() if start else 0
    gaps = [offset + g for g in _gaps(data[offset:])]
    if not gaps:
        return None
    spots = sorted(set(rng.sample(gaps, min(len(gaps), rng.randint(1, 5)))), reverse=True)
    for pos in spots:
        text = rng.choice([b"<!-- note -->", "<!-- 备注 -->".encode(), b"<?qmsfuzz x?>",
                           b"<!---->"])
        data = data[:pos] + text + data[pos:]
    return Mutation(pk.build(pk.put(members, part, data)), Expect.SAME,
                    f"{len(spots)} comments in {part}")


def _spaced(rng: random.Random, tag: re.Match[bytes]) -> bytes:
    slash, prefix, local, attrs, empty = tag.groups()
    name = (prefix or b"") + local
    space = rng.choice([b" ", b"  ", b"\n", b"\t", b"\r\n "])
    if slash:
        return b"</" + name + space + b">"
    if attrs.strip() and rng.random() < 0.5:
        attrs = re.sub(rb"\s*=\s*", lambda _: space + b"=" + space, attrs)
    return b"<" + name + attrs + space + empty + b">"


@operator("tag_whitespace")
def tag_whitespace(rng: random.Random, seed: Seed) -> Mutation | None:
    """Whitespace inside tags (``</f >``, ``<c r = "A1" >``) of one part."""
    members = pk.read(seed.data)
    part = pick_part(rng, seed, members)
    data = pk.get(members, part) or b""
    tags = list(TAG.finditer(data))
    if not tags:
        return None
    chosen = set(rng.sample(range(len(tags)), min(len(tags), rng.randint(1, 40))))
    out, last = [], 0
    for i, tag in enumerate(tags):
        if i in chosen:
            out += [data[last:tag.start()], _spaced(rng, tag)]
            last = tag.end()
    out.append(data[last:])
    return Mutation(pk.build(pk.put(members, part, b"".join(out))), Expect.SAME,
                    f"whitespace in {len(chosen)} tags of {part}")


def reencode(data: bytes, variant: str) -> bytes:
    """One XML part (UTF-8) in another encoding, its declaration saying so."""
    text = data.decode("utf-8").lstrip("\ufeff")
    decl = _DECL.match(data)
    body = text[len(decl.group(0).decode()):] if decl else text
    encodings = {"utf-16-bom": ("UTF-16", "utf-16-le", "\ufeff", True),
                 "utf-16-be-bom": ("UTF-16", "utf-16-be", "\ufeff", True),
                 "utf-16-bom-no-decl": ("", "utf-16-le", "\ufeff", False),
                 "utf-16le-decl-no-bom": ("UTF-16LE", "utf-16-le", "", True),
                 "utf-8-bom": ("UTF-8", "utf-8", "\ufeff", True)}
    declared, codec, bom, with_decl = encodings[variant]
    head = f'<?xml version="1.0" encoding="{declared}" standalone="yes"?>' if with_decl else ""
    return (bom + head + body).encode(codec)


@operator("encoding")
def encoding(rng: random.Random, seed: Seed) -> Mutation:
    """One part re-encoded (UTF-16 with BOM and declaration, BE, no declaration, UTF-8 BOM)."""
    members = pk.read(seed.data)
    part = pick_part(rng, seed, members)
    variant = rng.choice(["utf-16-bom", "utf-16-be-bom", "utf-16-bom-no-decl",
                          "utf-16le-decl-no-bom", "utf-8-bom"])
    data = reencode(pk.get(members, part) or b"", variant)
    return Mutation(pk.build(pk.put(members, part, data)), Expect.SAME, f"{part} as {variant}")


def _subtree_end(tags: list[re.Match[bytes]], i: int) -> int:
    """Index of the tag closing tags[i] (itself when empty)."""
    if tags[i].group(5):
        return i
    depth = 0
    for j in range(i, len(tags)):
        slash, empty = tags[j].group(1), tags[j].group(5)
        if empty:
            continue
        depth += -1 if slash else 1
        if depth == 0:
            return j
    return len(tags) - 1


def respell(data: bytes, ns: bytes, old: bytes, new: bytes, rng: random.Random,
            local: bool) -> tuple[bytes, str]:
    """Elements of namespace ``ns`` spelled with prefix ``new`` instead of ``old`` (b"" is the
    default namespace), in the whole part or (``local``) in one subtree declaring it."""
    tags = list(TAG.finditer(data))
    root = next(i for i, t in enumerate(tags) if not t.group(1))
    lo, hi = root, len(tags) - 1
    if local:
        inner = [i for i in range(root + 1, len(tags))
                 if not tags[i].group(1) and (tags[i].group(2) or b"")[:-1] == old]
        if not inner:
            return data, ""
        lo = rng.choice(inner)
        hi = _subtree_end(tags, lo)
    out, last = [], 0
    for i in range(lo, hi + 1):
        tag = tags[i]
        slash, prefix, name, attrs, empty = tag.groups()
        if (prefix or b"")[:-1] != old:
            continue
        spelled = (new + b":" if new else b"") + name
        if i == lo:
            decl = b" xmlns" + (b":" + new if new else b"") + b'="' + ns + b'"'
            if not local and old:
                attrs = re.sub(rb"(\s)" + old + rb":", rb"\1" + new + b":", attrs) if new \
                    else attrs
            attrs = decl + attrs
        elif not local and old and new:
            attrs = re.sub(rb"(\s)" + old + rb":", rb"\1" + new + b":", attrs)
        out += [data[last:tag.start()], b"<" + slash + spelled + attrs + empty + b">"]
        last = tag.end()
    out.append(data[last:])
    where = "one subtree" if local else "the whole part"
    return b"".join(out), f"{old.decode() or 'default'} -> {new.decode() or 'default'} in {where}"


@operator("ns_prefix")
def ns_prefix(rng: random.Random, seed: Seed) -> Mutation | None:
    """The main namespace spelled with another prefix, declared on the root or locally."""
    members = pk.read(seed.data)
    local = rng.random() < 0.5
    if seed.fmt == "docx":
        part, ns, old = "word/document.xml", W_NS.encode(), b"w"
        new = rng.choice([b"ns0", b"wx", b""])
    else:
        parts = [p for p in content_parts(seed, members) if p.startswith("xl/")
                 and p != "xl/styles.xml"]
        part, ns, old, new = rng.choice(parts), MAIN.encode(), b"", rng.choice([b"x", b"s"])
    data, note = respell(pk.get(members, part) or b"", ns, old, new, rng, local)
    if not note:
        return None
    return Mutation(pk.build(pk.put(members, part, data)), Expect.SAME, f"{part}: {note}")
