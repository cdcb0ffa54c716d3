"""Shared fixtures: fresh workspaces, filled forms and a LibreOffice converter."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from qmsforms.blanks import issue_blank
from qmsforms.excel.fill import fill_workbook
from qmsforms.workspace import Workspace, init_workspace

REPO = Path(__file__).resolve().parent.parent

VALID: dict[str, dict[str, Any]] = {
    "shipping-list": {
        "doc_no": "FH-001", "customer": "华东汽车", "ship_date": "2026-11-03",
        "lines": [{"part_name": "螺栓 M8", "batch_no": "B1", "quantity": 100,
                   "unit_price": 0.5, "amount": 50}],
    },
    "complaint": {
        "ticket_no": "TS-1", "customer": "华东汽车", "received_at": "2026-11-03 09:00",
        "filed_at": "2026-11-03 10:00", "category": "quality", "description": "焊缝开裂",
    },
    "satisfaction-survey": {
        "customer": "华东汽车", "period": "2026", "product_quality": 5, "delivery": 4,
        "packaging": 4, "appearance": 3, "service_attitude": 5,
    },
    "service-evaluation": {
        "customer": "华东汽车", "service_ref": "SV-1", "response_speed": 9, "resolution": 8,
        "expertise": 10, "attitude": 7, "clarity": 9,
    },
    "satisfaction-monitoring": {
        "customer": "华东汽车", "month": "2026-11", "performance_rate": 95,
    },
    "corrective-action": {
        "action_no": "CA-2026-0001", "source": "complaint", "source_ref": "TS-1",
        "raised_on": "2026-11-03", "problem": "焊缝开裂",
    },
}
"""The smallest valid filling of every form; tests start from it and break one thing."""


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """A fresh workspace made by ``init`` (default config, templates and schemas)."""
    return init_workspace(tmp_path / "ws")


LogoFn = Callable[..., None]


@pytest.fixture
def add_logo(tmp_path: Path) -> LogoFn:
    """``add_logo(workbook, "A1")``: put a small picture (a logo) on the first sheet, as a
    quality engineer does in Excel, and save the workbook (openpyxl, with Pillow)."""
    from openpyxl.drawing.image import Image
    from PIL import Image as PILImage

    def add(path: Path, anchor: str = "A1") -> None:
        logo = tmp_path / f"logo-{uuid.uuid4().hex[:8]}.png"
        PILImage.new("RGB", (90, 30), (200, 30, 30)).save(logo)
        wb = load_workbook(path)
        wb.worksheets[0].add_image(Image(str(logo)), anchor)
        wb.save(path)

    return add


@pytest.fixture
def repo_ws() -> Workspace:
    """The repository root as a workspace (the shipped defaults)."""
    return Workspace(REPO)


FillFn = Callable[..., Path]


@pytest.fixture
def make_filled(ws: Workspace, tmp_path: Path) -> FillFn:
    """Issue a blank and fill it: ``make_filled(form_id, data=None, **overrides)``.

    ``data`` replaces the VALID filling; keyword overrides change single fields (a value of
    ``None`` removes the field).
    """

    def make(form_id: str, data: dict[str, Any] | None = None, *, lang: str = "both",
             workspace: Workspace | None = None, **overrides: Any) -> Path:
        space = workspace or ws
        values = dict(VALID[form_id] if data is None else data)
        for key, value in overrides.items():
            if value is None:
                values.pop(key, None)
            else:
                values[key] = value
        path = tmp_path / f"{form_id}-{uuid.uuid4().hex[:6]}.xlsx"
        issue_blank(space, form_id, path, lang=lang)
        wb = load_workbook(path)
        fill_workbook(wb, space.registry.get(form_id), values, lang)
        wb.save(path)
        return path

    return make


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.fixture(scope="session")
def soffice(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path, str], Path]:
    """Convert a file with LibreOffice: ``soffice(path, "xlsx")`` returns the new file.

    A private profile per session (shared profiles make concurrent runs silently produce
    nothing), output in a separate folder (same-folder output fails with exit code 0), and the
    output's existence checked, because soffice exits 0 on several failures.
    """
    binary = _soffice()
    if binary is None:
        if os.environ.get("QMSFORMS_REQUIRE_SOFFICE"):
            pytest.fail("LibreOffice (soffice) is required here but not installed")
        pytest.skip("LibreOffice (soffice) is not installed")
    profile = tmp_path_factory.mktemp("lo-profile")
    filters = {"xlsx": "xlsx:Calc MS Excel 2007 XML", "docx": "docx:MS Word 2007 XML",
               "pdf": "pdf"}

    def convert(path: Path, fmt: str) -> Path:
        out_dir = tmp_path_factory.mktemp("lo-out")
        result = subprocess.run(
            [binary, f"-env:UserInstallation={profile.as_uri()}", "--headless",
             "--convert-to", filters[fmt], "--outdir", str(out_dir), str(path)],
            capture_output=True, text=True, timeout=180, check=False,
        )
        produced = out_dir / f"{path.stem}.{fmt}"
        if not produced.is_file():
            raise AssertionError(f"soffice produced nothing: {result.stdout} {result.stderr}")
        return produced

    return convert


UNO_PYTHONS = ("/usr/bin/python3", "python3", "python")
"""Where a Python with LibreOffice's ``uno`` module is looked for, in this order."""

