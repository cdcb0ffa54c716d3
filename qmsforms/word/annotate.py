"""Return a rejected Word form annotated: each bad input shaded and commented (zh + en).

The Word counterpart of `qmsforms.excel.templates.annotate`: issues located at a position
(``table 3 row 2 column 4``) shade that cell and get a Word comment on the control's text;
issues about the whole file are commented on the first text of the document.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import docx
from docx.document import Document as DocxDocument

from ..issues import Issue, Report
from .ooxml import el, w

log = logging.getLogger(__name__)

BAD_FILL = "FFC7CE"
AUTHOR = "qmsforms"
_POSITION = re.compile(r"table (\d+) row (\d+)(?: column (\d+))?")


def _rows(tbl: Any) -> list[Any]:
    return [tr for tr in tbl.iter(w("w:tr")) if next(tr.iterancestors(w("w:tbl"))) is tbl]


def _cells(tr: Any) -> list[Any]:
    return [tc for tc in tr.iter(w("w:tc")) if next(tc.iterancestors(w("w:tr"))) is tr]


def locate(doc: DocxDocument, position: str) -> list[Any]:
    """The ``w:tc`` cells a position string names (a whole row for ``table n row r``)."""
    found = _POSITION.fullmatch(position or "")
    if not found:
        return []
    tables = list(doc.element.body.iter(w("w:tbl")))
    number, row = int(found[1]), int(found[2])
    if not 0 < number <= len(tables):
        return []
    rows = _rows(tables[number - 1])
    if not 0 < row <= len(rows):
        return []
    cells = _cells(rows[row - 1])
    if found[3] is None:
        return cells
    column = int(found[3])
    return [cells[column - 1]] if 0 < column <= len(cells) else []


def _shade(tc: Any) -> None:
    tcpr = tc.find(w("w:tcPr"))
    if tcpr is None:
        tcpr = el("w:tcPr")
        tc.insert(0, tcpr)
    for old in tcpr.findall(w("w:shd")):
        tcpr.remove(old)
    shd = el("w:shd", {"w:val": "clear", "w:color": "auto", "w:fill": BAD_FILL})
    before = [w(f"w:{n}") for n in ("noWrap", "tcMar", "textDirection", "tcFitText", "vAlign",
                                    "hideMark")]
    anchor = next((c for c in tcpr if c.tag in before), None)
    if anchor is not None:
        anchor.addprevious(shd)
    else:
        tcpr.append(shd)


def _comment(doc: DocxDocument, paragraph: Any, text: str) -> None:
    """Comment on a whole paragraph, with the range *around* its content controls.

    python-docx anchors comments on runs, which would put the range inside a control;
    LibreOffice then stops showing the control's text, so the range is placed by hand.
    """
    comment = doc.comments.add_comment(text=text, author=AUTHOR, initials="QF")
    ident = str(comment.comment_id)
    ppr = paragraph.find(w("w:pPr"))
    start = el("w:commentRangeStart", {"w:id": ident})
    if ppr is not None:
        ppr.addnext(start)
    else:
        paragraph.insert(0, start)
    paragraph.append(el("w:commentRangeEnd", {"w:id": ident}))
    style = el("w:rPr", None, el("w:rStyle", {"w:val": "CommentReference"}))
    paragraph.append(el("w:r", None, style, el("w:commentReference", {"w:id": ident})))


def _first_paragraph(node: Any) -> Any | None:
    for paragraph in node.iter(w("w:p")):
        if paragraph.find(f".//{w('w:t')}") is not None:
            return paragraph
    return None


def _message(issue: Issue) -> str:
    where = f"[{issue.field}] " if issue.field else ""
    return f"{where}{issue.message_zh}\n{issue.message_en}"


def annotate_word(path: str | os.PathLike[str], report: Report,
                  out: str | os.PathLike[str]) -> Path | None:
    """Write ``out``: the document with every issue shaded and commented; None if unreadable."""
    try:
        doc = docx.Document(str(path))
    except Exception as exc:  # python-docx raises many kinds on files the safety gate let through
        log.info("%s: no annotated copy, python-docx cannot open it (%s)", path, exc)
        return None
    first = _first_paragraph(doc.element.body)
    for issue in report.issues:
        cells = locate(doc, issue.cell or "")
        if issue.severity == "error":
            for tc in cells:
                _shade(tc)
        found = [p for p in (_first_paragraph(tc) for tc in cells) if p is not None]
        paragraph = found[0] if found else first
        if paragraph is not None:
            _comment(doc, paragraph, _message(issue))
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(target))
    return target
