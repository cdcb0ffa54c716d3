"""Build a blank controlled form (.xlsx) from a form definition.

The layout is derived from the field metadata: a document-control block, then the header
fields in label/input pairs, counted events one per row, questions as rows of tick boxes or
score cells, the lines table, long texts as boxes and a sign-off row. Every input is a
workbook-scoped defined name equal to the field name (a tick row is one name over its cells),
the lines are an Excel table named after the field, inputs carry data validation derived from
the schema and are the only unlocked cells. The page is A4, fitted to one page wide.

A form whose every field names its section (the corrective action) is laid out part by part
instead, each part under its bilingual heading, as the Word builder does.
"""

from __future__ import annotations

from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from ..config import Config
from ..control import LABELS, block_of, name_of
from ..fields import FieldSpec
from ..identity import Identity, identity_for
from ..registry import FormDef
from .binding import product_formula, table_area_name
from .identity import write_identity
from .inputs import NUMBER_FORMATS
from .layout_sheet import LayoutSheet
from .style import (
    BORDER,
    CENTER,
    FORM_MARGINS,
    HEAD_FILL,
    TOP_LEFT,
    UNLOCKED,
    Orientation,
    a4_page,
    escape,
    first_sheet,
    font,
    page_texts,
)

COLUMNS = 8
WIDTHS = (10.0, 19.0, 12.5, 12.5, 12.5, 12.5, 12.5, 12.5)
TABLE_WIDTHS = {"text": 15.0, "int": 9.0, "decimal": 11.0, "date": 11.0, "choice": 12.0}
TABLE_ROWS = 25
MAX_ROW = 1_048_576
"""The last row of a worksheet."""
_NOT_IN_SHEET_NAMES = frozenset("/\\?*[]:")


def _input_cells(s: LayoutSheet, spec: FieldSpec, first: int, last: int, rows: int = 1) -> None:
    ref = s.block(first, last, rows=rows, style="input", merge=spec.kind != "ticks")
    for r in range(s.row, s.row + rows):
        for c in range(first, last + 1):
            s.ws.cell(row=r, column=c).number_format = NUMBER_FORMATS.get(spec.kind, "General")
    s.bind(spec.name, ref)
    s.validate(spec, ref)


def _numbered_label(s: LayoutSheet, number: int, spec: FieldSpec, last_col: int,
                    rows: int = 1) -> None:
    """Row number in column A and the field's caption up to ``last_col``."""
    s.block(1, 1, number, rows=rows, style="label")
    s.ws.cell(row=s.row, column=1).alignment = CENTER
    s.block(2, last_col, s.text(spec.labels, " / "), rows=rows, style="label")


def _centred_inputs(s: LayoutSheet, spec: FieldSpec, first_col: int) -> None:
    """The field's input cells from ``first_col`` to the last column, centred."""
    _input_cells(s, spec, first_col, COLUMNS)
    for c in range(first_col, COLUMNS + 1):
        s.ws.cell(row=s.row, column=c).alignment = CENTER


def _title_block(s: LayoutSheet, form: FormDef, config: Config) -> None:
    """Company, title and the control block; each value of the block gets a defined name
    (`qmsforms.control.name_of`) so that it is found again in a restyled template."""
    block = block_of(config, form)
    shown = block.shown(s.lang)
    s.bind(name_of("company"), s.block(1, COLUMNS, shown["company"], style="none").split(":")[0])
    s.ws.cell(row=s.row, column=1).font = font(12, True)
    s.ws.cell(row=s.row, column=1).alignment = CENTER
    s.ws.row_dimensions[s.row].height = 22
    s.row += 1
    s.block(1, COLUMNS, s.text((form.title_zh, form.title_en), "  "), style="none")
    s.ws.cell(row=s.row, column=1).font = font(16, True)
    s.ws.cell(row=s.row, column=1).alignment = CENTER
    s.ws.row_dimensions[s.row].height = 30
    s.row += 1
    rows = (("document_no", "revision", "effective_date", "status"),
            ("prepared_by", "reviewed_by", "approved_by", ""))
    for keys in rows:
        for i, key in enumerate(keys):
            label = LABELS.get(key, ("表单", "Form"))
            s.block(2 * i + 1, 2 * i + 1, s.text(label), style="label")
            ref = s.block(2 * i + 2, 2 * i + 2, shown[key] if key else form.id, style="none")
            if key:
                s.bind(name_of(key), ref)
            value_cell = s.ws.cell(row=s.row, column=2 * i + 2)
            value_cell.border, value_cell.font, value_cell.alignment = BORDER, font(9), CENTER
        s.ws.row_dimensions[s.row].height = 26 if s.lang == "both" else 18
        s.row += 1
    s.row += 1