OfficeFn = Callable[[list[dict[str, Any]]], list[Path]]


def _required(what: str) -> None:
    if os.environ.get("QMSFORMS_REQUIRE_CLIENTS") or os.environ.get("QMSFORMS_REQUIRE_SOFFICE"):
        pytest.fail(f"{what} is required here but not installed")
    pytest.skip(f"{what} is not installed")


def _uno_python() -> str | None:
    for candidate in UNO_PYTHONS:
        found = shutil.which(candidate)
        if found is None:
            continue
        probe = subprocess.run([found, "-c", "import uno"], capture_output=True, timeout=60,
                               check=False)
        if probe.returncode == 0:
            return found
    return None


@pytest.fixture(scope="session")
def office(tmp_path_factory: pytest.TempPathFactory) -> OfficeFn:
    """Type into forms in a real LibreOffice: ``office(jobs)`` returns the files it saved.

    Each job is ``{"open": path, "save": path, "steps": [...]}`` with the Calc or Writer
    steps of `tests.clients.uno_office`; one call starts one soffice for all its jobs, with
    the session's private zh-CN profile. Fails when soffice reports an error or a file it
    should have saved is missing.
    """
    if _soffice() is None:
        _required("LibreOffice (soffice)")
    python = _uno_python()
    if python is None:
        _required("a Python with LibreOffice's uno module (python3-uno)")
    assert python is not None
    driver = Path(__file__).parent / "clients" / "uno_office.py"
    profile = tmp_path_factory.mktemp("uno-profile")

    def run(jobs: list[dict[str, Any]]) -> list[Path]:
        request = {"profile": str(profile),
                   "jobs": [{**job, "open": str(job["open"]), "save": str(job["save"])}
                            for job in jobs]}
        result = subprocess.run([str(python), str(driver)], input=json.dumps(request),
                                capture_output=True, text=True, check=False,
                                timeout=180 + 60 * len(jobs))
        lines = result.stdout.strip().splitlines()
        outcome = json.loads(lines[-1]) if lines else {"error": result.stderr[-2000:]}
        if result.returncode or "error" in outcome:
            raise AssertionError(f"LibreOffice session failed: {outcome.get('error')}\n"
                                 f"{result.stderr[-3000:]}")
        saved = [Path(p) for p in outcome["saved"]]
        missing = [p for p in saved if not p.is_file()]
        if missing or len(saved) != len(jobs):
            raise AssertionError(f"LibreOffice saved {saved}, missing {missing}")
        return saved

    return run


GnumericFn = Callable[[Path], Path]
"""Re-save a workbook with Gnumeric's ssconvert; returns the new file."""


@pytest.fixture(scope="session")
def gnumeric(tmp_path_factory: pytest.TempPathFactory) -> GnumericFn:
    """``gnumeric(path)`` re-saves an .xlsx through Gnumeric (``ssconvert``), a real writer."""
    binary = shutil.which("ssconvert")
    if binary is None:
        _required("Gnumeric (ssconvert)")
    assert binary is not None

    def convert(path: Path) -> Path:
        out = tmp_path_factory.mktemp("gnumeric") / path.name
        result = subprocess.run([binary, "--export-type=Gnumeric_Excel:xlsx2", str(path),
                                 str(out)], capture_output=True, text=True, timeout=120,
                                check=False, env={**os.environ, "HOME": str(out.parent)})
        if not out.is_file():
            raise AssertionError(f"ssconvert produced nothing: {result.stderr}")
        return out

    return convert


# -- the ledger's files: damage, a writer killed with it open, chattr +i ----------------------

@pytest.fixture
def damage() -> Callable[[Path], None]:
    """``damage(path)``: garbage over every page of an SQLite file from the third on (the
    file must be checkpointed, i.e. closed by its last writer)."""

    def overwrite(path: Path) -> None:
        data = bytearray(path.read_bytes())
        page = int.from_bytes(data[16:18], "big")
        assert len(data) > 3 * page
        rng = random.Random(13)
        data[2 * page:] = bytes(rng.randrange(256) for _ in range(len(data) - 2 * page))
        path.write_bytes(bytes(data))

    return overwrite


