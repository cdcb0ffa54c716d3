"""The watchers on a PostgreSQL ledger: the tests of test_watch.py that exercise the ledger's
invariants (SIGKILLs losing and doubling nothing, two watchers on one inbox, duplicates and
revisions), and those of tests/actions/test_raising.py that raise, revise and void actions in
the record's own transaction, run again with ``QMSFORMS_LEDGER`` naming a fresh database
(test_pipeline.py and the other intake modules run on both engines themselves).

Each is the very test function of those modules; only the ``ws`` fixture differs (and the
watchers run in one observer mode, native file events, to keep the run short).
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qmsforms.intake import Intake
from qmsforms.intake.ledger import ledger_path
from qmsforms.workspace import Workspace, init_workspace

from ..actions import conftest as actions_conftest
from ..actions import test_raising as raising
from ..conftest import ledger_env
from . import test_watch as watch

pytestmark = pytest.mark.postgres


@pytest.fixture
def ws(ws: Workspace, pg_url: str) -> Iterator[Workspace]:
    """The usual fresh workspace, its ledger a fresh PostgreSQL database (also for the
    watcher processes a test starts); no SQLite ledger may appear."""
    with ledger_env(pg_url):
        yield ws
    assert not ledger_path(ws).exists(), "a SQLite ledger was written beside PostgreSQL's"


@pytest.fixture
def mode() -> list[str]:
    """Native file events only (test_watch.py runs both modes on SQLite)."""
    return watch.MODES["native"]


batch = watch.batch
take = actions_conftest.take
views = actions_conftest.views
spawn = watch.spawn
ledger = watch.ledger

# test_pipeline.py, test_poison.py, test_status.py and test_word.py run on both engines
# themselves (their ``ws`` takes ``ledger_url``); the watcher and raising tests below run here.

test_sigkill_during_a_batch_loses_and_doubles_nothing = (
    watch.test_sigkill_during_a_batch_loses_and_doubles_nothing)
test_two_watchers_on_one_inbox_never_process_a_file_twice = (
    watch.test_two_watchers_on_one_inbox_never_process_a_file_twice)
test_same_file_twice_is_a_duplicate_and_a_resave_is_a_revision = (
    watch.test_same_file_twice_is_a_duplicate_and_a_resave_is_a_revision)

test_three_months_of_quality_deductions_raise_one_streak_action = (
    raising.test_three_months_of_quality_deductions_raise_one_streak_action)
test_voiding_a_record_removes_its_cause_and_voiding_the_correction_brings_it_back = (
    raising.test_voiding_a_record_removes_its_cause_and_voiding_the_correction_brings_it_back)
test_a_raising_that_fails_takes_the_record_back_with_it = (
    raising.test_a_raising_that_fails_takes_the_record_back_with_it)


# -- two machines on one shared inbox (issue 17 §2) -------------------------------------------

def _children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in found]


def test_a_watcher_of_another_machine_leaves_a_live_claim_alone(
        ws: Workspace, make_filled: Any, spawn: Any, ledger: Any, tmp_path: Path) -> None:
    """Two machines watch one shared inbox, each from a workspace root of its own (its own
    ``.qmsforms``), on one ledger. While the first holds a claim (its reader stopped in the
    middle of the file), the second one's recovery must leave that claim alone: it is live,
    not abandoned. Both then finish with one record per file and nothing recovered."""
    other = init_workspace(tmp_path / "other-machine")
    with (other.root / "qmsforms.toml").open("a", encoding="utf-8") as fh:
        fh.write(f'\n[paths]\ninbox = "{ws.inbox}"\noutbox = "{ws.outbox}"\n')
    other = Workspace(other.root)
    first, second = make_filled("satisfaction-survey"), make_filled("complaint")
    watcher = spawn()
    watcher.wait_ready()
    watch.drop(first, ws.inbox, "first.xlsx")
    watch.wait_for(watch.settled(ws, ledger, 1), watch.BATCH_TIMEOUT, "the first file",
                   (watcher,))
    (reader,) = [c for c in _children(watcher.pid)
                 if b"-c" in Path(f"/proc/{c}/cmdline").read_bytes().split(b"\0")]
    os.kill(reader, signal.SIGSTOP)
    try:
        watch.drop(second, ws.inbox, "second.xlsx")
        work = watch.work_folder(ws)
        watch.wait_for(lambda: any(work.glob("*/second.xlsx")), watch.BATCH_TIMEOUT,
                       "the second file claimed", (watcher,))
        (claimed,) = work.glob("*/second.xlsx")
        with Intake(other, settle=0.1) as intake:
            taken = intake.recover()
        assert [o.name for o in taken] == []
        assert claimed.is_file()
    finally:
        os.kill(reader, signal.SIGCONT)
    watch.wait_for(watch.settled(ws, ledger, 2), watch.BATCH_TIMEOUT, "the second file",
                   (watcher,))
    assert watcher.terminate() == 0
    assert sorted((r.name, r.outcome) for r in ledger.files()) == [
        ("first.xlsx", "record"), ("second.xlsx", "record")]
    assert ledger.count("records") == 2
    assert ledger.events("recovered") == []
    assert watcher.marks() == Counter({"REC": 2})
