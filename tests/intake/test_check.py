"""``qmsforms ledger check [--repair]``: the ledger (either engine) against the outbox the real
intake wrote from real files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from qmsforms.cli import cli
from qmsforms.intake import open_ledger
from qmsforms.intake.ledger.check import check_ledger
from qmsforms.intake.voids import void_record
from qmsforms.workspace import Workspace

from .test_migrate import MONTH, take


@pytest.fixture
def filled(ws: Workspace, ledger_url: str | None, make_filled: Any) -> dict[str, Any]:
    """Three months of deductions (records and a streak action) and a voided survey."""
    sheets = [make_filled(MONTH, {"customer": "华东汽车", "month": f"2026-0{m}",
                                  "performance_rate": 100, "q_partial_return": 1})
              for m in (3, 4, 5)]
    outcomes = take(ws, *sheets, make_filled("satisfaction-survey"))
    assert [o.outcome for o in outcomes] == ["record"] * 4
    void_record(ws, outcomes[3].record_id, "typed twice", "qa")
    with open_ledger(ws) as ledger:
        rows = {r.record_id: r for r in ledger.records(latest_only=False, voided=True)}
        actions = ledger.actions()
    assert actions
    return {"outcomes": outcomes, "rows": rows, "actions": actions}


def codes(ws: Workspace, repair: bool = False) -> list[tuple[str, str | None, bool]]:
    report = check_ledger(ws, repair=repair)
    return sorted((f.code, f.record_id or f.action_id, f.repaired) for f in report.findings)


def cli_check(ws: Workspace, *args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["--root", str(ws.root), "ledger", "check", "--json",
                                      *args])
    return result.exit_code, json.loads(result.output)


def test_the_outbox_the_intake_wrote_checks_clean(ws: Workspace, filled: dict[str, Any]
                                                  ) -> None:
    report = check_ledger(ws)
    assert report.valid and report.findings == []
    assert (report.records, report.actions) == (4, len(filled["actions"]))
    assert cli_check(ws) == (0, report.to_dict())
    shown = CliRunner().invoke(cli, ["--root", str(ws.root), "ledger", "check"])
    assert shown.exit_code == 0 and "4 records" in shown.output


def test_a_deleted_or_edited_record_json_is_found_and_written_again(
        ws: Workspace, filled: dict[str, Any]) -> None:
    first, second = filled["outcomes"][:2]
    gone, edited = ws.outbox / first.location, ws.outbox / second.location
    original = json.loads(gone.read_text("utf-8")), json.loads(edited.read_text("utf-8"))
    gone.unlink()
    changed = dict(original[1], data=dict(original[1]["data"], performance_rate=1))
    edited.write_text(json.dumps(changed), encoding="utf-8")
    expected = [("RECORD_JSON_DIFFERS", second.record_id, False),
                ("RECORD_JSON_MISSING", first.record_id, False)]
    assert codes(ws) == expected
    exit_code, report = cli_check(ws, "--repair")
    assert exit_code == 1 and (report["repaired"], report["not_repaired"]) == (2, 0)
    assert (json.loads(gone.read_text("utf-8")), json.loads(edited.read_text("utf-8"))) \
        == original
    assert check_ledger(ws).valid and cli_check(ws)[0] == 0


def test_a_changed_or_missing_archive_is_reported_and_never_made_up(
        ws: Workspace, filled: dict[str, Any]) -> None:
    first, second = filled["outcomes"][:2]
    archive = ws.outbox / "archive" / MONTH
    (changed,) = archive.glob(f"{first.record_id}__*")
    changed.write_bytes(changed.read_bytes() + b"\0")
    (missing,) = archive.glob(f"{second.record_id}__*")
    missing.unlink()
    expected = [("ARCHIVE_DIFFERS", first.record_id, False),
                ("ARCHIVE_MISSING", second.record_id, False)]
    assert codes(ws) == expected
    assert codes(ws, repair=True) == expected  # nothing the ledger can re-create
    assert not missing.exists()
    exit_code, report = cli_check(ws, "--repair")
    assert exit_code == 1 and report["not_repaired"] == 2 and not report["valid"]


def test_journals_and_void_files_are_written_again_and_strays_left_alone(
        ws: Workspace, filled: dict[str, Any]) -> None:
    action = filled["actions"][0]
    journal = ws.outbox / "actions" / f"{action.action_id}.json"
    kept = json.loads(journal.read_text("utf-8"))
    journal.unlink()
    voided = filled["outcomes"][3]
    void_file = ws.outbox / voided.location.replace(".json", ".void.json")
    void_file.unlink()
    stray = ws.outbox / "records" / MONTH / "R20260101-0000000000.json"
    stray.write_text("{}", encoding="utf-8")
    stray_journal = ws.outbox / "actions" / "CA-1999-0001.json"
    stray_journal.write_text("{}", encoding="utf-8")
    assert codes(ws) == [("JOURNAL_MISSING", action.action_id, False),
                         ("JOURNAL_UNKNOWN", None, False),
                         ("RECORD_JSON_UNKNOWN", None, False),
                         ("VOID_FILE_MISSING", voided.record_id, False)]
    repaired = codes(ws, repair=True)
    assert [(c, r) for c, _, r in repaired] == [("JOURNAL_MISSING", True),
                                                ("JOURNAL_UNKNOWN", False),
                                                ("RECORD_JSON_UNKNOWN", False),
                                                ("VOID_FILE_MISSING", True)]
    assert json.loads(journal.read_text("utf-8")) == kept
    assert json.loads(void_file.read_text("utf-8"))["record_id"] == voided.record_id
    assert stray.exists() and stray_journal.exists()  # reported, never deleted
    assert [c for c, _, _ in codes(ws)] == ["JOURNAL_UNKNOWN", "RECORD_JSON_UNKNOWN"]


def test_a_record_json_path_is_read_from_the_ledger(ws: Workspace, filled: dict[str, Any]
                                                    ) -> None:
    """The JSON compared is exactly what the intake wrote: every record's location."""
    for outcome in filled["outcomes"]:
        row = filled["rows"][outcome.record_id]
        assert row.path == outcome.location
        assert Path(ws.outbox / row.path).is_file()


@pytest.mark.postgres
def test_each_plant_checks_its_own_rows_of_a_shared_ledger(
        ws: Workspace, make_filled: Any, tmp_path: Path, pg_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Two plants, one PostgreSQL ledger, an outbox each: a plant's check reads its own site
    (another site's records are not missing from its outbox); --site names another."""
    from qmsforms.workspace import init_workspace

    from ..conftest import ledger_env

    other = init_workspace(tmp_path / "plant-b")
    with ledger_env(pg_url):
        monkeypatch.setenv("QMSFORMS_SITE", "plant-a")
        take(ws, make_filled(MONTH))
        monkeypatch.setenv("QMSFORMS_SITE", "plant-b")
        (b_outcome,) = take(other, make_filled(MONTH, workspace=other, customer="西南电机"))
        assert check_ledger(other).valid
        monkeypatch.setenv("QMSFORMS_SITE", "plant-a")
        assert check_ledger(ws).valid and check_ledger(ws).records == 1
        assert [(f.code, f.record_id) for f in check_ledger(ws, site="plant-b").findings] \
            == [("RECORD_JSON_MISSING", b_outcome.record_id),
                ("ARCHIVE_MISSING", b_outcome.record_id)]
