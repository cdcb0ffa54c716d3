"""``qmsforms ledger migrate``: real plant ledgers, made by the real intake from real files,
moved into a real PostgreSQL ledger, one plant or two merged."""

from __future__ import annotations

import json
import shutil
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from psycopg.rows import dict_row

from qmsforms.blanks import issue_blank
from qmsforms.cli import cli
from qmsforms.intake import Intake, LedgerError, open_ledger
from qmsforms.intake.ledger import ledger_path
from qmsforms.intake.ledger.check import check_ledger
from qmsforms.intake.ledger.migrate import MigrationMismatch, migrate_ledger
from qmsforms.intake.ledger.postgres import PostgresLedger
from qmsforms.intake.voids import void_record
from qmsforms.workspace import Workspace, init_workspace

from ..conftest import ledger_env
from .test_pipeline import refill

MONTH = "satisfaction-monitoring"


def take(ws: Workspace, *files: Path, names: list[str] | None = None) -> list[Any]:
    """Copy the files into the inbox and run one intake pass; the outcomes in order."""
    for i, f in enumerate(files):
        name = names[i] if names else f"{i:02d} {uuid.uuid4().hex[:6]} {f.name}"
        shutil.copyfile(f, ws.inbox / name)
    with Intake(ws, settle=0.05, quiet=0.05) as intake:
        return list(intake.process().outcomes)


def plant(ws: Workspace, make_filled: Any, tmp_path: Path, customer: str) -> dict[str, Any]:
    """A plant's SQLite ledger with records, a revision, a void, a duplicate, a rejection,
    actions (three months of deductions: a streak) and an issued blank."""
    issue_blank(ws, "satisfaction-survey", tmp_path / f"blank-{uuid.uuid4().hex[:6]}.xlsx",
                values={"customer": customer}, record=True)
    sheets = [make_filled(MONTH, {"customer": customer, "month": f"2026-0{m}",
                                  "performance_rate": 100, "q_partial_return": 1},
                          workspace=ws) for m in (3, 4, 5)]
    survey = make_filled("satisfaction-survey", workspace=ws, customer=customer)
    service = make_filled("service-evaluation", workspace=ws, customer=customer)
    bad = make_filled("satisfaction-survey", workspace=ws, customer=customer, delivery=None,
                      packaging=None, appearance=None)
    outcomes = take(ws, *sheets, survey, service, bad)
    assert [o.outcome for o in outcomes] == ["record"] * 5 + ["rejected"]
    assert take(ws, survey)[0].outcome == "duplicate"
    refill(survey, ws, "satisfaction-survey", {"delivery": 5})
    revision = take(ws, survey)[0]
    assert revision.supersedes == outcomes[3].record_id
    void_record(ws, outcomes[4].record_id, "typed twice", "qa")
    with open_ledger(ws) as ledger:
        assert ledger.actions() and ledger.issued()
    return {"outcomes": outcomes, "revision": revision}


