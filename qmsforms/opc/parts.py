"""The parts of an .xlsx package as a reader must see them: found by name without regard to
case, and XML parts handed out in UTF-8 whatever encoding they were written in.

OPC part names compare without case (ECMA-376 Part 2, 9.1.1.1), and XML may be written in
any encoding it declares (UTF-16 with a byte-order mark is common in hand-made files).
python-calamine finds parts without regard to ASCII case but reads every part as UTF-8, and
the structure readers here search bytes. `Parts` answers both: it refuses a package with two
names that differ only in case (which part a reader takes would be arbitrary), resolves a name
to the member actually stored, transcodes any XML part that is not UTF-8 once, and can build
an in-memory copy of the package with those parts in UTF-8 for calamine to read.
"""

from __future__ import annotations

import codecs
import io
import logging
import re
import zipfile

from ..issues import Code, Issue
from ..safety import Limits
from ..xml_head import XML_HEAD, declared_encoding, sniff_encoding

log = logging.getLogger(__name__)

_DECL_RE = re.compile(r"""^(<\?xml[^>]*?\sencoding\s*=\s*)(["'])([^"']*)\2""")
_UTF8 = frozenset({"utf-8", "ascii"})
_HEAD = XML_HEAD


class PartsError(Exception):
    """The package cannot be read as one set of parts; carries the issue to report."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.code)
        self.issue = issue


def xml_encoding(head: bytes) -> str | None:
    """The encoding an XML entity starting with ``head`` is written in, when it is not UTF-8.

    None for UTF-8 (or ASCII) without a byte-order mark and for anything that does not start
    like XML; the name of a Python codec otherwise (a UTF-8 byte-order mark gives
    ``utf-8-sig``). ``head`` should be the part's first `XML_HEAD` bytes. Raises
    `LookupError` for an encoding Python does not know and `ValueError` for a declaration
    the bytes contradict or that does not end in ``head``.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    wide = sniff_encoding(head)
    if wide != "utf-8":
        return wide
    text = head.decode("latin-1").lstrip(" \t\r\n")
    if not text.startswith("<"):
        return None
    declared = declared_encoding(text)  # DeclarationError (a ValueError): no end in the head
    if declared is None:
        return None
    name = codecs.lookup(declared).name
    if name in _UTF8:
        return None
    if name.startswith(("utf-16", "utf-32")):
        raise ValueError(f"declared {declared} but written in single bytes")
    "<".encode(name)  # LookupError for bytes-to-bytes codecs such as base64
    return name


def to_utf8(data: bytes, encoding: str) -> bytes:
    """``data``, an XML entity in ``encoding``, as UTF-8 with its declaration saying so.

    Raises `ValueError` when the bytes are not valid in that encoding.
    """
    text = data.decode(encoding)  # UnicodeDecodeError is a ValueError
    text = text.removeprefix("\ufeff")
    text = _DECL_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}UTF-8{m.group(2)}", text, count=1)
    return text.encode("utf-8")


class Parts:
    """The members of an open package, by case-insensitive name, XML parts in UTF-8."""

    def __init__(self, zf: zipfile.ZipFile, name: str, limits: Limits | None = None,
                 inflated: dict[str, bytes] | None = None) -> None:
        """Index ``zf`` (the package of the file called ``name``).

        ``inflated`` holds members already inflated (by the safety gate), by stored name:
        each is taken from there the first time it is read. Raises `PartsError` when two
        member names differ only in case, or an XML part's encoding cannot be read.
        """
        self.zf = zf
        self.name = name
        self.limits = limits or Limits()
        self._inflated = dict(inflated or {})
        self._members: dict[str, str] = {}
        for member in zf.namelist():
            key = member.casefold()
            if key in self._members:
                raise PartsError(Issue.make(Code.CORRUPT_FILE, value=member,
                                            detail="two parts whose names differ only in case"))
            self._members[key] = member
        self._encodings: dict[str, str] = {}
        for info in zf.infolist():
            if info.file_size == 0 or info.is_dir():
                continue
            with zf.open(info) as fh:
                head = fh.read(_HEAD)
            try:
                encoding = xml_encoding(head)
            except (LookupError, ValueError) as exc:
                raise self._corrupt(info.filename, exc) from exc
            if encoding is not None:
                self._encodings[info.filename] = encoding
        self._converted: dict[str, bytes] = {}

    def _corrupt(self, member: str, exc: BaseException) -> PartsError:
        return PartsError(Issue.make(Code.CORRUPT_FILE, value=self.name,
                                     detail=f"{member}: {type(exc).__name__}: {exc}"[:160]))

    def member(self, part: str) -> str | None:
        """The stored member name of part ``part`` (any case), None when there is none."""
        return self._members.get(part.lstrip("/").casefold())

    def __contains__(self, part: object) -> bool:
        return isinstance(part, str) and self.member(part) is not None

    def names(self) -> list[str]:
        """Every member name as stored."""
        return list(self._members.values())

    def read(self, part: str) -> bytes:
        """The bytes of part ``part``; an XML part in UTF-8. Raises `KeyError` when missing."""
        member = self.member(part)
        if member is None:
            raise KeyError(f"there is no part named {part!r} in the package")
        encoding = self._encodings.get(member)
        if encoding is None:
            return self._raw(member)
        found = self._converted.get(member)
        if found is None:
            try:
                found = to_utf8(self._raw(member), encoding)
            except ValueError as exc:
                raise self._corrupt(member, exc) from exc
            if len(found) > self.limits.max_member_bytes:
                raise PartsError(Issue.make(Code.ZIP_BOMB, value=member,
                                            detail=f"{len(found)} bytes once in UTF-8"))
            self._converted[member] = found
        return found

    def drop_inflated(self) -> None:
        """Forget the members inflated beforehand (they are read from the package again)."""
        self._inflated.clear()

    def _raw(self, member: str) -> bytes:
        """The stored bytes of a member, inflated."""
        found = self._inflated.pop(member, None)
        return found if found is not None else self.zf.read(member)

    @property
    def transcoded(self) -> list[str]:
        """The members written in an encoding other than UTF-8."""
        return sorted(self._encodings)

    def utf8_package(self) -> bytes | None:
        """A copy of the package with every XML part in UTF-8; None when it already is.

        Held to the safety gate's bound on the uncompressed size of a package.
        """
        if not self._encodings:
            return None
        log.info("%s: parts not in UTF-8 transcoded for reading: %s", self.name,
                 ", ".join(self.transcoded))
        return self.package()

    def package(self, replace: dict[str, bytes] | None = None) -> bytes:
        """A copy of the package with every XML part in UTF-8 and the parts named in
        ``replace`` (stored member names) replaced by the bytes given.

        Held to the safety gate's bound on the uncompressed size of a package.
        """
        replace = replace or {}
        total = 0
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
            for info in self.zf.infolist():
                data = replace.get(info.filename)
                if data is None:
                    data = self.read(info.filename)
                total += len(data)
                if total > self.limits.max_uncompressed_bytes:
                    raise PartsError(Issue.make(Code.ZIP_BOMB, value=self.name,
                                                detail=f"more than {total} bytes in UTF-8"))
                out.writestr(info.filename, data)
        self._converted.clear()  # the copy holds them; read again if asked for
        return buffer.getvalue()
