"""The documentation matches the code: command help, the README's command list and commands."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import click
import pytest

from qmsforms.cli import cli

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w*)[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and subcommand of ``group`` as its path of names."""
    paths: list[tuple[str, ...]] = []
    for name, command in sorted(group.commands.items()):
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths.extend(commands(command, (*prefix, name)))
    return paths


def lookup(path: tuple[str, ...]) -> click.Command:
    """The command at ``path`` below the ``qmsforms`` group."""
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def fenced_blocks() -> list[tuple[str, str]]:
    """The README's fenced code blocks as (language, body)."""
    return FENCE.findall(README)


@pytest.mark.parametrize("path", [(), *commands(cli)], ids=lambda p: " ".join(p) or "qmsforms")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    assert (lookup(path).help or "").strip()


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_readme_names_every_command(name: str) -> None:
    assert f"qmsforms {name}" in README


def test_readme_test_command_is_what_ci_runs() -> None:
    """.ci/run takes the README's second bash block itself and runs it in a fresh venv."""
    bash = [body for lang, body in fenced_blocks() if lang == "bash"]
    assert len(bash) >= 2
    script = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert 'python3 -m venv "$venv"' in script and 'eval "$command"' in script
    program = re.search(r"command=\"\$\(awk '([^']+)' README.md\)\"", script)
    assert program is not None
    taken = subprocess.run(["awk", program.group(1), str(REPO / "README.md")],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert taken == bash[1].strip()


def test_readme_installs_are_pinned() -> None:
    """Both newcomer commands install the versions in constraints.txt."""
    bash = [body for lang, body in fenced_blocks() if lang == "bash"]
    assert all("-c constraints.txt" in body for body in bash[:2])
    pins = dict(line.split("==") for line in
                (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines()
                if line and not line.startswith("#"))
    for needed in ("pydantic", "openpyxl", "python-calamine", "pytest", "lxml"):
        assert needed in pins


def test_readme_first_block_runs_the_demo() -> None:
    blocks = fenced_blocks()
    assert blocks
    assert "qmsforms demo" in blocks[0][1]


def test_the_readme_shows_the_default_limits() -> None:
    import tomllib

    from qmsforms.config import Config

    blocks = [tomllib.loads(body) for lang, body in fenced_blocks()
              if lang == "toml" and "[limits]" in body]
    assert len(blocks) == 1
    assert Config.model_validate(blocks[0]).limits == Config().limits
