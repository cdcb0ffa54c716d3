"""Many sites, one ledger (issue 17, SPEC §10): three watchers of two plants on one PostgreSQL
ledger, 600 files, ten SIGKILLs.

Two watchers with different host and site ids watch the Ningbo plant's shared inbox, a third
the Suzhou plant's own; all three write one central outbox (`tests.multisite`). The files
(valid forms of four kinds, invalid ones, byte-identical re-sends, revisions) are dropped in
five waves while watchers are killed at random moments of their work and started again. Which
watcher takes which file and in what order is chance; what the ledger and the outbox must show
at the end is not: every file exactly one record, rejection or duplicate, no record twice,
revision chains single, outbox and ledger in agreement, and every row stamped with the site of
a watcher that could have taken it.
"""

from __future__ import annotations

import functools
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from qmsforms.intake import WORK_DIR, FileRow, candidates, open_ledger
from qmsforms.intake.ledger import LedgerStore, ledger_path
from qmsforms.intake.ledger.check import check_ledger
from qmsforms.intake.ledger.store import RecordRow, key_text
from qmsforms.workspace import Workspace

from .. import multisite as ms
from ..conftest import ledger_env
from . import test_watch as watch

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")]

SEED = 20261202
KILLS = 10


def test_three_watchers_of_two_plants_600_files_and_ten_sigkills(
        pg_url: str, tmp_path: Path) -> None:
    with ledger_env(pg_url):
        spaces = ms.workspaces(tmp_path)
        ws = spaces["NB"]
        with open_ledger(ws, write=True) as ledger:
            blanks = ms.templates(ws, ledger, tmp_path)
            sent = ms.plan(blanks, SEED)
            assert len(sent) == 600 and len({s.name for s in sent}) == 600
            run(spaces, ledger, sent, tmp_path)
            check(spaces, ledger, sent)
        for space in spaces.values():
            assert not ledger_path(space).exists(), "a SQLite ledger was written"


