"""``qmsforms 8d new --from RECORD``, as QC staff run it after a complaint came in.

A complaint is filled and processed into a record, the 8D is issued from it through the CLI,
read back with python-docx and qmsforms' Word reader, filled with the real D1–D8 dates and
validated.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import docx
import pytest
from click.testing import CliRunner, Result
from docx.oxml.ns import qn

from qmsforms.cli import cli
from qmsforms.validate import validate_file
from qmsforms.word.fill import fill_word
from qmsforms.word.props import word_properties
from qmsforms.word.read import extract_word
from qmsforms.workspace import Workspace

RECEIVED = dt.date(2026, 11, 3)
CONTAINMENT = "隔离库存 <A & B>\n\n全检在库品 100%\n通知客户"


def run(ws: Workspace, *args: str) -> Result:
    """Invoke the CLI on workspace ``ws``."""
    return CliRunner().invoke(cli, ["--root", str(ws.root), *args], prog_name="qmsforms")


@pytest.fixture
def complaint_record(ws: Workspace, make_filled: Any) -> str:
    """The record id of a processed complaint received on 2026-11-03 with a containment."""
    path = make_filled("complaint", ticket_no="TS-2026-007", received_at="2026-11-03 09:00",
                       filed_at="2026-11-03 10:00", quality_related="是",
                       containment=CONTAINMENT, qty_complained=12)
    shutil.copyfile(path, ws.inbox / "complaint.xlsx")
    result = run(ws, "process", "--settle", "0.05", "--json")
    assert result.exit_code == 0, result.output
    (outcome,) = json.loads(result.stdout)["outcomes"]
    assert outcome["outcome"] == "record"
    return str(outcome["record_id"])


def issue_8d(ws: Workspace, record_id: str, *args: str) -> Path:
    result = run(ws, "8d", "new", "--from", record_id, *args)
    assert result.exit_code == 0, result.output
    path = Path(result.stdout.strip())
    assert path.is_absolute() and path.is_file()
    return path


def test_the_8d_opens_on_the_day_the_complaint_was_received(
        ws: Workspace, complaint_record: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    desk = tmp_path / "desk"
    desk.mkdir()
    monkeypatch.chdir(desk)
    path = issue_8d(ws, complaint_record)
    assert path.parent == desk and path.name == "8D-TS-2026-007.docx"
    assert not list(ws.root.glob("8D-*.docx"))  # not dropped into the workspace
    values, _, issues = extract_word(path, ws.registry.get("8d-report"))
    assert issues == []
    assert values["opened_date"] == RECEIVED
    assert values["complaint_no"] == "TS-2026-007" and values["need_8d"] is True
    assert [a["action"] for a in values["d3_actions"]] == [
        "隔离库存 <A & B>", "全检在库品 100%", "通知客户"]
    assert word_properties(path)["qmsforms.source_record"] == complaint_record
    # python-docx sees the containment in the D3 table, a line an action
    cells = ["".join(t.text or "" for t in c._tc.iter(qn("w:t")))
             for table in docx.Document(str(path)).tables for r in table.rows for c in r.cells]
    assert {"隔离库存 <A & B>", "全检在库品 100%", "通知客户"} <= set(cells)


def test_real_d1_to_d8_dates_are_accepted(ws: Workspace, complaint_record: str,
                                          tmp_path: Path) -> None:
    from ..word.test_word import EIGHT_D

    path = issue_8d(ws, complaint_record, "-o", str(tmp_path / "8d.docx"))
    values, _, _ = extract_word(path, ws.registry.get("8d-report"))
    actions = [{"action": a["action"], "owner": "王五", "date": "2026-11-04",
                "effectiveness": "有效"} for a in values["d3_actions"]]
    prefilled = {"complaint_no", "customer", "part_name", "part_no", "batch_no",
                 "opened_date", "need_8d", "description", "qty_complained", "qty_delivered",
                 "qty_returned", "d3_actions"}
    rest = {k: v for k, v in EIGHT_D.items() if k not in prefilled}
    fill_word(path, {**rest, "d3_actions": actions}, path)  # D1 on the day received
    report = validate_file(path, ws, today=dt.date(2026, 12, 1))
    assert report.valid, report.flatten(["code", "field", "cell"])
    assert "DATE_ORDER" not in report.codes()
    assert report.data["opened_date"] == RECEIVED.isoformat()


def test_a_second_8d_never_overwrites_the_first(ws: Workspace, complaint_record: str,
                                               tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    first = issue_8d(ws, complaint_record)
    before = first.read_bytes()
    second = issue_8d(ws, complaint_record)
    assert second != first and second.name == "8D-TS-2026-007-2.docx"
    assert first.read_bytes() == before
    ids = {word_properties(p)["qmsforms.instance_id"] for p in (first, second)}
    assert len(ids) == 2


def test_an_8d_from_a_record_of_another_form_is_a_usage_error(ws: Workspace,
                                                              make_filled: Any) -> None:
    shutil.copyfile(make_filled("shipping-list"), ws.inbox / "ship.xlsx")
    (outcome,) = json.loads(run(ws, "process", "--settle", "0.05", "--json").stdout)["outcomes"]
    result = run(ws, "8d", "new", "--from", outcome["record_id"])
    assert result.exit_code == 2 and "Traceback" not in result.output
