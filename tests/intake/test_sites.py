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
        # each file's name starts with the site whose pass took it (files of one second are
        # listed in claim-id order, which is random within the second)
        assert sorted((f.name.split("-")[0], f.site) for f in files) == [
            ("NB", "NB")] * 4 + [("SZ", "SZ")] * 2
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


def test_the_outbox_keeps_the_site_and_a_rebuild_files_records_under_it_again(
        plants: Workspace, ledger_url: str | None) -> None:
    if ledger_url is not None:
        pytest.skip("a PostgreSQL ledger is restored from pg_dump, not rebuilt from the outbox")
    from openpyxl import load_workbook

    from qmsforms.intake.rebuild import rebuild_ledger

    with open_ledger(plants) as ledger:
        before = sorted((r.record_id, r.site, json.dumps(r.natural_key, sort_keys=True),
                         r.supersedes, r.latest)
                        for r in ledger.records(latest_only=False))
        sz = next(r for r in ledger.records(site="SZ") if r.form == "satisfaction-monitoring")
    saved = json.loads((plants.outbox / sz.path).read_text(encoding="utf-8"))
    assert saved["site"] == "SZ"
    book = load_workbook(plants.outbox / sz.path.replace(".json", ".xlsx"))
    labels = {row[0].value: row[1].value for row in book.worksheets[0].iter_rows(max_col=2)}
    assert labels["站点 Site"] == "SZ"
    rebuild_ledger(plants, force=True)
    with open_ledger(plants) as ledger:
        after = sorted((r.record_id, r.site, json.dumps(r.natural_key, sort_keys=True),
                        r.supersedes, r.latest) for r in ledger.records(latest_only=False))
        assert {f.site for f in ledger.files()} == {"NB", "SZ"}
    assert after == before


def test_an_inbox_on_a_share_that_is_not_mounted_blocks_and_is_never_made_locally(
        ws: Workspace, make_filled: FillFn, tmp_path: Path) -> None:
    share = tmp_path / "mnt" / "nb-share" / "回执"
    config = ws.root / "qmsforms.toml"
    config.write_text(config.read_text(encoding="utf-8")
                      + f'\n[paths]\ninbox = "{share.as_posix()}"\n', encoding="utf-8")
    moved = Workspace(ws.root)
    filled = make_filled("satisfaction-monitoring")
    with Intake(moved, settle=0.05, quiet=0.05) as intake:
        result = intake.process()
        assert result.blocked and "nb-share" in result.blocked and result.outcomes == []
        assert not share.exists()  # never created where the share should be mounted
        share.mkdir(parents=True)  # the share is back
        shutil.copyfile(filled, share / filled.name)
        again = intake.process()
    assert again.blocked is None and [o.outcome for o in again.outcomes] == ["record"]
    assert (moved.outbox / again.outcomes[0].location).is_file()
