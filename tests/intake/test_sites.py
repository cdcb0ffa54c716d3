"""Several sites on one ledger (SPEC §10): what each plant's watcher stamps, natural keys per
site or company-wide, actions within a site, and ``--site`` on the listings and reports. Run
on both engines: one workspace stands for the plants, each pass with its own ``QMSFORMS_SITE``
as each plant's watcher would have."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from qmsforms.cli import cli
from qmsforms.intake import Intake, open_ledger
from qmsforms.site import SITE_ENV, SITE_KEY
from qmsforms.workspace import Workspace

from ..actions.conftest import sheet
from ..conftest import FillFn

ACME = "Acme 机械"


def take(ws: Workspace, site: str, monkeypatch: pytest.MonkeyPatch, *files: Path) -> list[Any]:
    """One pass of ``site``'s watcher over ``files`` dropped into the inbox."""
    monkeypatch.setenv(SITE_ENV, site)
    for i, f in enumerate(files):
        shutil.copyfile(f, ws.inbox / f"{site}-{i:02d} {f.name}")
    with Intake(ws, settle=0.05, quiet=0.05) as intake:
        return list(intake.process().outcomes)


def cli_json(ws: Workspace, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["--root", str(ws.root), *args, "--json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


@pytest.fixture
def plants(ws: Workspace, make_filled: FillFn, ledger_url: str | None,
           monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """Ningbo (NB): three months of Acme's quality deductions and complaint T-1; Suzhou (SZ):
    Acme's March and a corrected T-1."""
    nb = take(ws, "NB", monkeypatch,
              *[sheet(make_filled, ACME, f"2026-0{m}", q_partial_return=1) for m in (3, 4, 5)],
              make_filled("complaint", ticket_no="T-1", customer=ACME))
    sz = take(ws, "SZ", monkeypatch, sheet(make_filled, ACME, "2026-03", q_partial_return=1),
              make_filled("complaint", ticket_no="T-1", customer=ACME, description="焊缝开裂,补充"))
    monkeypatch.delenv(SITE_ENV)
    assert [o.outcome for o in nb + sz] == ["record"] * 6
    return ws


def test_every_file_record_and_action_names_the_site_that_took_it(plants: Workspace) -> None:
    with open_ledger(plants) as ledger:
        files = ledger.files()
        records = ledger.records(latest_only=False)
        actions = ledger.actions()
        assert [f.site for f in files] == ["NB"] * 4 + ["SZ"] * 2
        assert {r.source_name.split("-")[0]: r.site for r in records} == {"NB": "NB",
                                                                        "SZ": "SZ"}
        assert len(ledger.files(site="SZ")) == 2 and ledger.files(site="XX") == []
        streaks = [a for a in actions if a.source == "monitoring_streak"]
        assert [(a.site, a.cause_key) for a in streaks] == [
            ("NB", f"monitoring_streak:{ACME}:quality:2026-03#site=NB")]
        assert [a.site for a in ledger.actions(site="NB")] == [a.site for a in actions
                                                               if a.site == "NB"]


def test_a_plants_own_sheet_is_its_own_but_a_ticket_is_the_companys(plants: Workspace) -> None:
    with open_ledger(plants) as ledger:
        march = [r for r in ledger.records("satisfaction-monitoring")
                 if r.data["month"] == "2026-03"]
        # two plants monitoring one customer: two records, neither a revision of the other
        assert sorted((r.site, r.natural_key[SITE_KEY], r.supersedes) for r in march) == [
            ("NB", "NB", None), ("SZ", "SZ", None)]
        (ticket,) = ledger.records("complaint")
        first = ledger.records("complaint", latest_only=False)
        # the ticket number is company-wide: Suzhou's copy revises Ningbo's
        assert ticket.site == "SZ" and SITE_KEY not in ticket.natural_key
        assert ticket.supersedes == next(r.record_id for r in first if r.site == "NB")


def test_listings_and_reports_take_a_site(plants: Workspace) -> None:
    assert {r["site"] for r in cli_json(plants, "records", "--site", "SZ")} == {"SZ"}
    assert len(cli_json(plants, "records", "--site", "NB")) == 3  # its ticket was revised
    assert len(cli_json(plants, "records")) == 5
    nb = cli_json(plants, "actions", "--site", "NB")
    assert nb and {a["site"] for a in nb} == {"NB"}
    assert "monitoring_streak" in {a["source"] for a in nb}
    assert {a["site"] for a in cli_json(plants, "actions", "--site", "SZ")} <= {"SZ"}
    assert len(cli_json(plants, "actions")) == len(nb) + len(
        cli_json(plants, "actions", "--site", "SZ"))
    assert cli_json(plants, "report", "actions", "--site", "NB") == nb
    status = cli_json(plants, "status", "--site", "SZ")
    assert status["ledger"] == "ok"
    sat = cli_json(plants, "report", "satisfaction", "--year", "2026", "--site", "SZ")
    assert [(c["customer"], sorted(c["monthly"])) for c in sat["customers"]] == [
        (ACME, ["2026-03"])]
    # over every site, each plant's evaluation of Acme is its own series: neither hides the
    # other's March
    every = cli_json(plants, "report", "satisfaction", "--year", "2026")
    assert [(c["customer"], sorted(c["monthly"])) for c in every["customers"]] == [
        (f"{ACME} [NB]", ["2026-03", "2026-04", "2026-05"]), (f"{ACME} [SZ]", ["2026-03"])]
    result = CliRunner().invoke(cli, ["--root", str(plants.root), "records", "--site", "a b"])
    assert result.exit_code == 2


def test_a_report_of_one_site_says_so_on_the_page(plants: Workspace) -> None:
    from openpyxl import load_workbook

    result = CliRunner().invoke(cli, ["--root", str(plants.root), "report", "actions",
                                      "--site", "NB"])
    assert result.exit_code == 0, result.output
    (path,) = (plants.outbox / "reports").glob("actions-*-NB.xlsx")
    sheet_ = load_workbook(path).worksheets[0]
    texts = [str(c.value) for row in sheet_.iter_rows(max_row=4) for c in row if c.value]
    assert any("Site: NB" in t for t in texts)