def _pairs(s: LayoutSheet, specs: list[FieldSpec]) -> None:
    """Label/input pairs, two to a row; a field of width 3 takes the whole row."""
    col = 1
    for spec in specs:
        if spec.width >= 3 or (col > 1 and spec.width > 1):
            if col > 1:
                s.ws.row_dimensions[s.row].height = 28 if s.lang == "both" else 20
                s.row += 1
                col = 1
            s.block(1, 2, s.text(spec.labels), style="label")
            _input_cells(s, spec, 3, COLUMNS)
            s.ws.row_dimensions[s.row].height = 28 if s.lang == "both" else 20
            s.row += 1
            continue
        if col == 1:
            s.block(1, 2, s.text(spec.labels), style="label")
            _input_cells(s, spec, 3, 4)
            col = 5
        else:
            s.block(5, 6, s.text(spec.labels), style="label")
            _input_cells(s, spec, 7, 8)
            s.ws.row_dimensions[s.row].height = 28 if s.lang == "both" else 20
            s.row += 1
            col = 1
    if col > 1:
        s.ws.row_dimensions[s.row].height = 28 if s.lang == "both" else 20
        s.row += 1


def _heading(s: LayoutSheet, label: tuple[str, str]) -> None:
    s.block(1, COLUMNS, s.text(label, "  "), style="head")
    s.ws.cell(row=s.row, column=1).alignment = Alignment(horizontal="left", vertical="center")
    s.ws.row_dimensions[s.row].height = 20
    s.row += 1


def _counted_rows(s: LayoutSheet, specs: list[FieldSpec]) -> None:
    """One event per row: number, description, the count typed in the last column.

    A section that also holds other numbers (a PPM, a target) heads its value column
    "count / value" instead of "count".
    """
    section: tuple[str, str] | None = None
    for number, spec in enumerate(specs, start=1):
        if spec.section and spec.section != section:
            section = spec.section
            counts_only = all(f.kind == "int" for f in specs if f.section == section)
            value_head = ("次数", "Count") if counts_only else ("次数/数值", "Count / value")
            _heading(s, section)
            s.block(1, 1, s.text(("序号", "No.")), style="head")
            s.block(2, COLUMNS - 1, s.text(("项目", "Item"), " "), style="head")
            s.block(COLUMNS, COLUMNS, s.text(value_head), style="head")
            s.ws.row_dimensions[s.row].height = 28 if s.lang == "both" else 20
            s.row += 1
        _numbered_label(s, number, spec, COLUMNS - 1)
        _centred_inputs(s, spec, COLUMNS)
        s.ws.row_dimensions[s.row].height = 20
        s.row += 1


def _questions(s: LayoutSheet, specs: list[FieldSpec]) -> None:
    """Scored questions: a shared header of levels, then one row of tick cells per question."""
    first = specs[0]
    _heading(s, ("评价项目", "Evaluation"))
    s.block(1, 1, s.text(("序号", "No.")), style="head")
    if first.kind == "ticks":
        n = len(first.levels)
        start = COLUMNS - n + 1
        s.block(2, start - 1, s.text(("项目", "Item"), " "), style="head")
        for i, (value, zh, en) in enumerate(first.levels):
            s.block(start + i, start + i, s.text((f"{zh}({value})", f"{en} ({value})")),
                    style="head")
    else:
        start = COLUMNS
        low, high = int(first.minimum or 0), int(first.maximum or 10)
        s.block(2, start - 1, s.text(("项目", "Item"), " "), style="head")
        s.block(start, start, s.text((f"得分 {low}–{high}", f"Score {low}–{high}")),
                style="head")
    s.ws.row_dimensions[s.row].height = 40 if s.lang == "both" else 28
    s.row += 1
    for number, spec in enumerate(specs, start=1):
        _numbered_label(s, number, spec, start - 1)
        _centred_inputs(s, spec, start)
        s.ws.row_dimensions[s.row].height = 22
        s.row += 1
    s.row += 1


def _choice_rows(s: LayoutSheet, specs: list[FieldSpec]) -> None:
    """Single-choice questions: option captions above a row of tick cells."""
    _heading(s, ("印象(每项勾选一项)", "Impressions (tick one per item)"))
    for number, spec in enumerate(specs, start=1):
        n = len(spec.levels)
        start = COLUMNS - n + 1
        _numbered_label(s, number, spec, start - 1, rows=2)
        for i, (_value, zh, en) in enumerate(spec.levels):
            s.block(start + i, start + i, s.text((zh, en)), style="label")
            s.ws.cell(row=s.row, column=start + i).alignment = CENTER
            s.ws.cell(row=s.row, column=start + i).font = font(8)
        s.ws.row_dimensions[s.row].height = 24 if s.lang == "both" else 15
        s.row += 1
        _centred_inputs(s, spec, start)
        s.ws.row_dimensions[s.row].height = 18
        s.row += 1
    s.row += 1


