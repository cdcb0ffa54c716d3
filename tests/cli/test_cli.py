"""Tests for the ``qmsforms`` command line: exit codes, files produced and ``--json`` output.

Every command runs through click's CliRunner against a fresh workspace (``--root``); the
assertions look at exit codes, issue codes, cells and JSON keys, never at message prose.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import quote_sheetname
from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.workbook import Workbook

from qmsforms import __version__
from qmsforms.cli import cli
from qmsforms.excel.annotate import BAD_FILL
from qmsforms.excel.identity import read_identity
from qmsforms.intake import Ledger
from qmsforms.workspace import Workspace

from .. import hostile

FORM_IDS = ("shipping-list", "complaint", "satisfaction-survey", "service-evaluation",
            "satisfaction-monitoring", "corrective-action")
REPORT_KEYS = {"path", "valid", "form", "revision", "instance_id", "issues", "data", "scores"}
ISSUE_KEYS = {"code", "severity", "field", "sheet", "cell", "value", "message_zh", "message_en"}
RESTYLED_SHEET = "Restyled 改版"

Corpus = dict[str, tuple[Path, str]]


# -- helpers -------------------------------------------------------------------------------

def run(ws: Workspace, *args: str) -> Result:
    """Invoke the CLI on workspace ``ws``."""
    return CliRunner().invoke(cli, ["--root", str(ws.root), *args])


def run_json(ws: Workspace, *args: str) -> tuple[Result, Any]:
    """Invoke the CLI with ``--json`` appended; returns the result and the parsed output."""
    result = run(ws, *args, "--json")
    return result, json.loads(result.stdout)


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and subcommand of ``group`` as its path of names."""
    paths: list[tuple[str, ...]] = []
    for name, command in sorted(group.commands.items()):
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths.extend(command_paths(command, (*prefix, name)))
    return paths


def named_cell(wb: Workbook, name: str) -> Cell:
    """The top-left cell of a workbook-scoped defined name."""
    ((sheet, ref),) = list(wb.defined_names[name].destinations)
    min_col, min_row, _, _ = range_boundaries(ref.replace("$", ""))
    return wb[sheet].cell(row=min_row, column=min_col)


def top_left(wb: Workbook, sheet: str, ref: str) -> Cell:
    """The top-left cell of an A1 reference on ``sheet``."""
    min_col, min_row, _, _ = range_boundaries(ref)
    return wb[sheet].cell(row=min_row, column=min_col)


def no_traceback(result: Result) -> bool:
    """True when the command ended normally or through click's exit, not by an exception."""
    return result.exception is None or isinstance(result.exception, SystemExit)


def restyle(source: Path, target: Path) -> Path:
    """What a quality engineer does in Excel: new fonts and fills, wider column, a logo, and a
    renamed sheet (with every defined name rewritten to the new sheet name)."""
    wb = load_workbook(source)
    sheet = wb.worksheets[0]
    old = sheet.title
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell, Cell) and isinstance(cell.value, str):
                cell.font = Font(name="Arial", size=11, bold=True, color="1F4E79")
                cell.fill = PatternFill("solid", fgColor="DDEBF7")
    sheet.column_dimensions["A"].width = 31
    sheet.cell(row=1, column=sheet.max_column + 2, value="LOGO")
    sheet.title = RESTYLED_SHEET
    for defined in wb.defined_names.values():
        defined.attr_text = ",".join(
            f"{quote_sheetname(RESTYLED_SHEET if name == old else name)}!{ref}"
            for name, ref in defined.destinations)
    wb.save(target)
    return target


# -- init ----------------------------------------------------------------------------------

def test_init_creates_a_workspace(ws: Workspace, tmp_path: Path) -> None:
    target = tmp_path / "new-ws"
    result = run(ws, "init", str(target))
    assert result.exit_code == 0
    assert (target / "qmsforms.toml").is_file()
    assert sorted((target / "templates").glob("*.xlsx"))
    assert sorted((target / "schemas" / "questionnaires").glob("*.toml"))
    assert (target / "inbox").is_dir()
    assert (target / "outbox").is_dir()


def test_init_twice_keeps_an_edited_config(ws: Workspace, tmp_path: Path) -> None:
    target = tmp_path / "new-ws"
    assert run(ws, "init", str(target)).exit_code == 0
    config = target / "qmsforms.toml"
    edited = config.read_text(encoding="utf-8") + "\n# edited by the quality engineer\n"
    config.write_text(edited, encoding="utf-8")
    assert run(ws, "init", str(target)).exit_code == 0
    assert config.read_text(encoding="utf-8") == edited


# -- forms ---------------------------------------------------------------------------------

def test_forms_lists_every_form_id(ws: Workspace) -> None:
    result = run(ws, "forms")
    assert result.exit_code == 0
    listed = {line.split()[0] for line in result.stdout.splitlines() if line.strip()}
    assert set(FORM_IDS) <= listed


