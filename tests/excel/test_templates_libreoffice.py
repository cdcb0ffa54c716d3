"""Templates a quality engineer saved again in LibreOffice (Calc, Writer) still get the current
control block on `new`, and pass `templates check`."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from qmsforms.cli import cli
from qmsforms.workspace import Workspace

pytestmark = pytest.mark.libreoffice


def test_templates_saved_by_libreoffice_get_the_configured_block(
        ws: Workspace, tmp_path: Path, soffice: Callable[[Path, str], Path]) -> None:
    for name, fmt in (("satisfaction-survey.xlsx", "xlsx"), ("complaint.docx", "docx")):
        shutil.copyfile(soffice(ws.templates_dir / name, fmt), ws.templates_dir / name)
    config = ws.root / "qmsforms.toml"
    config.write_text(config.read_text(encoding="utf-8")
                      .replace("示例五金电子有限公司", "宁波精工有限公司")
                      .replace('"QR-SA-701"', '"QR-QA-9001"')
                      .replace('"QR-QA-503"', '"QR-QA-9002"'), encoding="utf-8")
    root = ["--root", str(ws.root)]
    runner = CliRunner()
    checked = runner.invoke(cli, [*root, "templates", "check",
                                  str(ws.templates_dir / "satisfaction-survey.xlsx"),
                                  str(ws.templates_dir / "complaint.docx")])
    assert checked.exit_code == 0, checked.output
    for out in ("s.xlsx", "c.docx"):
        form = "satisfaction-survey" if out.endswith("xlsx") else "complaint"
        result = runner.invoke(cli, [*root, "new", form, "-o", str(tmp_path / out)])
        assert result.exit_code == 0, result.output
    sheet = load_workbook(tmp_path / "s.xlsx").worksheets[0]
    assert str(sheet["A1"].value).startswith("宁波精工有限公司")
    assert sheet["B3"].value == "QR-QA-9001"
    assert sheet.oddFooter.left.text == "QR-QA-9001  Rev. A"
    header = docx.Document(str(tmp_path / "c.docx")).sections[0].header
    assert header.paragraphs[0].text.startswith("宁波精工有限公司")
    assert header.tables[0].rows[0].cells[1].text == "QR-QA-9002"
