"""Fill the content controls of a Word form from Python data — as a person would in Word.

Used to pre-fill issued blanks, by the tests and by the demo. Each value is written the way Word
itself stores it: a check box gets ``w14:checked`` and its glyph, a date picker ``w:fullDate``
and the date text, a drop-down the display text of the chosen item, a multi-line control line
breaks. The placeholder flag (``w:showingPlcHdr``) is cleared on every control written.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from copy import deepcopy
from decimal import Decimal
from pathlib import Path
from typing import Any

import docx
from docx.document import Document as DocxDocument

from .. import normalize as nz
from ..issues import UsageError
from .ooxml import (
    CHECKBOX_FONT,
    CHECKED,
    UNCHECKED,
    ancestors,
    control_kind,
    dropdown_items,
    el,
    iter_sdts,
    prop,
    run_props,
    text_runs,
    w,
    xml_safe,
)


def display_text(value: Any) -> str:
    """How a Python value is written into a text control."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M" if not value.second else "%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def _rpr(sdt: Any) -> Any:
    found = sdt.find(f"{w('w:sdtPr')}/{w('w:rPr')}")
    return deepcopy(found) if found is not None else run_props(9)


def _replace_content(sdt: Any, runs: list[Any]) -> None:
    content = sdt.find(w("w:sdtContent"))
    if content is None:
        content = el("w:sdtContent")
        sdt.append(content)
    for child in list(content):
        if child.tag in (w("w:bookmarkStart"), w("w:bookmarkEnd")):
            continue
        content.remove(child)
    for run in runs:
        content.append(run)


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    try:
        return bool(nz.to_bool(value))
    except nz.NormalizeError:
        raise UsageError(f"{value!r} is not yes/no", f"{value!r} 不是 是/否") from None


def _as_date(value: Any) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return (value.date() if isinstance(value, dt.datetime) else value).isoformat()
    try:
        parsed = nz.to_date(value)
    except nz.NormalizeError:
        return str(value)  # written as typed, so a test can put a bad date in a picker
    return parsed.isoformat() if parsed else ""


def set_control(sdt: Any, value: Any) -> None:
    """Write ``value`` into one content control and clear its placeholder flag.

    A drop-down takes the item value (``"quality"``) or a display text; anything else is shown
    as given, as if typed. A date that does not parse is written as text (no ``fullDate``).
    """
    pr = sdt.find(w("w:sdtPr"))
    for flag in pr.findall(w("w:showingPlcHdr")):
        pr.remove(flag)
    kind = control_kind(sdt)
    rpr = _rpr(sdt)
    if kind == "checkbox":
        ticked = _as_bool(value)
        checked = pr.find(f"{w('w14:checkbox')}/{w('w14:checked')}")
        if checked is not None:
            checked.set(w("w14:val"), "1" if ticked else "0")
        _replace_content(sdt, text_runs(CHECKED if ticked else UNCHECKED,
                                        run_props(10, font=CHECKBOX_FONT)))
        return
    if kind == "date":
        text = _as_date(value)
        picker = pr.find(w("w:date"))
        if len(text) == 10 and text[4] == "-":
            picker.set(w("w:fullDate"), f"{text}T00:00:00Z")
        elif w("w:fullDate") in picker.attrib:
            del picker.attrib[w("w:fullDate")]
        _replace_content(sdt, text_runs(text, rpr))
        return
    if kind == "dropdown":
        items = dropdown_items(sdt)
        shown = next((s for v, s in items if v == str(value)), None)
        if shown is None:
            shown = next((s for v, s in items if s == str(value)), str(value))
        listing = pr.find(w("w:dropDownList"))
        chosen = next((v for v, s in items if s == shown), None)
        if listing is not None and chosen:
            listing.set(w("w:lastValue"), chosen)
        _replace_content(sdt, text_runs(shown, rpr))
        return
    _replace_content(sdt, text_runs(xml_safe(display_text(value)), rpr))


def _controls(root: Any) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for sdt in iter_sdts(root):
        tag = prop(sdt, "w:tag")
        if tag:
            found.setdefault(tag, []).append(sdt)
    return found


