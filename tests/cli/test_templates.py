"""Document control as a quality engineer meets it: configure, restyle, issue, release, check.

Each test drives the CLI (click's CliRunner) on a workspace made by ``init`` and reads the
written .xlsx/.docx back with openpyxl / python-docx.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook
from openpyxl.styles import Font

from qmsforms.cli import cli
from qmsforms.excel.identity import read_identity
from qmsforms.word.props import read_word_identity
from qmsforms.workspace import Workspace

from ..conftest import LogoFn


def run(ws: Workspace, *args: str) -> Result:
    """The CLI on workspace ``ws``."""
    return CliRunner().invoke(cli, ["--root", str(ws.root), *args])


def configure(ws: Workspace, **replace: str) -> None:
    """Edit ``qmsforms.toml`` as a person would: replace text in it."""
    path = ws.root / "qmsforms.toml"
    text = path.read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


NEW_CONFIG = {"示例五金电子有限公司": "宁波精工汽配有限公司", "QR-SA-701": "QR-QA-9001",
              "QR-QA-503": "QR-QA-9002"}


def block_values(path: Path) -> dict[str, Any]:
    """The control block of an issued workbook, read by its captions."""
    ws = load_workbook(path).worksheets[0]
    out: dict[str, Any] = {"company": ws["A1"].value, "footer": ws.oddFooter.left.text}
    for row in ws.iter_rows(max_row=12):
        for cell in row:
            caption = str(cell.value or "").split("\n")[0]
            if caption in ("文件编号", "版本", "生效日期", "编制", "审核", "批准"):
                out[caption] = ws.cell(row=cell.row, column=cell.column + 1).value
    return out


Restyle = Callable[[Path], None]


@pytest.fixture
def restyle(add_logo: LogoFn) -> Restyle:
    """``restyle(template)``: what a quality engineer does in Excel: a logo over the top rows,
    another font, a taller first row."""
    def apply(path: Path) -> None:
        add_logo(path)
        _refont(path)

    return apply


def _refont(path: Path) -> None:
    wb = load_workbook(path)
    sheet = wb.worksheets[0]
    sheet["A1"].font = Font(name="Times New Roman", size=14, bold=True, color="FF0000")
    sheet.row_dimensions[1].height = 36
    wb.save(path)


def looks(path: Path) -> tuple[int, str | None, float | None, float | None]:
    """What the restyle changed: pictures, the company's font and size, row 1's height."""
    ws = load_workbook(path).worksheets[0]
    return len(ws._images), ws["A1"].font.name, ws["A1"].font.size, ws.row_dimensions[1].height


def test_new_issues_what_the_configuration_says_now(ws: Workspace, tmp_path: Path) -> None:
    before = block_values(Path(run(ws, "new", "satisfaction-survey", "-o",
                                   str(tmp_path / "a.xlsx")).stdout.strip()))
    assert before["文件编号"] == "QR-SA-701"
    configure(ws, **NEW_CONFIG, **{'approved_by = "张伟"': 'approved_by = "赵敏"'})
    result = run(ws, "new", "satisfaction-survey", "-o", str(tmp_path / "b.xlsx"))
    assert result.exit_code == 0, result.output
    after = block_values(tmp_path / "b.xlsx")
    assert after["company"].startswith("宁波精工汽配有限公司")
    assert (after["文件编号"], after["版本"], after["批准"]) == ("QR-QA-9001", "A", "赵敏")
    assert after["footer"] == "QR-QA-9001  Rev. A"
    # the Word blank of a form controlled in Word too
    assert run(ws, "new", "complaint", "-o", str(tmp_path / "c.docx")).exit_code == 0
    header = docx.Document(str(tmp_path / "c.docx")).sections[0].header
    assert header.paragraphs[0].text.startswith("宁波精工汽配有限公司")
    cells = [c.text for c in header.tables[0].rows[0].cells]
    assert cells[1] == "QR-QA-9002" and cells[3] == "A"
    footer = docx.Document(str(tmp_path / "c.docx")).sections[0].footer.paragraphs[0].text
    assert footer.startswith("QR-QA-9002  Rev. A")


def test_a_restyled_template_keeps_its_looks_and_gets_the_control_block(
        ws: Workspace, tmp_path: Path, restyle: Restyle) -> None:
    template = ws.templates_dir / "satisfaction-survey.xlsx"
    restyle(template)
    configure(ws, **NEW_CONFIG)
    result = run(ws, "new", "satisfaction-survey", "-o", str(tmp_path / "s.xlsx"))
    assert result.exit_code == 0, result.output
    assert looks(tmp_path / "s.xlsx") == (1, "Times New Roman", 14, 36)
    values = block_values(tmp_path / "s.xlsx")
    assert values["company"].startswith("宁波精工汽配有限公司")
    assert values["文件编号"] == "QR-QA-9001"


def test_a_template_made_before_the_control_names_is_stamped_by_its_captions(
        ws: Workspace, tmp_path: Path) -> None:
    template = ws.templates_dir / "complaint.xlsx"
    wb = load_workbook(template)
    for name in [n for n in wb.defined_names if n.startswith("_qmsforms_")]:
        del wb.defined_names[name]
    wb.save(template)
    configure(ws, **NEW_CONFIG)
    assert run(ws, "new", "complaint", "-o", str(tmp_path / "c.xlsx")).exit_code == 0
    assert block_values(tmp_path / "c.xlsx")["文件编号"] == "QR-QA-9002"


def test_forms_take_their_revision_from_the_history(ws: Workspace) -> None:
    result = run(ws, "forms", "--json")
    revisions = {f["id"]: f["revision"] for f in json.loads(result.stdout)}
    assert revisions["shipping-list"] == "A"
    history = ws.templates_dir / "revisions.toml"
    history.write_text(history.read_text(encoding="utf-8") + (
        '\n[[release]]\nform = "shipping-list"\nrevision = "C"\nprevious = "A"\n'
        'effective = 2026-06-01\n'), encoding="utf-8")
    revisions = {f["id"]: f["revision"]
                 for f in json.loads(run(ws, "forms", "--json").stdout)}
    assert revisions["shipping-list"] == "C" and revisions["complaint"] == "A"


def test_release_carries_a_restyled_template_over(ws: Workspace, tmp_path: Path,
        restyle: Restyle) -> None:
    template = ws.templates_dir / "satisfaction-survey.xlsx"
    restyle(template)
    old_bytes = template.read_bytes()
    assert run(ws, "new", "satisfaction-survey", "-o", str(tmp_path / "a.xlsx")).exit_code == 0
    result = run(ws, "templates", "release", "satisfaction-survey", "--revision", "B",
                 "--effective", "2026-12-01", "--by", "王芳", "--note", "问题 7 改为交付及时性")
    assert result.exit_code == 0, result.output
    # the old template, byte for byte, and the record of the release
    assert (ws.templates_dir / "archive" / "satisfaction-survey.rev-A.xlsx").read_bytes() \
        == old_bytes
    history = (ws.templates_dir / "revisions.toml").read_text(encoding="utf-8")
    entry = history.split("[[release]]")[-1]
    assert 'form = "satisfaction-survey"' in entry and 'revision = "B"' in entry
    assert 'previous = "A"' in entry and "effective = 2026-12-01" in entry
    assert 'released_by = "王芳"' in entry and "问题 7" in entry
    assert re.search(r'released_at = "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"', entry)
    listed = json.loads(run(ws, "templates", "history", "satisfaction-survey", "--json").stdout)
    assert [(r["revision"], r["previous"], r["released_by"]) for r in listed] \
        == [("B", "A", "王芳")]
    assert listed[0]["backups"] == ["archive/satisfaction-survey.rev-A.xlsx",
                                    "archive/satisfaction-survey.zh.rev-A.xlsx",
                                    "archive/satisfaction-survey.en.rev-A.xlsx"]
    # the template carries its revision history on a sheet of its own
    sheet = load_workbook(template)["修订记录 Revision history"]
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [("B", "A", "2026-12-01", "王芳")]
    # new issues B, styled as before; check says B
    assert looks(template) == (1, "Times New Roman", 14, 36)
    assert run(ws, "new", "satisfaction-survey", "-o", str(tmp_path / "b.xlsx")).exit_code == 0
    assert looks(tmp_path / "b.xlsx") == (1, "Times New Roman", 14, 36)
    values = block_values(tmp_path / "b.xlsx")
    assert (values["版本"], values["生效日期"]) == ("B", "2026-12-01")
    assert read_identity(load_workbook(tmp_path / "b.xlsx")).revision == "B"  # type: ignore[union-attr]
    check = run(ws, "templates", "check", str(template), "--json")
    assert check.exit_code == 0
    assert json.loads(check.stdout)[0]["revision"] == "B"
    # the zh and en templates went to B as well
    for lang in ("zh", "en"):
        assert read_identity(load_workbook(
            ws.templates_dir / f"satisfaction-survey.{lang}.xlsx")).revision == "B"  # type: ignore[union-attr]


def test_release_of_a_word_template(ws: Workspace, tmp_path: Path) -> None:
    result = run(ws, "templates", "release", "complaint", "--revision", "B",
                 "--effective", "2026-12-01")
    assert result.exit_code == 0, result.output
    assert (ws.templates_dir / "archive" / "complaint.rev-A.docx").is_file()
    assert run(ws, "new", "complaint", "-o", str(tmp_path / "c.docx")).exit_code == 0
    doc = docx.Document(str(tmp_path / "c.docx"))
    assert read_word_identity(doc).revision == "B"  # type: ignore[union-attr]
    cells = [c.text for c in doc.sections[0].header.tables[0].rows[0].cells]
    assert (cells[3], cells[5]) == ("B", "2026-12-01")
    assert run(ws, "templates", "check", str(ws.templates_dir / "complaint.docx")
               ).exit_code == 0


def test_release_refuses_a_revision_that_is_not_new(ws: Workspace) -> None:
    before = (ws.templates_dir / "complaint.xlsx").read_bytes()
    result = run(ws, "templates", "release", "complaint", "--revision", "A")
    assert result.exit_code == 2
    assert "A" in result.output and "Traceback" not in result.output
    assert (ws.templates_dir / "complaint.xlsx").read_bytes() == before
    assert not (ws.templates_dir / "archive").exists()


def test_a_questionnaire_moved_to_b_is_not_issued_from_an_a_template(
        ws: Workspace, tmp_path: Path, restyle: Restyle) -> None:
    """The issue's path: the questionnaire says B, the restyled template is still A."""
    source = ws.schemas_dir / "questionnaires" / "satisfaction-survey.toml"
    text = source.read_text(encoding="utf-8")
    source.write_text(re.sub(r'(?m)^revision = "A"', 'revision = "B"', text), encoding="utf-8")
    restyle(ws.templates_dir / "satisfaction-survey.xlsx")
    refused = run(ws, "new", "satisfaction-survey", "-o", str(tmp_path / "x.xlsx"))
    assert refused.exit_code == 1 and not (tmp_path / "x.xlsx").exists()
    assert "templates release" in refused.output
    check = run(ws, "templates", "check", str(ws.templates_dir / "satisfaction-survey.xlsx"),
                "--json")
    assert check.exit_code == 1
    assert "TEMPLATE_REVISION" in [i["code"] for i in json.loads(check.stdout)[0]["issues"]]
    released = run(ws, "templates", "release", "satisfaction-survey", "--revision", "B")
    assert released.exit_code == 0, released.output
    assert run(ws, "new", "satisfaction-survey", "-o", str(tmp_path / "y.xlsx")).exit_code == 0
    assert looks(tmp_path / "y.xlsx")[:2] == (1, "Times New Roman")
    assert block_values(tmp_path / "y.xlsx")["版本"] == "B"


