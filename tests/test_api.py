"""The public API named in ``qmsforms.__all__`` resolves, and importing qmsforms stays cheap."""

from __future__ import annotations

import subprocess
import sys

import pytest

import qmsforms


@pytest.mark.parametrize("name", [n for n in qmsforms.__all__ if n != "__version__"])
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(qmsforms, name) is not None
    assert name in dir(qmsforms)


def test_all_names_exactly_the_lazy_names() -> None:
    assert sorted(qmsforms.__all__) == sorted(["__version__", *qmsforms._PUBLIC])


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        qmsforms.no_such_thing  # noqa: B018


def test_importing_qmsforms_imports_no_reader() -> None:
    code = ("import sys, qmsforms; "
            "print(sorted(m for m in ('openpyxl', 'pydantic', 'python_calamine') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


def test_the_library_quick_start_works(tmp_path: pytest.TempPathFactory) -> None:
    from qmsforms import Workspace, init_workspace, issue_blank, validate_file

    ws = init_workspace(tmp_path / "ws")  # type: ignore[operator]
    assert isinstance(ws, Workspace)
    blank = issue_blank(ws, "shipping-list", ws.root / "blank.xlsx")
    report = validate_file(blank, ws)
    assert not report.valid and "REQUIRED" in report.codes()


def test_the_readme_library_example_imports_what_it_uses() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Library", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    first = block.strip().splitlines()[0]
    assert first.startswith("from qmsforms import ")
    for name in first.removeprefix("from qmsforms import ").split(", "):
        assert name in qmsforms.__all__
