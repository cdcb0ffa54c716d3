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
from collections.abc import Callable, Iterator
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
    """One measured run: the engine, the watchers, seconds from drop to last outcome, and the
    CPU seconds the watchers (with their reader processes) and the database server used
    meanwhile."""

    engine: str
    watchers: int
    seconds: float
    outcomes: Counter[str]
    left_in_inbox: int
    cpu_watchers: float = 0.0
    cpu_server: float = 0.0
    queued: float = 0.0
    """Seconds the watchers and the server were ready to run but waited for a core."""

    @property
    def rate(self) -> float:
        """Files per second."""
        return sum(self.outcomes.values()) / self.seconds


def cpu_seconds(pids: list[int]) -> tuple[float, float]:
    """Seconds on a CPU and seconds waiting for one (ready to run, another process on the
    core) of these processes, their threads and every process below them, from
    ``/proc/<pid>/task/<tid>/schedstat`` ((0, 0) without ``/proc``; a process that ended
    meanwhile is missed)."""
    ran = waited = 0.0
    seen: set[int] = set()
    todo = list(pids)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            for task in Path(f"/proc/{pid}/task").iterdir():
                on_cpu, on_queue = (task / "schedstat").read_text().split()[:2]
                ran, waited = ran + int(on_cpu) / 1e9, waited + int(on_queue) / 1e9
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return ran, waited


def _server_pid(server: Any) -> list[int]:
    try:
        return [int((server.folder / "data" / "postmaster.pid").read_text().split()[0])]
    except (AttributeError, OSError, ValueError, IndexError):
        return []


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


def measure(tmp: Path, work: Workload, engine: str, count: int, url: str | None,
            server_pids: list[int] | None = None) -> Run:
    """One run: ``count`` watchers on a fresh workspace, the workload dropped at once
    (``server_pids``: the database server's, whose CPU is counted too)."""
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
            watchers = [p.pid for p in procs]
            before = (cpu_seconds(watchers), cpu_seconds(server_pids or []))
            start = time.monotonic()
            for path in work.files:
                os.rename(ws.inbox / f".{path.name}", ws.inbox / path.name)
            _until(lambda: ledger.count("files") >= total, 1800, procs, "every outcome")
            seconds = time.monotonic() - start
            after = (cpu_seconds(watchers), cpu_seconds(server_pids or []))
            used = (after[0][0] - before[0][0], after[1][0] - before[1][0],
                    after[0][1] + after[1][1] - before[0][1] - before[1][1])
            outcomes = Counter(f.outcome for f in ledger.files())
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(120)
    left = sum(1 for p in ws.inbox.iterdir() if p.is_file() and not p.name.startswith("."))
    return Run(engine, count, seconds, outcomes, left, *used)


@contextmanager
def postgres_server() -> Iterator[Any]:
    """A throwaway PostgreSQL server (`tests.postgres`) with fsync and synchronous commits on,
    or None when it cannot be had (psycopg or Debian's PostgreSQL binaries not installed)."""
    try:
        import psycopg  # noqa: F401

        from tests import postgres as pg
    except ImportError:
        yield None
        return
    if pg.binaries() is None:
        yield None
        return
    server = pg.start(durable=True)  # fsync on, as SQLite syncs each commit
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
                        runs.append(measure(tmp / f"round-{r}", work, engine, count, url,
                                            _server_pid(server) if url else None))
                    finally:
                        if url is not None:
                            server.drop(url)
                    done = runs[-1]
                    print(f"    round {r + 1}: {engine}, {count} watcher(s): "
                          f"{done.rate:.1f} files/s; CPU a file: watchers "
                          f"{done.cpu_watchers / n * 1000:.0f} ms, server "
                          f"{done.cpu_server / n * 1000:.0f} ms, waiting for a core "
                          f"{done.queued / n * 1000:.0f} ms; busy {busy(done):.0%} of the "
                          f"cores; {'LOST OR DOUBLED' if lost(done, work) else 'none lost'}",
                          flush=True)
    return runs, work, have_pg


def busy(run: Run) -> float:
    """The share of the machine's cores the watchers and the server kept busy."""
    return (run.cpu_watchers + run.cpu_server) / (run.seconds * (os.cpu_count() or 1))


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


def _median(runs: list[Run], what: Callable[[Run], float]) -> float:
    return statistics.median([what(r) for r in runs] or [0.0])


def _per_file(run: Run, seconds: float) -> float:
    """Milliseconds a file."""
    return seconds / max(1, sum(run.outcomes.values())) * 1000


def table(runs: list[Run]) -> str:
    """A markdown table of the medians (engine × watchers) for BENCHMARKS.md's note: files/s,
    PG/SQLite, and per file the CPU used (the server's part in brackets) and the time spent
    ready to run but waiting for a core."""
    lines = ["| watchers | SQLite files/s | PostgreSQL files/s | PG/SQLite | SQLite CPU, "
             "core wait a file | PostgreSQL CPU (server), core wait a file |",
             "|---|---|---|---|---|---|"]
    for count in sorted({r.watchers for r in runs}):
        these = {e: [r for r in runs if (r.engine, r.watchers) == (e, count)] for e in ENGINES}
        rate = {e: _median(these[e], lambda r: r.rate) for e in ENGINES}
        cpu = {e: _median(these[e], lambda r: _per_file(r, r.cpu_watchers + r.cpu_server))
               for e in ENGINES}
        wait = {e: _median(these[e], lambda r: _per_file(r, r.queued)) for e in ENGINES}
        server = _median(these["postgresql"], lambda r: _per_file(r, r.cpu_server))
        if these["postgresql"]:
            pg = (f"{rate['postgresql']:.1f} | {rate['postgresql'] / rate['sqlite']:.2f} | "
                  f"{cpu['sqlite']:.0f} ms, {wait['sqlite']:.0f} ms | {cpu['postgresql']:.0f} "
                  f"({server:.0f}) ms, {wait['postgresql']:.0f} ms")
        else:
            pg = (f"not installed | - | {cpu['sqlite']:.0f} ms, {wait['sqlite']:.0f} ms | "
                  "not installed")
        lines.append(f"| {count} | {rate['sqlite']:.1f} | {pg} |")
    return "\n".join(lines)
