"""The shape of the package: no import circle, modules a person can read, types that check,
and a one-file `validate` that loads only what reading a workbook needs."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from qmsforms.workspace import Workspace

from .conftest import FillFn

PACKAGE = Path(__file__).resolve().parents[1] / "qmsforms"
MAX_LINES = 450


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the qmsforms modules it imports anywhere (top level, in functions, or under
    TYPE_CHECKING). ``from pkg import mod`` counts as importing ``pkg.mod`` only."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    parts = parts[:len(parts) - node.level + 1]
                    base = ".".join([*parts, *([node.module] if node.module else [])])
                subs = [f"{base}.{alias.name}" for alias in node.names]
                targets = subs if all(s in modules for s in subs) else [base, *subs]
            else:
                continue
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle() -> None:
    assert circles(import_graph()) == []


def test_circles_are_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]


def test_no_module_over_450_lines() -> None:
    long = {name: n for name, path in _modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_library_never_imports_the_public_api_or_the_cli() -> None:
    graph = import_graph()
    inward = sorted(name for name, targets in graph.items()
                    if not name.startswith(("qmsforms.cli", "qmsforms.__main__"))
                    and targets & {"qmsforms", *(m for m in graph if m.startswith("qmsforms.cli"))})
    assert inward == []


def test_mypy_finds_no_error() -> None:
    done = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary"],
                          cwd=PACKAGE.parent, capture_output=True, text=True)
    assert done.stdout.splitlines() == [], done.stdout[-3000:] + done.stderr[-2000:]
    assert done.returncode == 0, done.stderr[-2000:]


def test_validating_a_workbook_loads_no_writer_and_no_watcher(make_filled: FillFn,
                                                               ws: Workspace) -> None:
    path = make_filled("shipping-list")
    code = ("import sys; from qmsforms.validate import validate_file; "
            "from qmsforms.workspace import Workspace; "
            "report = validate_file(sys.argv[1], Workspace(sys.argv[2])); "
            "assert report.valid, report.to_dict(); "
            "print(sorted(m for m in ('docx', 'jinja2', 'docxtpl', 'watchdog', 'click') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code, str(path), str(ws.root)],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_wing_never_reaches_into_the_other() -> None:
    """The Excel and Word wings stand side by side on the shared layers; the package layer
    and the shared modules below them import neither wing."""
    graph = import_graph()
    wings = ("qmsforms.excel", "qmsforms.word")
    crossing = sorted(
        (name, target) for name, targets in graph.items() for target in targets
        for own, other in (wings, wings[::-1])
        if (name == own or name.startswith(own + ".")) and target.startswith(other))
    assert crossing == []
    below = ("qmsforms.opc", "qmsforms.issues", "qmsforms.fields", "qmsforms.normalize",
             "qmsforms.safety", "qmsforms.xml_head", "qmsforms.identity", "qmsforms.extraction",
             "qmsforms.checks", "qmsforms.registry", "qmsforms.config")
    upward = sorted((name, target) for name, targets in graph.items() if name.startswith(below)
                    for target in targets if target.startswith(wings))
    assert upward == []
