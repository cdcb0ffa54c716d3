"""Page and table building blocks of the Word forms: A4 page, fonts, grid cells, header/footer.

The page header carries the document-control block (company, title, 文件编号, 版本, 生效日期,
受控状态, 编制/审核/批准), the footer the document number and "第 x 页 共 y 页 / Page x of y"
as PAGE / NUMPAGES fields. Everything is written as WordprocessingML elements (python-docx has
no API for most of it) with explicit widths, so Word, WPS and LibreOffice lay it out alike.
"""

from __future__ import annotations

from typing import Any

from docx.document import Document as DocxDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.shared import RGBColor, Twips

from ..config import Config
from ..control import LABELS, block_of
from ..registry import FormDef
from .ooxml import PLACEHOLDER_STYLE, Ids, bookmarked, el, field_runs, run_props, w

FONT_LATIN = "Arial"
FONT_CJK = "SimSun"
"""宋体: present on every Chinese Windows and WPS install; Word and LibreOffice substitute a
CJK font where it is missing."""

PAGE_WIDTH, PAGE_HEIGHT = 11906, 16838  # A4 in twips
MARGIN_SIDE, MARGIN_TOP, MARGIN_BOTTOM = 1021, 1021, 1021
HEADER_DISTANCE, FOOTER_DISTANCE = 454, 454
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN_SIDE
GRID = 12

LABEL_FILL = "F2F2F2"
HEADING_FILL = "D9E2F3"
EN_COLOR = "595959"
BORDER_COLOR = "808080"
ROW_HEIGHT = 400
HEADER_BOOKMARKS = 900_000
"""Bookmark ids of the page header start here, clear of the body's."""
SMALL = 7.5


def both(pair: tuple[str, str], lang: str, sep: str) -> str:
    """A (zh, en) pair as text in ``lang``; ``both`` joins them with ``sep``."""
    zh, en = pair
    return zh if lang == "zh" else en if lang == "en" else f"{zh}{sep}{en}"


# -- low-level layout ---------------------------------------------------------------------

def paragraph(*runs: Any, align: str | None = None, before: int = 0, after: int = 0,
              keep_next: bool = False, shade: str | None = None,
              tabs: tuple[Any, ...] = ()) -> Any:
    """A ``w:p`` of ``runs`` (elements or lists of them), spacing in twips."""
    ppr = el("w:pPr")
    if keep_next:
        ppr.append(el("w:keepNext"))
    if shade:
        ppr.append(el("w:shd", {"w:val": "clear", "w:color": "auto", "w:fill": shade}))
    if tabs:
        ppr.append(el("w:tabs", None, *tabs))
    ppr.append(el("w:spacing", {"w:before": str(before), "w:after": str(after)}))
    if align:
        ppr.append(el("w:jc", {"w:val": align}))
    p = el("w:p", None, ppr)
    for item in runs:
        for node in item if isinstance(item, list) else [item]:
            p.append(node)
    return p


def styled_run(text: str, size: float = 9, bold: bool = False, color: str | None = None) -> Any:
    """One run of fixed text."""
    t = el("w:t", text=text)
    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    return el("w:r", None, run_props(size, bold, color), t)


def caption_runs(pair: tuple[str, str], lang: str, size: float = 8.5,
                 bold: bool = False) -> list[Any]:
    """A caption: Chinese over a smaller grey English line in ``both``."""
    zh, en = pair
    if lang == "zh":
        return [styled_run(zh, size, bold)]
    if lang == "en":
        return [styled_run(en, size, bold)]
    return [styled_run(zh, size, bold), el("w:r", None, run_props(size - 1.5), el("w:br")),
            styled_run(en, size - 1.5, False, EN_COLOR)]


def table_cell(width: int, *paragraphs: Any, span: int = 1, fill: str | None = None,
               valign: str = "center") -> Any:
    """A ``w:tc`` of ``width`` twips spanning ``span`` grid columns (an empty paragraph if none)."""
    tcpr = el("w:tcPr", None, el("w:tcW", {"w:w": str(width), "w:type": "dxa"}))
    if span > 1:
        tcpr.append(el("w:gridSpan", {"w:val": str(span)}))
    if fill:
        tcpr.append(el("w:shd", {"w:val": "clear", "w:color": "auto", "w:fill": fill}))
    tcpr.append(el("w:vAlign", {"w:val": valign}))
    return el("w:tc", None, tcpr, *(paragraphs or (paragraph(),)))


