"""The mutation fuzz at test-suite size: two rounds over every (seed, operator) pair.

Each seed is a filled form in a format it is issued in; each operator mutates it (see
`tests.fuzz`). The promises checked:

- through the library, each mutant read by `validate_file` in a worker process with an
  address-space limit: VALID with the seed's data, or refused with a code; respellings that
  keep the meaning read the same; no exception escapes, no native abort or signal, no hang
  (the time cap is a hang guard, not a speed requirement) and bounded peak memory;
- through the command line, all the mutants at once: ``qmsforms validate --json`` exits 0 or
  1 without a traceback and reports each file once, VALID or with error codes, and one
  ``qmsforms process`` over an inbox holding them all ends each file as exactly one record,
  rejection or duplicate, leaving the inbox and its work folder empty.

The larger run is ``python -m tests.fuzz --count 5000 --seed 1``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from qmsforms.intake import WORK_DIR, Ledger
from qmsforms.workspace import Workspace, init_workspace

from .fuzz.mutation import REGISTRY
from .fuzz.report import listing, memory
from .fuzz.runner import Key, Result, mutate, plan, run_pool
from .fuzz.seeds import Seed, build_seeds, forms_and_formats

ROUNDS = 2
"""Mutants per (seed, operator) pair in the suite: about 400 in all."""
WORKERS = 2
MEMORY_MB = 2048
"""Address space of each worker process (RLIMIT_AS): a reader that asks for more fails."""
PEAK_MB = 400
"""The peak resident memory reading any one mutant may take (a worker idles at about 60 MB)."""
HANG_GUARD = 120.0
"""Seconds after which a mutant counts as a hang (it takes a fraction of a second)."""


@pytest.fixture(scope="module")
def fuzz_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """One workspace for the module (seeds and validation)."""
    return init_workspace(tmp_path_factory.mktemp("fuzz") / "ws")


@pytest.fixture(scope="module")
def seeds(fuzz_ws: Workspace) -> list[Seed]:
    """Every issued form in every format, filled and validated."""
    return build_seeds(fuzz_ws)


@pytest.fixture(scope="module")
def keys(seeds: list[Seed]) -> list[Key]:
    """The suite-size run, base seed 0."""
    pairs = sum(1 for s in seeds for (_, fmt) in REGISTRY if fmt == s.fmt)
    return plan(seeds, ROUNDS * pairs, base=0)


@pytest.fixture(scope="module")
def results(seeds: list[Seed], keys: list[Key], fuzz_ws: Workspace) -> list[Result]:
    """Every mutant read in worker processes, each with an address-space limit."""
    return run_pool(seeds, keys, fuzz_ws.root, workers=WORKERS, timeout=HANG_GUARD,
                    memory_mb=MEMORY_MB)


@pytest.fixture(scope="module")
def mutant_files(seeds: list[Seed], keys: list[Key],
                 tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Every mutant of the run written to one folder, named by its number and key."""
    folder = tmp_path_factory.mktemp("mutants")
    by_name = {s.name: s for s in seeds}
    files = []
    for i, key in enumerate(keys):
        mutation = mutate(by_name[f"{key.form}:{key.fmt}"], key)
        if mutation is not None:
            path = folder / f"{i:04d}-{key.form}-{key.op}-{key.n}.{key.fmt}"
            path.write_bytes(mutation.data)
            files.append(path)
    return files


"""The one failure of ``process`` over the suite's mutants left to the intake's owners."""


def _show(results: list[Result], outcome: str) -> str:
    return f"\n{listing(results, outcome, limit=2)}\nre-run one: python -m tests.fuzz --only KEY"


