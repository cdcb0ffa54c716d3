"""Lay out a controlled Word blank from a form definition, and issue copies of it.

The page header carries the document-control block (company, title, 文件编号, 版本, 生效日期,
受控状态, 编制/审核/批准), the footer the document number and "第 x 页 共 y 页 / Page x of y".
The body is a grid of label / input cells; every input is a content control tagged and titled
with the field name and wrapped in a bookmark of the same name (LibreOffice drops the tags on a
re-save but keeps bookmarks). Repeating rows are tables whose cells hold controls tagged
``<table>.<column>`` and bookmarks ``<table>_<row>_<column>``. A form whose fields carry a
``section`` (the 8D report's D0 … D8) gets one block per section, each with its heading.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import docx
from docx.document import Document as DocxDocument

from ..config import Config
from ..control import control_block, control_config, stale_template
from ..fields import FieldSpec
from ..identity import Identity, identity_for
from ..issues import UsageError
from ..registry import FormDef
from ..workspace import Workspace
from .control import stamp_word_control
from .layout import (
    EN_COLOR,
    GRID,
    HEADING_FILL,
    LABEL_FILL,
    SMALL,
    TEXT_WIDTH,
    both,
    caption_runs,
    drop_thumbnail,
    grid_widths,
    make_table,
    page_footer,
    page_header,
    paragraph,
    setup_document,
    spacer,
    span_width,
    styled_run,
    table_cell,
    table_row,
)
from .ooxml import PLACEHOLDERS, ControlKind, ControlSpec, Ids, bookmarked, content_control, w
from .props import read_word_identity, write_word_identity

LANGS = ("both", "zh", "en")
TABLE_ROWS = 4
"""Blank rows of a repeating table; Word users add more with the row's + handle, and the reader
takes rows beyond those that were issued."""

LONGTEXT_HEIGHT = 1100
LONGTEXT_HEIGHT_LARGE = 1700
COUNTED = ("int", "decimal", "percent", "score")


# -- kinds and placeholders -----------------------------------------------------------------

def control_spec(spec: FieldSpec, lang: str, tag: str | None = None) -> ControlSpec:
    """The content control a field gets in ``lang``."""
    tag = tag or spec.name
    kind: ControlKind
    if spec.kind == "bool":
        return ControlSpec(tag, "checkbox")
    if spec.kind == "date":
        return ControlSpec(tag, "date", PLACEHOLDERS["date"][lang])
    if spec.kind in ("choice", "ticks"):
        if spec.kind == "choice":
            items = tuple((code, both(pair, lang, " ")) for code, pair in spec.choices.items())
        else:
            items = tuple((str(v), both((zh, en), lang, " ")) for v, zh, en in spec.levels)
        return ControlSpec(tag, "dropdown", PLACEHOLDERS["dropdown"][lang], items)
    if spec.kind == "datetime":
        return ControlSpec(tag, "text", PLACEHOLDERS["datetime"][lang])
    kind = "multiline" if spec.kind == "longtext" else "text"
    return ControlSpec(tag, kind, PLACEHOLDERS["text"][lang])


def table_bookmark(table: str, row: int, column: str) -> str:
    """The bookmark name of row ``row`` (1-based, as issued) of a repeating-table column."""
    return f"{table}_{row}_{column}"


# -- the body -----------------------------------------------------------------------------

class _Body:
    """Builds the body elements of one blank."""

    def __init__(self, form: FormDef, lang: str) -> None:
        self.form, self.lang = form, lang
        self.ids = Ids()
        self.out: list[Any] = []
        self.grid_rows: list[Any] = []

    def control(self, spec: FieldSpec, tag: str | None = None,
                bookmark: str | None = None) -> list[Any]:
        ctl = content_control(control_spec(spec, self.lang, tag), self.ids)
        return bookmarked(bookmark or spec.name, self.ids, ctl)

    def label_cell(self, spec: FieldSpec, start: int, span: int) -> Any:
        caption = paragraph(*caption_runs(spec.labels, self.lang))
        return table_cell(span_width(start, span), caption, span=span, fill=LABEL_FILL)

    def value_cell(self, spec: FieldSpec, start: int, span: int) -> Any:
        runs: list[Any] = list(self.control(spec))
        help_text = both((spec.help_zh, spec.help_en), self.lang, " / ")
        if spec.kind == "bool" and help_text.strip(" /"):
            runs.append(styled_run("  " + help_text, SMALL, False, EN_COLOR))
        return table_cell(span_width(start, span), paragraph(*runs), span=span)

    def pairs_row(self, specs: list[FieldSpec], label_span: int, value_span: int) -> Any:
        cells, col = [], 0
        for spec in specs:
            cells.append(self.label_cell(spec, col, label_span))
            cells.append(self.value_cell(spec, col + label_span, value_span))
            col += label_span + value_span
        if col < GRID:  # an odd field out: close the row with an empty cell
            cells.append(table_cell(span_width(col, GRID - col), span=GRID - col))
        return table_row(cells)

    def longtext_row(self, spec: FieldSpec) -> Any:
        large = (spec.max_length or 0) >= 20000
        height = LONGTEXT_HEIGHT_LARGE if large else LONGTEXT_HEIGHT
        label = self.label_cell(spec, 0, 2)
        value = table_cell(span_width(2, GRID - 2), paragraph(*self.control(spec)),
                           span=GRID - 2, valign="top")
        return table_row([label, value], height=height, cant_split=False)

    def flush_grid(self) -> None:
        if self.grid_rows:
            self.out.append(make_table(grid_widths(), self.grid_rows))
            self.out.append(spacer())
            self.grid_rows = []

    def heading(self, section: tuple[str, str]) -> None:
        self.out.append(paragraph(*_heading_runs(section, self.lang), before=60, after=40,
                                  keep_next=True, shade=HEADING_FILL))

    def repeating_table(self, spec: FieldSpec) -> None:
        self.flush_grid()
        widths = _column_widths(spec)
        captions = [("序号", "No."), *(c.labels for c in spec.columns)]
        header = [table_cell(x, paragraph(*caption_runs(pair, self.lang, 8), align="center"),
                             fill=LABEL_FILL) for x, pair in zip(widths, captions, strict=True)]
        rows = [table_row(header, header=True)]
        for index in range(1, TABLE_ROWS + 1):
            cells = [table_cell(widths[0], paragraph(styled_run(str(index), 8), align="center"))]
            for x, column in zip(widths[1:], spec.columns, strict=True):
                runs = self.control(column, tag=f"{spec.name}.{column.name}",
                                    bookmark=table_bookmark(spec.name, index, column.name))
                cells.append(table_cell(x, paragraph(*runs)))
            rows.append(table_row(cells))
        self.out.append(make_table(widths, rows))
        self.out.append(spacer())

    def block(self, specs: list[FieldSpec]) -> None:
        """Rows for consecutive fields of one section, in declaration order."""
        for kind, group in _runs(specs):
            if kind == "table":
                self.repeating_table(group[0])
            elif kind == "longtext":
                self.grid_rows.append(self.longtext_row(group[0]))
            elif kind == "wide":
                self.grid_rows.append(self.pairs_row(group, 2, GRID - 2))
            elif kind in ("signoff", "counted"):
                for i in range(0, len(group), 3):
                    self.grid_rows.append(self.pairs_row(group[i:i + 3], 2, 2))
            else:
                for i in range(0, len(group), 2):
                    self.grid_rows.append(self.pairs_row(group[i:i + 2], 2, 4))
        self.flush_grid()


def _heading_runs(section: tuple[str, str], lang: str) -> list[Any]:
    zh, en = section
    code, _, zh_rest = zh.partition(" ")
    en_rest = en.partition(" ")[2] if en.startswith(code) else en
    if not zh_rest or not code.startswith("D"):
        return [styled_run(both(section, lang, "  "), 10, True)]
    text = {"zh": f"{code}  {zh_rest}", "en": f"{code}  {en_rest}",
            "both": f"{code}  {zh_rest}  {en_rest}"}[lang]
    return [styled_run(text, 10, True)]


def _runs(specs: list[FieldSpec]) -> Iterator[tuple[str, list[FieldSpec]]]:
    """Group consecutive fields by how they are laid out."""
    current: tuple[str, list[FieldSpec]] | None = None
    for spec in specs:
        kind: str
        if spec.kind in ("table", "longtext"):
            kind = spec.kind
        elif spec.width >= 3:
            kind = "wide"
        elif spec.group == "signoff":
            kind = "signoff"
        elif spec.kind in COUNTED:
            kind = "counted"
        else:
            kind = "pairs"
        if current and current[0] == kind and kind not in ("table", "longtext", "wide"):
            current[1].append(spec)
            continue
        if current:
            yield current
        current = (kind, [spec])
    if current:
        yield current


def _column_widths(spec: FieldSpec) -> list[int]:
    fixed = {"date": 1500, "datetime": 1900, "bool": 900, "int": 1000, "decimal": 1100,
             "percent": 1000, "choice": 1900}
    number = 600
    widths: list[int | None] = []
    weights: list[int] = []
    for column in spec.columns:
        if column.kind in fixed:
            widths.append(fixed[column.kind])
        elif column.kind == "text" and (column.max_length or 999) <= 50:
            widths.append(1800)
        else:
            widths.append(None)
            weights.append(2 if (column.max_length or 0) > 200 else 1)
    free = TEXT_WIDTH - number - sum(x for x in widths if x is not None)
    total = sum(weights) or 1
    out, seen = [number], 0
    for x in widths:
        if x is None:
            x = free * weights[seen] // total
            seen += 1
        out.append(x)
    out[-1] += TEXT_WIDTH - sum(out)
    return out


def _sections(form: FormDef) -> Iterator[tuple[tuple[str, str] | None, bool,
                                               list[FieldSpec]]]:
    """(section, is the form's top block, fields) in declaration order."""
    current: list[FieldSpec] = []
    key: object = object()
    for spec in form.fields:
        this = spec.section if spec.section is not None else spec.group
        if current and this != key:
            yield current[0].section, current[0].group == "header", current
            current = []
        key = this
        current.append(spec)
    if current:
        yield current[0].section, current[0].group == "header", current


def build_word_blank(form: FormDef, config: Config, lang: str = "both",
                     identity: Identity | None = None,
                     values: Mapping[str, Any] | None = None) -> DocxDocument:
    """Lay out the Word blank of ``form`` in ``lang`` (``zh``, ``en`` or ``both``).

    ``identity`` defaults to the template identity (no instance id); `issue_document` stamps
    a fresh one on each issued copy. ``values`` (field -> Python value) are filled in.
    """
    if lang not in LANGS:
        raise UsageError(f"language must be one of zh, en, both, not {lang!r}")
    doc = docx.Document()
    setup_document(doc)
    page_header(doc, form, config, lang)
    page_footer(doc, form, config, lang)
    body = _Body(form, lang)
    for section, top, specs in _sections(form):
        if section is not None and not top:
            body.heading(section)
        body.block(specs)
    sect_pr = doc.element.body.find(w("w:sectPr"))
    for node in body.out:
        sect_pr.addprevious(node)
    props = doc.core_properties
    props.title = form.title(lang)
    props.author = props.last_modified_by = "qmsforms"
    props.comments = ""
    props.subject = form.id
    props.language = "en-US" if lang == "en" else "zh-CN"
    drop_thumbnail(doc)
    created = config.control(form.id).effective_date
    props.created = props.modified = datetime(created.year, created.month, created.day)
    props.revision = 1
    write_word_identity(doc, identity or identity_for(form, lang))
    if values:
        from .fill import fill_document

        fill_document(doc, values)
    return doc


def issue_document(workspace: Workspace, form: FormDef, lang: str,
                   values: Mapping[str, Any]) -> tuple[DocxDocument, Identity]:
    """A blank Word document of ``form`` with a fresh instance id and ``values`` filled in, and
    its identity; `qmsforms.blanks.issue_blank` records and saves it.

    A workspace template ``templates/<form>[.<lang>].docx`` is used when present (its control
    block stamped with what the configuration says now, re-stamped with a new instance id;
    refused when it is of another revision than the current one), otherwise the blank is
    built from the form definition.
    """
    template = workspace.template_path(form.id, lang, suffix=".docx")
    if template is not None:
        doc = docx.Document(str(template))
        identity = read_word_identity(doc) or identity_for(form, lang)
        stale_template(identity, form, template)
        stamp_word_control(doc, control_block(workspace, form), lang)
    else:
        doc = build_word_blank(form, control_config(workspace, form), lang)
        identity = identity_for(form, lang)
    issued = identity.issued()
    write_word_identity(doc, issued)
    if values:
        from .fill import fill_document

        fill_document(doc, dict(values))
    return doc, issued