def test_build_refuses_to_overwrite_a_customised_template(ws: Workspace, tmp_path: Path,
        restyle: Restyle) -> None:
    template = ws.templates_dir / "satisfaction-survey.xlsx"
    restyle(template)
    restyled = template.read_bytes()
    refused = run(ws, "templates", "build")
    assert refused.exit_code == 1
    assert "satisfaction-survey.xlsx" in refused.output
    assert template.read_bytes() == restyled
    forced = run(ws, "templates", "build", "--force")
    assert forced.exit_code == 0, forced.output
    (backup,) = (ws.templates_dir / "archive").glob("satisfaction-survey.before-build-*.xlsx")
    assert backup.read_bytes() == restyled
    assert looks(template)[0] == 0  # rebuilt from the definition


def test_build_after_a_release_of_an_unstyled_template(ws: Workspace) -> None:
    """A template qmsforms wrote and released is still one build may replace."""
    assert run(ws, "templates", "release", "complaint", "--revision", "B").exit_code == 0
    configure(ws, **NEW_CONFIG)
    result = run(ws, "templates", "build")
    assert result.exit_code == 0, result.output
    assert block_values(ws.templates_dir / "complaint.xlsx")["文件编号"] == "QR-QA-9002"
    assert block_values(ws.templates_dir / "complaint.xlsx")["版本"] == "B"


