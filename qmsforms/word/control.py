"""The document-control block of a Word template: find it, stamp the current values.

A Word blank keeps the block in its page header, each value (and the company) in a paragraph
inside a bookmark ``qmsforms_<key>`` (`qmsforms.word.layout.control_bookmark`). A template
without those bookmarks is searched by the captions of its header tables (文件编号 / Doc. no.
…, the value is the next cell of the row). Only the text of a value changes: its first run
keeps its formatting, a logo or a restyled header stays as it is.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from docx.document import Document as DocxDocument

from ..control import KEYS, LABELS, ControlBlock
from .layout import control_bookmark
from .ooxml import w

log = logging.getLogger(__name__)

_FOOTER = re.compile(r"\S*\s+Rev\.\s+\S*")


def _parts(doc: DocxDocument, kind: str) -> Iterator[Any]:
    """The root elements of every page header (``header``) or footer (``footer``) in use."""
    seen: set[int] = set()
    for section in doc.sections:
        for name in (kind, f"first_page_{kind}", f"even_page_{kind}"):
            part = getattr(section, name)
            if part.is_linked_to_previous:
                continue
            root = part._element
            if id(root) not in seen:
                seen.add(id(root))
                yield root


def _text(node: Any) -> str:
    return "".join(t.text or "" for t in node.iter(w("w:t")))


def set_text(paragraph: Any, value: str) -> None:
    """Make ``paragraph`` read ``value``, keeping its first run's formatting."""
    texts = list(paragraph.iter(w("w:t")))
    if not texts:
        return
    texts[0].text = value
    texts[0].set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    for extra in texts[1:]:
        extra.getparent().remove(extra)


def _by_bookmark(roots: list[Any], key: str) -> Any:
    name = control_bookmark(key)
    for root in roots:
        for mark in root.iter(w("w:bookmarkStart")):
            if mark.get(w("w:name")) == name:
                parent = mark.getparent()
                while parent is not None and parent.tag != w("w:p"):
                    parent = parent.getparent()
                return parent
    return None


def _caption(text: str) -> str:
    return re.sub(r"\s+", "", text).casefold()


def _by_caption(roots: list[Any], key: str) -> Any:
    zh, en = LABELS[key]
    wanted = {_caption(zh), _caption(en), _caption(zh + en)}
    for root in roots:
        for row in root.iter(w("w:tr")):
            cells = row.findall(w("w:tc"))
            for i, cell in enumerate(cells[:-1]):
                if _caption(_text(cell)) in wanted:
                    return cells[i + 1].find(w("w:p"))
    return None


def locate_word_control(doc: DocxDocument) -> dict[str, Any]:
    """The paragraph that shows each value of the control block, by key (found ones only)."""
    roots = list(_parts(doc, "header"))
    found: dict[str, Any] = {}
    for key in KEYS:
        paragraph = _by_bookmark(roots, key)
        if paragraph is None and key in LABELS:
            paragraph = _by_caption(roots, key)
        if paragraph is not None:
            found[key] = paragraph
    return found


def stamp_word_control(doc: DocxDocument, block: ControlBlock, lang: str) -> list[str]:
    """Write the current control values into a Word template; returns the keys not found."""
    shown = block.shown(lang)
    found = locate_word_control(doc)
    for key, paragraph in found.items():
        set_text(paragraph, shown[key])
    for root in _parts(doc, "footer"):
        for t in root.iter(w("w:t")):
            if t.text and _FOOTER.search(t.text):
                t.text = _FOOTER.sub(lambda _m: block.footer(), t.text, count=1)
                break
    missing = [key for key in KEYS if key not in found]
    if missing:
        log.warning("%s: control block values without a place: %s", block.form,
                    ", ".join(missing))
    return missing
