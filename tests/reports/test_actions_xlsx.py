"""The action register workbook: one row per action, overdue rows highlighted, the header
frozen and filtered, A4 landscape — read back by defined name and printed through
LibreOffice."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from qmsforms.excel.style import ALERT_FILL
from qmsforms.reports.actions_xlsx import source_label, status_label, write_action_register

from .. import year as yr
from ..test_print import page_text, pdf_pages
from .test_review import ACTIONS

TODAY = date(2027, 1, 10)


def _actions() -> list[dict[str, Any]]:
    actions = [dict(a) for a in ACTIONS]
    actions[0]["link"] = {"form": "8d-report", "record_id": "rec-8d-1", "complaint_no": "TS-01"}
    actions[2]["problem_en"] = "Monthly total 84 below target 90"
    actions[2]["due"] = "2026-07-13"
    del actions[3]["age_days"]  # counted from raised_on to the day of the register
    return actions


@pytest.fixture(scope="module")
def xlsx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_action_register(_actions(), tmp_path_factory.mktemp("reg") / "register.xlsx",
                                 TODAY, company="示例五金", document_no="QR-QA-902")


def _rows(wb: Any) -> dict[str, dict[str, Any]]:
    return yr.named_table(wb, "register")


def test_every_action_is_one_row(wb: Any) -> None:
    rows = _rows(wb)
    assert list(rows) == [a["action_id"] for a in ACTIONS]
    first = rows["CA-2026-0001"]
    assert first["来源\nSource"] == source_label("complaint")
    assert first["状态\nStatus"] == status_label("closed")
    assert first["关联\nLink"] == "8D rec-8d-1"
    third = rows["CA-2026-0003"]
    assert third["要求完成\nDue"] == "2026-07-13" and third["逾期\nOverdue"] == "是 Yes"
    assert third["问题描述\nProblem"].splitlines() == ["问题", "Monthly total 84 below target 90"]
    assert rows["CA-2026-0004"]["天数\nAge"] == (TODAY - date(2026, 12, 15)).days
    assert rows["CA-2026-0002"]["天数\nAge"] == 1  # as the action register counted it


def test_overdue_rows_are_highlighted(wb: Any) -> None:
    ws, (_, head, last_col, last) = yr.named_place(wb, "register")
    for r in range(head + 1, last + 1):
        overdue = ws.cell(row=r, column=10).value == "是 Yes"
        colours = {str(ws.cell(row=r, column=c).fill.fgColor.rgb)[-6:]
                   for c in range(1, last_col + 1)}
        assert (colours == {ALERT_FILL.fgColor.rgb[-6:]}) == overdue, r


def test_counts_above_the_register(wb: Any) -> None:
    counts = yr.named_rows(wb, "register_counts")
    assert counts[1] == [6, 3, 1, 1, 1, 3]  # total, open, in progress, verified, closed, overdue


def test_filter_frozen_header_and_page(wb: Any) -> None:
    ws, (_, head, last_col, last) = yr.named_place(wb, "register")
    assert ws.auto_filter.ref == f"A{head}:K{last}" and last_col == 11
    assert ws.freeze_panes == f"A{head + 1}"
    assert ws.page_setup.orientation == "landscape"
    assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4
    assert ws.page_setup.fitToWidth == 1 and ws.print_title_rows == f"${head}:${head}"
    assert "QR-QA-902" in ws.oddFooter.left.text


def test_an_empty_register(tmp_path: Path) -> None:
    path = write_action_register([], tmp_path / "empty.xlsx", TODAY)
    wb = load_workbook(path)
    assert yr.named_rows(wb, "register_counts")[1] == [0, 0, 0, 0, 0, 0]
    assert len(yr.named_rows(wb, "register")) == 2  # the header and a "no actions" line


@pytest.mark.libreoffice
def test_prints_on_an_a4_landscape_page(xlsx: Path, soffice: Any) -> None:
    pdf = soffice(xlsx, "pdf")
    pages = pdf_pages(pdf)
    assert len(pages) == 1 and pages[0].width > pages[0].height
    text = page_text(pdf, 1)
    assert "CA-2026-0005" in text and "QR-QA-902" in text
