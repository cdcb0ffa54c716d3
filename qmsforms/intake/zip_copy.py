"""Writing a zip package that takes most of its members from another one as they are.

Python's zipfile inflates and deflates again every member it copies, and has no way to copy
one raw. The record copy changes four small parts of a workbook and adds one, so `ZipWriter`
copies every other member byte for byte: its local header, compressed data and data
descriptor, with CRC and sizes as they were, listed again in a new central directory. What
it writes itself it deflates as zipfile does.

Only the plain zip format is handled: a member that is encrypted, needs Zip64 (4 GiB and more,
or more than 65,535 members) or whose local header disagrees with the central directory
raises `ZipCopyUnsupported`, and the caller writes the package some other way.
"""

from __future__ import annotations

import struct
import time
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO
from zipfile import ZipInfo

_LOCAL = struct.Struct("<4s2B4HL2L2H")  # local file header, as zipfile.structFileHeader
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # central directory entry (structCentralDir)
_END = struct.Struct("<4s4H2LH")  # end of central directory (structEndArchive)
_EXTRA = struct.Struct("<HH")
_LOCAL_SIG, _CENTRAL_SIG, _END_SIG = b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06"
_DESCRIPTOR_SIG = b"PK\x07\x08"
_ENCRYPTED, _DESCRIPTOR, _UTF8 = 0x1, 0x8, 0x800
_ZIP64_EXTRA = 0x0001
_LIMIT = 0xFFFFFFFF
_DEFLATED, _VERSION, _UNIX = 8, 20, 3
_FILE_MODE = 0o600 << 16  # what zipfile gives a member written from bytes


class ZipCopyUnsupported(Exception):
    """A member this writer cannot copy raw (encrypted, Zip64, inconsistent headers)."""


def _dos(date_time: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = date_time
    return hour << 11 | minute << 5 | second // 2, (year - 1980) << 9 | month << 5 | day


def _has_zip64(extra: bytes) -> bool:
    at = 0
    while at + _EXTRA.size <= len(extra):
        kind, size = _EXTRA.unpack_from(extra, at)
        if kind == _ZIP64_EXTRA:
            return True
        at += _EXTRA.size + size
    return False


class ZipWriter:
    """A zip package written member by member into ``fh`` (positioned at its start).

    `copy` takes a member of another package raw, `write` deflates new content; `close`
    writes the central directory (it does not close ``fh``).
    """

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self._central: list[bytes] = []
        self._offset = 0

    def _add(self, local: bytes, central: bytes) -> None:
        if self._offset + len(local) >= _LIMIT:
            raise ZipCopyUnsupported("the package would need Zip64")
        self.fh.write(local)
        self._central.append(central)
        self._offset += len(local)

    def copy(self, source: BinaryIO, info: ZipInfo) -> None:
        """Copy member ``info`` of the package open as ``source`` as it is stored there."""
        if info.flag_bits & _ENCRYPTED or _has_zip64(info.extra) or max(
                info.compress_size, info.file_size, info.header_offset) >= _LIMIT:
            raise ZipCopyUnsupported(f"{info.filename}: encrypted or Zip64")
        source.seek(info.header_offset)
        head = source.read(_LOCAL.size)
        fields = _LOCAL.unpack(head) if len(head) == _LOCAL.size else None
        if fields is None or fields[0] != _LOCAL_SIG:
            raise ZipCopyUnsupported(f"{info.filename}: no local header")
        name_extra = source.read(fields[10] + fields[11])
        name = name_extra[:fields[10]]
        encoding = "utf-8" if info.flag_bits & _UTF8 else "cp437"
        if name != info.orig_filename.encode(encoding):
            raise ZipCopyUnsupported(f"{info.filename}: local header names another file")
        data = source.read(info.compress_size)
        descriptor = b""
        if info.flag_bits & _DESCRIPTOR:
            tail = source.read(16)
            descriptor = tail if tail[:4] == _DESCRIPTOR_SIG else tail[:12]
        if len(data) != info.compress_size or len(descriptor) not in (0, 12, 16):
            raise ZipCopyUnsupported(f"{info.filename}: truncated")
        dostime, dosdate = _dos(info.date_time)
        central = _CENTRAL.pack(
            _CENTRAL_SIG, info.create_version, info.create_system, info.extract_version,
            info.reserved, info.flag_bits, info.compress_type, dostime, dosdate, info.CRC,
            info.compress_size, info.file_size, len(name), len(info.extra), len(info.comment),
            0, info.internal_attr, info.external_attr, self._offset,
        ) + name + info.extra + info.comment
        self._add(head + name_extra + data + descriptor, central)

    def write(self, filename: str, data: bytes) -> None:
        """Add ``data`` as member ``filename``, deflated, stamped with the current time."""
        try:
            name, flags = filename.encode("ascii"), 0
        except UnicodeEncodeError:
            name, flags = filename.encode("utf-8"), _UTF8
        deflate = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
        packed = deflate.compress(data) + deflate.flush()
        crc = zlib.crc32(data)
        if max(len(packed), len(data)) >= _LIMIT:
            raise ZipCopyUnsupported(f"{filename}: would need Zip64")
        dostime, dosdate = _dos(time.localtime()[:6])
        local = _LOCAL.pack(_LOCAL_SIG, _VERSION, 0, flags, _DEFLATED, dostime, dosdate, crc,
                            len(packed), len(data), len(name), 0)
        central = _CENTRAL.pack(
            _CENTRAL_SIG, _VERSION, _UNIX, _VERSION, 0, flags, _DEFLATED, dostime, dosdate,
            crc, len(packed), len(data), len(name), 0, 0, 0, 0, _FILE_MODE, self._offset,
        ) + name
        self._add(local + name + packed, central)

    def close(self) -> None:
        """Write the central directory and its end record."""
        count = len(self._central)
        if count > 0xFFFF:
            raise ZipCopyUnsupported("more than 65,535 members")
        directory = b"".join(self._central)
        if self._offset + len(directory) >= _LIMIT:
            raise ZipCopyUnsupported("the package would need Zip64")
        self.fh.write(directory)
        self.fh.write(_END.pack(_END_SIG, 0, 0, count, count, len(directory), self._offset, 0))


def rewrite(source: str | Path, target: str | Path, members: Iterable[ZipInfo],
            changed: Callable[[ZipInfo], bytes | None],
            added: Iterable[tuple[str, bytes]] = ()) -> None:
    """Write ``target`` from the package at ``source``: each of ``members`` copied raw unless
    ``changed`` gives its new bytes, then the ``added`` members. Nothing is left at
    ``target`` when anything fails (`ZipCopyUnsupported` included, which is raised on)."""
    try:
        with open(source, "rb") as raw, open(target, "wb") as fh:
            out = ZipWriter(fh)
            for info in members:
                data = changed(info)
                if data is None:
                    out.copy(raw, info)
                else:
                    out.write(info.filename, data)
            for name, data in added:
                out.write(name, data)
            out.close()
    except BaseException:
        Path(target).unlink(missing_ok=True)
        raise