def table_row(cells: list[Any], height: int | None = ROW_HEIGHT, header: bool = False,
              cant_split: bool = True) -> Any:
    """A ``w:tr`` at least ``height`` twips high; ``header`` rows repeat on every page."""
    trpr = el("w:trPr")
    if cant_split:
        trpr.append(el("w:cantSplit"))
    if height:
        trpr.append(el("w:trHeight", {"w:val": str(height), "w:hRule": "atLeast"}))
    if header:
        trpr.append(el("w:tblHeader"))
    return el("w:tr", None, trpr, *cells)


def make_table(widths: list[int], rows: list[Any], borders: bool = True) -> Any:
    """A fixed-layout, centred ``w:tbl`` with grey single borders and the given column grid."""
    edges = ("top", "left", "bottom", "right", "insideH", "insideV")
    style = {"w:val": "single", "w:sz": "4", "w:space": "0", "w:color": BORDER_COLOR}
    none = {"w:val": "nil"}
    tblpr = el("w:tblPr", None,
               el("w:tblW", {"w:w": str(sum(widths)), "w:type": "dxa"}),
               el("w:jc", {"w:val": "center"}),
               el("w:tblBorders", None, *(el(f"w:{e}", style if borders else none)
                                          for e in edges)),
               el("w:tblLayout", {"w:type": "fixed"}),
               el("w:tblCellMar", None, el("w:left", {"w:w": "57", "w:type": "dxa"}),
                  el("w:right", {"w:w": "57", "w:type": "dxa"})),
               el("w:tblLook", {"w:val": "0000", "w:firstRow": "0", "w:lastRow": "0",
                                "w:firstColumn": "0", "w:lastColumn": "0",
                                "w:noHBand": "1", "w:noVBand": "1"}))
    grid = el("w:tblGrid", None, *(el("w:gridCol", {"w:w": str(x)}) for x in widths))
    return el("w:tbl", None, tblpr, grid, *rows)


def grid_widths() -> list[int]:
    """The widths of the body grid's columns (the text width in ``GRID`` parts)."""
    base = TEXT_WIDTH // GRID
    return [base] * (GRID - 1) + [TEXT_WIDTH - base * (GRID - 1)]


def span_width(start: int, span: int) -> int:
    """The width of ``span`` grid columns from column ``start`` (0-based)."""
    return sum(grid_widths()[start:start + span])


def spacer() -> Any:
    """A tiny paragraph between two tables (Word would merge touching tables)."""
    return paragraph(el("w:r", None, run_props(3)), after=0)


# -- document, header and footer ------------------------------------------------------------

def setup_document(doc: DocxDocument) -> None:
    """A4 portrait, margins, default fonts (Latin and CJK), 9 pt, the placeholder style."""
    section = doc.sections[0]
    section.page_width, section.page_height = Twips(PAGE_WIDTH), Twips(PAGE_HEIGHT)
    section.left_margin = section.right_margin = Twips(MARGIN_SIDE)
    section.top_margin, section.bottom_margin = Twips(MARGIN_TOP), Twips(MARGIN_BOTTOM)
    section.header_distance = Twips(HEADER_DISTANCE)
    section.footer_distance = Twips(FOOTER_DISTANCE)
    defaults = doc.styles.element.find(w("w:docDefaults"))
    if defaults is not None:
        doc.styles.element.remove(defaults)
    fonts = {"w:ascii": FONT_LATIN, "w:hAnsi": FONT_LATIN, "w:cs": FONT_LATIN,
             "w:eastAsia": FONT_CJK}
    doc.styles.element.insert(0, el(
        "w:docDefaults", None,
        el("w:rPrDefault", None, el("w:rPr", None,
                                    el("w:rFonts", fonts),
                                    el("w:sz", {"w:val": "18"}), el("w:szCs", {"w:val": "18"}),
                                    el("w:lang", {"w:val": "en-US", "w:eastAsia": "zh-CN",
                                                  "w:bidi": "ar-SA"}))),
        el("w:pPrDefault", None, el("w:pPr", None, el("w:spacing", {
            "w:after": "0", "w:line": "240", "w:lineRule": "auto"})))))
    names = {s.name for s in doc.styles}
    if "Placeholder Text" not in names:
        style = doc.styles.add_style("Placeholder Text", WD_STYLE_TYPE.CHARACTER)
        style.font.color.rgb = RGBColor(0x80, 0x80, 0x80)
        style.element.set(w("w:styleId"), PLACEHOLDER_STYLE)


