"""Refuse hostile or broken .xlsx/.docx files before any parser touches them.

Threat model: files arrive from a shared folder and may be renamed, truncated, password-protected,
macro-enabled, or crafted (zip bombs, lying zip directories, path-traversal names, XML with DTDs
or entities, sheets claiming a billion cells). `inspect_file` reads only the zip directory and
streams each member once under hard caps, so memory stays bounded and a bad file yields an
`Issue` with a clear reason instead of a traceback in openpyxl or python-docx.
"""

from __future__ import annotations

import codecs
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

from .issues import Code, Issue, QmsFormsError
from .memory import out_of_memory
from .xml_head import XML_HEAD, DeclarationError, sniff_encoding, text_decoder

Kind = Literal["xlsx", "docx"]

_MiB = 2**20
_CHUNK = _MiB
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLE2_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
_SUFFIX_KIND: dict[str, Kind] = {".xlsx": "xlsx", ".xlsm": "xlsx", ".docx": "docx", ".docm": "docx"}
_KIND_NAME = {"xlsx": "Excel", "docx": "Word"}
_MACRO_SUFFIXES = (".xlsm", ".docm")
_SHEET_RE = re.compile(r"xl/worksheets/[^/]+\.xml", re.IGNORECASE)
_DIMENSION_RE = re.compile(r"<(?:[\w.-]+:)?dimension\s+ref\s*=\s*[\"']([^\"']*)[\"']")
_CELL_RE = re.compile(r"\$?([A-Za-z]+)\$?([0-9]+)")
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_DTD_MARKERS = ("<!DOCTYPE", "<!ENTITY")
# Local header fields zipfile itself refuses or cannot handle: encryption, compressed patch data.
_BAD_FLAGS = 0x01 | 0x20 | 0x40


EXCEL_ROWS = 1_048_576
"""The last row of a worksheet (Excel 2007 and later)."""
EXCEL_COLS = 16_384
"""The last column of a worksheet (``XFD``)."""


@dataclass(frozen=True)
class Limits:
    """Hard caps on reading one returned file; the defaults suit shop-floor forms.

    The size caps are applied by `inspect_file`. The sheet caps bound both what a sheet's
    ``<dimension>`` declares (checked by `inspect_file`) and the cells it really uses, from
    A1 to its last row and column (checked by the workbook reader before the values are
    read): reading a sheet costs memory for every cell of that rectangle, about 50 bytes
    each, however few of them hold a value.
    """

    max_file_bytes: int = 50 * _MiB  # compressed file size
    max_uncompressed_bytes: int = 300 * _MiB  # sum of member sizes declared in the zip directory
    max_member_bytes: int = 200 * _MiB  # any single member
    max_ratio: float = 200.0  # uncompressed/compressed for any member over 1 MiB uncompressed
    max_members: int = 5000
    max_rows: int = EXCEL_ROWS
    """The last row a sheet may use."""
    max_cols: int = EXCEL_COLS
    """The last column a sheet may use (16,384 is ``XFD``)."""
    max_cells: int = 2_000_000
    """Rows × columns a sheet may use: 2,000,000 is 250,000 lines of eight columns, about
    100 MB to read."""
    max_document_bytes: int = 16 * _MiB
    """The main part of a Word document (``word/document.xml``), inflated: reading it takes
    about 36 times its size in memory (a filled form's is well under 1 MB)."""

    def fits(self, rows: int, cols: int) -> bool:
        """Whether a sheet using rows 1..``rows`` and columns 1..``cols`` may be read."""
        return rows <= self.max_rows and cols <= self.max_cols and rows * cols <= self.max_cells

    def exceeded(self, rows: int, cols: int) -> tuple[str, str]:
        """Which cap a sheet of ``rows`` × ``cols`` passes: (English, Chinese)."""
        if rows > self.max_rows:
            return f"{self.max_rows:,} rows", f"{self.max_rows} 行"
        if cols > self.max_cols:
            return f"{self.max_cols:,} columns", f"{self.max_cols} 列"
        return (f"{self.max_cells:,} cells (rows × columns)",
                f"{self.max_cells} 个单元格(行数 × 列数)")