def _qmsforms(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the command line in a child process; the timeout is a hang guard."""
    return subprocess.run([sys.executable, "-m", "qmsforms", "--root", str(root), *args],
                          capture_output=True, text=True, timeout=900)


def test_every_form_and_format_has_a_seed(seeds: list[Seed], fuzz_ws: Workspace) -> None:
    assert {(s.form, s.fmt) for s in seeds} == set(forms_and_formats(fuzz_ws))
    assert {s.fmt for s in seeds} == {"xlsx", "docx"}


def test_seeds_read_back_what_was_typed(seeds: list[Seed]) -> None:
    assert {s.name: s.misread for s in seeds if s.misread} == {}


def test_a_key_gives_the_same_mutant_every_time(seeds: list[Seed]) -> None:
    for key in plan(seeds, 60, base=7)[::7]:
        seed = next(s for s in seeds if (s.form, s.fmt) == (key.form, key.fmt))
        first, again = mutate(seed, key), mutate(seed, key)
        assert (first and first.data) == (again and again.data), key


def test_every_operator_ran(results: list[Result]) -> None:
    ran = {(r.op, r.fmt) for r in results if r.outcome != "n/a"}
    assert set(REGISTRY) - ran == set()
    assert [r.key for r in results if r.outcome == "harness-error"] == []


def test_no_mutant_is_valid_with_other_data(results: list[Result]) -> None:
    """VALID with data that differs from the seed's (or VALID where a refusal is due)."""
    violations = [r for r in results if r.outcome == "violation"]
    assert not violations, _show(results, "violation")


@pytest.mark.parametrize("outcome", ["crash", "abort", "hang"])
def test_no_mutant_crashes_aborts_or_hangs_the_reader(results: list[Result],
                                                      outcome: str) -> None:
    """An exception out of validate_file, a worker killed (native abort, signal, its memory
    limit) or a mutant past the hang guard."""
    found = [r for r in results if r.outcome == outcome]
    assert not found, _show(results, outcome)


def test_reading_a_mutant_takes_bounded_memory(results: list[Result]) -> None:
    assert all(r.rss_mb > 0 for r in results)
    top = max(results, key=lambda r: r.rss_mb)
    assert top.rss_mb < PEAK_MB, memory(results)


def test_meaning_preserving_respellings_read_the_same(results: list[Result]) -> None:
    refused = [r for r in results if r.outcome == "false-refusal"]
    assert not refused, _show(results, "false-refusal")


def test_the_validate_command_reports_every_mutant(mutant_files: list[Path],
                                                   fuzz_ws: Workspace) -> None:
    done = _qmsforms(fuzz_ws.root, "validate", "--json", *map(str, mutant_files))
    assert done.returncode in (0, 1), done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    reports: list[dict[str, Any]] = json.loads(done.stdout)
    assert sorted(r["path"] for r in reports) == sorted(map(str, mutant_files))
    unexplained = [r["path"] for r in reports if not r["valid"] and not any(
        i["severity"] == "error" and i["code"] for i in r["issues"])]
    assert unexplained == []
    assert done.returncode == (0 if all(r["valid"] for r in reports) else 1)


def test_the_process_command_takes_every_mutant_once(mutant_files: list[Path],
                                                     tmp_path_factory: pytest.TempPathFactory
                                                     ) -> None:
    ws = init_workspace(tmp_path_factory.mktemp("intake") / "ws")
    for path in mutant_files:
        shutil.copyfile(path, ws.inbox / path.name)
    done = _qmsforms(ws.root, "process", "--json", "--settle", "0.05")
    assert done.returncode in (0, 1), done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    result = json.loads(done.stdout)
    outcomes = result["outcomes"]
    assert sorted(o["name"] for o in outcomes) == sorted(p.name for p in mutant_files)
    assert {o["outcome"] for o in outcomes} <= {"record", "rejected", "duplicate"}
    assert result["waiting"] == []
    with Ledger(ws.state_dir / "ledger.sqlite") as ledger:
        assert ledger.count("files") == len(mutant_files)
    left = [p.name for p in ws.inbox.iterdir() if p.name not in (".gitkeep", WORK_DIR)]
    assert left == []
    work = ws.inbox / WORK_DIR
    assert not work.exists() or list(work.iterdir()) == []


def test_the_fuzz_command_reproduces_one_mutant(capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path) -> None:
    from .fuzz.__main__ import main

    saved = tmp_path / "mutant.xlsx"
    code = main(["--only", "shipping-list:xlsx:zip_reorder:0", "--save", str(saved)])
    out = capsys.readouterr().out
    assert "shipping-list:xlsx:zip_reorder:0: valid-same" in out
    assert code == 0 and saved.is_file()
