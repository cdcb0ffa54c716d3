"""Printing: every blank renders (through LibreOffice) on A4 portrait pages with its footer.

Blanks are printed and filled in by hand as often as on screen. Each one must fit one A4
portrait page with the document number and "第 x 页 共 y 页 / Page x of y" in the footer; a
long shipping list runs onto more A4 pages and repeats the table header on each.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import load_workbook

from qmsforms.blanks import issue_blank
from qmsforms.excel.fill import fill_workbook
from qmsforms.workspace import Workspace, init_workspace

pytestmark = pytest.mark.libreoffice

Convert = Callable[[Path, str], Path]

FORMS = ["shipping-list", "complaint", "satisfaction-survey", "service-evaluation",
         "satisfaction-monitoring", "corrective-action"]
LANGS = ("both", "zh", "en")
A4 = (595.0, 842.0)
TOLERANCE = 2.0
LONG_LIST = 60


@dataclass(frozen=True)
class Page:
    """One PDF page as pdfinfo reports it (points, degrees)."""

    width: float
    height: float
    rotation: int


def _tool(name: str) -> str:
    """Path of a poppler tool; skip (or fail where LibreOffice tests are required) if absent."""
    found = shutil.which(name)
    if found is None:
        if os.environ.get("QMSFORMS_REQUIRE_SOFFICE"):
            pytest.fail(f"{name} (poppler-utils) is required here but not installed")
        pytest.skip(f"{name} (poppler-utils) is not installed")
    return found


def _run(*args: str) -> str:
    return subprocess.run(list(args), capture_output=True, text=True, check=True,
                          timeout=60).stdout


def pdf_pages(path: Path) -> list[Page]:
    """Every page of a PDF with its size and rotation."""
    pdfinfo = _tool("pdfinfo")
    count = int(re.search(r"^Pages:\s+(\d+)", _run(pdfinfo, str(path)), re.M)[1])  # type: ignore[index]
    info = _run(pdfinfo, "-f", "1", "-l", str(count), str(path))
    sizes = re.findall(r"^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)
    rotations = re.findall(r"^Page\s+\d+ rot:\s+(\d+)", info, re.M)
    assert len(sizes) == len(rotations) == count, info
    return [Page(float(w), float(h), int(r)) for (w, h), r in zip(sizes, rotations, strict=True)]


def page_text(path: Path, page: int) -> str:
    """The text of one page, whitespace collapsed to single spaces."""
    text = _run(_tool("pdftotext"), "-f", str(page), "-l", str(page), str(path), "-")
    return " ".join(text.split())


def is_a4_portrait(page: Page) -> bool:
    """A4 portrait within the tolerance, not rotated into landscape."""
    return (abs(page.width - A4[0]) <= TOLERANCE and abs(page.height - A4[1]) <= TOLERANCE
            and page.rotation % 180 == 0)


@pytest.fixture(scope="module")
def print_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """One workspace (default config) for every rendering in this module."""
    return init_workspace(tmp_path_factory.mktemp("print") / "ws")


@pytest.fixture(scope="module")
def blank_pdfs(print_ws: Workspace, tmp_path_factory: pytest.TempPathFactory,
               soffice: Convert) -> dict[tuple[str, str], Path]:
    """Every form in every language, issued and rendered to PDF once."""
    folder = tmp_path_factory.mktemp("blanks")
    rendered: dict[tuple[str, str], Path] = {}
    for form_id in FORMS:
        for lang in LANGS:
            blank = issue_blank(print_ws, form_id, folder / f"{form_id}.{lang}.xlsx", lang=lang)
            rendered[form_id, lang] = soffice(blank, "pdf")
    return rendered


@pytest.fixture(scope="module")
def long_list_pdf(print_ws: Workspace, tmp_path_factory: pytest.TempPathFactory,
                  soffice: Convert) -> Path:
    """A bilingual shipping list with 60 lines rendered to PDF."""
    path = issue_blank(print_ws, "shipping-list",
                       tmp_path_factory.mktemp("long") / "long-list.xlsx", lang="both")
    wb = load_workbook(path)
    lines = [{"part_name": f"PART-{i:02d}", "batch_no": f"B{i:02d}", "quantity": i}
             for i in range(1, LONG_LIST + 1)]
    fill_workbook(wb, print_ws.registry.get("shipping-list"),
                  {"doc_no": "FH-LONG", "customer": "华东汽车", "ship_date": "2026-11-03",
                   "lines": lines}, "both")
    wb.save(path)
    return soffice(path, "pdf")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("form_id", FORMS)
def test_blank_prints_on_one_a4_portrait_page(
        blank_pdfs: dict[tuple[str, str], Path], form_id: str, lang: str) -> None:
    pages = pdf_pages(blank_pdfs[form_id, lang])
    assert len(pages) == 1, pages
    assert is_a4_portrait(pages[0]), pages[0]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("form_id", FORMS)
def test_blank_page_shows_document_number_and_page_footer(
        blank_pdfs: dict[tuple[str, str], Path], print_ws: Workspace, form_id: str,
        lang: str) -> None:
    text = page_text(blank_pdfs[form_id, lang], 1)
    control = print_ws.config.control(form_id)
    revision = print_ws.registry.get(form_id).revision
    assert control.document_no
    assert f"{control.document_no} Rev. {revision}" in text  # footer, left
    if lang in ("zh", "both"):
        assert "第 1 页 共 1 页" in text
    if lang in ("en", "both"):
        assert "Page 1 of 1" in text


def test_long_shipping_list_spills_onto_more_a4_pages(long_list_pdf: Path) -> None:
    pages = pdf_pages(long_list_pdf)
    assert len(pages) >= 2
    assert all(is_a4_portrait(page) for page in pages), pages


def test_long_shipping_list_repeats_the_table_header(long_list_pdf: Path) -> None:
    count = len(pdf_pages(long_list_pdf))
    texts = [page_text(long_list_pdf, n) for n in range(1, count + 1)]
    for number, text in enumerate(texts, start=1):
        assert "批号" in text and "Batch no." in text, number
        assert f"第 {number} 页 共 {count} 页" in text
        assert f"Page {number} of {count}" in text
    # the document-control block is printed once, at the top of page 1
    assert "文件编号" in texts[0]
    assert all("文件编号" not in text for text in texts[1:])


def test_long_shipping_list_prints_every_line(long_list_pdf: Path) -> None:
    count = len(pdf_pages(long_list_pdf))
    text = " ".join(page_text(long_list_pdf, n) for n in range(1, count + 1))
    printed = re.findall(r"PART-(\d\d)", text)
    assert sorted(int(n) for n in printed) == list(range(1, LONG_LIST + 1))


# -- what the intake gives back to be printed: the form first, one page wide ------------------


def _bad_shipping_list(ws: Workspace, folder: Path) -> Path:
    path = issue_blank(ws, "shipping-list", folder / "bad.xlsx", lang="both")
    wb = load_workbook(path)
    lines = [{"part_name": f"P{i}", "batch_no": "B", "quantity": "lots" if i % 2 else i}
             for i in range(1, 25)]
    fill_workbook(wb, ws.registry.get("shipping-list"),
                  {"doc_no": "FH-BAD", "customer": "华东汽车", "ship_date": "3/11/2026",
                   "ship_method": "camel", "lines": lines}, "both")
    wb.save(path)
    return path


def test_annotated_copy_prints_the_form_then_its_issues_one_page_wide(
        print_ws: Workspace, tmp_path: Path, soffice: Convert) -> None:
    from qmsforms.annotate import annotate
    from qmsforms.validate import validate_file

    source = _bad_shipping_list(print_ws, tmp_path)
    report = validate_file(source, print_ws)
    assert len(report.issues) >= 12
    pdf = soffice(annotate(source, report, tmp_path / "annotated.xlsx"), "pdf")
    pages = pdf_pages(pdf)
    assert len(pages) == 2, pages
    assert is_a4_portrait(pages[0])
    assert pages[1].width > pages[1].height  # the issues sheet: landscape
    first, second = page_text(pdf, 1), page_text(pdf, 2)
    assert "Shipping List" in first and "DATE_AMBIGUOUS" not in first
    assert "DATE_AMBIGUOUS" in second and "NOT_A_CHOICE" in second


def _processed(ws: Workspace, path: Path) -> dict[str, object]:
    """Process one file through the intake; returns its record JSON."""
    import json

    from qmsforms.intake import Intake

    shutil.copyfile(path, ws.inbox / path.name)
    with Intake(ws, settle=0.05) as intake:
        (outcome,) = intake.process().outcomes
    assert outcome.outcome == "record", outcome
    return json.loads((ws.outbox / outcome.location).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_xlsx_record_copy_prints_labels_and_values_on_one_page(
        tmp_path: Path, soffice: Convert) -> None:
    ws = init_workspace(tmp_path / "ws")
    path = issue_blank(ws, "satisfaction-survey", tmp_path / "survey.xlsx", lang="both")
    wb = load_workbook(path)
    fill_workbook(wb, ws.registry.get("satisfaction-survey"),
                  {"customer": "华东汽车", "period": "2026", "product_quality": 5, "delivery": 4,
                   "packaging": 2, "appearance": 3, "service_attitude": 5}, "both")
    wb.save(path)
    record = _processed(ws, path)
    pdf = soffice(ws.outbox / "records" / "satisfaction-survey" / f"{record['record_id']}.xlsx",
                  "pdf")
    pages = pdf_pages(pdf)
    assert len(pages) == 2 and all(is_a4_portrait(p) for p in pages), pages
    first = page_text(pdf, 1)
    source = record["source"]
    assert isinstance(source, dict)
    for text in ("Record id", str(record["record_id"]), "SHA-256", source["sha256"],
                 "Survey score"):
        assert text in first  # labels and their values on the same page
    assert "Customer Satisfaction" in page_text(pdf, 2) or "满意度" in page_text(pdf, 2)


def test_word_record_copy_prints_the_form_then_the_record(tmp_path: Path,
                                                          soffice: Convert) -> None:
    from qmsforms.word.fill import fill_word

    ws = init_workspace(tmp_path / "ws")
    path = issue_blank(ws, "complaint", tmp_path / "complaint.docx", lang="both")
    fill_word(path, {"ticket_no": "TS-PRINT", "customer": "华东汽车", "category": "quality",
                     "received_at": "2026-11-03 09:00", "filed_at": "2026-11-03 10:00",
                     "quality_related": True, "description": "焊缝开裂"}, path)
    record = _processed(ws, path)
    pdf = soffice(ws.outbox / "records" / "complaint" / f"{record['record_id']}.docx", "pdf")
    pages = pdf_pages(pdf)
    assert all(is_a4_portrait(p) for p in pages), pages
    first, last = page_text(pdf, 1), page_text(pdf, len(pages))
    assert "Customer Complaint Ticket" in first and "TS-PRINT" in first
    assert str(record["record_id"]) in last
    assert "8D required" in last and "Filed in time" in last


CAPA_FILLED = {
    "action_no": "CA-2026-0001", "source": "complaint", "source_ref": "TS-2026-077",
    "customer": "华东汽车", "raised_on": "2026-11-03", "responsible_dept": "质量部",
    "due_date": "2026-11-12",
    "problem": "焊缝开裂 3 次,批号 B-2209、B-2210\n客户要求 7 个工作日内回复纠正措施\n" * 3,
    "containment": "隔离在库 600 件,全检焊缝\n通知客户暂停使用同批次" * 2,
    "root_cause": "焊接电流设定漂移;首件检验未覆盖焊缝\n" * 3, "cause_category": "machine",
    "corrective_action": "焊机加装电流监控并每班点检;首件检验增加焊缝项目\n" * 3,
    "preventive_action": "同类支架 3 个料号同步修改控制计划与作业指导书\n" * 2,
}
"""A corrective action as worked on: several lines in each long text."""


@pytest.mark.parametrize("lang", LANGS)
def test_corrective_action_prints_on_one_page_in_excel_and_two_in_word(
        print_ws: Workspace, tmp_path: Path, soffice: Convert, lang: str) -> None:
    """The worked-on form: the workbook on one A4 page, the Word form on at most two, each
    page headed by the control block and the last one reaching the closure."""
    form = print_ws.registry.get("corrective-action")
    for fmt, most in (("xlsx", 1), ("docx", 2)):
        path = issue_blank(print_ws, form.id, tmp_path / f"ca-{lang}.{fmt}", lang=lang,
                           values=CAPA_FILLED)
        pdf = soffice(path, "pdf")
        pages = pdf_pages(pdf)
        assert 1 <= len(pages) <= most and all(is_a4_portrait(p) for p in pages), (fmt, pages)
        control = print_ws.config.control(form.id)
        for n in range(1, len(pages) + 1):
            assert control.document_no in page_text(pdf, n)
        first, last = page_text(pdf, 1), page_text(pdf, len(pages))
        assert "CA-2026-0001" in first
        assert ("结案" if lang != "en" else "Closure") in last