def test_build_after_a_configuration_change_is_not_a_customisation(ws: Workspace) -> None:
    configure(ws, **NEW_CONFIG)
    result = run(ws, "templates", "build")
    assert result.exit_code == 0, result.output
    assert block_values(ws.templates_dir / "satisfaction-survey.xlsx")["文件编号"] == "QR-QA-9001"
    assert not (ws.templates_dir / "archive").exists()


def test_check_print_area_and_page_setup(ws: Workspace) -> None:
    template = ws.templates_dir / "satisfaction-survey.xlsx"
    wb = load_workbook(template)
    sheet = wb.worksheets[0]
    sheet.print_area = "A1:H12"  # the engineer moved blocks; the sign-off row is below
    sheet.page_setup.paperSize = sheet.PAPERSIZE_LETTER
    wb.save(template)
    result = run(ws, "templates", "check", str(template), "--json")
    assert result.exit_code == 1
    issues = json.loads(result.stdout)[0]["issues"]
    outside = {i["field"] for i in issues if i["code"] == "OUTSIDE_PRINT_AREA"}
    assert {"suggestions", "sales_rep", "reviewed_by"} <= outside and "customer" not in outside
    assert [i["code"] for i in issues].count("PAGE_SETUP") == 1


def test_check_a_logo_outside_the_print_area(ws: Workspace, add_logo: LogoFn) -> None:
    template = ws.templates_dir / "complaint.xlsx"
    add_logo(template, "J1")
    result = run(ws, "templates", "check", str(template), "--json")
    assert result.exit_code == 1
    (issue,) = json.loads(result.stdout)[0]["issues"]
    assert (issue["code"], issue["cell"]) == ("OUTSIDE_PRINT_AREA", "J1")


