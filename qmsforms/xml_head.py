"""What the first bytes of an XML part say about it: its encoding, its declaration.

The safety gate searches every XML part for DTD markers; it must know how the part is encoded
to search it (`sniff_encoding`, `declared_encoding`, `text_decoder`). The package layer
(`qmsforms.opc`) reads parts by the same rules.
"""

from __future__ import annotations

import codecs
import re

XML_HEAD = 4096
"""Bytes of an XML part in which its declaration (``<?xml ... ?>``) must end."""
_XML_DECL_RE = re.compile(r"<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']*)[\"']")
# Encodings whose DTD markers the byte search finds; any other declared encoding (UTF-7, EBCDIC,
# ...) is decoded and searched as text, so "+ADw-!DOCTYPE" cannot slip past.
_BYTE_SEARCHABLE = {"utf-8", "ascii", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le",
                    "utf-32-be"}


class DeclarationError(ValueError):
    """An XML declaration that does not end within `XML_HEAD` bytes of its part."""


def declared_encoding(head: str) -> str | None:
    """The encoding name an XML declaration at the start of ``head`` gives, if any.

    ``head`` is the part's first `XML_HEAD` bytes, decoded. Raises `DeclarationError` when a
    declaration starts there but does not end (an encoding name of a thousand letters is no
    encoding, and a reader that looks further ahead than this one would decide otherwise).
    """
    if not head.startswith("<?xml"):
        return None
    end = head.find("?>")
    if end == -1:
        raise DeclarationError(f"XML declaration not closed within {XML_HEAD} bytes")
    declared = _XML_DECL_RE.match(head[:end + 2])
    return declared.group(1) if declared is not None else None


def text_decoder(head: str) -> codecs.IncrementalDecoder | None:
    """A decoder for an XML part that declares an encoding the byte search cannot cover."""
    name = declared_encoding(head)
    if name is None or codecs.lookup(name).name in _BYTE_SEARCHABLE:
        return None
    "<".encode(name)  # LookupError for bytes-to-bytes codecs such as base64
    return codecs.getincrementaldecoder(name)("replace")


_WIDE = (
    (b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"),
    (b"\x00<", "utf-16-be"), (b"<\x00", "utf-16-le"),
)


def sniff_encoding(head: bytes) -> str:
    """The encoding of an XML entity from its first bytes (XML 1.0 appendix F): a UTF-16 or
    UTF-32 spelling by its byte-order mark or its ``<``, else ``utf-8``."""
    for prefix, encoding in _WIDE:
        if head.startswith(prefix):
            return encoding
    return "utf-8"