def test_forms_json(ws: Workspace) -> None:
    result, rows = run_json(ws, "forms")
    assert result.exit_code == 0
    assert set(FORM_IDS) <= {row["id"] for row in rows}
    for row in rows:
        assert set(row) == {"id", "revision", "title_zh", "title_en", "natural_key"}
        assert row["revision"] and row["title_zh"] and row["title_en"]


# -- schema --------------------------------------------------------------------------------

@pytest.mark.parametrize("form_id", FORM_IDS)
def test_schema_lists_field_names(ws: Workspace, form_id: str) -> None:
    result = run(ws, "schema", form_id)
    assert result.exit_code == 0
    words = set(result.stdout.split())
    for spec in ws.registry.get(form_id).fields:
        assert spec.name in words
        assert {column.name for column in spec.columns} <= words


def test_schema_json_of_shipping_list(ws: Workspace) -> None:
    result, schema = run_json(ws, "schema", "shipping-list")
    assert result.exit_code == 0
    assert schema["x-form"] == "shipping-list"
    properties = schema["properties"]
    lines = ws.registry.get("shipping-list").field("lines")
    assert properties["lines"]["x-table"] == [column.name for column in lines.columns]
    assert properties["lines"]["x-table"][0] == "part_name"
    assert properties
    for key, prop in properties.items():
        assert prop["x-name"] == key


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_schema_of_unknown_form_is_a_usage_error(ws: Workspace, as_json: bool) -> None:
    result = run(ws, "schema", "no-such-form", *(["--json"] if as_json else []))
    assert result.exit_code == 2


# -- new -----------------------------------------------------------------------------------

@pytest.mark.parametrize("form_id", FORM_IDS)
def test_new_issues_a_blank_of_every_form(ws: Workspace, tmp_path: Path, form_id: str) -> None:
    out = tmp_path / f"{form_id}.xlsx"
    result = run(ws, "new", form_id, "-o", str(out))
    assert result.exit_code == 0
    assert Path(result.stdout.strip()) == out
    wb = load_workbook(out)
    identity = read_identity(wb)
    assert identity is not None
    assert identity.form == form_id
    assert identity.instance_id
    for spec in ws.registry.get(form_id).fields:
        if spec.kind == "table":
            assert any(spec.name in s.tables for s in wb.worksheets)
        else:
            assert spec.name in wb.defined_names


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_new_in_one_language(ws: Workspace, tmp_path: Path, lang: str) -> None:
    out = tmp_path / f"survey.{lang}.xlsx"
    result = run(ws, "new", "satisfaction-survey", "--lang", lang, "-o", str(out))
    assert result.exit_code == 0
    identity = read_identity(load_workbook(out))
    assert identity is not None
    assert identity.lang == lang


