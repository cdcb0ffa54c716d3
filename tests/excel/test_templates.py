"""Shipped templates and schemas stay in step with the definitions; restyling keeps binding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.styles import Font, PatternFill, Protection
from openpyxl.workbook.defined_name import DefinedName

from qmsforms.blanks import build_templates, check_template_file, issue_blank, same_content
from qmsforms.excel.fill import fill_workbook
from qmsforms.excel.templates import check_template
from qmsforms.schema import essentials, export_schemas, json_schema
from qmsforms.validate import validate_file
from qmsforms.workspace import Workspace, init_workspace

from ..conftest import REPO, VALID


def test_committed_templates_match_the_definitions(repo_ws: Workspace, tmp_path: Path) -> None:
    """Fails when a definition changed without `qmsforms templates build`."""
    rebuilt = build_templates(repo_ws, tmp_path)
    committed = sorted(p.name for p in repo_ws.templates_dir.iterdir()
                       if p.suffix in (".xlsx", ".docx"))
    assert committed == sorted(p.name for p in rebuilt)
    for path in rebuilt:
        assert same_content(path, repo_ws.templates_dir / path.name), path.name


def test_committed_json_schemas_match_the_models(repo_ws: Workspace, tmp_path: Path) -> None:
    """Compares what the schemas say, not how one pydantic release spells or indents it."""
    for path in export_schemas(list(repo_ws.registry), tmp_path):
        committed = repo_ws.schemas_dir / "json" / path.name
        assert essentials(json.loads(committed.read_text(encoding="utf-8"))) == essentials(
            json.loads(path.read_text(encoding="utf-8"))), path.name


def test_schema_essentials_ignore_spelling_but_not_meaning() -> None:
    decimal = {"anyOf": [{"type": "number"}, {"type": "string", "pattern": "^[0-9.]+$"}]}
    assert essentials(decimal) == {"anyOf": [{"type": "number"}, {"type": "string"}]}
    period = {"type": "string", "pattern": "^[0-9]{4}$"}
    assert essentials(period) == period
    assert essentials({"type": "integer", "maximum": 5}) != essentials(
        {"type": "integer", "maximum": 6})
    assert essentials({"type": "integer", "x-name": "n", "propertyOrder": 3}) == {
        "type": "integer", "x-name": "n"}


def test_schema_annotations(repo_ws: Workspace) -> None:
    schema = json_schema(repo_ws.registry.get("shipping-list"))
    for name, prop in schema["properties"].items():
        assert prop["x-name"] == name
    assert schema["properties"]["lines"]["x-table"][:4] == [
        "part_name", "drawing_no", "batch_no", "quantity"]
    assert "doc_no" in schema["required"] and schema["x-natural-key"] == ["doc_no"]


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "templates").glob("*.*x")))
def test_shipped_templates_pass_the_check(repo_ws: Workspace, name: str) -> None:
    assert check_template_file(repo_ws.templates_dir / name, repo_ws).issues == []


def _restyle(path: Path) -> None:
    """What a quality engineer does in Excel: new sheet name, fonts, fills, widths, a logo."""
    wb = load_workbook(path)
    sheet = wb.worksheets[0]
    old = sheet.title
    sheet.title = "Form QR-7"
    for name, defined in list(wb.defined_names.items()):
        if old in (defined.attr_text or ""):
            wb.defined_names[name] = DefinedName(
                name, attr_text=defined.attr_text.replace(f"'{old}'", "'Form QR-7'"))
    for row in sheet.iter_rows(max_row=8):
        for cell in row:
            if cell.__class__.__name__ != "MergedCell":
                cell.font = Font(name="SimSun", size=11, bold=True)
                cell.fill = PatternFill("solid", fgColor="FFF2CC")
    sheet.column_dimensions["B"].width = 30
    sheet["J1"] = "LOGO"
    wb.save(path)


def test_restyled_template_still_binds_and_reads(ws: Workspace, tmp_path: Path) -> None:
    template = ws.templates_dir / "complaint.xlsx"
    _restyle(template)
    assert check_template(template, ws).issues == []
    blank = issue_blank(ws, "complaint", tmp_path / "c.xlsx")
    wb = load_workbook(blank)
    assert wb.worksheets[0].title == "Form QR-7"
    fill_workbook(wb, ws.registry.get("complaint"), VALID["complaint"])
    wb.save(blank)
    report = validate_file(blank, ws)
    assert report.valid and report.data["customer"] == "华东汽车"
    assert report.issues == []


def test_moved_field_still_binds(ws: Workspace, tmp_path: Path) -> None:
    """Extraction follows the name, not the coordinates the shipped layout used."""
    template = ws.templates_dir / "complaint.xlsx"
    wb = load_workbook(template)
    sheet = wb.worksheets[0]
    wb.defined_names["part_no"] = DefinedName(
        "part_no", attr_text=f"'{sheet.title}'!$K$5")
    sheet["K5"].protection = Protection(locked=False)
    sheet.print_area = f"A1:K{sheet.max_row}"  # the moved field prints
    wb.save(template)
    assert check_template(template, ws).issues == []
    blank = issue_blank(ws, "complaint", tmp_path / "c.xlsx")
    wb = load_workbook(blank)
    fill_workbook(wb, ws.registry.get("complaint"), {**VALID["complaint"], "part_no": "HB-1"})
    wb.save(blank)
    assert wb.worksheets[0]["K5"].value == "HB-1"
    assert validate_file(blank, ws).data["part_no"] == "HB-1"


def test_check_reports_what_a_restyle_broke(ws: Workspace) -> None:
    template = ws.templates_dir / "satisfaction-survey.xlsx"
    wb = load_workbook(template)
    del wb.defined_names["price"]
    sheet_title = wb.worksheets[0].title
    wb.defined_names["delivery"] = DefinedName(
        "delivery", attr_text=f"'{sheet_title}'!$D$16:$F$16")
    wb.save(template)
    report = check_template(template, ws)
    assert sorted(report.flatten(["code", "field"])) == [
        ["FIELD_NOT_BOUND", "price"], ["FIELD_SHAPE", "delivery"]]


def test_check_reports_a_missing_table_column(ws: Workspace) -> None:
    template = ws.templates_dir / "shipping-list.xlsx"
    wb = load_workbook(template)
    sheet = wb.worksheets[0]
    table = sheet.tables["lines"]
    header_row = int(table.ref.split(":")[0][1:])
    sheet.cell(row=header_row, column=3).value = "Lot"
    table.tableColumns[2].name = "Lot"
    wb.save(template)
    report = check_template(template, ws)
    assert sorted(report.flatten(["code", "field", "value"]))[0][:2] == [
        "TABLE_COLUMN_MISSING", "lines"]
    assert "TABLE_COLUMN_UNKNOWN" in report.codes()


def test_check_reports_a_missing_table(ws: Workspace) -> None:
    template = ws.templates_dir / "shipping-list.xlsx"
    wb = load_workbook(template)
    del wb.worksheets[0].tables["lines"]
    wb.save(template)
    assert check_template(template, ws).codes() == ["TABLE_NOT_FOUND"]


WARRANTY = """
id = "warranty-feedback"
revision = "B"
title_zh = "保修反馈表"
title_en = "Warranty Feedback"
natural_key = ["customer", "claim_no"]
min_answered = 2

