"""Printing a workbook or document to PDF through LibreOffice (`qmsforms.pdf.to_pdf`): a
real soffice converts real files; without LibreOffice, or with a place the PDF cannot go,
the error says so in Chinese and English."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from qmsforms.blanks import issue_blank
from qmsforms.pdf import PdfError, to_pdf
from qmsforms.reports.actions_xlsx import write_action_register
from qmsforms.workspace import Workspace

from .test_print import is_a4_portrait, page_text, pdf_pages


def _register(folder: Path) -> Path:
    return write_action_register([], folder / "register.xlsx", date(2027, 1, 10),
                                 document_no="QR-QA-902")


@pytest.mark.libreoffice
def test_a_workbook_is_printed_beside_itself(tmp_path: Path, soffice: Any) -> None:
    source = _register(tmp_path)
    (tmp_path / "register.pdf").write_bytes(b"an old print")  # replaced
    pdf = to_pdf(source)
    assert pdf == tmp_path / "register.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    pages = pdf_pages(pdf)
    assert len(pages) == 1 and pages[0].width > pages[0].height  # A4 landscape
    assert "QR-QA-902" in page_text(pdf, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["register.pdf", "register.xlsx"]


@pytest.mark.libreoffice
def test_a_word_form_is_printed_into_another_folder(ws: Workspace, tmp_path: Path,
                                                    soffice: Any) -> None:
    source = issue_blank(ws, "complaint", tmp_path / "complaint.docx")
    pdf = to_pdf(source, tmp_path / "prints" / "new")
    assert pdf == tmp_path / "prints" / "new" / "complaint.pdf"
    assert all(is_a4_portrait(page) for page in pdf_pages(pdf))


def test_without_libreoffice_the_error_says_so(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    source = _register(tmp_path)
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # a machine without LibreOffice
    with pytest.raises(PdfError) as caught:
        to_pdf(source)
    assert caught.value.message_zh and "LibreOffice" in caught.value.message_en
    assert not (tmp_path / "register.pdf").exists()


def test_only_office_files_are_printed(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("x", encoding="utf-8")
    for path in (text, tmp_path / "missing.xlsx"):
        with pytest.raises(PdfError) as caught:
            to_pdf(path)
        assert caught.value.message_zh


def test_a_folder_the_pdf_cannot_go_to(tmp_path: Path) -> None:
    source = _register(tmp_path)
    blocker = tmp_path / "a file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(PdfError) as caught:
        to_pdf(source, blocker / "sub")
    assert caught.value.message_zh
