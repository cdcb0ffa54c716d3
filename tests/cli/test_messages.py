"""What a person reads when a command cannot do its work: Chinese and English, under the usage
line of the command they typed.

Every case runs the command as a user met it (CliRunner against a fresh workspace) and looks
at the exit code, the usage line and that each message comes in both languages (a line with
Chinese, a line in English), never at the wording.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openpyxl import Workbook

from qmsforms.cli import cli
from qmsforms.intake.ledger.store import LedgerError
from qmsforms.issues import QmsFormsError, UsageError
from qmsforms.workspace import Workspace

CJK = re.compile(r"[\u4e00-\u9fff]")


def run(ws: Workspace, *args: str) -> Result:
    """Invoke the CLI on workspace ``ws``."""
    return CliRunner().invoke(cli, ["--root", str(ws.root), *args], prog_name="qmsforms")


def error_lines(result: Result) -> tuple[str, str]:
    """The Chinese and the English error line (``错误:`` and ``Error:``) of a result."""
    lines = result.stderr.splitlines()
    zh = [n for n, line in enumerate(lines) if line.startswith("错误:")]
    en = [n for n, line in enumerate(lines) if line.startswith("Error: ")]
    assert len(zh) == 1 and len(en) == 1 and zh[0] < en[0], result.stderr
    return "\n".join(lines[zh[0]:en[0]]), "\n".join(lines[en[0]:])


def assert_bilingual(result: Result, exit_code: int, usage: str | None) -> tuple[str, str]:
    """Exit code, no traceback, the usage line of the command given, both languages."""
    assert result.exit_code == exit_code, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    first = result.stderr.splitlines()[0]
    if usage is None:
        assert not first.startswith("Usage:")
    else:
        assert first.startswith(f"Usage: qmsforms {usage} "), first
    zh, en = error_lines(result)
    assert CJK.search(zh), zh
    assert "操作未能完成" not in zh  # a message of its own, not the fallback
    return zh, en


# -- the errors themselves ------------------------------------------------------------------

def test_one_argument_errors_still_work() -> None:
    error = UsageError("bad thing")
    assert str(error) == "bad thing" and error.message_en == "bad thing"
    assert error.message_zh is None and error.args == ("bad thing",)


def test_two_argument_errors_carry_both_languages() -> None:
    error = QmsFormsError("bad thing", "坏事")
    assert (error.message_en, error.message_zh) == ("bad thing", "坏事")
    assert str(error).splitlines() == ["坏事", "bad thing"]


def test_ledger_errors_keep_their_code_and_both_messages() -> None:
    error = LedgerError("LEDGER_MISSING", "台账丢失", "ledger missing")
    assert str(error) == "LEDGER_MISSING: 台账丢失\nledger missing"
    assert (error.message_en, error.message_zh) == ("ledger missing", "台账丢失")


# -- the commands ---------------------------------------------------------------------------

def test_unknown_form(ws: Workspace) -> None:
    zh, en = assert_bilingual(run(ws, "new", "no-such-form"), 2, "new")
    assert "no-such-form" in zh and "no-such-form" in en


@pytest.mark.parametrize(("text", "down"), [("\n[limits]\nmax_rowz = 5\n", 3),
                                            ("\n[limits\n", 2)],
                         ids=["misspelt key", "not TOML"])
def test_a_bad_qmsforms_toml_names_its_line_and_key(ws: Workspace, text: str,
                                                    down: int) -> None:
    config = ws.root / "qmsforms.toml"
    line = len(config.read_text(encoding="utf-8").splitlines()) + down
    with config.open("a", encoding="utf-8") as fh:
        fh.write(text)
    zh, en = assert_bilingual(run(ws, "records"), 1, None)
    assert f"qmsforms.toml:{line}" in zh and f"qmsforms.toml:{line}" in en
    if "max_rowz" in text:
        assert "limits.max_rowz" in zh and "limits.max_rowz" in en


def test_unknown_form_of_schema(ws: Workspace) -> None:
    assert_bilingual(run(ws, "schema", "no-such-form"), 2, "schema")


@pytest.mark.parametrize(("args", "usage"), [
    (("survey", "plan", "--year", "1999", "--customers", "x.xlsx"), "survey plan"),
    (("survey", "plan", "--year", "2026", "--bogus"), "survey plan"),
    (("survey", "status", "--year", "abc"), "survey status"),
    (("new", "complaint", "--lang", "fr"), "new"),
    (("8d", "new"), "8d new"),
    (("report", "satisfaction"), "report satisfaction"),
])
def test_bad_option_values_show_the_subcommand_usage(ws: Workspace, args: tuple[str, ...],
                                                     usage: str) -> None:
    result = run(ws, *args)
    zh, _en = error_lines(result)
    assert result.exit_code == 2 and CJK.search(zh) and "Traceback" not in result.output
    assert result.stderr.startswith(f"Usage: qmsforms {usage} ")


def test_unknown_command_shows_the_top_level_usage(ws: Workspace) -> None:
    result = run(ws, "frobnicate")
    assert result.exit_code == 2
    assert result.stderr.startswith("Usage: qmsforms [OPTIONS] COMMAND")
    assert CJK.search(error_lines(result)[0])


def test_missing_customer_list_file(ws: Workspace, tmp_path: Path) -> None:
    result = run(ws, "survey", "plan", "--year", "2026", "--customers",
                 str(tmp_path / "nowhere.xlsx"))
    zh, en = error_lines(result)
    assert result.exit_code == 2 and CJK.search(zh) and "nowhere.xlsx" in en
    assert result.stderr.startswith("Usage: qmsforms survey plan ")


def test_customer_list_rows_that_cannot_be_used(ws: Workspace, tmp_path: Path) -> None:
    wb = Workbook()
    sheet = wb.active
    sheet.title = "客户一览表"
    sheet.append(["客户名称", "年订单额", "汽车客户"])
    sheet.append(["华东汽车", None, "是"])  # row 2: no order value
    sheet.append(["上汽大众", "lots", "否"])  # row 3: not an amount
    sheet.append(["华东汽车", 1000, "否"])  # row 4: listed twice
    sheet.append(["苏州精密", 300000, "maybe"])  # row 5: automotive not yes/no
    wb.save(tmp_path / "客户一览表.xlsx")
    result = run(ws, "survey", "plan", "--year", "2026", "--customers",
                 str(tmp_path / "客户一览表.xlsx"))
    zh, en = assert_bilingual(result, 1, None)
    for cell in ("B2", "B3", "A4", "C5"):  # every bad cell, in each language
        assert f"客户一览表!{cell}" in zh and f"客户一览表!{cell}" in en
    assert len(zh.splitlines()) == len(en.splitlines()) == 5
    assert all(CJK.search(line.partition("!")[2]) for line in zh.splitlines()[1:])
    assert not (ws.outbox / "campaigns" / "2026" / "plan.json").exists()


def test_customer_list_without_a_header(ws: Workspace, tmp_path: Path) -> None:
    wb = Workbook()
    wb.active.append(["名称", "金额"])
    wb.save(tmp_path / "list.xlsx")
    assert_bilingual(run(ws, "survey", "plan", "--year", "2026", "--customers",
                         str(tmp_path / "list.xlsx")), 1, None)


def test_a_year_planned_twice(ws: Workspace, tmp_path: Path) -> None:
    wb = Workbook()
    wb.active.append(["客户名称", "年订单额"])
    for n in range(1, 13):
        wb.active.append([f"客户{n}", 100000 * n])
    wb.save(tmp_path / "list.xlsx")
    args = ("survey", "plan", "--year", "2026", "--customers", str(tmp_path / "list.xlsx"))
    assert run(ws, *args).exit_code == 0
    zh, en = assert_bilingual(run(ws, *args), 2, "survey plan")
    assert "--force" in zh and "--force" in en


def test_an_unknown_record_for_an_8d(ws: Workspace) -> None:
    zh, en = assert_bilingual(run(ws, "8d", "new", "--from", "R-nothing"), 2, "8d new")
    assert "R-nothing" in zh and "R-nothing" in en


def test_survey_plan_help_lists_its_columns_and_cites_nothing_internal(ws: Workspace) -> None:
    result = run(ws, "survey", "plan", "--help")
    assert result.exit_code == 0
    for column in ("客户名称", "Customer", "年订单额", "Annual order value", "客户编号",
                   "Customer code", "汽车客户", "Automotive"):
        assert column in result.output
    assert "SPEC" not in result.output and "§" not in result.output


def test_no_help_text_cites_the_specification(ws: Workspace) -> None:
    from .test_cli import command_paths

    for path in command_paths(cli):
        result = run(ws, *path, "--help")
        assert result.exit_code == 0
        assert "SPEC" not in result.output and "§" not in result.output, path


def test_8d_new_options_all_have_help(ws: Workspace) -> None:
    command = cli.commands["8d"].commands["new"]  # type: ignore[attr-defined]
    assert all(option.help for option in command.params)
    result = run(ws, "8d", "new", "--help")
    assert "--lang" in result.output and "qmsforms.toml" in result.output