def run(spaces: dict[str, Workspace], ledger: LedgerStore[Any], sent: list[ms.Sent],
        tmp_path: Path) -> None:
    """Drop the waves, kill watchers mid-work and start them again; wait until all is quiet,
    then stop the watchers."""
    rng = random.Random(SEED)
    logs = tmp_path / "logs"
    logs.mkdir()
    started = 0

    def launch(plant: ms.Plant) -> watch.WatchProcess:
        nonlocal started
        started += 1
        return ms.start(plant, spaces[plant.site], logs, started)

    inboxes = {p.inbox: spaces[p.site].inbox for p in ms.PLANTS}
    live = {p.site: launch(p) for p in ms.PLANTS}
    kills: list[str] = []  # "wave:host" of each kill
    dropped = 0
    try:
        for wave in range(ms.WAVES):
            files = [s for s in sent if s.wave == wave]
            for s in files:
                (tmp_path / "src.xlsx").write_bytes(s.data)
                watch.drop(tmp_path / "src.xlsx", inboxes[s.inbox], s.name)
            dropped += len(files)
            quiet = functools.partial(ms.quiet, ledger, list(inboxes.values()), dropped)
            # two kills a wave, of two watchers at work since the wave began
            for plant in rng.sample(ms.PLANTS, KILLS // ms.WAVES):
                victim = live[plant.site]
                watch.wait_for(functools.partial(working, victim, ms.outcomes(victim), quiet),
                               watch.BATCH_TIMEOUT, f"{plant.host} at work",
                               tuple(live.values()), interval=0.02)
                if quiet():
                    break
                time.sleep(rng.uniform(0.0, 0.15))  # any phase of the file in hand
                victim.kill()
                live[plant.site] = launch(plant)
                kills.append(f"{wave}:{plant.host}")
            watch.wait_for(quiet, watch.BATCH_TIMEOUT, f"wave {wave} ({dropped} files)",
                           tuple(live.values()))
        assert len(kills) == KILLS, f"a wave was over before its kills (only {kills})"
    finally:
        codes = {site: proc.terminate() for site, proc in live.items()
                 if proc.proc.poll() is None}
    assert codes == {p.site: 0 for p in ms.PLANTS}
    assert ledger.events("recovered"), "no kill landed while a claim was in hand"


def working(process: watch.WatchProcess, before: int, quiet: Callable[[], bool]) -> bool:
    """Whether ``process`` decided another file since it had decided ``before`` (it is at
    work), or all is quiet (nothing left to interrupt)."""
    return ms.outcomes(process) > before or quiet()


def check(spaces: dict[str, Workspace], ledger: LedgerStore[Any], sent: list[ms.Sent]) -> None:
    """What the ledger and the outbox must show, whoever took which file when."""
    outbox = spaces["NB"].outbox
    expected = {s.name: s for s in sent}

    # every file dropped is exactly one record, rejection or duplicate
    rows = ledger.files()
    names = Counter(r.name for r in rows)
    assert {n: c for n, c in names.items() if c > 1} == {}, "a file was decided twice"
    assert set(names) == set(expected) and len(rows) == len(sent)
    for space in spaces.values():
        assert candidates(space.inbox) == []
        work = space.inbox / WORK_DIR
        assert not work.exists() or list(work.iterdir()) == []
    wrong = {r.name: (r.outcome, r.codes) for r in rows
             if (r.outcome, r.sha256) != (expected[r.name].outcome, expected[r.name].sha)}
    assert wrong == {}, "files decided otherwise than they must be"

    # no record twice: one per content, each expected content once
    records = ledger.records(latest_only=False)
    assert ledger.count("records") == len(records)
    shas = Counter(r.sha256 for r in records)
    assert {h: c for h, c in shas.items() if c > 1} == {}, "one content recorded twice"
    assert set(shas) == {s.sha for s in sent if s.outcome == "record"}
    by_sha = {r.sha256: r for r in records}
    for row in rows:
        if row.outcome == "rejected":
            assert row.codes == (expected[row.name].code,), (row.name, row.codes)
        elif row.outcome == "duplicate":
            assert row.record_id == by_sha[row.sha256].record_id, row.name
        else:
            assert by_sha[row.sha256].record_id == row.record_id, row.name
            assert by_sha[row.sha256].source_name == row.name

    check_chains(ledger, records, sent)
    check_outbox(outbox, ledger, rows, records)
    found = check_ledger(spaces["NB"], site=None)  # the central outbox, every site's rows
    assert [(f.code, f.path) for f in found.findings] == []
    assert (found.records, found.actions) == (len(records), len(ledger.actions()))
    check_actions(ledger, sent)
    check_sites(ledger, rows, records, sent)
    assert ledger.integrity() == "ok"


def check_chains(ledger: LedgerStore[Any], records: list[RecordRow], sent: list[ms.Sent]) -> None:
    """Revision chains single: none forks, one latest per natural key, the versions in the
    order they were sent."""
    forks = Counter(r.supersedes for r in records if r.supersedes)
    assert {k: c for k, c in forks.items() if c > 1} == {}, "a revision chain forked"
    ids = {r.record_id: r for r in records}
    assert all(r.supersedes in ids for r in records if r.supersedes)
    after = {r.supersedes: r for r in records if r.supersedes}
    found = set()
    for root in (r for r in records if r.supersedes is None):
        chain = [root]
        while chain[-1].record_id in after:
            chain.append(after[chain[-1].record_id])
        assert [r.latest for r in chain] == [False] * (len(chain) - 1) + [True], chain
        assert len({(r.form, key_text(r.natural_key)) for r in chain}) == 1, chain
        found.add(tuple(r.sha256 for r in chain))
    assert sum(len(c) for c in found) == len(records), "a record outside every chain"
    assert found == ms.chains(sent)
    latest = Counter((r.form, key_text(r.natural_key)) for r in records if r.latest)
    assert set(latest.values()) == {1}
    assert len(ledger.records()) == len(found)


def check_outbox(outbox: Path, ledger: LedgerStore[Any], rows: list[FileRow],
                 records: list[RecordRow]) -> None:
    """Outbox and ledger agree: each record its JSON and archive copy, each rejection its
    report and original, each duplicate its copy, each action its journal; nothing more."""
    found = sorted((outbox / "records").glob("*/*.json"))
    assert {p.stem for p in found} == {r.record_id for r in records}
    for record in records:
        data = json.loads((outbox / record.path).read_text(encoding="utf-8"))
        assert (data["record_id"], data["source"]["sha256"], data.get("supersedes")) == (
            record.record_id, record.sha256, record.supersedes)
        (copy,) = (outbox / "archive" / record.form).glob(f"{record.record_id}__*")
        assert watch.sha256(copy) == record.sha256
    archive = [p for p in (outbox / "archive").glob("*/*") if p.parent.name != "duplicates"]
    assert len(archive) == len(records)
    for row in rows:
        if row.outcome == "rejected":
            assert (outbox / row.location).is_file(), row.name
            original = outbox / row.location.replace(".report.txt", ".xlsx")
            assert watch.sha256(original) == row.sha256, row.name
        elif row.outcome == "duplicate":
            assert watch.sha256(outbox / row.location) == row.sha256, row.name
    rejected = list((outbox / "rejected").glob("*.report.txt"))
    assert len(rejected) == sum(r.outcome == "rejected" for r in rows)
    assert len(list((outbox / "archive" / "duplicates").iterdir())) == sum(
        r.outcome == "duplicate" for r in rows)
    actions = ledger.actions()
    assert len({a.cause_key for a in actions}) == len(actions)
    journal = {p.stem: json.loads(p.read_text(encoding="utf-8"))
               for p in (outbox / "actions").glob("*.json")}
    assert set(journal) == {a.action_id for a in actions}
    ids = {r.record_id for r in records}
    for action in actions:
        assert journal[action.action_id]["cause_key"] == action.cause_key
        assert action.source_record in ids
    assert list(outbox.rglob(".~part-*")) == []


def check_actions(ledger: LedgerStore[Any], sent: list[ms.Sent]) -> None:
    """One action register for all three watchers, each cause raised once: every complaint
    ticket (quality, `VALID`) one action whatever its revisions, every survey one (its score
    is below the action policy's target); the monitoring sheets raise none (one month each)."""
    keys = {form: {s.key for s in sent if s.form == form and s.outcome == "record"}
            for form in ("complaint", "satisfaction-survey")}
    actions = ledger.actions()
    assert Counter(a.source for a in actions) == Counter(
        {"complaint": len(keys["complaint"]),
         "survey_below_target": len(keys["satisfaction-survey"])})
    assert {a.scope for a in actions if a.source == "complaint"} == {
        f"complaint:{key}" for key in keys["complaint"]}
    assert {a.scope.split(":")[2] for a in actions if a.source != "complaint"} == keys[
        "satisfaction-survey"]
    assert len({a.action_id for a in actions}) == len(actions)


def check_sites(ledger: LedgerStore[Any], rows: list[FileRow], records: list[RecordRow],
                sent: list[ms.Sent]) -> None:
    """Every row carries the site of a watcher that could have taken its file."""
    could = {inbox: {p.site for p in ms.PLANTS if p.inbox == inbox}
             for inbox in (ms.SHARED, ms.SUZHOU)}
    inbox_of = {s.name: s.inbox for s in sent}
    site_of: dict[str, str] = {}
    for row in rows:
        site = row.site
        assert site in could[inbox_of[row.name]], (row.name, site)
        if row.outcome == "record" and row.record_id:
            site_of[row.record_id] = site
    for record in records:
        site = record.site
        assert site == site_of[record.record_id], record.record_id
        per_site = ms.KEY_SCOPE[record.form] == "site"
        assert record.natural_key.get("@site") == (site if per_site else None), record
    suzhou = {s.name for s in sent if s.inbox == ms.SUZHOU}
    assert {r.name for r in ledger.files(site="SZ")} == suzhou
    assert {r.name for p in ("NB", "NB2")
            for r in ledger.files(site=p)} == set(inbox_of) - suzhou
    assert {r.record_id for r in ledger.records(latest_only=False, site="SZ")} == {
        r.record_id for r in records if r.site == "SZ"}
    inbox_of_record = {r.record_id: inbox_of[r.name] for r in rows if r.outcome == "record"}
    for action in ledger.actions():
        assert action.source_record is not None
        assert action.site in could[inbox_of_record[action.source_record]], action
