"""Run mutants through `validate_file` and classify what came back.

Outcomes: ``valid-same`` (VALID, the seed's data), ``refused`` (not VALID, with codes),
``false-refusal`` (a meaning-preserving respelling refused), ``violation`` (VALID with other
data, or VALID where a refusal is required), ``crash`` (an exception escaped validate_file),
``hang`` and ``abort`` (pooled runs only: past the time cap, or the worker process died, by
a native abort, a signal or its address-space limit), ``n/a`` (the operator found nothing to
mutate) and ``harness-error`` (the operator failed).

Pooled runs also measure each mutant's peak resident memory in its worker (``rss_mb``: the
worker's peak is reset before each mutant, on Linux).
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import random
import re
import tempfile
import time
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from qmsforms.workspace import Workspace

from . import ops_docx, ops_generic, ops_xlsx  # noqa: F401  (they register the operators)
from .mutation import REGISTRY, Expect, Mutation, Operator, operators_for
from .seeds import Seed, validate_bytes

OUTCOMES = ("valid-same", "refused", "false-refusal", "violation", "crash", "hang", "abort",
            "n/a", "harness-error")
ROUND = 100_000
"""Mutant numbers of base seed ``s`` are ``s * ROUND + round``."""


@dataclass(frozen=True)
class Key:
    """What reproduces one mutant: seed form and format, operator, random seed."""

    form: str
    fmt: str
    op: str
    n: int

    def __str__(self) -> str:
        return f"{self.form}:{self.fmt}:{self.op}:{self.n}"

    @classmethod
    def parse(cls, text: str) -> Key:
        """``complaint:docx:run_split:7`` -> Key."""
        form, fmt, op, n = text.rsplit(":", 3)
        return cls(form, fmt, op, int(n))


@dataclass(frozen=True)
class Result:
    """What one mutant did."""

    key: str
    op: str
    fmt: str
    outcome: str
    expect: str = ""
    note: str = ""
    codes: tuple[str, ...] = ()
    detail: str = ""
    """The data diff of a violation, or the exception of a crash."""
    rss_mb: float = 0.0
    """Peak resident memory of the worker while it read this mutant (pooled runs only)."""


def plan(seeds: Sequence[Seed], count: int, base: int = 0) -> list[Key]:
    """``count`` mutant keys, round-robin over every (seed, operator) pair."""
    pairs = [(s, op) for s in seeds for op in operators_for(s.fmt)]
    return [Key(s.form, s.fmt, op.name, base * ROUND + i // len(pairs))
            for i, (s, op) in ((i, pairs[i % len(pairs)]) for i in range(count))]


def mutate(seed: Seed, key: Key) -> Mutation | None:
    """The mutant of ``key`` (deterministic: same key, same bytes)."""
    op: Operator = REGISTRY[key.op, key.fmt]
    return op.mutate(random.Random(str(key)), seed)


def diff(want: Any, got: Any, path: str = "") -> list[str]:
    """Where two data trees differ: ``path: expected -> read`` lines."""
    if isinstance(want, dict) and isinstance(got, dict):
        out = []
        for name in list(want) + [k for k in got if k not in want]:
            out += diff(want.get(name), got.get(name), f"{path}.{name}" if path else name)
        return out
    if isinstance(want, list) and isinstance(got, list):
        out = [f"{path}: {len(want)} items -> {len(got)}"] if len(want) != len(got) else []
        for i, (a, b) in enumerate(zip(want, got, strict=False)):
            out += diff(a, b, f"{path}[{i}]")
        return out
    return [] if want == got else [f"{path}: {want!r} -> {got!r}"]


def classify(key: Key, mutation: Mutation, report: Any, oracle: dict[str, Any]) -> Result:
    """The outcome of one validated mutant."""
    want = mutation.expected if mutation.expected is not None else oracle
    codes = tuple(sorted({i.code for i in report.errors}))
    base = dict(key=str(key), op=key.op, fmt=key.fmt, expect=mutation.expect.value,
                note=mutation.note, codes=codes)
    if report.valid:
        if mutation.expect is Expect.REFUSE:
            return Result(outcome="violation", detail="VALID, but must be refused", **base)
        changes = diff(want, report.data)
        if changes:
            return Result(outcome="violation", detail="\n".join(changes), **base)
        return Result(outcome="valid-same", **base)
    if mutation.expect is Expect.SAME:
        said = "\n".join(f"{i.code} {i.field or ''} {i.cell or ''}: {i.message_en}"[:200]
                         for i in report.errors[:3])
        return Result(outcome="false-refusal", detail=said, **base)
    return Result(outcome="refused", **base)


def check(seed: Seed, key: Key, workspace: Workspace, folder: Path) -> Result:
    """Mutate, validate and classify one key; never raises."""
    base = dict(key=str(key), op=key.op, fmt=key.fmt)
    try:
        mutation = mutate(seed, key)
    except Exception:
        return Result(outcome="harness-error", detail=traceback.format_exc(limit=3), **base)
    if mutation is None:
        return Result(outcome="n/a", **base)
    try:
        report = validate_bytes(mutation.data, key.fmt, workspace, folder)
    except BaseException as exc:  # a panic in native code is a BaseException
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return Result(outcome="crash", expect=mutation.expect.value, note=mutation.note,
                      detail=f"{type(exc).__name__}: {exc} [{Path(where.filename).name}:"
                             f"{where.lineno}]"[:400], **base)
    return classify(key, mutation, report, seed.oracle)


def run_local(seeds: Sequence[Seed], keys: Iterable[Key], workspace: Workspace) -> list[Result]:
    """Run ``keys`` one after the other in this process (the test-suite size)."""
    by_name = {s.name: s for s in seeds}
    with tempfile.TemporaryDirectory(prefix="qmsforms-fuzz-") as tmp:
        return [check(by_name[f"{k.form}:{k.fmt}"], k, workspace, Path(tmp)) for k in keys]


# -- pooled runs with a time cap per mutant -----------------------------------------------

def _reset_peak() -> None:
    """Start measuring this process's peak resident memory afresh (Linux; else a no-op)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_mb() -> float:
    """This process's peak resident memory since `_reset_peak` (or since it started)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    return int(found.group(1)) / 1024 if found else 0.0


def _worker(conn: Connection, seeds: list[Seed], root: str, memory_mb: int) -> None:
    if memory_mb:
        import resource

        limit = memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    workspace = Workspace(root)
    by_name = {s.name: s for s in seeds}
    with tempfile.TemporaryDirectory(prefix="qmsforms-fuzz-") as tmp:
        while True:
            text = conn.recv()
            if text is None:
                return
            key = Key.parse(text)
            _reset_peak()
            result = check(by_name[f"{key.form}:{key.fmt}"], key, workspace, Path(tmp))
            conn.send(replace(result, rss_mb=peak_mb()))


class _Slot:
    """One worker process and the key it is working on."""

    def __init__(self, ctx: Any, seeds: list[Seed], root: str, memory_mb: int) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(child, seeds, root, memory_mb),
                                daemon=True)
        self.proc.start()
        child.close()
        self.key: Key | None = None
        self.started = 0.0

    def give(self, key: Key) -> None:
        self.key, self.started = key, time.monotonic()
        self.conn.send(str(key))

    def stop(self) -> None:
        self.proc.kill()
        self.proc.join()
        self.conn.close()


def run_pool(seeds: Sequence[Seed], keys: Sequence[Key], workspace_root: str | Path,
             workers: int = 2, timeout: float = 30.0, memory_mb: int = 0,
             progress: Any = None) -> list[Result]:
    """Run ``keys`` in ``workers`` processes; a mutant past ``timeout`` seconds is a hang,
    a worker that dies (native abort, memory limit) an abort; both get a fresh worker."""
    ctx = mp.get_context("spawn")
    todo = list(reversed(keys))
    seed_list, root = list(seeds), str(workspace_root)
    slots = [_Slot(ctx, seed_list, root, memory_mb) for _ in range(max(1, workers))]
    results: list[Result] = []
    try:
        for slot in slots:
            if todo:
                slot.give(todo.pop())
        while any(s.key is not None for s in slots):
            busy = [s for s in slots if s.key is not None]
            ready = wait([s.conn for s in busy] + [s.proc.sentinel for s in busy], timeout=0.5)
            now = time.monotonic()
            for i, slot in enumerate(slots):
                if slot.key is None:
                    continue
                key = slot.key
                base = dict(key=str(key), op=key.op, fmt=key.fmt)
                if slot.conn in ready:
                    try:
                        results.append(slot.conn.recv())
                    except (EOFError, OSError):
                        results.append(Result(outcome="abort", **base))
                        slot.stop()
                        slots[i] = slot = _Slot(ctx, seed_list, root, memory_mb)
                elif slot.proc.sentinel in ready or not slot.proc.is_alive():
                    results.append(Result(outcome="abort",
                                          detail=f"exit code {slot.proc.exitcode}", **base))
                    slot.stop()
                    slots[i] = slot = _Slot(ctx, seed_list, root, memory_mb)
                elif now - slot.started > timeout:
                    results.append(Result(outcome="hang", detail=f"over {timeout:g} s", **base))
                    slot.stop()
                    slots[i] = slot = _Slot(ctx, seed_list, root, memory_mb)
                else:
                    continue
                slot.key = None
                if progress is not None:
                    progress(len(results), len(keys))
                if todo:
                    slot.give(todo.pop())
    finally:
        for slot in slots:
            if slot.proc.is_alive():
                slot.conn.send(None)
                slot.proc.join(timeout=5)
            slot.stop()
    return results
