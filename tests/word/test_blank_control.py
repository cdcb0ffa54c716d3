"""A Word template a quality engineer restyled keeps its looks and gets the current control
block, on `new` and on a release."""

from __future__ import annotations

from pathlib import Path

import docx
from click.testing import CliRunner
from PIL import Image

from qmsforms.cli import cli
from qmsforms.word.props import read_word_identity
from qmsforms.workspace import Workspace

DRAWING = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}drawing"


def _restyle(path: Path, tmp_path: Path) -> None:
    """A logo above the company line, the company in another font."""
    logo = tmp_path / "logo.png"
    Image.new("RGB", (90, 30), (0, 0, 200)).save(logo)
    doc = docx.Document(str(path))
    company = doc.sections[0].header.paragraphs[0]
    for run in company.runs:
        run.font.name = "Times New Roman"
    company.insert_paragraph_before().add_run().add_picture(str(logo))
    doc.save(str(path))


def _header(path: Path) -> tuple[int, str, list[str | None], list[str]]:
    """Pictures in the page header, the company line, its fonts, the control values."""
    header = docx.Document(str(path)).sections[0].header
    pictures = len(list(header._element.iter(DRAWING)))
    company = next(p for p in header.paragraphs if p.text)
    values = [c.text for row in header.tables[0].rows for c in row.cells][1::2]
    return pictures, company.text, [r.font.name for r in company.runs if r.text], values


def test_restyled_word_template_on_new_and_release(ws: Workspace, tmp_path: Path) -> None:
    template = ws.templates_dir / "complaint.docx"
    _restyle(template, tmp_path)
    config = ws.root / "qmsforms.toml"
    config.write_text(config.read_text(encoding="utf-8")
                      .replace("示例五金电子有限公司", "宁波精工汽配有限公司")
                      .replace('"QR-QA-503"', '"QR-QA-9002"'), encoding="utf-8")
    root = ["--root", str(ws.root)]
    runner = CliRunner()
    assert runner.invoke(cli, [*root, "new", "complaint", "-o", str(tmp_path / "a.docx")]
                         ).exit_code == 0
    pictures, company, fonts, values = _header(tmp_path / "a.docx")
    assert pictures == 1 and company.startswith("宁波精工汽配有限公司")
    assert fonts == ["Times New Roman"]
    assert values[:3] == ["QR-QA-9002", "A", "2026-01-01"]
    released = runner.invoke(cli, [*root, "templates", "release", "complaint", "--revision",
                                   "B", "--effective", "2026-12-15", "--by", "王芳"])
    assert released.exit_code == 0, released.output
    assert _header(template)[:3] == (1, company, ["Times New Roman"])
    assert runner.invoke(cli, [*root, "new", "complaint", "-o", str(tmp_path / "b.docx")]
                         ).exit_code == 0
    pictures, _company, fonts, values = _header(tmp_path / "b.docx")
    assert (pictures, fonts) == (1, ["Times New Roman"])
    assert values[:3] == ["QR-QA-9002", "B", "2026-12-15"]
    assert read_word_identity(tmp_path / "b.docx").revision == "B"  # type: ignore[union-attr]
    footer = docx.Document(str(tmp_path / "b.docx")).sections[0].footer.paragraphs[0].text
    assert footer.startswith("QR-QA-9002  Rev. B")