def dump(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of the target's tables, in a stable order."""
    with psycopg.connect(url, row_factory=dict_row) as db:
        return {t: sorted(db.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
                for t in ("records", "files", "issued", "attempts", "events", "actions")}


def cli_json(ws: Workspace, *args: str, url: str | None = None) -> Any:
    with ledger_env(url):
        result = CliRunner().invoke(cli, ["--root", str(ws.root), *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def source_counts(ws: Workspace) -> dict[str, int]:
    with open_ledger(ws) as ledger:
        counts = {t: ledger.count(t) for t in ("records", "files", "issued", "attempts",
                                                "events")}
        counts["actions"] = len(ledger.actions())
    return counts


@pytest.mark.postgres
def test_a_plant_ledger_moves_in_whole(ws: Workspace, make_filled: Any, tmp_path: Path,
                                       pg_url: str) -> None:
    plant(ws, make_filled, tmp_path, "华东汽车")
    counts = source_counts(ws)
    result = migrate_ledger(ws, pg_url)
    assert result.problems == [] and result.changed and not result.merged
    for table, n in counts.items():
        entry = result.tables[table]
        assert (entry["source"], entry["copied"], entry["already"]) == (n, n, 0)
        assert entry["expected"] == entry["found"] == n
    assert result.record_hashes["expected"] == result.record_hashes["found"]
    for args in (("records", "--all", "--json"), ("actions", "--json")):
        assert cli_json(ws, *args, url=pg_url) == cli_json(ws, *args)
    target = dump(pg_url)
    assert Counter(r["kind"] for r in target["events"])["migrated"] == 1
    assert len(target["events"]) == counts["events"] + 1
    with open_ledger(ws) as source:
        assert {r["instance_id"] for r in target["issued"]} == \
            {r["instance_id"] for r in source.issued()}
        assert {r["claim_id"]: r["outcome"] for r in target["files"]} == \
            {f.claim_id: f.outcome for f in source.files()}


@pytest.mark.postgres
def test_the_same_migration_twice_changes_nothing(ws: Workspace, make_filled: Any,
                                                  tmp_path: Path, pg_url: str) -> None:
    plant(ws, make_filled, tmp_path, "华东汽车")
    assert migrate_ledger(ws, pg_url).changed
    before = dump(pg_url)
    again = migrate_ledger(ws, pg_url)
    assert not again.changed and again.problems == [] and not again.renumbered
    assert all(entry["copied"] == 0 for entry in again.tables.values())
    assert dump(pg_url) == before


@pytest.mark.postgres
def test_a_dry_run_writes_nothing(ws: Workspace, make_filled: Any, tmp_path: Path,
                                  pg_url: str) -> None:
    plant(ws, make_filled, tmp_path, "华东汽车")
    counts = source_counts(ws)
    dry = migrate_ledger(ws, pg_url, dry_run=True)
    assert dry.dry_run and dry.changed and dry.problems == []
    assert {t: e["copied"] for t, e in dry.tables.items()} == counts
    with psycopg.connect(pg_url) as db:  # not even the schema was left behind
        assert db.execute("SELECT to_regclass('records')").fetchone() == (None,)
    result = CliRunner().invoke(cli, ["--root", str(ws.root), "ledger", "migrate", "--to",
                                      pg_url, "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["tables"]["records"]["copied"] == counts["records"]
    shown = CliRunner().invoke(cli, ["--root", str(ws.root), "ledger", "migrate", "--to",
                                     pg_url, "--dry-run"])
    assert shown.exit_code == 0 and "DRY RUN" in shown.output
    migrate_ledger(ws, pg_url)
    before = dump(pg_url)
    assert not migrate_ledger(ws, pg_url, dry_run=True).changed
    assert dump(pg_url) == before


@pytest.mark.postgres
def test_a_site_is_stamped_as_the_intake_would_have_filed_it(
        ws: Workspace, make_filled: Any, tmp_path: Path, pg_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """--site: every row gets the site, a per-site form's natural key names it, the actions
    its records raised carry the site mark, and the plant's journal follows."""
    plant(ws, make_filled, tmp_path, "华东汽车")
    result = migrate_ledger(ws, pg_url, site="ningbo")
    assert result.problems == [] and result.changed
    target = dump(pg_url)
    for table in ("records", "files", "issued", "actions"):
        assert {r["site"] for r in target[table]} == {"ningbo"}, table
    keys = {r["form"]: json.loads(r["natural_key"]) for r in target["records"]}
    assert keys[MONTH]["@site"] == "ningbo"
    streak = [a for a in target["actions"] if a["source"] == "monitoring_streak"]
    assert streak and all(a["cause_key"].endswith("#site=ningbo") for a in streak)
    for action in target["actions"]:
        journal = json.loads((ws.outbox / "actions" / f"{action['action_id']}.json")
                             .read_text("utf-8"))
        assert (journal["cause_key"], journal["site"]) == (action["cause_key"], "ningbo")
    before = dump(pg_url)
    assert not migrate_ledger(ws, pg_url, site="ningbo").changed
    assert dump(pg_url) == before

    monkeypatch.setenv("QMSFORMS_SITE", "ningbo")
    with ledger_env(pg_url):  # the plant switched over: its record JSON gets the site
        found = check_ledger(ws).findings
        assert {f.code for f in found} == {"RECORD_JSON_DIFFERS"}
        assert len(found) == len(target["records"])
        check_ledger(ws, repair=True)
        assert check_ledger(ws).valid


@pytest.mark.postgres
def test_a_copy_that_does_not_check_out_is_rolled_back(ws: Workspace, make_filled: Any,
                                                       tmp_path: Path, pg_url: str) -> None:
    """A target that silently drops rows (a trigger here; a rule, a policy elsewhere)."""
    plant(ws, make_filled, tmp_path, "华东汽车")
    PostgresLedger(pg_url).close()  # the schema, then the trigger on it
    with psycopg.connect(pg_url, autocommit=True) as db:
        db.execute("CREATE FUNCTION swallow() RETURNS trigger LANGUAGE plpgsql AS"
                   " $$ BEGIN RETURN NULL; END $$")
        db.execute("CREATE TRIGGER swallow BEFORE INSERT ON issued FOR EACH ROW"
                   " EXECUTE FUNCTION swallow()")
    with pytest.raises(MigrationMismatch) as failed:
        migrate_ledger(ws, pg_url)
    assert failed.value.code == "LEDGER_MISMATCH"
    assert sorted((p["code"], p["table"]) for p in failed.value.migration.problems) == [
        ("MIGRATE_COUNT", "issued"), ("MIGRATE_MISSING", "issued")]
    assert all(rows == [] for rows in dump(pg_url).values())  # nothing kept
    result = CliRunner().invoke(cli, ["--root", str(ws.root), "ledger", "migrate", "--to",
                                      pg_url, "--json"])
    assert result.exit_code == 1
    assert [p["code"] for p in json.loads(result.output)["problems"]] == [
        "MIGRATE_COUNT", "MIGRATE_MISSING"]


def _waiting_for_a_lock(url: str) -> bool:
    """Poll (generously) until a backend of the target's database waits for a lock."""
    with psycopg.connect(url, autocommit=True) as db:
        for _ in range(1200):
            found = db.execute("SELECT count(*) FROM pg_stat_activity WHERE datname ="
                               " current_database() AND wait_event_type = 'Lock'").fetchone()
            if found and found[0]:
                return True
            time.sleep(0.05)
    return False


@pytest.mark.postgres
def test_a_live_writer_and_a_migration_do_not_interleave(
        ws: Workspace, make_filled: Any, tmp_path: Path, pg_url: str) -> None:
    """A watcher's decision in progress on the target: the migration waits for it, then
    copies after it."""
    plant(ws, make_filled, tmp_path, "华东汽车")
    done: list[Any] = []
    with PostgresLedger(pg_url) as live:
        with live.transaction() as db:
            live.log("live", None, "a decision in progress", db=db)
            copier = threading.Thread(target=lambda: done.append(migrate_ledger(ws, pg_url)))
            copier.start()
            assert _waiting_for_a_lock(pg_url)
            assert copier.is_alive() and not done
        copier.join(600)
    assert done and done[0].problems == []
    events = dump(pg_url)["events"]
    order = {e["kind"]: e["id"] for e in events if e["kind"] in ("live", "migrated")}
    assert order["live"] < order["migrated"]


def _order(row: dict[str, Any]) -> tuple[str, str]:
    return (row["received_at"], row["processed_at"])


@pytest.mark.postgres
@pytest.mark.parametrize("b_moves_first", [False, True], ids=["A first", "B first"])
def test_two_plants_merge_into_one_ledger(ws: Workspace, make_filled: Any, tmp_path: Path,
                                          pg_url: str, b_moves_first: bool) -> None:
    """Plant B takes the shared file first, then A takes it; the plants move in either way
    round. The same content is one record (the earlier received) and one duplicate; one
    natural key at both plants is one chain in received order; action numbers clashing are
    renumbered and the journal of the plant moved second follows."""
    other = init_workspace(tmp_path / "plant-b")
    shared = make_filled(MONTH, {"customer": "共同客户", "month": "2026-08",
                                 "performance_rate": 100})
    (b_shared,) = take(other, shared, names=["overlap-b.xlsx"])
    plant(ws, make_filled, tmp_path, "甲厂客户")
    (a_shared,) = take(ws, shared, names=["overlap-a.xlsx"])
    (a_key,) = take(ws, make_filled(MONTH, {"customer": "共同客户", "month": "2026-09",
                                            "performance_rate": 100}, workspace=ws))
    plant(other, make_filled, tmp_path, "乙厂客户")
    (b_key,) = take(other, make_filled(MONTH, {"customer": "共同客户", "month": "2026-09",
                                               "performance_rate": 98}, workspace=other))
    with open_ledger(ws) as a, open_ledger(other) as b:
        a_actions, b_actions = a.actions(), b.actions()
        a_row, b_row = a.record(a_shared.record_id), b.record(b_shared.record_id)
        shas = {r.sha256 for led in (a, b) for r in led.records(latest_only=False,
                                                                 voided=True)}
    assert a_row is not None and b_row is not None and a_row.sha256 == b_row.sha256
    clashing = {x.action_id for x in a_actions} & {x.action_id for x in b_actions}
    assert clashing  # both plants numbered their first action CA-<year>-0001
    plants = [(ws, a_actions, a_row, a_shared), (other, b_actions, b_row, b_shared)]
    (f_ws, f_actions, f_row, _), (s_ws, s_actions, s_row, _) = \
        plants[::-1] if b_moves_first else plants

    first = migrate_ledger(f_ws, pg_url)
    second = migrate_ledger(s_ws, pg_url)
    assert first.problems == second.problems == []
    (merged,) = second.merged
    earlier, earlier_file = min((a_row, a_shared), (b_row, b_shared), key=lambda p: (
        p[0].received_at, p[0].processed_at, p[0] is not f_row))  # a tie: the target's
    assert merged["kept_from"] == ("source" if earlier is s_row else "target")

    target = dump(pg_url)
    assert {r["sha256"] for r in target["records"]} == shas
    assert len(target["records"]) == len(shas)
    overlap = [r for r in target["records"] if r["sha256"] == a_row.sha256]
    assert len(overlap) == 1 and overlap[0]["record_id"] == f_row.record_id
    assert overlap[0]["received_at"] == earlier.received_at
    files = {r["claim_id"]: r for r in target["files"]}
    shared_files = [files[c] for c in (a_shared.claim_id, b_shared.claim_id)]
    assert sorted(f["outcome"] for f in shared_files) == ["duplicate", "record"]
    assert all(f["record_id"] == f_row.record_id for f in shared_files)
    assert files[earlier_file.claim_id]["outcome"] == "record"

    records = {r["record_id"]: r for r in target["records"]}
    key_rows = sorted((records[o.record_id] for o in (a_key, b_key)), key=_order)
    assert [r["latest"] for r in key_rows] == [False, True]
    assert key_rows[1]["supersedes"] == key_rows[0]["record_id"]
    latest = Counter((r["form"], r["natural_key"]) for r in target["records"] if r["latest"])
    assert set(latest.values()) == {1}

    causes = Counter(r["cause_key"] for r in target["actions"])
    assert set(causes.values()) == {1}
    assert set(causes) == {x.cause_key for x in (*a_actions, *b_actions)}
    moved = {m["from"]: m["to"] for m in second.renumbered}
    s_new = [x for x in s_actions if x.cause_key not in {y.cause_key for y in f_actions}]
    assert {x.action_id for x in s_new if x.action_id in clashing} <= set(moved)
    held = {r["action_id"]: r["cause_key"] for r in target["actions"]}
    for action in s_new:
        number = moved.get(action.action_id, action.action_id)
        assert held[number] == action.cause_key
        journal = json.loads((s_ws.outbox / "actions" / f"{number}.json").read_text("utf-8"))
        assert journal["action_id"] == number and journal["cause_key"] == action.cause_key

    before = dump(pg_url)
    assert not migrate_ledger(ws, pg_url).changed
    assert not migrate_ledger(other, pg_url).changed
    assert dump(pg_url) == before


def test_a_target_that_is_not_postgresql_is_refused(ws: Workspace) -> None:
    with pytest.raises(LedgerError) as refused:
        migrate_ledger(ws, f"sqlite:///{ws.root / 'x.sqlite'}")
    assert refused.value.code == "LEDGER_NOT_POSTGRES"
    result = CliRunner().invoke(cli, ["--root", str(ws.root), "ledger", "migrate", "--to",
                                      "mysql://db/qms"])
    assert result.exit_code == 1 and "LEDGER_NOT_POSTGRES" in result.output


def test_a_source_that_is_not_a_sqlite_ledger_is_refused(ws: Workspace) -> None:
    path = ledger_path(ws)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(LedgerError) as refused:
        migrate_ledger(ws, "postgresql://127.0.0.1:1/none")
    assert refused.value.code == "LEDGER_NOT_SQLITE"
    path.unlink()
    with pytest.raises(LedgerError) as missing:
        migrate_ledger(ws, "postgresql://127.0.0.1:1/none")
    assert missing.value.code == "LEDGER_NOT_SQLITE"