@pytest.fixture
def leave_wal() -> Callable[[Path], None]:
    """``leave_wal(ledger)``: a writer killed with the ledger open, its -wal and -shm left
    behind (and mapped by no live process)."""

    def leave(path: Path) -> None:
        script = (
            "import os, signal, sqlite3, sys\n"
            "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "db.execute('INSERT INTO events (kind) VALUES (\"left\")')\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n")
        result = subprocess.run([sys.executable, "-c", script, str(path)], check=False)
        assert result.returncode == -signal.SIGKILL
        assert Path(f"{path}-wal").exists() and Path(f"{path}-shm").exists()

    return leave


@pytest.fixture
def immutable(tmp_path: Path) -> Iterator[Callable[..., None]]:
    """``immutable(*paths)``: real ``chattr +i``, undone at teardown; skips where the file
    system (or a user who is not root) does not allow it."""
    probe = tmp_path / "chattr-probe"
    probe.write_text("x")
    try:
        result = subprocess.run(["chattr", "+i", str(probe)], capture_output=True, text=True,
                                check=False)
    except FileNotFoundError:
        pytest.skip("chattr is not installed")
    if result.returncode != 0:
        pytest.skip(f"chattr +i does not work here: {result.stderr.strip()}")
    try:
        assert not os.access(probe, os.W_OK)  # even for root
    finally:
        subprocess.run(["chattr", "-i", str(probe)], check=True)
    done: list[Path] = []

    def set_immutable(*paths: Path) -> None:
        for path in paths:
            subprocess.run(["chattr", "+i", str(path)], check=True)
            done.append(path)

    yield set_immutable
    for path in reversed(done):
        subprocess.run(["chattr", "-i", str(path)], check=False)


# -- PostgreSQL: a throwaway server per session, a fresh database per test ---------------------

@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """A throwaway PostgreSQL server (`tests.postgres.Server`) for the whole session.

    Skips where Debian's PostgreSQL binaries or psycopg are missing, except with
    ``QMSFORMS_REQUIRE_POSTGRES=1`` (CI), where the tests fail instead.
    """
    from tests import postgres as pg

    required = bool(os.environ.get("QMSFORMS_REQUIRE_POSTGRES"))
    try:
        import psycopg  # noqa: F401
    except ImportError:
        if required:
            pytest.fail("psycopg is required here but not installed (pip install '.[test]')")
        pytest.skip("psycopg is not installed")
    if pg.binaries() is None:
        if required:
            pytest.fail(f"PostgreSQL ({pg.BINARIES}/initdb) is required here but not installed")
        pytest.skip("PostgreSQL (initdb, pg_ctl) is not installed")
    server = pg.start()
    yield server
    server.stop()


@pytest.fixture
def pg_url(postgres: Any) -> Iterator[str]:
    """The URL of a fresh, empty database of this test's own on the session's server."""
    url = postgres.create()
    yield url
    postgres.drop(url)


@pytest.fixture(scope="session", autouse=True)
def _no_ledger_url_from_outside() -> Iterator[None]:
    """A ``QMSFORMS_LEDGER`` in the shell that runs the tests would put every test's
    workspace into one database: the tests choose the engine themselves (`ledger_url`)."""
    with ledger_env(None):
        yield


ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
"""The ledger engines a test parametrised with `ledger_url` runs against."""

SQLITE_ONLY = pytest.mark.parametrize("ledger_url", ["sqlite"], indirect=True)
"""For a test of a module run on both engines that is about the SQLite file itself (deleted,
truncated, read-only): it runs on SQLite only."""


@contextlib.contextmanager
def ledger_env(url: str | None) -> Iterator[None]:
    """``QMSFORMS_LEDGER`` set to ``url`` (removed for None), restored afterwards.

    Not through ``monkeypatch``: tests that undo their own patches midway
    (``monkeypatch.undo()``) would take the ledger's engine away with them.
    """
    before = os.environ.get("QMSFORMS_LEDGER")
    os.environ.pop("QMSFORMS_LEDGER", None)
    if url is not None:
        os.environ["QMSFORMS_LEDGER"] = url
    try:
        yield
    finally:
        os.environ.pop("QMSFORMS_LEDGER", None)
        if before is not None:
            os.environ["QMSFORMS_LEDGER"] = before


@pytest.fixture(params=ENGINES)
def ledger_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """Each ledger engine in turn: None for SQLite, or the URL of a fresh PostgreSQL database,
    also set as ``QMSFORMS_LEDGER`` (for this process and the watchers it starts)."""
    url = None if request.param == "sqlite" else request.getfixturevalue("pg_url")
    with ledger_env(url):
        yield url
