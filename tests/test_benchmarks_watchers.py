"""The watchers benchmark, run tiny: two watcher processes on one inbox take every file of its
workload once, on SQLite and (where it is installed) on a throwaway PostgreSQL."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from benchmarks import watchers as bench
from tests import postgres as pg

ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _postgres_or_skip() -> None:
    try:
        import psycopg  # noqa: F401
        missing = pg.binaries() is None
    except ImportError:
        missing = True
    if missing:
        if os.environ.get("QMSFORMS_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL and psycopg are required here but not installed")
        pytest.skip("PostgreSQL (initdb, pg_ctl) or psycopg is not installed")


def test_the_workload_holds_records_rejections_and_re_sends(tmp_path: Path) -> None:
    work = bench.make_workload(tmp_path, 40)
    assert len(work.files) == 40 and sum(work.expected.values()) == 40
    assert work.expected == Counter(record=34, rejected=4, duplicate=2)
    contents = Counter(p.read_bytes() for p in work.files)
    assert sorted(contents.values(), reverse=True)[:3] == [2, 2, 1]  # two byte-identical pairs


@pytest.mark.parametrize("engine", ENGINES)
def test_two_watchers_take_every_file_once(tmp_path: Path, engine: str) -> None:
    if engine == "postgresql":
        _postgres_or_skip()
    runs, work, have_pg = bench.run_rounds(tmp_path, 10, 1, counts=(2,), engines=(engine,))
    assert have_pg or engine == "sqlite"
    (run,) = runs
    assert (run.engine, run.watchers) == (engine, 2)
    assert run.outcomes == work.expected == Counter(record=8, rejected=1, duplicate=1)
    assert run.left_in_inbox == 0 and not bench.lost(run, work)
    assert run.seconds > 0 and run.rate > 0


def test_the_table_and_a_lost_file() -> None:
    runs = [bench.Run("sqlite", 1, 2.0, Counter(record=2), 0, 0.1, 0.0, 0.02),
            bench.Run("postgresql", 1, 1.0, Counter(record=2), 0, 0.1, 0.02, 0.04),
            bench.Run("sqlite", 2, 1.0, Counter(record=1), 1, 0.03, 0.0, 0.0)]
    lines = bench.table(runs).splitlines()
    assert lines[2].split(" | ")[1:] == ["1.0", "2.0", "2.00", "50 ms, 10 ms",
                                         "60 (10) ms, 20 ms |"]
    assert lines[3].split(" | ")[2:] == ["not installed", "-", "30 ms, 0 ms",
                                         "not installed |"]
    work = bench.Workload([], Counter(record=2))
    assert [bench.lost(r, work) for r in runs] == [False, False, True]


def test_the_figures_say_which_engine_was_not_measured(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg, "binaries", lambda: None)  # a machine without PostgreSQL
    figures = bench.bench_watchers(tmp_path, 4, 1, counts=(1,))
    assert [(f.ours == "not installed", f.met) for f in figures] == [(False, True), (True, None)]