def page_header(doc: DocxDocument, form: FormDef, config: Config, lang: str) -> None:
    """Company, title and the document-control block, repeated at the top of every page.

    The company and each value of the block sit in a paragraph of their own inside a
    bookmark ``qmsforms_<key>`` (`control_bookmark`), so that the values are found again and
    brought up to date in a template a quality engineer restyled (`qmsforms.word.control`).
    """
    shown = block_of(config, form).shown(lang)
    ids = Ids()
    ids.bookmark = HEADER_BOOKMARKS

    def value(key: str, size: float, **kwargs: Any) -> Any:
        return paragraph(*bookmarked(control_bookmark(key), ids, styled_run(shown[key], size,
                                                                             **kwargs)),
                         align="center")

    header = doc.sections[0].header
    header.is_linked_to_previous = False
    root = header._element
    for child in list(root):
        root.remove(child)
    root.append(value("company", 10.5, bold=True))
    title = form.title(lang) if lang != "both" else f"{form.title_zh}  {form.title_en}"
    root.append(paragraph(styled_run(title, 15, True), align="center", before=40, after=80))
    rows = (("document_no", "revision", "effective_date", "status"),
            ("prepared_by", "reviewed_by", "approved_by", ""))
    widths = [1000, 1466] * 4
    widths[-1] += TEXT_WIDTH - sum(widths)
    table_rows = []
    for keys in rows:
        cells = []
        for i, key in enumerate(keys):
            caption = paragraph(*caption_runs(LABELS.get(key, ("表单", "Form")), lang, SMALL))
            cells.append(table_cell(widths[2 * i], caption, fill=LABEL_FILL))
            shown_value = value(key, 8) if key else paragraph(styled_run(form.id, 8),
                                                               align="center")
            cells.append(table_cell(widths[2 * i + 1], shown_value))
        table_rows.append(table_row(cells, height=340))
    root.append(make_table(widths, table_rows))
    root.append(paragraph(el("w:r", None, run_props(4)), after=60))


def control_bookmark(key: str) -> str:
    """The bookmark (in the page header) around the value ``key`` of the control block."""
    return f"qmsforms_{key}"


def page_footer(doc: DocxDocument, form: FormDef, config: Config, lang: str) -> None:
    """Document number and revision, "第 x 页 共 y 页 / Page x of y", and the title."""
    footer = doc.sections[0].footer
    footer.is_linked_to_previous = False
    root = footer._element
    for child in list(root):
        root.remove(child)
    rpr = run_props(SMALL)

    def text(value: str) -> Any:
        return styled_run(value, SMALL)

    def tab() -> Any:
        return el("w:r", None, run_props(SMALL), el("w:tab"))

    page: list[Any] = []
    if lang in ("zh", "both"):
        page += [text("第 "), *field_runs("PAGE", "1", rpr), text(" 页 共 "),
                 *field_runs("NUMPAGES", "1", rpr), text(" 页")]
    if lang == "both":
        page.append(text("  /  "))
    if lang in ("en", "both"):
        page += [text("Page "), *field_runs("PAGE", "1", rpr), text(" of "),
                 *field_runs("NUMPAGES", "1", rpr)]
    tabs = (el("w:tab", {"w:val": "center", "w:pos": str(TEXT_WIDTH // 2)}),
            el("w:tab", {"w:val": "right", "w:pos": str(TEXT_WIDTH)}))
    title = form.title(lang) if lang != "both" else f"{form.title_zh} {form.title_en}"
    root.append(paragraph(text(block_of(config, form).footer()), tab(), *page,
                          tab(), text(title), tabs=tabs))


def drop_thumbnail(doc: DocxDocument) -> None:
    """python-docx's template carries its own thumbnail; a blank should not show it."""
    rels = doc.part.package.rels
    for key in [k for k, rel in rels.items() if rel.reltype == RT.THUMBNAIL]:
        rels.pop(key)

