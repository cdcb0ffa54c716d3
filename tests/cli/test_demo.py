"""``qmsforms demo --dir`` never writes into an existing workspace or folder: pointed at a live
workspace it once added its sample records to the ledger and its customer to qmsforms.toml."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from click.testing import CliRunner, Result

from qmsforms.cli import cli
from qmsforms.intake import Ledger
from qmsforms.workspace import Workspace, init_workspace

from ..conftest import FillFn


def run(*args: str) -> Result:
    """Invoke the CLI."""
    return CliRunner().invoke(cli, list(args))


def tree(root: Path) -> dict[str, str]:
    """Every file below ``root`` with the digest of its content."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_demo_refuses_a_workspace_with_records(ws: Workspace, make_filled: FillFn) -> None:
    shutil.copyfile(make_filled("shipping-list"), ws.inbox / "ship.xlsx")
    assert run("--root", str(ws.root), "process", "--settle", "0.05").exit_code == 0
    before = tree(ws.root)
    result = run("demo", "--dir", str(ws.root))
    assert result.exit_code == 2
    assert "Traceback" not in result.output and str(ws.root) in result.output
    assert tree(ws.root) == before
    with Ledger(ws.state_dir / "ledger.sqlite") as ledger:
        assert ledger.count("records") == 1


def test_the_demo_refuses_any_existing_folder_but_an_empty_one(tmp_path: Path) -> None:
    fresh = init_workspace(tmp_path / "fresh").root  # a workspace without records yet
    before = tree(fresh)
    assert run("demo", "--dir", str(fresh)).exit_code == 2
    assert tree(fresh) == before
    other = tmp_path / "papers"
    other.mkdir()
    (other / "notes.txt").write_text("mine", encoding="utf-8")
    assert run("demo", "--dir", str(other)).exit_code == 2
    assert tree(other) == {"notes.txt": hashlib.sha256(b"mine").hexdigest()}
    a_file = tmp_path / "a-file"
    a_file.write_text("x", encoding="utf-8")
    assert run("demo", "--dir", str(a_file)).exit_code == 2


def test_the_demo_runs_in_an_empty_folder(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("demo", "--dir", str(empty))
    assert result.exit_code == 0, result.output
    with Ledger(empty / ".qmsforms" / "ledger.sqlite") as ledger:
        assert ledger.count("records") == 12
