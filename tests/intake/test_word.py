"""Word forms through the intake: a complaint .docx becomes a record, its 8D follows."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from qmsforms.blanks import issue_blank
from qmsforms.cli import cli
from qmsforms.intake import Intake, open_ledger
from qmsforms.word.fill import fill_word
from qmsforms.workspace import Workspace


@pytest.fixture
def ws(ws: Workspace, ledger_url: str | None) -> Workspace:
    """Every test here runs on each ledger engine (``ledger_url`` sets ``QMSFORMS_LEDGER``)."""
    return ws


COMPLAINT = {
    "ticket_no": "TS-2026-077", "customer": "华东汽车 & Co <select>", "received_at":
    "2026-11-03 09:00", "filed_at": "2026-11-03 11:00", "category": "quality",
    "quality_related": True, "part_name": "支架", "batch_no": "B-9", "qty_complained": 6,
    "description": "焊缝开裂 A & B",
}


def run(ws: Workspace, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--root", str(ws.root), *args])


def process(ws: Workspace) -> list[Any]:
    with Intake(ws, settle=0.05) as intake:
        return intake.process().outcomes


def test_complaint_docx_becomes_a_record_and_its_8d_is_linked(ws: Workspace,
                                                              tmp_path: Path) -> None:
    blank = issue_blank(ws, "complaint", tmp_path / "c.docx")
    fill_word(blank, COMPLAINT, ws.inbox / "投诉 TS-077.docx")
    (outcome,) = process(ws)
    assert outcome.outcome == "record" and outcome.form == "complaint"
    record = json.loads((ws.outbox / outcome.location).read_text(encoding="utf-8"))
    assert record["data"]["customer"] == COMPLAINT["customer"]
    assert record["scores"]["sla_met"] is True and record["scores"]["eight_d_required"] is True
    assert (ws.outbox / outcome.location.replace(".json", ".docx")).is_file()

    result = run(ws, "records", "--form", "complaint")
    assert "8D missing" in result.stdout

    eight_d = tmp_path / "8d.docx"
    result = run(ws, "8d", "new", "--from", outcome.record_id, "-o", str(eight_d))
    assert result.exit_code == 0, result.output
    fill_word(eight_d, {"report_no": "8D-077", "team_leader": "张三", "team_members": "李四",
                        "d1_owner": "张三", "d1_date": date.today().isoformat(),
                        "d1_done": True},
              ws.inbox / "8D-077.docx")
    (report,) = process(ws)
    assert report.outcome == "record" and report.form == "8d-report", report
    with open_ledger(ws) as ledger:
        row = ledger.record(report.record_id)
        assert row.data["complaint_no"] == "TS-2026-077" and row.data["batch_no"] == "B-9"
        assert ledger.links(ledger.record(outcome.record_id))["eight_d"] == {
            "record_id": report.record_id, "reached": "D1", "closed": False}
    assert f"8D at D1 ({report.record_id})" in run(ws, "records").stdout
    _, = [r for r in json.loads(run(ws, "records", "--json").stdout)
          if r["form"] == "8d-report" and r["links"]["complaint"] == outcome.record_id]


def test_late_complaint_is_recorded_with_sla_missed(ws: Workspace, tmp_path: Path) -> None:
    blank = issue_blank(ws, "complaint", tmp_path / "c.docx")
    fill_word(blank, {**COMPLAINT, "filed_at": "2026-11-03 11:01"}, ws.inbox / "late.docx")
    (outcome,) = process(ws)
    record = json.loads((ws.outbox / outcome.location).read_text(encoding="utf-8"))
    assert record["scores"]["sla_met"] is False


def test_a_bad_docx_is_rejected_with_an_annotated_copy(ws: Workspace, tmp_path: Path) -> None:
    blank = issue_blank(ws, "complaint", tmp_path / "c.docx")
    fill_word(blank, {**COMPLAINT, "received_at": "yesterday"}, ws.inbox / "bad.docx")
    (outcome,) = process(ws)
    assert outcome.outcome == "rejected" and "NOT_A_DATETIME" in outcome.codes
    base = ws.outbox / outcome.location.replace(".report.txt", "")
    assert base.with_name(base.name + ".annotated.docx").is_file()
    assert base.with_name(base.name + ".docx").is_file()


def test_new_picks_word_from_the_suffix_and_records_the_blank(ws: Workspace,
                                                              tmp_path: Path) -> None:
    out = tmp_path / "c.docx"
    assert run(ws, "new", "complaint", "-o", str(out)).exit_code == 0
    assert out.read_bytes()[:2] == b"PK"
    with open_ledger(ws) as ledger:
        assert ledger.count("issued") == 1
    assert run(ws, "new", "8d-report", "-o", str(tmp_path / "x.xlsx")).exit_code == 2
    assert run(ws, "8d", "new", "--from", "nope").exit_code == 2
    shutil.rmtree(ws.inbox)
