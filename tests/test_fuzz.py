"""The mutation fuzz at test-suite size: two rounds over every (seed, operator) pair.

Each seed is a filled form in a format it is issued in; each operator mutates it (see
`tests.fuzz`). The promise checked: a mutant is VALID with the seed's data, or refused with a
code. Respellings that keep the meaning must read the same; crashes are collected apart. The
larger run is ``python -m tests.fuzz --count 5000 --seed 1``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qmsforms.workspace import Workspace, init_workspace

from .fuzz.mutation import REGISTRY
from .fuzz.report import listing
from .fuzz.runner import Result, mutate, plan, run_local
from .fuzz.seeds import Seed, build_seeds, forms_and_formats

ROUNDS = 2
"""Mutants per (seed, operator) pair in the suite: about 400 in all."""


@pytest.fixture(scope="module")
def fuzz_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """One workspace for the module (seeds and validation)."""
    return init_workspace(tmp_path_factory.mktemp("fuzz") / "ws")


@pytest.fixture(scope="module")
def seeds(fuzz_ws: Workspace) -> list[Seed]:
    """Every issued form in every format, filled and validated."""
    return build_seeds(fuzz_ws)


@pytest.fixture(scope="module")
def results(seeds: list[Seed], fuzz_ws: Workspace) -> list[Result]:
    """The suite-size run, base seed 0."""
    pairs = sum(1 for s in seeds for (_, fmt) in REGISTRY if fmt == s.fmt)
    return run_local(seeds, plan(seeds, ROUNDS * pairs, base=0), fuzz_ws)


def _show(results: list[Result], outcome: str) -> str:
    return f"\n{listing(results, outcome, limit=2)}\nre-run one: python -m tests.fuzz --only KEY"


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


def test_no_mutant_crashes_the_reader(results: list[Result]) -> None:
    crashes = [r for r in results if r.outcome == "crash"]
    assert not crashes, _show(results, "crash")


def test_meaning_preserving_respellings_read_the_same(results: list[Result]) -> None:
    refused = [r for r in results if r.outcome == "false-refusal"]
    assert not refused, _show(results, "false-refusal")


def test_the_fuzz_command_reproduces_one_mutant(capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path) -> None:
    from .fuzz.__main__ import main

    saved = tmp_path / "mutant.xlsx"
    code = main(["--only", "shipping-list:xlsx:zip_reorder:0", "--save", str(saved)])
    out = capsys.readouterr().out
    assert "shipping-list:xlsx:zip_reorder:0: valid-same" in out
    assert code == 0 and saved.is_file()
