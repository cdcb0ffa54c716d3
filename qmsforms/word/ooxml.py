"""WordprocessingML pieces qmsforms writes and reads: content controls, bookmarks, fields.

python-docx has no API for content controls (``w:sdt``), so they are built and read here with
lxml. Every input is a run-level control (inside a paragraph, usually in a table cell): run-level
controls are what Word, WPS and LibreOffice all keep in place, while cell-, row- and block-level
ones are moved around by LibreOffice on a re-save.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from docx.oxml.parser import OxmlElement
from lxml import etree

from ..opc import WORD_NS

W_NS = WORD_NS
W14_NS = "http://schemas.microsoft.com/office/word/2010/wordml"
NS = {"w": W_NS, "w14": W14_NS}

ControlKind = Literal["text", "multiline", "date", "dropdown", "checkbox"]

CHECKED, UNCHECKED = "\u2612", "\u2610"  # ☒ ☐
CHECKBOX_FONT = "MS Gothic"
DATE_FORMAT = "yyyy-MM-dd"
PLACEHOLDER_STYLE = "PlaceholderText"
PLACEHOLDER_COLOR = "808080"

PLACEHOLDERS: dict[str, dict[str, str]] = {
    "text": {"zh": "点击填写", "en": "Enter", "both": "点击填写 / Enter"},
    "date": {"zh": "选择日期", "en": "Pick a date", "both": "选择日期 / Date"},
    "dropdown": {"zh": "请选择", "en": "Choose", "both": "请选择 / Choose"},
    "datetime": {"zh": "yyyy-mm-dd hh:mm", "en": "yyyy-mm-dd hh:mm", "both": "yyyy-mm-dd hh:mm"},
}
"""What a blank control shows, by kind and language."""

ALL_PLACEHOLDERS = frozenset(text for by_lang in PLACEHOLDERS.values()
                             for text in by_lang.values())
"""Every placeholder text: LibreOffice drops ``showingPlcHdr`` but keeps the text, so a value
equal to one of these counts as empty."""

_BOOKMARK_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")


def w(name: str) -> str:
    """The Clark name ``{ns}local`` of ``w:local`` or ``w14:local``."""
    prefix, _, local = name.rpartition(":")
    return f"{{{NS[prefix or 'w']}}}{local}"


def el(tag: str, attrs: dict[str, str] | None = None, *children: Any,
       text: str | None = None) -> Any:
    """A new element (python-docx's class for it when it has one), attributes and children.

    Attribute names are prefixed (``w:val``); children that are None are skipped.
    """
    node = OxmlElement(tag)
    for key, value in (attrs or {}).items():
        node.set(w(key), value)
    for child in children:
        if child is not None:
            node.append(child)
    if text is not None:
        node.text = text
    return node


def xpath(node: Any, expr: str) -> Any:
    """Evaluate ``expr`` with the w/w14 prefixes on any lxml element (a list of nodes, or the
    string, number or boolean an XPath function gives)."""
    return etree.XPath(expr, namespaces=NS)(node)


_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold (they cannot be typed in Word)."""
    return _CONTROL_CHARS.sub("", text)


def text_runs(text: str, rpr: Any = None) -> list[Any]:
    """Runs showing ``text``: line breaks become ``w:br``, tabs ``w:tab``."""
    run = el("w:r", None, _copy(rpr))
    lines = xml_safe(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for i, line in enumerate(lines):
        if i:
            run.append(el("w:br"))
        for j, part in enumerate(line.split("\t")):
            if j:
                run.append(el("w:tab"))
            if part:
                t = el("w:t", text=part)
                t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
                run.append(t)
    return [run]


def _copy(node: Any) -> Any:
    if node is None:
        return None
    from copy import deepcopy

    return deepcopy(node)


def run_props(size_pt: float | None = None, bold: bool = False, color: str | None = None,
              font: str | None = None, style: str | None = None) -> Any:
    """A ``w:rPr`` with the given formatting (None when there is nothing to set)."""
    rpr = el("w:rPr")
    if style:
        rpr.append(el("w:rStyle", {"w:val": style}))
    if font:
        rpr.append(el("w:rFonts", {"w:ascii": font, "w:hAnsi": font, "w:eastAsia": font,
                                   "w:hint": "eastAsia"}))
    if bold:
        rpr.append(el("w:b"))
    if color:
        rpr.append(el("w:color", {"w:val": color}))
    if size_pt:
        half = str(round(size_pt * 2))
        rpr.append(el("w:sz", {"w:val": half}))
        rpr.append(el("w:szCs", {"w:val": half}))
    return rpr if len(rpr) else None


@dataclass(frozen=True)
class ControlSpec:
    """What one content control looks like: its tag, kind and (for drop-downs) the items."""

    tag: str
    kind: ControlKind
    placeholder: str = ""
    items: tuple[tuple[str, str], ...] = ()
    """(value, display text) pairs of a drop-down."""


class Ids:
    """Unique ids for ``w:sdt/w:id`` and bookmarks within one document."""

    def __init__(self) -> None:
        self.sdt = 10_000
        self.bookmark = 0

    def next_sdt(self) -> str:
        self.sdt += 1
        return str(self.sdt)

    def next_bookmark(self) -> str:
        self.bookmark += 1
        return str(self.bookmark)


def content_control(spec: ControlSpec, ids: Ids, size_pt: float = 9) -> Any:
    """A run-level ``w:sdt`` for ``spec``, blank (showing its placeholder, or unticked)."""
    pr = el("w:sdtPr", None,
            run_props(size_pt),
            el("w:alias", {"w:val": spec.tag}),
            el("w:tag", {"w:val": spec.tag}),
            el("w:id", {"w:val": ids.next_sdt()}),
            el("w:lock", {"w:val": "sdtLocked"}))
    if spec.kind == "checkbox":
        pr.append(el("w14:checkbox", None,
                     el("w14:checked", {"w14:val": "0"}),
                     el("w14:checkedState", {"w14:val": "2612", "w14:font": CHECKBOX_FONT}),
                     el("w14:uncheckedState", {"w14:val": "2610",
                                               "w14:font": CHECKBOX_FONT})))
        content = text_runs(UNCHECKED, run_props(size_pt + 1, font=CHECKBOX_FONT))
    else:
        pr.append(el("w:showingPlcHdr"))
        if spec.kind == "text":
            pr.append(el("w:text"))
        elif spec.kind == "multiline":
            pr.append(el("w:text", {"w:multiLine": "1"}))
        elif spec.kind == "date":
            pr.append(el("w:date", None,
                         el("w:dateFormat", {"w:val": DATE_FORMAT}),
                         el("w:lid", {"w:val": "zh-CN"}),
                         el("w:storeMappedDataAs", {"w:val": "dateTime"}),
                         el("w:calendar", {"w:val": "gregorian"})))
        elif spec.kind == "dropdown":
            items = [el("w:listItem", {"w:displayText": spec.placeholder, "w:value": ""})]
            items += [el("w:listItem", {"w:displayText": shown, "w:value": value})
                      for value, shown in spec.items]
            pr.append(el("w:dropDownList", None, *items))
        # direct grey as well as the style: LibreOffice ignores the style inside controls
        content = text_runs(spec.placeholder,
                            run_props(size_pt, color=PLACEHOLDER_COLOR, style=PLACEHOLDER_STYLE))
    return el("w:sdt", None, pr, el("w:sdtContent", None, *content))


def bookmarked(name: str, ids: Ids, *inner: Any) -> list[Any]:
    """``inner`` wrapped in a bookmark called ``name`` (start before, end after).

    Raises ValueError for a name Word would refuse (letters, digits and ``_``, at most 40
    characters, starting with a letter).
    """
    if not _BOOKMARK_RE.match(name):
        raise ValueError(f"{name!r} cannot be a Word bookmark name")
    ident = ids.next_bookmark()
    return [el("w:bookmarkStart", {"w:id": ident, "w:name": name}), *inner,
            el("w:bookmarkEnd", {"w:id": ident})]


def field_runs(instruction: str, shown: str, rpr: Any = None) -> list[Any]:
    """A complex field (``PAGE``, ``NUMPAGES``) showing ``shown`` until it is updated."""
    instr = el("w:instrText", text=f" {instruction} ")
    instr.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    return [
        el("w:r", None, _copy(rpr), el("w:fldChar", {"w:fldCharType": "begin"})),
        el("w:r", None, _copy(rpr), instr),
        el("w:r", None, _copy(rpr), el("w:fldChar", {"w:fldCharType": "separate"})),
        el("w:r", None, _copy(rpr), el("w:t", text=shown)),
        el("w:r", None, _copy(rpr), el("w:fldChar", {"w:fldCharType": "end"})),
    ]


# -- reading ------------------------------------------------------------------------------

def control_kind(sdt: Any) -> ControlKind | Literal["richtext"]:
    """The kind of a ``w:sdt`` from its properties."""
    pr = sdt.find(w("w:sdtPr"))
    if pr is None:
        return "richtext"
    if pr.find(w("w14:checkbox")) is not None:
        return "checkbox"
    if pr.find(w("w:date")) is not None:
        return "date"
    if pr.find(w("w:dropDownList")) is not None or pr.find(w("w:comboBox")) is not None:
        return "dropdown"
    text = pr.find(w("w:text"))
    if text is not None:
        multi = text.get(w("w:multiLine"), "0") in ("1", "true", "on")
        return "multiline" if multi else "text"
    return "richtext"


def prop(sdt: Any, name: str) -> str | None:
    """The ``w:val`` of ``w:sdtPr/<name>`` (``w:tag``, ``w:alias``), or None."""
    node = sdt.find(f"{w('w:sdtPr')}/{w(name)}")
    return None if node is None else node.get(w("w:val"))


def shows_placeholder(sdt: Any) -> bool:
    """Whether the control carries Word's placeholder flag (``w:showingPlcHdr``).

    Only a hint: a script that replaces a control's text can leave the flag on, and
    LibreOffice drops it, so the reader decides by the text shown (see `placeholder_part`).
    """
    pr = sdt.find(w("w:sdtPr"))
    return pr is not None and pr.find(w("w:showingPlcHdr")) is not None


def placeholder_part(sdt: Any) -> str | None:
    """The name of the glossary building block holding the control's own placeholder text.

    Word writes ``w:placeholder/w:docPart`` when a template author edits a placeholder; our
    blanks show one of `ALL_PLACEHOLDERS` instead and have none.
    """
    node = sdt.find(f"{w('w:sdtPr')}/{w('w:placeholder')}/{w('w:docPart')}")
    return None if node is None else node.get(w("w:val"))


def glossary_texts(root: Any) -> dict[str, str]:
    """Building-block name -> its text, from a parsed ``w:glossaryDocument``."""
    out: dict[str, str] = {}
    for part in root.iter(w("w:docPart")):
        name = part.find(f"{w('w:docPartPr')}/{w('w:name')}")
        body = part.find(w("w:docPartBody"))
        if name is not None and body is not None:
            out.setdefault(name.get(w("w:val"), ""), content_text(body))
    return out


def content_text(node: Any, glued_lines: bool = False) -> str:
    """The text under ``node`` as the user sees it: breaks and paragraphs as ``\\n``.

    With ``glued_lines``, a ``w:t`` directly after another ``w:t`` of the same run starts a
    new line: LibreOffice 7.4 writes each line of a control's value that way (see
    `split_value`).
    """
    parts: list[str] = []
    paragraphs = 0
    for item in node.iter(w("w:t"), w("w:br"), w("w:cr"), w("w:tab"), w("w:p")):
        if item.tag == w("w:t"):
            if glued_lines and _glued(item):
                parts.append("\n")
            parts.append(item.text or "")
        elif item.tag == w("w:tab"):
            parts.append("\t")
        elif item.tag == w("w:p"):
            if paragraphs:
                parts.append("\n")
            paragraphs += 1
        elif item.get(w("w:type")) in (None, "textWrapping"):
            parts.append("\n")
    return "".join(parts)


def _glued(t: Any) -> bool:
    before = t.getprevious()
    return before is not None and before.tag == w("w:t")


_Item = tuple[str, str]


def _items(content: Any) -> list[tuple[_Item, bool]]:
    """((kind, text), glued) for each text, break, tab and new paragraph of a control."""
    out: list[tuple[_Item, bool]] = []
    if content is None:
        return out
    paragraphs = 0
    for item in content.iter(w("w:t"), w("w:br"), w("w:cr"), w("w:tab"), w("w:p")):
        if item.tag == w("w:t"):
            out.append((("t", item.text or ""), _glued(item)))
        elif item.tag == w("w:tab"):
            out.append((("tab", "\t"), False))
        elif item.tag == w("w:p"):
            if paragraphs:
                out.append((("p", "\n"), False))
            paragraphs += 1
        elif item.get(w("w:type")) in (None, "textWrapping"):
            out.append((("br", "\n"), False))
    return out


def _joined(items: list[tuple[_Item, bool]]) -> str:
    parts: list[str] = []
    for i, ((_, text), glued) in enumerate(items):
        if i and glued:
            parts.append("\n")
        parts.append(text)
    return "".join(parts)


def split_value(pieces: list[Any]) -> str:
    """The text of one plain-text control that LibreOffice 7.4 wrote as ``pieces``.

    A control that still has its ``w:tag`` was not written by LibreOffice 7.4 (which drops
    every tag) and reads as Word shows it. Otherwise LibreOffice has written one control per
    script run (Chinese / Latin), each piece showing its part of the text and then the whole
    value once more, one ``w:t`` per line with nothing between them (its writer drops the
    line feed, a control character): for ``华东 A&B`` / ``第二行`` the pieces are
    ``[华东 A&B|第二行] [华东 |华东 A&B|第二行] [A&B<br/>|华东 A&B|第二行] …`` (measured on
    text typed in Writer, with Enter and with Shift+Enter alike). That repeated value, the
    longest ending all pieces share (the whole first piece), is read with a new line at each
    ``w:t`` that directly follows another. Pieces that share no ending are joined.
    """
    contents = [p.find(w("w:sdtContent")) for p in pieces]
    if prop(pieces[0], "w:tag"):
        return content_text(contents[0]) if contents[0] is not None else ""
    sequences = [_items(c) for c in contents]
    shortest = min(len(s) for s in sequences)
    common = 0
    while common < shortest and len({s[-1 - common][0] for s in sequences}) == 1:
        common += 1
    if common or len(pieces) == 1:
        first = sequences[0]
        return _joined(first[len(first) - common:])
    return "".join(content_text(c, glued_lines=True) for c in contents if c is not None)


def checkbox_state(sdt: Any) -> bool:
    """Whether a check-box control is ticked (``w14:checked``, else the glyph shown)."""
    checked = sdt.find(f"{w('w:sdtPr')}/{w('w14:checkbox')}/{w('w14:checked')}")
    if checked is not None:
        return checked.get(w("w14:val"), "0") in ("1", "true", "on")
    return CHECKED in content_text(sdt)


def dropdown_items(sdt: Any) -> list[tuple[str, str]]:
    """(value, display text) of a drop-down's items."""
    out = []
    for item in xpath(sdt, "./w:sdtPr/w:dropDownList/w:listItem|./w:sdtPr/w:comboBox/w:listItem"):
        shown = item.get(w("w:displayText"))
        value = item.get(w("w:value"))
        out.append((value if value is not None else shown or "", shown or value or ""))
    return out


def iter_sdts(root: Any) -> Iterator[Any]:
    """Every ``w:sdt`` under ``root``, in document order."""
    return root.iter(w("w:sdt"))


def ancestors(node: Any, tag: str) -> Iterable[Any]:
    """The ancestors of ``node`` with the Clark tag ``tag``, nearest first."""
    return node.iterancestors(tag)