[scale]
kind = "ticks"
levels = [
  { value = 3, zh = "好", en = "Good" },
  { value = 2, zh = "中", en = "Fair" },
  { value = 1, zh = "差", en = "Poor" },
]

[[header]]
name = "customer"
zh = "客户"
en = "Customer"
required = true

[[header]]
name = "claim_no"
zh = "索赔号"
en = "Claim no."
required = true

[[questions]]
code = "speed"
zh = "处理速度"
en = "Speed"
weight = 2

[[questions]]
code = "fairness"
zh = "处理结果"
en = "Outcome"

[[questions]]
code = "contact"
zh = "沟通"
en = "Communication"
"""


def test_questionnaire_added_as_toml_only(tmp_path: Path) -> None:
    """A new questionnaire: TOML in the workspace, then issued, filled and validated."""
    ws = init_workspace(tmp_path / "ws")
    (ws.schemas_dir / "questionnaires" / "warranty-feedback.toml").write_text(
        WARRANTY, encoding="utf-8")
    ws = Workspace(ws.root)
    assert "warranty-feedback" in ws.registry
    blank = issue_blank(ws, "warranty-feedback", tmp_path / "w.xlsx")
    wb = load_workbook(blank)
    form = ws.registry.get("warranty-feedback")
    fill_workbook(wb, form, {"customer": "ACME", "claim_no": "W-9", "speed": 3, "contact": 1})
    wb.save(blank)
    report = validate_file(blank, ws)
    assert report.valid and report.revision == "B"
    assert report.data["speed"] == 3 and report.data["fairness"] is None
    fill_workbook(wb, form, {"contact": None})
    wb.save(blank)
    assert validate_file(blank, ws).codes() == ["INCOMPLETE_SURVEY"]
    schema = json_schema(form)
    assert schema["properties"]["speed"]["x-weight"] == 2
    assert json.dumps(schema, ensure_ascii=False)


def test_invalid_questionnaire_names_the_file(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws")
    (ws.schemas_dir / "questionnaires" / "broken.toml").write_text(
        WARRANTY.replace('natural_key = ["customer", "claim_no"]',
                         'natural_key = ["customer", "nope"]'), encoding="utf-8")
    registry = Workspace(ws.root).registry  # only this form is disabled, the rest load
    (problem,) = registry.broken["warranty-feedback"]
    assert problem.file == "broken.toml" and "nope" in problem.message_en
    assert "warranty-feedback" not in registry.ids() and "shipping-list" in registry.ids()