def test_check_word_templates(ws: Workspace, tmp_path: Path) -> None:
    template = ws.templates_dir / "complaint.docx"
    ok = run(ws, "templates", "check", str(template), "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)[0]["revision"] == "A"
    doc = docx.Document(str(template))
    body = doc.element.body
    for sdt in body.iter("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}sdt"):
        tag = sdt.find(".//{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tag")
        if tag is not None and tag.get(
                "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}val") == "customer":
            sdt.getparent().remove(sdt)
            break
    for mark in list(body.iter(
            "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}bookmarkStart")):
        if mark.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}name") \
                == "customer":
            mark.getparent().remove(mark)
    doc.sections[0].page_width = docx.shared.Inches(8.5)
    doc.sections[0].page_height = docx.shared.Inches(11)
    broken = tmp_path / "complaint-letter.docx"
    doc.save(str(broken))
    result = run(ws, "templates", "check", str(broken), "--json")
    assert result.exit_code == 1
    codes = [(i["code"], i["field"]) for i in json.loads(result.stdout)[0]["issues"]]
    assert ("FIELD_NOT_BOUND", "customer") in codes
    assert ("PAGE_SETUP", None) in codes


def test_check_a_word_file_without_identity(ws: Workspace, tmp_path: Path) -> None:
    plain = tmp_path / "plain.docx"
    docx.Document().save(str(plain))
    result = run(ws, "templates", "check", str(plain), "--json")
    assert result.exit_code == 1
    assert [i["code"] for i in json.loads(result.stdout)[0]["issues"]] == ["NO_IDENTITY"]


def test_release_and_history_refuse_a_folder_that_is_no_workspace(tmp_path: Path) -> None:
    folder = tmp_path / "not-a-workspace"
    folder.mkdir()
    for args in (("templates", "release", "complaint", "--revision", "B"),
                 ("templates", "history")):
        result = CliRunner().invoke(cli, ["--root", str(folder), *args])
        assert result.exit_code == 2, result.output
    assert list(folder.iterdir()) == []