def _table_rows(controls: Mapping[str, list[Any]], table: str) -> list[Any]:
    """The ``w:tr`` elements holding the table's controls, in document order."""
    rows: list[Any] = []
    for tag, sdts in controls.items():
        if tag.startswith(f"{table}."):
            for sdt in sdts:
                tr = next(iter(ancestors(sdt, w("w:tr"))), None)
                if tr is not None and tr not in rows:
                    rows.append(tr)
    body = [tr for tr in rows[0].getparent().iter(w("w:tr"))] if rows else []
    return sorted(rows, key=body.index) if body else rows


def _grow(rows: list[Any], wanted: int, root: Any) -> list[Any]:
    """Clone the last (blank) row until there are ``wanted`` rows; clones have no bookmarks."""
    next_id = max([int(x) for x in root.xpath("//w:sdtPr/w:id/@w:val") if x.isdigit()] or [0])
    while len(rows) < wanted:
        clone = deepcopy(rows[-1])
        for mark in [*clone.iter(w("w:bookmarkStart")), *clone.iter(w("w:bookmarkEnd"))]:
            mark.getparent().remove(mark)
        for ident in clone.iter(w("w:id")):
            next_id += 1
            ident.set(w("w:val"), str(next_id))
        first = clone.find(w("w:tc"))
        if first is not None and first.find(f".//{w('w:sdt')}") is None:
            texts = first.findall(f".//{w('w:t')}")
            if texts and (texts[0].text or "").strip().isdigit():
                texts[0].text = str(len(rows) + 1)
        rows[-1].addnext(clone)
        rows.append(clone)
    return rows


def table_rows(root: Any, table: str, wanted: int) -> list[dict[str, Any]]:
    """The controls of the first ``wanted`` rows of a table field, column -> control; rows
    beyond the blank rows are added by copying the last one. `UsageError` when the document
    has no such table."""
    rows = _table_rows(_controls(root), table)
    if not rows:
        raise UsageError(f"the document has no table of {table}", f"文档中没有表格 {table}")
    rows = _grow(rows, wanted, root)
    found = []
    for tr in rows[:wanted]:
        tags = {(prop(s, "w:tag") or ""): s for s in reversed(list(iter_sdts(tr)))}
        found.append({tag.partition(".")[2]: s for tag, s in tags.items()
                      if tag.startswith(f"{table}.")})
    return found


def _fill_table(root: Any, table: str, lines: Sequence[Mapping[str, Any]]) -> None:
    for by_column, line in zip(table_rows(root, table, len(lines)), lines, strict=True):
        for column, value in line.items():
            if column not in by_column:
                raise UsageError(f"table {table} has no column {column!r}",
                                 f"表格 {table} 没有列 {column!r}")
            if value is not None:
                set_control(by_column[column], value)


def fill_document(doc: DocxDocument, data: Mapping[str, Any]) -> None:
    """Write ``data`` (field -> value; a table field takes a list of row mappings) into ``doc``.

    Controls are found by tag. None leaves a control as it is. Rows beyond the blank rows of a
    table are added by copying the last row (fill a fresh blank, whose rows are empty).
    """
    root = doc.element.body
    controls = _controls(root)
    for name, value in data.items():
        if isinstance(value, (list, tuple)):
            _fill_table(root, name, value)
            controls = _controls(root)
            continue
        if name not in controls:
            raise UsageError(f"the document has no content control tagged {name!r}",
                             f"文档中没有标记为 {name!r} 的内容控件")
        if value is not None:
            set_control(controls[name][0], value)


def fill_word(doc_or_path: DocxDocument | str | os.PathLike[str], data: Mapping[str, Any],
              out: str | os.PathLike[str] | None = None) -> DocxDocument:
    """Fill a Word form (a `Document` or a .docx path) and save it to ``out`` when given."""
    doc = doc_or_path if isinstance(doc_or_path, DocxDocument) else docx.Document(
        str(doc_or_path))
    fill_document(doc, data)
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        doc.save(str(out))
    return doc
