"""Intake throughput with 1, 2 and 4 watcher processes on one inbox, PostgreSQL beside SQLite.

``python -m benchmarks.run --only watchers``. Each run is a fresh workspace (and, for
PostgreSQL, a fresh database on a throwaway server started as the tests start theirs,
`tests.postgres`), N ``qmsforms watch`` processes on its inbox, each with a host of its own
(``QMSFORMS_HOST``), as N machines on one share would run; the whole workload is renamed into
the inbox at once and the clock runs from the drop to the last outcome in the ledger. Every
run is checked: one outcome per file, and exactly the records, rejections and duplicates the
workload holds. The engines and the watcher counts are interleaved round by round (the engine
order alternating), so the noise of a shared machine falls on both engines alike; the figure
is the median of the rounds.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl import load_workbook

from qmsforms.blanks import issue_blank
from qmsforms.excel.fill import fill_workbook
from qmsforms.intake import open_ledger
from qmsforms.workspace import Workspace, init_workspace

if TYPE_CHECKING:
    from benchmarks.run import Figure

ROOT = Path(__file__).resolve().parent.parent
ENGINES = ("sqlite", "postgresql")
COUNTS = (1, 2, 4)
COMMAND = "python -m benchmarks.run --only watchers"
SURVEY = {"period": "2026", "product_quality": 5, "delivery": 4, "packaging": 4,
          "appearance": 5, "service_attitude": 5, "response": 4, "complaint_handling": 3,
          "technical_support": 4, "price": 3}
INCOMPLETE = ("appearance", "service_attitude", "response", "complaint_handling",
              "technical_support", "price")
"""Answers left out of an invalid survey: three answers are fewer than the five it needs."""


@dataclass(frozen=True)
class Workload:
    """The files dropped at once and the outcomes they must end as."""

    files: list[Path]
    expected: Counter[str]


def make_workload(folder: Path, n: int) -> Workload:
    """``n`` filled satisfaction surveys as a department gets them back: one in ten invalid
    (alternately an incomplete survey and a file that is no workbook at all), one in twenty a
    byte-identical re-send of an earlier valid one, the rest valid, each its own customer."""
    ws = init_workspace(folder / "source")
    blank = issue_blank(ws, "satisfaction-survey", folder / "blank.xlsx")
    form = ws.registry.get("satisfaction-survey")
    out = folder / "files"
    out.mkdir()
    files: list[Path] = []
    expected: Counter[str] = Counter()
    valid: list[Path] = []
    for i in range(n):
        path = out / f"survey-{i:04d}.xlsx"
        if i % 10 == 9:
            if i % 20 == 9:
                path.write_bytes(os.urandom(4000))  # renamed to .xlsx by someone
            else:
                _fill(blank, form, {k: v for k, v in SURVEY.items() if k not in INCOMPLETE},
                      f"客户 {i:04d}", path)
            expected["rejected"] += 1
        elif i % 20 == 4 and valid:
            shutil.copyfile(valid[len(valid) // 2], path)  # sent again, byte for byte
            expected["duplicate"] += 1
        else:
            _fill(blank, form, SURVEY, f"客户 {i:04d}", path)
            valid.append(path)
            expected["record"] += 1
        files.append(path)
    return Workload(files, expected)


def _fill(blank: Path, form: Any, values: dict[str, Any], customer: str, path: Path) -> None:
    wb = load_workbook(blank)
    fill_workbook(wb, form, {**values, "customer": customer})
    wb.save(path)


@dataclass(frozen=True)
class Run:
    """One measured run: the engine, the watchers, seconds from drop to last outcome."""

    engine: str
    watchers: int
    seconds: float
    outcomes: Counter[str]
    left_in_inbox: int

    @property
    def rate(self) -> float:
        """Files per second."""
        return sum(self.outcomes.values()) / self.seconds


def _watcher(ws: Workspace, host: str, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("QMSFORMS_LEDGER", "QMSFORMS_ROOT", "QMSFORMS_SITE")}
    env["QMSFORMS_HOST"] = host
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    with log.open("wb") as sink:
        return subprocess.Popen([sys.executable, "-m", "qmsforms", "--root", str(ws.root),
                                 "watch", "--settle", "0.1", "--quiet"],
                                stdout=subprocess.DEVNULL, stderr=sink, cwd=ROOT, env=env)


def _until(cond: Any, timeout: float, procs: list[subprocess.Popen[bytes]],
           what: str, every: float = 0.05) -> None:
    end = time.monotonic() + timeout
    while not cond():
        dead = [p.returncode for p in procs if p.poll() is not None]
        if dead:
            raise RuntimeError(f"a watcher exited ({dead}) while waiting for {what}")
        if time.monotonic() > end:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(every)


def _watching(ws: Workspace, count: int) -> bool:
    import json

    folder = ws.state_dir / "watchers"
    states = []
    for path in folder.glob("*.json") if folder.is_dir() else []:
        try:
            states.append(json.loads(path.read_text(encoding="utf-8")).get("state"))
        except (OSError, ValueError):
            return False
    return states.count("watching") == count


def measure(tmp: Path, work: Workload, engine: str, count: int, url: str | None) -> Run:
    """One run: ``count`` watchers on a fresh workspace, the workload dropped at once."""
    ws = init_workspace(tmp / f"{engine}-{count}")
    if url is not None:
        with (ws.root / "qmsforms.toml").open("a", encoding="utf-8") as toml:
            toml.write(f'\n[ledger]\nurl = "{url}"\n')
        ws = Workspace(ws.root)
    for path in work.files:  # copied beside the inbox first: the drop is only renames
        shutil.copyfile(path, ws.inbox / f".{path.name}")
    procs = [_watcher(ws, f"bench-{i + 1}", tmp / f"{engine}-{count}-{i + 1}.log")
             for i in range(count)]
    try:
        _until(lambda: _watching(ws, count), 120, procs, "the watchers to start")
        with open_ledger(ws) as ledger:
            total = len(work.files)
            start = time.monotonic()
            for path in work.files:
                os.rename(ws.inbox / f".{path.name}", ws.inbox / path.name)
            _until(lambda: ledger.count("files") >= total, 1800, procs, "every outcome")
            seconds = time.monotonic() - start
            outcomes = Counter(f.outcome for f in ledger.files())
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(120)
    left = sum(1 for p in ws.inbox.iterdir() if p.is_file() and not p.name.startswith("."))
    return Run(engine, count, seconds, outcomes, left)


@contextmanager
def postgres_server() -> Iterator[Any]:
    """A throwaway PostgreSQL server (`tests.postgres`), or None when it cannot be had
    (psycopg or Debian's PostgreSQL binaries not installed)."""
    try:
        import psycopg  # noqa: F401

        from tests import postgres as pg
    except ImportError:
        yield None
        return
    if pg.binaries() is None:
        yield None
        return
    server = pg.start()
    try:
        yield server
    finally:
        server.stop()


def run_rounds(tmp: Path, n: int, rounds: int, counts: tuple[int, ...] = COUNTS,
               engines: tuple[str, ...] = ENGINES) -> tuple[list[Run], Workload, bool]:
    """Every engine × watcher count, ``rounds`` times interleaved; the runs, the workload and
    whether PostgreSQL was there to measure."""
    work = make_workload(tmp / "workload", n)
    runs: list[Run] = []
    with postgres_server() as server:
        have_pg = server is not None
        wanted = [e for e in engines if e == "sqlite" or have_pg]
        for r in range(rounds):
            for count in counts:
                for engine in (wanted if r % 2 == 0 else wanted[::-1]):
                    url = server.create() if engine == "postgresql" else None
                    try:
                        runs.append(measure(tmp / f"round-{r}", work, engine, count, url))
                    finally:
                        if url is not None:
                            server.drop(url)
                    print(f"    round {r + 1}: {engine}, {count} watcher(s): "
                          f"{runs[-1].rate:.1f} files/s", flush=True)
    return runs, work, have_pg


def lost(run: Run, work: Workload) -> bool:
    """Whether a run lost, doubled or misjudged anything."""
    return run.outcomes != work.expected or run.left_in_inbox != 0


def bench_watchers(tmp: Path, n: int, rounds: int,
                   counts: tuple[int, ...] = COUNTS) -> list[Figure]:
    """The figures: engine × watchers, files/s, ratio to 1 watcher and PG/SQLite (a
    PostgreSQL that is not installed gives rows that say so)."""
    from benchmarks.run import Figure

    runs, work, have_pg = run_rounds(tmp, n, rounds, counts)
    rate: dict[tuple[str, int], float] = {}
    ok: dict[tuple[str, int], bool] = {}
    for engine in ENGINES:
        for count in counts:
            these = [r for r in runs if (r.engine, r.watchers) == (engine, count)]
            if these:
                rate[engine, count] = statistics.median(r.rate for r in these)
                ok[engine, count] = not any(lost(r, work) for r in these)
    mix = ", ".join(f"{v} {k}s" if k != "record" else f"{v} records"
                    for k, v in sorted(work.expected.items()))
    figures = []
    for engine, label in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        for count in counts:
            name = (f"Intake of {n} files dropped at once, {label}, {count} watcher"
                    f"{'s' if count > 1 else ''} on one inbox")
            if (engine, count) not in rate:
                figures.append(Figure(name, "not installed", "PostgreSQL binaries or psycopg "
                                      "missing", None, "none lost", None, COMMAND))
                continue
            ours = rate[engine, count]
            one = rate[engine, 1]
            ref = f"1 watcher: {one:.1f} files/s"
            if engine == "postgresql":
                ref += (f"; PG/SQLite at {count}: {ours / rate['sqlite', count]:.2f}"
                        if ("sqlite", count) in rate else "")
            figures.append(Figure(name, f"{ours:.1f} files/s", ref, ours / one, "none lost",
                                  ok[engine, count], COMMAND))
    print(table(runs), flush=True)
    figures[0].notes.append(
        f"workload: {n} filled satisfaction surveys ({mix}); median of {rounds} interleaved "
        "rounds; ratio = files/s ÷ the same engine's 1 watcher"
        + ("" if have_pg else "; PostgreSQL not installed here, its rows were not measured"))
    return figures


def table(runs: list[Run]) -> str:
    """A markdown table of the medians (engine × watchers), for BENCHMARKS.md's note."""
    lines = ["| watchers | SQLite files/s | PostgreSQL files/s | PG/SQLite |", "|---|---|---|---|"]
    for count in sorted({r.watchers for r in runs}):
        med = {e: statistics.median([r.rate for r in runs if (r.engine, r.watchers) ==
                                     (e, count)] or [0.0]) for e in ENGINES}
        ratio = f"{med['postgresql'] / med['sqlite']:.2f}" if med["postgresql"] else "-"
        pg = f"{med['postgresql']:.1f}" if med["postgresql"] else "not installed"
        lines.append(f"| {count} | {med['sqlite']:.1f} | {pg} | {ratio} |")
    return "\n".join(lines)
