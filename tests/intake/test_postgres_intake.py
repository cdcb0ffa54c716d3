"""The intake and the watchers on a PostgreSQL ledger: the tests of test_pipeline.py and
test_watch.py that exercise the ledger's invariants (one outcome per file, one record per
content, revisions linked, crashes and SIGKILLs losing and doubling nothing, two watchers on
one inbox), and those of tests/actions/test_raising.py that raise, revise and void actions in
the record's own transaction, run again with ``QMSFORMS_LEDGER`` naming a fresh database.

Each is the very test function of those modules; only the ``ws`` fixture differs (and the
watchers run in one observer mode, native file events, to keep the run short).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from qmsforms.intake.ledger import ledger_path
from qmsforms.workspace import Workspace

from ..actions import conftest as actions_conftest
from ..actions import test_raising as raising
from ..conftest import ledger_env
from . import test_pipeline as pipeline
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

test_the_same_file_twice_is_one_record = pipeline.test_the_same_file_twice_is_one_record
test_an_edited_resave_is_a_linked_revision = pipeline.test_an_edited_resave_is_a_linked_revision
test_one_blank_sent_to_two_customers_gives_two_records = (
    pipeline.test_one_blank_sent_to_two_customers_gives_two_records)
test_crash_after_the_claim_is_recovered = pipeline.test_crash_after_the_claim_is_recovered


def test_crash_after_the_decision_only_redoes_the_outputs(
        ws: Workspace, make_filled: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """One crash point suffices here: the others differ in the outbox, not the ledger."""
    pipeline.test_crash_after_the_decision_only_redoes_the_outputs(
        ws, make_filled, monkeypatch, "record")


test_crash_while_rejecting_is_recovered = pipeline.test_crash_while_rejecting_is_recovered

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
