"""A folder that is not a workspace is refused, never taken for an empty one (SPEC §9).

Before, ``--root`` pointing at a wrong folder made ``records`` print "0 records",
``process`` create ``inbox/``, ``outbox/`` and a ledger there, and ``watch`` watch it: all
exit 0. Every command but ``init`` and ``demo`` now exits 2 and touches nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from qmsforms.cli import cli
from qmsforms.workspace import Workspace, is_workspace

from ..conftest import REPO, FillFn

COMMANDS = [
    ("records",), ("records", "--json"), ("process",), ("watch",), ("status", "--json"),
    ("forms",), ("schema", "shipping-list"), ("new", "shipping-list", "-o", "{tmp}/x.xlsx"),
    ("validate", "{file}"), ("score", "{file}"), ("report", "satisfaction", "--year", "2026"),
    ("report", "complaints", "--year", "2026"), ("report", "delivery", "--year", "2026"),
    ("survey", "status"), ("survey", "issue"), ("monitoring", "issue", "--month", "2026-11"),
    ("8d", "new", "--from", "R1"), ("templates", "build"), ("templates", "check"),
    ("ledger", "rebuild"), ("customers",), ("customers", "import", "{file}"), ("doctor",),
    ("records", "void", "R1", "--reason", "typed twice"), ("actions",), ("actions", "--json"),
    ("actions", "show", "CA-2026-0001"), ("actions", "issue", "CA-2026-0001"),
    ("report", "review", "--year", "2026"), ("report", "actions"),
    ("ledger", "migrate", "--to", "postgresql:///nowhere"), ("ledger", "check"),
]


@pytest.fixture
def wrong(tmp_path: Path) -> Path:
    """A folder that is no workspace (a mistyped --root)."""
    folder = tmp_path / "not-a-workspace"
    folder.mkdir()
    return folder


def test_every_command_is_named_here() -> None:
    named = {c[0] for c in COMMANDS} | {"init", "demo"}
    assert named == set(cli.commands)


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_folder_that_is_not_a_workspace_is_refused(args: tuple[str, ...], wrong: Path,
                                                     tmp_path: Path, make_filled: FillFn
                                                     ) -> None:
    file = make_filled("shipping-list") if "{file}" in args else None
    argv = [a.format(tmp=tmp_path, file=file) for a in args]
    result = CliRunner().invoke(cli, ["--root", str(wrong), *argv])
    assert result.exit_code == 2, result.output
    assert str(wrong) in result.output and "qmsforms init" in result.output
    assert list(wrong.iterdir()) == []  # nothing created there
    assert not (tmp_path / "x.xlsx").exists()


def test_the_environment_and_the_current_folder_are_checked_too(
        wrong: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert CliRunner().invoke(cli, ["records"], env={"QMSFORMS_ROOT": str(wrong)}).exit_code == 2
    monkeypatch.chdir(wrong)
    monkeypatch.delenv("QMSFORMS_ROOT", raising=False)
    assert CliRunner().invoke(cli, ["process"]).exit_code == 2
    assert list(wrong.iterdir()) == []


def test_help_and_init_work_anywhere_and_init_makes_a_workspace(wrong: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["--root", str(wrong), "records", "--help"]).exit_code == 0
    assert runner.invoke(cli, ["init", str(wrong)]).exit_code == 0
    assert is_workspace(wrong)
    result = runner.invoke(cli, ["--root", str(wrong), "records", "--json"])
    assert result.exit_code == 0 and result.output.strip() == "[]"


def test_a_workspace_that_lost_its_configuration_is_still_one(ws: Workspace) -> None:
    """The ledger in .qmsforms/ marks it: the defaults apply, records are still listed."""
    assert CliRunner().invoke(cli, ["--root", str(ws.root), "process"]).exit_code == 0
    (ws.root / "qmsforms.toml").unlink()
    assert is_workspace(ws.root)
    result = CliRunner().invoke(cli, ["--root", str(ws.root), "records"])
    assert result.exit_code == 0


def test_the_real_command_exits_2_with_both_languages(wrong: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "QMSFORMS_ROOT"}
    done = subprocess.run([sys.executable, "-m", "qmsforms", "--root", str(wrong), "records"],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    assert done.returncode == 2
    assert "不是 qmsforms 工作区" in done.stderr and "not a qmsforms workspace" in done.stderr
    assert "Traceback" not in done.stderr and list(wrong.iterdir()) == []