class _Refuse(Exception):
    """Internal: carries the one issue that ends the inspection."""

    def __init__(self, code: Code, value: object, **context: Any) -> None:
        super().__init__(code.name)
        self.issue = Issue.make(code, value=value, **context)


def check_defusedxml() -> None:
    """Raise `QmsFormsError` unless defusedxml is importable and openpyxl parses through it."""
    try:
        import defusedxml  # noqa: F401
    except ImportError as exc:
        raise QmsFormsError("defusedxml is not installed; refusing to parse untrusted XML") from exc
    import openpyxl.xml

    if not getattr(openpyxl.xml, "DEFUSEDXML", False):
        raise QmsFormsError("openpyxl is not using defusedxml (is OPENPYXL_DEFUSEDXML set?)")


_KEEP_BYTES = 64 * _MiB
"""Worksheet bytes `inspect_file` hands on to the reader at most (the rest is read again)."""


def inspect_file(
    path: str | os.PathLike[str],
    *,
    expect: Kind | None = None,
    limits: Limits = Limits(),
    inflated: dict[str, bytes] | None = None,
) -> list[Issue]:
    """Look at a file before opening it.

    Returns ``[]`` when it is safe to hand to openpyxl/python-docx, else the issues (one) saying
    why not. ``expect`` None means: decide from the suffix (.xlsx/.xlsm, .docx/.docm). Never
    raises for bad content; a missing or unreadable file is reported as an issue too.

    ``inflated``, when given, receives the worksheet parts of a workbook that passes, as the
    gate inflated and checked them (member name -> bytes, up to 64 MB in all), so that the
    reader need not inflate them again.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if expect is None:
        expect = _SUFFIX_KIND.get(suffix)
    try:
        _inspect(p, suffix, expect, limits, inflated)
    except _Refuse as refused:
        if inflated is not None:
            inflated.clear()
        return [refused.issue]
    return []


def _inspect(p: Path, suffix: str, expect: Kind | None, limits: Limits,
             inflated: dict[str, bytes] | None = None) -> None:
    name = p.name
    try:
        size = p.stat().st_size
        if not p.is_file():
            raise _Refuse(Code.UNREADABLE, name, detail="not a regular file")
        if size == 0:
            raise _Refuse(Code.EMPTY_FILE, name)
        if size > limits.max_file_bytes:
            mb = limits.max_file_bytes // _MiB
            raise _Refuse(Code.UNREADABLE, name, detail=f"larger than {mb} MB")
        with p.open("rb") as fh:
            _inspect_open(fh, size, name, suffix, expect, limits, inflated)
    except FileNotFoundError:
        raise _Refuse(Code.FILE_NOT_FOUND, name, path=str(p)) from None
    except OSError as exc:
        raise _Refuse(Code.UNREADABLE, name, detail=exc.strerror or type(exc).__name__) from None


def _inspect_open(fh: BinaryIO, size: int, name: str, suffix: str, expect: Kind | None,
                  limits: Limits, inflated: dict[str, bytes] | None = None) -> None:
    magic = fh.read(8)
    if magic == _OLE2_MAGIC:
        if _contains(fh, _OLE2_ENCRYPTED):
            raise _Refuse(Code.ENCRYPTED, name)
        if expect == "docx" or suffix in (".doc", ".dot", ".docx", ".docm"):
            raise _Refuse(Code.NOT_AN_OFFICE_FILE, name, detail="old .doc")
        raise _Refuse(Code.LEGACY_XLS, name)
    if not zipfile.is_zipfile(fh):
        code = Code.CORRUPT_FILE if magic[:2] == b"PK" else Code.NOT_AN_OFFICE_FILE
        raise _Refuse(code, name, detail="zip directory missing or truncated")
    if magic[:4] != b"PK\x03\x04":
        raise _Refuse(Code.NOT_AN_OFFICE_FILE, name, detail="data before the zip archive")
    _check_directory_size(fh, size, name, limits)
    try:
        with zipfile.ZipFile(fh) as zf:
            infos = zf.infolist()
            _check_members(infos, name, limits)
            kind = _check_kind(fh, zf, name, suffix, expect)
            _check_sizes(infos, name, limits, kind)
            _scan_members(fh, zf, infos, kind, limits, inflated)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError, ValueError,
            zlib.error, struct.error, KeyError, IndexError, OverflowError) as exc:
        if out_of_memory(exc):  # the reader's memory limit, not the file
            raise MemoryError(str(exc)) from exc
        detail = str(exc)[:120] or type(exc).__name__
        raise _Refuse(Code.CORRUPT_FILE, name, detail=detail) from None


def _contains(fh: BinaryIO, needle: bytes) -> bool:
    """Whether the whole file holds ``needle``, read in chunks that overlap."""
    fh.seek(0)
    carry = b""
    while chunk := fh.read(_CHUNK):
        if needle in carry + chunk:
            return True
        carry = chunk[-(len(needle) - 1):]
    return False


def _check_directory_size(fh: BinaryIO, size: int, name: str, limits: Limits) -> None:
    """Refuse a central directory too big to parse, before zipfile builds a ZipInfo per entry."""
    tail_len = min(size, 22 + 65535)
    fh.seek(size - tail_len)
    tail = fh.read(tail_len)
    pos = tail.rfind(b"PK\x05\x06")
    if pos < 0 or len(tail) - pos < 22:
        return  # zipfile will complain in its own words
    entries, cd_size = struct.unpack("<HI", tail[pos + 10:pos + 16])
    if (entries == 0xFFFF or cd_size == 0xFFFFFFFF) and pos >= 20 \
            and tail[pos - 20:pos - 16] == b"PK\x06\x07":
        (offset,) = struct.unpack("<Q", tail[pos - 12:pos - 4])
        fh.seek(min(offset, size))
        record = fh.read(56)
        if len(record) == 56 and record[:4] == b"PK\x06\x06":
            entries, cd_size = struct.unpack("<QQ", record[32:48])
    if entries > limits.max_members or cd_size > limits.max_members * 1024:
        raise _Refuse(Code.ZIP_BOMB, name, detail=f"{entries} members, {_human(cd_size)} index")


def _check_members(infos: list[zipfile.ZipInfo], name: str, limits: Limits) -> None:
    """Step 4: member count, encryption flags, member names."""
    if len(infos) > limits.max_members:
        raise _Refuse(Code.ZIP_BOMB, name, detail=f"{len(infos)} members")
    for info in infos:
        if info.flag_bits & 0x41:
            raise _Refuse(Code.ENCRYPTED, name)
    seen: set[str] = set()
    for info in infos:
        member = info.filename
        parts = member.replace("\\", "/").split("/")
        if ("\\" in member or ".." in parts or member.startswith("/")
                or _DRIVE_RE.match(member) or "\x00" in member):
            raise _Refuse(Code.CORRUPT_FILE, member, detail="unsafe member name")
        # part names compare without case (ECMA-376 Part 2, 9.1.1.1): which of two a reader
        # takes would be arbitrary
        if member.casefold() in seen:
            raise _Refuse(Code.CORRUPT_FILE, member, detail="duplicate member name")
        if info.flag_bits & _BAD_FLAGS:
            raise _Refuse(Code.CORRUPT_FILE, member, detail="unsupported zip feature")
        seen.add(member.casefold())


def _check_kind(fh: BinaryIO, zf: zipfile.ZipFile, name: str, suffix: str,
                expect: Kind | None) -> Kind:
    """Steps 5 and 6: content types, document kind against ``expect``, macros."""
    # the Excel reader finds parts without regard to case, as OPC says; the Word reader does not
    stored = {member.casefold(): member for member in zf.namelist()}
    kind: Kind
    if "xl/workbook.xml" in stored and "[content_types].xml" in stored:
        kind = "xlsx"
    elif "[Content_Types].xml" not in stored.values():
        raise _Refuse(Code.NOT_AN_OFFICE_FILE, name, detail="no [Content_Types].xml")
    elif "word/document.xml" in stored.values():
        kind = "docx"
    else:
        raise _Refuse(Code.NOT_AN_OFFICE_FILE, name, detail="neither workbook nor document")
    if expect is not None and kind != expect:
        shown = suffix if _SUFFIX_KIND.get(suffix) == expect else f".{expect}"
        raise _Refuse(Code.WRONG_FILE_KIND, name, found=_KIND_NAME[kind], suffix=shown)
    if suffix in _MACRO_SUFFIXES:
        raise _Refuse(Code.MACRO_FILE, name)
    for key, member in stored.items():
        if key.endswith("vbaproject.bin"):
            raise _Refuse(Code.MACRO_FILE, member)
    info = zf.getinfo(stored["[content_types].xml"])
    zf.open(info).close()  # let zipfile validate the local header as the parsers will
    head = next(_member_chunks(fh, info, _MiB), b"")
    text = head.decode(sniff_encoding(head), "replace").lower()
    if "macroenabled" in text or "vbaproject" in text:
        raise _Refuse(Code.MACRO_FILE, name)
    if "types" not in text:
        raise _Refuse(Code.CORRUPT_FILE, name, detail="[Content_Types].xml is empty or damaged")
    return kind


def _check_sizes(infos: list[zipfile.ZipInfo], name: str, limits: Limits,
                 kind: Kind = "xlsx") -> None:
    """Step 7a: what the zip directory declares (a member inflating past its declared size
    is refused while it is read)."""
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    if total > limits.max_uncompressed_bytes:
        raise _Refuse(Code.ZIP_BOMB, name, detail=f"{_human(total)} from {_human(packed)}")
    for info in infos:
        if info.file_size > limits.max_member_bytes or (
                info.file_size > _MiB
                and info.file_size > limits.max_ratio * max(info.compress_size, 1)):
            detail = f"{_human(info.file_size)} from {_human(info.compress_size)}"
            raise _Refuse(Code.ZIP_BOMB, info.filename, detail=detail)
        if (kind == "docx" and info.filename == "word/document.xml"
                and info.file_size > limits.max_document_bytes):
            detail = (f"{_human(info.file_size)}, more than the "
                      f"{_human(limits.max_document_bytes)} read")
            raise _Refuse(Code.ZIP_BOMB, info.filename, detail=detail)


def _scan_members(fh: BinaryIO, zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], kind: Kind,
                  limits: Limits, inflated: dict[str, bytes] | None = None) -> None:
    """Steps 7b-9: stream every member once; size and CRC first, then DTDs, then dimensions.

    Any member that looks like XML is searched whole (a parser follows relationships, not file
    names), except SVG pictures, which no parser here reads and which often carry a DOCTYPE.
    Worksheets are kept in ``inflated`` when it is given (see `inspect_file`).
    """
    unsafe_xml: _Refuse | None = None
    absurd: _Refuse | None = None
    total = kept = 0
    for info in infos:
        member = info.filename
        zf.open(info).close()  # the local-header checks zipfile applies when a parser reads it
        needles: tuple[bytes, ...] = ()
        decoder: codecs.IncrementalDecoder | None = None
        carry, text_carry, first = b"", "", True
        pieces: list[bytes] | None = None
        if (inflated is not None and kind == "xlsx" and _SHEET_RE.fullmatch(member)
                and kept + info.file_size <= _KEEP_BYTES):
            pieces = []
            kept += info.file_size
        for chunk in _member_chunks(fh, info, limits.max_member_bytes):
            if pieces is not None:
                pieces.append(chunk)
            total += len(chunk)
            if total > limits.max_uncompressed_bytes:
                raise _Refuse(Code.ZIP_BOMB, member, detail=f"more than {_human(total)}")
            if first:
                first = False
                encoding = sniff_encoding(chunk)
                head = chunk[:XML_HEAD].decode(encoding, "replace").lstrip("\ufeff \t\r\n")
                if head.startswith("<") and not member.lower().endswith(".svg"):
                    needles = tuple(m.encode(encoding) for m in _DTD_MARKERS)
                    try:
                        decoder = text_decoder(head)
                    except (LookupError, ValueError) as exc:
                        detail = str(exc) if isinstance(exc, DeclarationError) else \
                            "unknown XML encoding"
                        unsafe_xml = unsafe_xml or _Refuse(Code.UNSAFE_XML, member,
                                                           detail=detail)
                if kind == "xlsx" and absurd is None and _SHEET_RE.fullmatch(member):
                    absurd = _check_dimension(head, member, limits)
            if decoder is not None and unsafe_xml is None:
                text = text_carry + decoder.decode(chunk)
                if any(m in text for m in _DTD_MARKERS):
                    unsafe_xml = _Refuse(Code.UNSAFE_XML, member, detail="DTD/entity declaration")
                text_carry = text[-64:]
            elif needles and unsafe_xml is None:
                window = carry + chunk[:64]
                # "!" is rare in Office XML and cheap to look for: a fast path before the needles
                if (b"!" in chunk or b"!" in window) and any(
                        n in chunk or n in window for n in needles):
                    unsafe_xml = _Refuse(Code.UNSAFE_XML, member, detail="DTD/entity declaration")
                carry = chunk[-64:]
        if pieces is not None and inflated is not None:
            inflated[member] = b"".join(pieces)
    if unsafe_xml is not None:
        raise unsafe_xml
    if absurd is not None:
        raise absurd


def _member_chunks(fh: BinaryIO, info: zipfile.ZipInfo, max_bytes: int) -> Iterator[bytes]:
    """Yield a member's bytes in chunks of at most 1 MiB, reading the raw file ourselves.

    zipfile silently stops at the declared size; here a member that inflates more than 1 MiB
    past its declared size, or past ``max_bytes``, is a ZIP_BOMB, and a short, long, damaged or
    CRC-failing one is CORRUPT_FILE.
    """
    cap = min(info.file_size + _MiB, max_bytes)
    fh.seek(info.header_offset)
    header = fh.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise _Refuse(Code.CORRUPT_FILE, info.filename, detail="bad local header")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    fh.seek(info.header_offset + 30 + name_len + extra_len)
    if info.compress_type == zipfile.ZIP_DEFLATED:
        inflater = zlib.decompressobj(-15)
    elif info.compress_type != zipfile.ZIP_STORED:
        raise _Refuse(Code.CORRUPT_FILE, info.filename, detail="unsupported compression")
    else:
        inflater = None
    left, produced, crc = info.compress_size, 0, 0
    while True:
        if inflater is not None and inflater.unconsumed_tail:
            raw = inflater.unconsumed_tail
        elif left > 0:
            raw = fh.read(min(_CHUNK, left))
            if not raw:
                raise _Refuse(Code.CORRUPT_FILE, info.filename, detail="member cut short")
            left -= len(raw)
        else:
            raw = b""
        data = raw if inflater is None else inflater.decompress(raw, _CHUNK)
        if data:
            produced += len(data)
            if produced > cap:
                detail = f"more than {_human(cap)}, {_human(info.file_size)} declared"
                raise _Refuse(Code.ZIP_BOMB, info.filename, detail=detail)
            crc = zlib.crc32(data, crc)
            yield data
        elif not raw:
            break
        if inflater is not None and inflater.eof:
            break
    if (inflater is not None and not inflater.eof) or produced != info.file_size:
        raise _Refuse(Code.CORRUPT_FILE, info.filename, detail="member cut short or damaged")
    if crc != info.CRC:
        raise _Refuse(Code.CORRUPT_FILE, info.filename, detail="CRC error")


def _check_dimension(head: str, member: str, limits: Limits) -> _Refuse | None:
    match = _DIMENSION_RE.search(head)
    if match is None:
        return None
    ref = match.group(1)
    cells = [_CELL_RE.fullmatch(part.strip()) for part in ref.split(":")]
    if not 1 <= len(cells) <= 2 or None in cells:
        return None  # openpyxl recomputes a dimension it cannot read
    rows: list[int] = []
    cols: list[int] = []
    for cell in cells:
        assert cell is not None
        letters, digits = cell.group(1).upper(), cell.group(2)
        rows.append(int(digits) if len(digits) <= 9 else 10**9)
        col = 0
        for ch in letters[:7]:
            col = col * 26 + ord(ch) - 64
        cols.append(col if len(letters) <= 7 else 10**9)
    n_rows, n_cols = max(rows) - min(rows) + 1, max(cols) - min(cols) + 1
    if n_rows > limits.max_rows or n_cols > limits.max_cols or n_rows * n_cols > limits.max_cells:
        return _Refuse(Code.ABSURD_DIMENSIONS, ref, sheet=member, detail=ref)
    return None


def _human(n: int) -> str:
    """``12 GB``, ``40 KB``: sizes for the ZIP_BOMB detail."""
    size, unit = float(n), "bytes"
    for bigger in ("KB", "MB", "GB"):
        if size < 1024:
            break
        size, unit = size / 1024, bigger
    return f"{size:.0f} {unit}"
