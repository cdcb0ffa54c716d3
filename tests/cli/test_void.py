"""``qmsforms records void``: a record that should not count is voided with a reason; it stays
in the ledger and the outbox, listings hide it unless asked, and every report leaves it out."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from qmsforms.cli import cli
from qmsforms.workspace import Workspace

from ..conftest import FillFn


def run(ws: Workspace, *args: str) -> Result:
    """Invoke the CLI on workspace ``ws``."""
    return CliRunner().invoke(cli, ["--root", str(ws.root), *args])


def run_json(ws: Workspace, *args: str) -> Any:
    result = run(ws, *args, "--json")
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def process(ws: Workspace, *files: Path) -> list[dict[str, Any]]:
    for path in files:
        shutil.copyfile(path, ws.inbox / path.name)
    outcomes: list[dict[str, Any]] = run_json(ws, "process", "--settle", "0.05")["outcomes"]
    return outcomes


def months(ws: Workspace) -> dict[str, int]:
    """Customer -> months evaluated, from the satisfaction report's data."""
    report = run_json(ws, "report", "satisfaction", "--year", "2026", "-o",
                      str(ws.root / "report.xlsx"))
    return {c["customer"]: c["months_evaluated"] for c in report["customers"]}


def test_a_voided_record_stays_but_no_longer_counts(ws: Workspace, make_filled: FillFn) -> None:
    october = make_filled("satisfaction-monitoring", month="2026-10")
    november = make_filled("satisfaction-monitoring", month="2026-11")
    by_name = {o["name"]: o for o in process(ws, october, november)}
    wrong = by_name[november.name]["record_id"]
    assert months(ws) == {"华东汽车": 2}
    outbox_before = sorted(p.name for p in ws.outbox.rglob("*") if p.is_file())

    result = run(ws, "records", "void", wrong, "--reason", "填错月份 wrong month", "--by", "李明")
    assert result.exit_code == 0, result.output
    assert months(ws) == {"华东汽车": 1}
    # every file stays; the void is written beside the record, for a rebuilt ledger
    assert sorted(p.name for p in ws.outbox.rglob("*") if p.is_file()) == sorted(
        [*outbox_before, f"{wrong}.void.json"])

    assert [r["record_id"] for r in run_json(ws, "records")] == [
        by_name[october.name]["record_id"]]
    listed = {r["record_id"]: r for r in run_json(ws, "records", "--voided")}
    assert listed[wrong]["voided"]["by"] == "李明"
    assert listed[wrong]["voided"]["reason"] == "填错月份 wrong month"
    assert wrong in {r["record_id"] for r in run_json(ws, "records", "--all")}
    assert f"{wrong}" in run(ws, "records", "--voided").stdout
    assert wrong not in run(ws, "records").stdout

    again = run(ws, "records", "void", wrong, "--reason", "again")
    assert again.exit_code == 2 and "Traceback" not in again.output
    unknown = run(ws, "records", "void", "R20990101-0000000000", "--reason", "x")
    assert unknown.exit_code == 2 and "Traceback" not in unknown.output
    assert run(ws, "records", "void", wrong).exit_code == 2  # --reason is required

    # the voided file itself, sent again byte for byte, is still that record: said so
    (same,) = process(ws, november)
    assert (same["outcome"], same["record_id"], same["notes"]) == (
        "duplicate", wrong, ["duplicate_of_voided"])
    # the corrected November sheet comes in: an ordinary new record, not a revision
    corrected = make_filled("satisfaction-monitoring", month="2026-11", performance_rate=97)
    (outcome,) = process(ws, corrected)
    assert outcome["outcome"] == "record" and outcome["supersedes"] is None
    assert months(ws) == {"华东汽车": 2}


def test_voiding_a_revision_brings_back_the_one_it_superseded(ws: Workspace,
                                                                make_filled: FillFn) -> None:
    first = make_filled("satisfaction-monitoring", month="2026-11")
    (original,) = process(ws, first)
    second = make_filled("satisfaction-monitoring", month="2026-11", performance_rate=80)
    (revision,) = process(ws, second)
    assert revision["supersedes"] == original["record_id"]
    assert run(ws, "records", "void", revision["record_id"], "--reason", "typo").exit_code == 0
    (latest,) = run_json(ws, "records", "--form", "satisfaction-monitoring")
    assert latest["record_id"] == original["record_id"] and latest["latest"] is True


def test_a_ledger_rebuilt_from_the_outbox_keeps_the_voids(ws: Workspace,
                                                          make_filled: FillFn) -> None:
    """The void is written beside the record in the outbox, so a lost ledger rebuilt from the
    outbox does not bring a voided record back into the reports."""
    first = make_filled("satisfaction-monitoring", month="2026-11")
    (original,) = process(ws, first)
    second = make_filled("satisfaction-monitoring", month="2026-11", performance_rate=80)
    (revision,) = process(ws, second)
    october = make_filled("satisfaction-monitoring", month="2026-10")
    (wrong,) = process(ws, october)
    for record_id in (revision["record_id"], wrong["record_id"]):
        assert run(ws, "records", "void", record_id, "--reason", "typo", "--by", "李明"
                   ).exit_code == 0
    before = run_json(ws, "records", "--all")
    assert months(ws) == {"华东汽车": 1}

    result = run(ws, "ledger", "rebuild", "--force")
    assert result.exit_code == 0, result.output
    after = run_json(ws, "records", "--all")
    assert after == before
    voided = {r["record_id"]: r["voided"] for r in after if r["voided"]}
    assert set(voided) == {revision["record_id"], wrong["record_id"]}
    assert {v["by"] for v in voided.values()} == {"李明"}
    (latest,) = run_json(ws, "records")
    assert latest["record_id"] == original["record_id"]
    assert months(ws) == {"华东汽车": 1}