def _table(s: LayoutSheet, spec: FieldSpec) -> int:
    """The lines as an Excel table named after the field; returns the header row.

    The table is the last block of the sheet. Below it the table's columns stay unlocked on
    the protected sheet (a column style, no cells), so a clerk types as many lines as the
    shipment has, straight under the table; the reader takes those lines too.
    """
    _heading(s, spec.labels)
    header_row = s.row
    columns = spec.columns[:COLUMNS]
    letters = {column.name: get_column_letter(c) for c, column in enumerate(columns, start=1)}
    for c, column in enumerate(columns, start=1):
        head = s.ws.cell(row=s.row, column=c, value=column.one_line_label(s.lang))
        head.fill, head.font, head.alignment = HEAD_FILL, font(9, True), CENTER
        head.border = BORDER
    s.ws.row_dimensions[s.row].height = 30 if s.lang == "both" else 20
    for r in range(s.row + 1, s.row + 1 + TABLE_ROWS):
        for c, column in enumerate(columns, start=1):
            cell = s.ws.cell(row=r, column=c)
            cell.border, cell.font = BORDER, font(9)
            cell.number_format = NUMBER_FORMATS.get(column.kind, "General")
            if column.product:
                cell.value = product_formula(r, (letters[column.product[0]],
                                                 letters[column.product[1]]))
            else:
                cell.protection = UNLOCKED
    last = s.row + TABLE_ROWS
    ref = f"A{s.row}:{get_column_letter(len(columns))}{last}"
    table = Table(displayName=spec.name, ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight1", showRowStripes=True)
    s.ws.add_table(table)
    s.bind(table_area_name(spec), ref)
    # A line typed under the table gets the table's grid lines once it holds anything.
    under = f"A{last + 1}:{get_column_letter(len(columns))}{MAX_ROW}"
    s.ws.conditional_formatting.add(under, FormulaRule(
        formula=[f"COUNTA($A{last + 1}:${get_column_letter(len(columns))}{last + 1})>0"],
        border=BORDER, stopIfTrue=False))
    for c, column in enumerate(columns, start=1):
        letter = get_column_letter(c)
        s.validate(column, f"{letter}{s.row + 1}:{letter}{MAX_ROW}")  # lines under it too
        below = s.ws.column_dimensions[letter]
        below.protection, below.font = UNLOCKED, font(9)
        below.number_format = NUMBER_FORMATS.get(column.kind, "General")
    for r in range(1, header_row):  # cells above keep the sheet's lock, not the column's
        for c in range(1, len(columns) + 1):
            above = s.ws.cell(row=r, column=c)
            if not above.has_style:  # a styled cell is written, and so keeps the sheet's lock
                above.font = font(10)
    s.row = last + 1
    return header_row


def _long_text(s: LayoutSheet, spec: FieldSpec) -> None:
    s.block(1, COLUMNS, s.text(spec.labels, "  "), style="label")
    s.ws.cell(row=s.row, column=1).font = font(9, True)
    s.row += 1
    _input_cells(s, spec, 1, COLUMNS)
    s.ws.row_dimensions[s.row].height = 60
    s.row += 1


def _sectioned(form: FormDef) -> bool:
    """Whether the form is laid out part by part: every field names its section, and none is
    a counted, question or table input (those have layouts of their own)."""
    return form.questionnaire is None and all(
        spec.section is not None and spec.group not in ("questions", "lines")
        and spec.kind not in ("int", "decimal", "percent", "ticks", "score", "table")
        for spec in form.fields)


def _sections(s: LayoutSheet, form: FormDef) -> None:
    """Each section under its heading (the header section has none), its fields in declaration
    order: short ones in label/input pairs, long texts as boxes across the page."""
    order: dict[tuple[str, str], list[FieldSpec]] = {}
    for spec in form.fields:
        assert spec.section is not None
        order.setdefault(spec.section, []).append(spec)
    for section, specs in order.items():
        if specs[0].group != "header":
            _heading(s, section)
        short: list[FieldSpec] = []
        for spec in specs:
            if spec.kind != "longtext":
                short.append(spec)
                continue
            _pairs(s, short)
            short = []
            _long_text(s, spec)
            for c in range(1, COLUMNS + 1):  # written from the top, as on paper
                s.ws.cell(row=s.row - 1, column=c).alignment = TOP_LEFT
        _pairs(s, short)
        if specs[0].group == "header":
            s.row += 1


def _intro(s: LayoutSheet, form: FormDef) -> None:
    q = form.questionnaire
    if q is None or not (q.intro_zh or q.intro_en):
        return
    s.block(1, COLUMNS, s.text((q.intro_zh, q.intro_en)), style="none")
    cell = s.ws.cell(row=s.row, column=1)
    cell.font, cell.alignment = font(9), Alignment(wrap_text=True, vertical="top")
    s.ws.row_dimensions[s.row].height = 44 if s.lang == "both" else 28
    s.row += 2


def _page_setup(ws: Worksheet, form: FormDef, config: Config, last_row: int,
                title_row: int | None) -> None:
    # With a lines table, whole columns: the page grows with the lines typed under the
    # table, and Excel and LibreOffice print only down to the last row that holds something.
    orientation: Orientation = "landscape" if form.orientation == "landscape" else "portrait"
    a4_page(ws, orientation=orientation, last_col=COLUMNS,
            last_row=MAX_ROW if title_row else last_row, margins=FORM_MARGINS,
            title_rows=(title_row, title_row) if title_row else None)
    page_texts(ws, footer_left=escape(block_of(config, form).footer()),
               footer_right=f"{form.title_zh}  {form.title_en}")
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False


def _widths(form: FormDef) -> tuple[float, ...]:
    """Column widths: the default grid, or sized to the lines table when the form has one."""
    for spec in form.fields:
        if spec.kind == "table":
            widths = [TABLE_WIDTHS.get(c.kind, 12.0) for c in spec.columns[:COLUMNS]]
            widths += [12.5] * (COLUMNS - len(widths))
            widths[0] = max(widths[0], 18.0)
            return tuple(widths)
    return WIDTHS


def build_blank(form: FormDef, config: Config, lang: str = "both",
                identity: Identity | None = None) -> Workbook:
    """Lay out the blank of ``form`` in ``lang`` (``zh``, ``en`` or ``both``).

    ``identity`` defaults to the template identity (no instance id); `issue_blank` in
    `qmsforms.excel.templates` stamps a fresh one on each issued copy.
    """
    if lang not in ("zh", "en", "both"):
        raise ValueError(f"language must be zh, en or both, not {lang!r}")
    wb = Workbook()
    ws = first_sheet(wb)
    title = form.title_zh if lang != "en" else form.title_en
    ws.title = "".join(c for c in title if c not in _NOT_IN_SHEET_NAMES)[:31]
    for i, width in enumerate(_widths(form), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    s = LayoutSheet(ws=ws, lang=lang)
    _title_block(s, form, config)
    _intro(s, form)

    by_group: dict[str, list[FieldSpec]] = {}
    title_row = None
    if _sectioned(form):
        _sections(s, form)
    else:
        for spec in form.fields:
            by_group.setdefault(spec.group, []).append(spec)
        _pairs(s, [f for f in by_group.get("header", []) if f.kind != "longtext"])
    s.row += 1
    body = by_group.get("body", [])
    counted = [f for f in body if f.kind in ("int", "decimal", "percent")]
    if counted:
        _counted_rows(s, counted)
        s.row += 1
    questions = by_group.get("questions", [])
    if questions:
        _questions(s, questions)
    choices = [f for f in body if f.kind == "ticks"]
    if choices:
        _choice_rows(s, choices)
    for spec in [f for f in body if f.kind == "longtext"]:
        _long_text(s, spec)
    footer = by_group.get("footer", [])
    short_footer = [f for f in footer if f.kind != "longtext"]
    if short_footer:
        _pairs(s, short_footer)
    for spec in [f for f in footer if f.kind == "longtext"]:
        _long_text(s, spec)
    signoff = by_group.get("signoff", [])
    if signoff:
        s.row += 1
        _pairs(s, signoff)
    # The lines table comes last so that it can grow (Excel extends a table typed below it).
    for spec in by_group.get("lines", []):
        s.row += 1
        title_row = _table(s, spec)
    last_row = s.row - 1

    for name, target in s.names.items():
        wb.defined_names[name] = DefinedName(name, attr_text=target)
    _page_setup(ws, form, config, last_row, title_row)
    wb.properties.title = form.title(lang)
    wb.properties.creator = "qmsforms"
    write_identity(wb, identity or identity_for(form, lang))
    return wb