def test_new_without_output_writes_into_the_current_folder(
        ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run(ws, "new", "complaint")
    assert result.exit_code == 0
    written = tmp_path / result.stdout.strip()
    assert written.is_file()
    assert written.suffix == ".xlsx"
    assert written.name.startswith("complaint-")


def test_new_with_set_prefills_fields(ws: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "survey.xlsx"
    result = run(ws, "new", "satisfaction-survey", "--set", "customer=ACME",
                 "--set", "period=2026", "-o", str(out))
    assert result.exit_code == 0
    wb = load_workbook(out)
    assert named_cell(wb, "customer").value == "ACME"
    assert named_cell(wb, "period").value == "2026"
    result, reports = run_json(ws, "validate", str(out))
    assert result.exit_code == 1
    assert [issue["code"] for issue in reports[0]["issues"]] == ["INCOMPLETE_SURVEY"]


@pytest.mark.parametrize("args", [
    ("satisfaction-survey", "--set", "bad"),
    ("satisfaction-survey", "--set", "=value"),
    ("satisfaction-survey", "--set", "nosuchfield=1"),
    ("satisfaction-survey", "--set", "survey_date=3/11/2026"),
    ("satisfaction-survey", "--set", "product_quality=5"),
    ("satisfaction-survey", "--lang", "fr"),
    ("no-such-form",),
], ids=["set-without-equals", "set-without-name", "set-unknown-field", "set-bad-value",
        "set-ticks", "bad-lang", "unknown-form"])
def test_new_usage_errors(ws: Workspace, tmp_path: Path, args: tuple[str, ...]) -> None:
    out = tmp_path / "blank.xlsx"
    result = run(ws, "new", *args, "-o", str(out))
    assert result.exit_code == 2
    assert not out.exists()


@pytest.mark.parametrize(("form", "suffix"), [("complaint", ".xlsm"),
                                             ("shipping-list", ".docx")])
def test_new_refuses_other_file_kinds(ws: Workspace, tmp_path: Path, form: str,
                                      suffix: str) -> None:
    out = tmp_path / f"blank{suffix}"
    result = run(ws, "new", form, "-o", str(out))
    assert result.exit_code == 2
    assert not out.exists()


def test_new_gives_each_blank_a_fresh_instance_id(ws: Workspace, tmp_path: Path) -> None:
    ids = []
    for name in ("one.xlsx", "two.xlsx"):
        assert run(ws, "new", "complaint", "-o", str(tmp_path / name)).exit_code == 0
        identity = read_identity(load_workbook(tmp_path / name))
        assert identity is not None and identity.instance_id
        ids.append(identity.instance_id)
    assert ids[0] != ids[1]


# -- validate ------------------------------------------------------------------------------

@pytest.fixture
def bad_shipping_list(make_filled: Any) -> Path:
    """A shipping list with an ambiguous ship date: exactly one error at one cell."""
    return make_filled("shipping-list", ship_date="3/11/2026")


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_validate_valid_file(ws: Workspace, make_filled: Any, form_id: str) -> None:
    path = make_filled(form_id)
    result, reports = run_json(ws, "validate", str(path))
    assert result.exit_code == 0
    (report,) = reports
    assert report["valid"] is True
    assert report["form"] == form_id
    assert report["issues"] == []
    assert report["data"]


def test_validate_invalid_file(ws: Workspace, bad_shipping_list: Path) -> None:
    assert run(ws, "validate", str(bad_shipping_list)).exit_code == 1
    result, reports = run_json(ws, "validate", str(bad_shipping_list))
    assert result.exit_code == 1
    (report,) = reports
    assert report["valid"] is False
    assert [(i["code"], i["field"]) for i in report["issues"]] == [
        ("DATE_AMBIGUOUS", "ship_date")]


def test_validate_mixed_list(ws: Workspace, make_filled: Any, bad_shipping_list: Path) -> None:
    good = make_filled("complaint")
    assert run(ws, "validate", str(good)).exit_code == 0
    assert run(ws, "validate", str(good), str(bad_shipping_list)).exit_code == 1
    result, reports = run_json(ws, "validate", str(good), str(bad_shipping_list))
    assert result.exit_code == 1
    assert [(r["path"], r["valid"]) for r in reports] == [
        (str(good), True), (str(bad_shipping_list), False)]


def test_validate_json_shape(ws: Workspace, make_filled: Any, bad_shipping_list: Path) -> None:
    good = make_filled("satisfaction-survey")
    _, reports = run_json(ws, "validate", str(good), str(bad_shipping_list))
    assert isinstance(reports, list)
    assert len(reports) == 2
    for report in reports:
        assert set(report) == REPORT_KEYS
        assert report["revision"] and report["instance_id"]
        for issue in report["issues"]:
            assert set(issue) == ISSUE_KEYS
    assert reports[0]["valid"] is True
    assert reports[1]["issues"]


def test_validate_annotate_writes_a_copy_of_invalid_files_only(
        ws: Workspace, tmp_path: Path, make_filled: Any, bad_shipping_list: Path) -> None:
    good = make_filled("complaint")
    out_dir = tmp_path / "annotated"
    result, reports = run_json(ws, "validate", str(good), str(bad_shipping_list),
                               "--annotate", str(out_dir))
    assert result.exit_code == 1
    assert sorted(p.name for p in out_dir.iterdir()) == [
        f"{bad_shipping_list.stem}.annotated.xlsx"]
    annotated = load_workbook(out_dir / f"{bad_shipping_list.stem}.annotated.xlsx")
    original = load_workbook(bad_shipping_list)
    (issue,) = reports[1]["issues"]
    cell = top_left(annotated, issue["sheet"], issue["cell"])
    assert cell.fill.fgColor.rgb == BAD_FILL.fgColor.rgb
    assert top_left(original, issue["sheet"], issue["cell"]).fill.fgColor.rgb != (
        BAD_FILL.fgColor.rgb)
    assert cell.comment is not None
    assert top_left(original, issue["sheet"], issue["cell"]).comment is None


def test_validate_missing_file(ws: Workspace, tmp_path: Path) -> None:
    """The FILES argument is not existence-checked by click: a missing file is an invalid
    input reported as FILE_NOT_FOUND (exit 1), not a usage error."""
    missing = tmp_path / "missing.xlsx"
    assert run(ws, "validate", str(missing)).exit_code == 1
    result, reports = run_json(ws, "validate", str(missing))
    assert result.exit_code == 1
    assert no_traceback(result)
    assert [i["code"] for i in reports[0]["issues"]] == ["FILE_NOT_FOUND"]


@pytest.mark.parametrize("args", [(), ("--json",)], ids=["bare", "json-only"])
def test_validate_needs_a_file(ws: Workspace, args: tuple[str, ...]) -> None:
    assert run(ws, "validate", *args).exit_code == 2


def test_validate_a_folder_is_a_usage_error(ws: Workspace, tmp_path: Path) -> None:
    assert run(ws, "validate", str(tmp_path)).exit_code == 2


# -- hostile files -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return hostile.build_corpus(tmp_path_factory.mktemp("hostile"))


@pytest.mark.parametrize("case", sorted(hostile.CASES))
def test_validate_refuses_hostile_file(ws: Workspace, corpus: Corpus, case: str) -> None:
    path, code = corpus[case]
    result = run(ws, "validate", str(path), "--json")
    assert no_traceback(result)
    assert result.exit_code == 1
    (report,) = json.loads(result.stdout)
    assert report["valid"] is False
    assert code in [issue["code"] for issue in report["issues"]]


# -- templates -----------------------------------------------------------------------------

def test_templates_build_into_a_folder(ws: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "built"
    result = run(ws, "templates", "build", "--out", str(out))
    assert result.exit_code == 0
    built = sorted(out.glob("*.xlsx"))
    assert len(built) == 18
    assert {p.name.split(".")[0] for p in built} == set(FORM_IDS)


def test_templates_build_in_the_workspace(ws: Workspace) -> None:
    for path in ws.templates_dir.glob("*.xlsx"):
        path.unlink()
    shutil.rmtree(ws.schemas_dir / "json", ignore_errors=True)
    result = run(ws, "templates", "build")
    assert result.exit_code == 0
    assert len(sorted(ws.templates_dir.glob("*.xlsx"))) == 18
    assert len(sorted(ws.templates_dir.glob("*.docx"))) == 9  # complaint, 8D, corrective action
    schemas = sorted((ws.schemas_dir / "json").glob("*.schema.json"))
    assert {p.name.removesuffix(".schema.json") for p in schemas} == {*FORM_IDS, "8d-report"}


def test_templates_check_the_workspace_templates(ws: Workspace) -> None:
    result, reports = run_json(ws, "templates", "check")
    assert result.exit_code == 0
    assert len(reports) == 27  # 18 workbooks and 9 Word templates
    assert all(r["valid"] and r["issues"] == [] for r in reports)


def test_templates_check_without_templates_fails(ws: Workspace) -> None:
    for path in [*ws.templates_dir.glob("*.xlsx"), *ws.templates_dir.glob("*.docx")]:
        path.unlink()
    result = run(ws, "templates", "check")
    assert result.exit_code == 1
    assert no_traceback(result)


def test_templates_check_unbound_field(ws: Workspace, tmp_path: Path) -> None:
    wb = load_workbook(ws.templates_dir / "shipping-list.xlsx")
    del wb.defined_names["customer"]
    broken = tmp_path / "no-customer.xlsx"
    wb.save(broken)
    assert run(ws, "templates", "check", str(broken)).exit_code == 1
    result, reports = run_json(ws, "templates", "check", str(broken))
    assert result.exit_code == 1
    (report,) = reports
    assert report["valid"] is False
    assert ("FIELD_NOT_BOUND", "customer") in [(i["code"], i["field"]) for i in report["issues"]]


def test_templates_check_a_file_that_is_no_template(ws: Workspace, corpus: Corpus) -> None:
    path, code = corpus["text_as_xlsx"]
    result, reports = run_json(ws, "templates", "check", str(path))
    assert result.exit_code == 1
    assert [i["code"] for i in reports[0]["issues"]] == [code]


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_restyled_template_still_binds_and_reads(ws: Workspace, tmp_path: Path,
                                                 make_filled: Any, form_id: str) -> None:
    restyled = restyle(ws.templates_dir / f"{form_id}.xlsx", tmp_path / f"{form_id}.xlsx")
    assert run(ws, "templates", "check", str(restyled)).exit_code == 0
    result, reports = run_json(ws, "templates", "check", str(restyled))
    assert result.exit_code == 0
    assert reports[0]["issues"] == []

    shutil.copyfile(restyled, ws.templates_dir / f"{form_id}.xlsx")
    filled = make_filled(form_id)
    wb = load_workbook(filled)
    assert wb.worksheets[0].title == RESTYLED_SHEET  # really issued from the restyled template
    assert "LOGO" in [c.value for row in wb.worksheets[0].iter_rows() for c in row]
    result, reports = run_json(ws, "validate", str(filled))
    assert result.exit_code == 0
    assert reports[0]["valid"] is True
    assert reports[0]["data"]


# -- demo ----------------------------------------------------------------------------------

def test_demo(ws: Workspace, tmp_path: Path) -> None:
    from qmsforms.intake import Ledger

    target = tmp_path / "demo"
    result = run(ws, "demo", "--dir", str(target))
    assert result.exit_code == 0, result.output
    assert len(sorted((target / "blanks").glob("*.xlsx"))) == len(FORM_IDS)
    assert (target / "qmsforms.toml").is_file()
    assert sorted((target / "outbox" / "rejected").glob("*.annotated.xlsx"))
    assert not [p for p in (target / "inbox").iterdir() if p.suffix == ".xlsx"]
    with Ledger(target / ".qmsforms" / "ledger.sqlite") as ledger:
        assert ledger.count("records") == 12
        assert [f.outcome for f in ledger.files("rejected")] == ["rejected"]
        assert len(ledger.files("duplicate")) == 1
        revised = [r for r in ledger.records() if r.supersedes]
        assert len(revised) == 1 and revised[0].form == "satisfaction-monitoring"
        policies = {r.scores["policy"]["id"] for r in ledger.records("satisfaction-monitoring")}
        assert policies == {"monitoring-000", "automotive-qdo"}
        assert not [r for r in ledger.records() if "not_issued_here" in r.notes]
    assert "ALERT" in result.stdout
    reports = target / "outbox" / "reports"
    for name in ("satisfaction-2026.xlsx", "complaints-2026.xlsx"):
        assert (reports / name).is_file()
        assert str(reports / name) in result.stdout
    satisfaction = load_workbook(reports / "satisfaction-2026.xlsx")
    assert "matrix" in satisfaction.defined_names and "alerts" in satisfaction.defined_names


# -- version, help, configuration ----------------------------------------------------------

def test_version(ws: Workspace) -> None:
    result = run(ws, "--version")
    assert result.exit_code == 0
    assert __version__ in result.stdout


@pytest.mark.parametrize("path", [(), *command_paths(cli)],
                         ids=lambda p: " ".join(p) or "qmsforms")
def test_help(ws: Workspace, path: tuple[str, ...]) -> None:
    result = run(ws, *path, "--help")
    assert result.exit_code == 0
    assert result.stdout


@pytest.mark.parametrize("config", ["[company\nname_zh = ", '[defaults]\nlanguage = "fr"\n'],
                         ids=["invalid-toml", "invalid-value"])
def test_bad_config_is_reported_without_traceback(ws: Workspace, config: str) -> None:
    (ws.root / "qmsforms.toml").write_text(config, encoding="utf-8")
    result = run(ws, "forms")
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)


# -- score -------------------------------------------------------------------------------

def test_validate_json_carries_scores(ws: Workspace, make_filled: Any) -> None:
    result, reports = run_json(ws, "validate", str(make_filled("satisfaction-survey")))
    assert result.exit_code == 0
    scores = reports[0]["scores"]
    # 25×100 + 20×80 + 10×80 + 5×60 + 10×100 over 70 = 6200 / 70 = 88.57…
    assert scores["score"] == 88.6 and scores["policy"]["id"] == "survey-000"


def test_score_json(ws: Workspace, make_filled: Any) -> None:
    files = [make_filled("satisfaction-monitoring"), make_filled("satisfaction-survey"),
             make_filled("shipping-list")]
    result, out = run_json(ws, "score", *map(str, files), "--year", "2026")
    assert result.exit_code == 0
    monitoring, survey, shipping = out["files"]
    assert monitoring["scores"]["total"] == 99.0          # 30 + 30 + 95 % × 20 + 20
    assert monitoring["scores"]["policy"]["id"] == "monitoring-000"
    assert survey["scores"]["band"]["key"] == "satisfied"
    assert shipping["scores"] is None
    (annual,) = out["year"]["annual"]
    # 0.5 × 99 + 0.5 × 88.6 = 93.8; one month of twelve
    assert annual["score"] == 93.8 and annual["complete"] is False
    assert out["year"]["company_monthly"] == {"2026-11": 99.0}


def test_score_prints_a_table(ws: Workspace, make_filled: Any) -> None:
    result = run(ws, "score", str(make_filled("satisfaction-monitoring")), "--year", "2026")
    assert result.exit_code == 0
    assert "99.0" in result.stdout and "monitoring-000" in result.stdout


def test_score_of_an_invalid_file_exits_1(ws: Workspace, make_filled: Any) -> None:
    path = make_filled("satisfaction-survey", delivery=None, packaging=None, appearance=None)
    result, out = run_json(ws, "score", str(path))
    assert result.exit_code == 1
    assert out["files"][0]["scores"] is None
    assert [i["code"] for i in out["files"][0]["issues"]] == ["INCOMPLETE_SURVEY"]


def test_score_with_an_unknown_policy_is_a_clean_error(ws: Workspace, make_filled: Any) -> None:
    path = make_filled("satisfaction-monitoring")
    with (ws.root / "qmsforms.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[scoring]\nmonitoring = "nope"\n')
    result = run(ws, "score", str(path))
    assert result.exit_code == 1 and "nope" in result.output
    assert "Traceback" not in result.output


# -- intake ------------------------------------------------------------------------------

def test_process_turns_the_inbox_into_records_and_rejections(ws: Workspace, make_filled: Any,
                                                             bad_shipping_list: Path) -> None:
    shutil.copyfile(make_filled("satisfaction-survey"), ws.inbox / "good.xlsx")
    shutil.copyfile(bad_shipping_list, ws.inbox / "bad.xlsx")
    result, out = run_json(ws, "process", "--settle", "0.05")
    assert result.exit_code == 1
    assert (out["records"], out["rejected"], out["duplicates"]) == (1, 1, 0)
    outcomes = {o["name"]: o for o in out["outcomes"]}
    assert outcomes["good.xlsx"]["outcome"] == "record"
    assert outcomes["bad.xlsx"]["codes"]
    assert not (ws.inbox / "good.xlsx").exists() and not (ws.inbox / "bad.xlsx").exists()


def test_process_of_an_empty_inbox_succeeds(ws: Workspace) -> None:
    result = run(ws, "process", "--settle", "0.05")
    assert result.exit_code == 0 and "0 records" in result.stdout


def test_records_lists_the_ledger(ws: Workspace, make_filled: Any) -> None:
    shutil.copyfile(make_filled("satisfaction-monitoring"), ws.inbox / "m.xlsx")
    shutil.copyfile(make_filled("satisfaction-survey"), ws.inbox / "s.xlsx")
    assert run(ws, "process", "--settle", "0.05").exit_code == 0
    result, rows = run_json(ws, "records")
    assert result.exit_code == 0 and {r["form"] for r in rows} == {
        "satisfaction-monitoring", "satisfaction-survey"}
    _, monitoring = run_json(ws, "records", "--form", "satisfaction-monitoring")
    assert [r["scores"]["total"] for r in monitoring] == [99.0]
    _, none = run_json(ws, "records", "--customer", "nobody")
    assert none == []
    text = run(ws, "records")
    assert "2 records" in text.stdout
    assert run(ws, "records", "--form", "nope").exit_code == 2


def test_new_records_the_issued_instance(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "s.xlsx"
    assert run(ws, "new", "satisfaction-survey", "-o", str(path),
               "--set", "customer=ACME").exit_code == 0
    instance = read_identity(load_workbook(path)).instance_id
    with Ledger(ws.state_dir / "ledger.sqlite") as ledger:
        assert ledger.is_issued(instance) and ledger.issued()[0]["customer"] == "ACME"


def test_validate_reports_a_file_that_aborted_the_reader(ws: Workspace, make_filled: Any,
                                                        tmp_path: Path) -> None:
    from ..intake.test_poison import stray_last_cell
    from ..xlsx_parts import SHEET, rewrite

    good = make_filled("shipping-list")
    bad = tmp_path / "stray.xlsx"
    shutil.copyfile(make_filled("shipping-list", doc_no="FH-STRAY"), bad)
    rewrite(bad, SHEET, stray_last_cell)  # calamine aborted any process reading this
    result = CliRunner().invoke(cli, ["--root", str(ws.root), "validate", "--json",
                                      str(bad), str(good)])
    assert result.exit_code == 1, result.output
    reports = json.loads(result.output)
    assert [r["valid"] for r in reports] == [False, True]
    assert [(i["code"], i["cell"]) for i in reports[0]["issues"]] == [
        ("SHEET_TOO_LARGE", "XFD1048576")]


# -- the ledger: lost, damaged, immutable, rebuilt ---------------------------------------

def ledger_file(ws: Workspace) -> Path:
    return ws.state_dir / "ledger.sqlite"


def refused(result: Result, code: str) -> bool:
    """Exit 1 through click (no traceback), naming the ledger error's code."""
    return (result.exit_code == 1 and isinstance(result.exception, SystemExit)
            and "Traceback" not in result.output and code in result.output)


@pytest.mark.parametrize("how", ["deleted", "truncated"])
def test_records_and_process_refuse_a_lost_ledger(ws: Workspace, make_filled: Any,
                                                  how: str) -> None:
    source = make_filled("satisfaction-survey")
    shutil.copyfile(source, ws.inbox / "s.xlsx")
    result, out = run_json(ws, "process", "--settle", "0.05")
    assert result.exit_code == 0
    record_json = ws.outbox / out["outcomes"][0]["location"]
    before = record_json.read_bytes()
    if how == "deleted":
        ledger_file(ws).unlink()
    else:
        ledger_file(ws).write_bytes(b"")
    shutil.copyfile(source, ws.inbox / "s.xlsx")
    assert refused(run(ws, "records"), "LEDGER_MISSING")
    assert refused(run(ws, "process", "--settle", "0.05"), "LEDGER_MISSING")
    assert refused(run(ws, "report", "satisfaction", "--year", "2026"), "LEDGER_MISSING")
    assert (ws.inbox / "s.xlsx").exists() and record_json.read_bytes() == before


def test_a_damaged_ledger_is_a_clean_error(ws: Workspace, make_filled: Any,
                                           damage: Any) -> None:
    for n, form in enumerate(("satisfaction-survey", "satisfaction-monitoring",
                              "shipping-list", "complaint")):
        shutil.copyfile(make_filled(form), ws.inbox / f"{n}.xlsx")
    assert run(ws, "process", "--settle", "0.05").exit_code == 0
    assert run(ws, "report", "satisfaction", "--year", "2026", "--json").exit_code == 0
    damage(ledger_file(ws))
    assert refused(run(ws, "records"), "LEDGER_DAMAGED")
    assert refused(run(ws, "records", "--json"), "LEDGER_DAMAGED")
    assert refused(run(ws, "report", "satisfaction", "--year", "2026"), "LEDGER_DAMAGED")
    assert refused(run(ws, "process", "--settle", "0.05"), "LEDGER_DAMAGED")


def cli_subprocess(ws: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command in its own process (a signal would show as a negative returncode)."""
    return subprocess.run([sys.executable, "-m", "qmsforms", "--root", str(ws.root), *args],
                          capture_output=True, text=True, check=False, timeout=600)


@pytest.mark.parametrize("which", ["ledger", "-wal", "-shm"])
def test_process_refuses_an_immutable_ledger_with_a_message(
        ws: Workspace, make_filled: Any, immutable: Any, leave_wal: Any, which: str) -> None:
    shutil.copyfile(make_filled("shipping-list"), ws.inbox / "a.xlsx")
    assert run(ws, "process", "--settle", "0.05").exit_code == 0
    leave_wal(ledger_file(ws))
    target = ledger_file(ws)
    immutable(target if which == "ledger" else Path(f"{target}{which}"))
    shutil.copyfile(make_filled("shipping-list", doc_no="FH-002"), ws.inbox / "b.xlsx")
    result = cli_subprocess(ws, "process", "--settle", "0.05")
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "LEDGER_READONLY" in result.stderr and "Traceback" not in result.stderr
    assert (ws.inbox / "b.xlsx").exists()
    listed = cli_subprocess(ws, "records", "--json")  # readers read what is there
    assert listed.returncode == 0, listed.stderr
    assert [r["data"]["doc_no"] for r in json.loads(listed.stdout)] == ["FH-001"]


def records_state(ws: Workspace) -> list[tuple[Any, ...]]:
    _, rows = run_json(ws, "records", "--all")
    return sorted((r["record_id"], r["form"], r["latest"], r["supersedes"], r["sha256"],
                   json.dumps(r["natural_key"], sort_keys=True), r["path"]) for r in rows)


def test_ledger_rebuild_from_the_outbox(ws: Workspace, make_filled: Any,
                                        bad_shipping_list: Path) -> None:
    from qmsforms.excel.fill import fill_workbook

    monitoring = make_filled("satisfaction-monitoring")
    originals = [make_filled("satisfaction-survey"), make_filled("shipping-list"),
                 make_filled("complaint"), monitoring]
    for n, path in enumerate(originals):
        shutil.copyfile(path, ws.inbox / f"{n}.xlsx")
    shutil.copyfile(bad_shipping_list, ws.inbox / "bad.xlsx")
    assert run(ws, "process", "--settle", "0.05").exit_code == 1
    revised = ws.root.parent / "monitoring-revised.xlsx"
    wb = load_workbook(monitoring)
    fill_workbook(wb, ws.registry.get("satisfaction-monitoring"), {"q_full_return": 1})
    wb.save(revised)
    shutil.copyfile(revised, ws.inbox / "revised.xlsx")
    assert run(ws, "process", "--settle", "0.05").exit_code == 0
    before = records_state(ws)
    assert len(before) == 5 and sum(not r[2] for r in before) == 1

    ledger_file(ws).unlink()
    result, counts = run_json(ws, "ledger", "rebuild")
    assert result.exit_code == 0
    assert (counts["records"], counts["latest"], counts["superseded"], counts["files"]) == (
        5, 4, 1, 5)
    assert counts["skipped"] == []
    # a reader (records) leaves the empty -wal and -shm it cannot remove: kept aside, not reused
    assert all(p.endswith(("-wal", "-shm")) for p in counts["moved_aside"])
    assert records_state(ws) == before
    with Ledger(ledger_file(ws)) as led:
        assert [e["kind"] for e in led.events()] == ["rebuilt"]
        sizes = {f.record_id: f.size for f in led.files("record")}
    assert sorted(sizes.values()) == sorted(p.stat().st_size for p in [*originals, revised])

    shutil.copyfile(originals[0], ws.inbox / "again.xlsx")
    result, out = run_json(ws, "process", "--settle", "0.05")
    assert result.exit_code == 0 and [o["outcome"] for o in out["outcomes"]] == ["duplicate"]

    assert refused(run(ws, "ledger", "rebuild"), "LEDGER_EXISTS")
    result, counts = run_json(ws, "ledger", "rebuild", "--force")
    assert result.exit_code == 0 and counts["records"] == 5
    (aside,) = [Path(p) for p in counts["moved_aside"] if not p.endswith(("-wal", "-shm"))]
    with Ledger(aside, readonly=True) as old:
        assert old.count("records") == 5 and len(old.files("duplicate")) == 1
    assert records_state(ws) == before


def test_ledger_rebuild_skips_what_it_cannot_read(ws: Workspace, make_filled: Any) -> None:
    shutil.copyfile(make_filled("shipping-list"), ws.inbox / "a.xlsx")
    assert run(ws, "process", "--settle", "0.05").exit_code == 0
    folder = ws.outbox / "records" / "shipping-list"
    (folder / "R-broken.json").write_text("{", encoding="utf-8")
    (folder / "R-elsewhere.json").write_text(json.dumps({
        "record_id": "R-other", "form": "shipping-list", "revision": "A", "data": {},
        "source": {"sha256": "0" * 64}, "processed_at": "2026-01-01T00:00:00Z"}))
    ledger_file(ws).write_bytes(b"")
    result, counts = run_json(ws, "ledger", "rebuild")
    assert result.exit_code == 1 and counts["records"] == 1
    assert sorted(s["reason"] for s in counts["skipped"]) == ["misplaced", "unreadable"]
    assert len(counts["moved_aside"]) == 1  # the empty file, kept
    assert run(ws, "records").exit_code == 0


def test_ledger_rebuild_refuses_while_a_watcher_has_the_ledger_open(ws: Workspace,
                                                                    make_filled: Any) -> None:
    from qmsforms.intake import Intake

    shutil.copyfile(make_filled("shipping-list"), ws.inbox / "a.xlsx")
    assert run(ws, "process", "--settle", "0.05").exit_code == 0
    with Intake(ws):
        assert refused(run(ws, "ledger", "rebuild", "--force"), "LEDGER_BUSY")
    assert run(ws, "ledger", "rebuild", "--force").exit_code == 0


def test_new_writes_no_blank_it_cannot_record(ws: Workspace, make_filled: Any,
                                              tmp_path: Path) -> None:
    shutil.copyfile(make_filled("shipping-list"), ws.inbox / "a.xlsx")
    assert run(ws, "process", "--settle", "0.05").exit_code == 0
    ledger_file(ws).unlink()
    for name in ("s.xlsx", "c.docx"):
        form = "complaint" if name.endswith(".docx") else "satisfaction-survey"
        assert refused(run(ws, "new", form, "-o", str(tmp_path / name)), "LEDGER_MISSING")
        assert not (tmp_path / name).exists()


def test_a_watcher_survives_its_shm_made_immutable(ws: Workspace, make_filled: Any,
                                                   immutable: Any, tmp_path: Path) -> None:
    """Without a check before each query the watcher's next write through its -shm mapping
    is a SIGBUS; with it the watcher reports LEDGER_READONLY and stops on SIGTERM."""
    import threading
    import time

    err_log = tmp_path / "watch.err"
    with err_log.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "qmsforms", "--root", str(ws.root),
                                 "watch", "--settle", "0.05"],
                                stdout=subprocess.DEVNULL, stderr=err)

    def until(condition: Callable[[], bool]) -> bool:
        """Poll, with a generous guard against hangs (never a speed claim)."""
        deadline = time.monotonic() + 300
        while not condition():
            if proc.poll() is not None or time.monotonic() > deadline:
                return False
            threading.Event().wait(0.1)
        return True

    try:
        shutil.copyfile(make_filled("shipping-list"), ws.inbox / "a.xlsx")
        assert until(lambda: any((ws.outbox / "records").rglob("*.json")))
        os.sync()  # written back: the next write through the mapping faults
        shm = Path(f"{ledger_file(ws)}-shm")
        assert shm.exists()
        immutable(shm)
        shutil.copyfile(make_filled("shipping-list", doc_no="FH-002"), ws.inbox / "b.xlsx")
        assert until(lambda: "LEDGER_READONLY" in err_log.read_text(encoding="utf-8")), (
            f"watcher ended with {proc.returncode}")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=300)
    assert proc.returncode >= 0, f"killed by signal {-proc.returncode}"


def test_ledger_rebuild_moves_all_or_nothing(ws: Workspace, make_filled: Any, immutable: Any,
                                            leave_wal: Any) -> None:
    shutil.copyfile(make_filled("shipping-list"), ws.inbox / "a.xlsx")
    assert run(ws, "process", "--settle", "0.05").exit_code == 0
    leave_wal(ledger_file(ws))
    before = sorted(p.name for p in ws.state_dir.iterdir())
    immutable(Path(f"{ledger_file(ws)}-wal"))
    assert refused(run(ws, "ledger", "rebuild", "--force"), "LEDGER_READONLY")
    assert sorted(p.name for p in ws.state_dir.iterdir()) == before
