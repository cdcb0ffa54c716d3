"""Reading returned files in a child process with a memory and a time limit (SPEC §7).

A returned file is untrusted input read by native code (python-calamine is Rust, lxml is C).
A file that makes a reader abort, allocate without bound or loop must cost one rejection, not
the watcher. So the intake never reads a returned file in its own process: a `ReaderProcess`
keeps one child (started with ``spawn``, so it shares no threads or locks with the watcher)
that validates, annotates and writes record copies. The child runs under ``RLIMIT_AS``; the
parent waits for each answer at most ``timeout`` seconds. A child that dies, runs out of memory
or takes too long is replaced by a fresh one, and the caller gets a `ReadFailed` carrying the
code of the rejection to give if the file keeps failing.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import tempfile
import traceback
from dataclasses import dataclass
from datetime import date
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ..issues import Code, Report

log = logging.getLogger(__name__)

_MiB = 1024 * 1024


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on reading one returned file (configurable in ``qmsforms.toml``)."""

    timeout: float = 120.0  # seconds for one file
    memory_mb: int = 3072  # address space of the reader process
    attempts: int = 2  # reads of one file before it is refused as a poison file


class ReadFailed(Exception):
    """The reader could not finish a file: it died, ran out of memory or time, or raised."""

    def __init__(self, code: Code, detail: str) -> None:
        super().__init__(f"{code.name}: {detail}")
        self.code = code
        self.detail = detail


# -- the child ------------------------------------------------------------------------------------

def _limit_memory(memory_mb: int) -> None:
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows: the time limit still applies
        return
    limit = memory_mb * _MiB
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _op_validate(ws: Any, path: str, name: str, today: date | None) -> Report:
    from ..validate import validate_path

    report = Report(path=name)
    validate_path(Path(path), ws, report, today)
    return report


def _op_annotate(ws: Any, path: str, report: Report, out: str) -> bool:
    if Path(path).suffix.lower() == ".docx":
        from ..word.annotate import annotate_word

        return annotate_word(Path(path), report, Path(out)) is not None
    from ..templates import annotate

    return annotate(path, report, out) is not None


def _op_record_copy(ws: Any, source: str, target: str, record: dict[str, Any]) -> None:
    from .outputs import write_record_sheet_copy

    write_record_sheet_copy(Path(source), Path(target), record)


_OPS = {"validate": _op_validate, "annotate": _op_annotate, "record_copy": _op_record_copy}


def _serve(conn: Connection, root: str, memory_mb: int, stderr_path: str) -> None:
    """The child's loop: one request in, one answer out, until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    with contextlib.suppress(OSError):
        fd = os.open(stderr_path, os.O_WRONLY | os.O_APPEND)
        os.dup2(fd, 2)
        os.close(fd)
    from ..workspace import Workspace

    ws = Workspace(root)
    _limit_memory(memory_mb)
    while True:
        try:
            op, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            answer: tuple[Any, ...] = ("ok", _OPS[op](ws, *args))
        except MemoryError:
            answer = ("failed", Code.READ_MEMORY.name, f"{memory_mb} MB")
        except Exception as exc:  # a reader bug on this file: refused, never the watcher's end
            traceback.print_exc(file=sys.stderr)
            answer = ("failed", Code.READER_CRASHED.name, f"{type(exc).__name__}: {exc}"[:300])
        try:
            conn.send(answer)
        except MemoryError:
            conn.send(("failed", Code.READ_MEMORY.name, f"{memory_mb} MB"))
        if answer[0] == "failed" and answer[1] == Code.READ_MEMORY.name:
            return  # start clean after running out of memory


# -- the parent -----------------------------------------------------------------------------------

class ReaderProcess:
    """The intake's reader: a child process, replaced whenever a file kills or stalls it.

    Use as a context manager or call `close`. Not thread-safe: one caller at a time.
    """

    def __init__(self, root: Path, limits: ReadLimits | None = None) -> None:
        self.root = Path(root)
        self.limits = limits or ReadLimits()
        self._proc: Any = None
        self._conn: Connection | None = None
        self._stderr: Path | None = None
        self.started = 0  # children started; a test and `status` read it

    def __enter__(self) -> ReaderProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> Connection:
        if self._conn is not None and self._proc is not None and self._proc.is_alive():
            return self._conn
        self._stop()
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        fd, name = tempfile.mkstemp(prefix="qmsforms-reader-", suffix=".log")
        os.close(fd)
        self._stderr = Path(name)
        proc = ctx.Process(target=_serve, name="qmsforms-reader", daemon=True,
                           args=(child, str(self.root), self.limits.memory_mb, name))
        proc.start()
        child.close()
        self._proc, self._conn = proc, parent
        self.started += 1
        return parent

    def _stop(self) -> None:
        conn, proc = self._conn, self._proc
        self._conn = self._proc = None
        if conn is not None:
            conn.close()
        if proc is not None:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)
        if self._stderr is not None:
            self._stderr.unlink(missing_ok=True)
            self._stderr = None

    def close(self) -> None:
        """Stop the child process."""
        self._stop()

    def _crash_detail(self) -> tuple[Code, str]:
        proc = self._proc
        exitcode = None if proc is None else proc.exitcode
        tail = ""
        if self._stderr is not None:
            with contextlib.suppress(OSError):
                tail = self._stderr.read_bytes()[-2000:].decode("utf-8", "replace")
        if "memory allocation of" in tail or "MemoryError" in tail:
            return Code.READ_MEMORY, f"{self.limits.memory_mb} MB"
        if exitcode is not None and exitcode < 0:
            try:
                what = signal.Signals(-exitcode).name
            except ValueError:
                what = f"signal {-exitcode}"
            return Code.READER_CRASHED, what
        return Code.READER_CRASHED, f"exit {exitcode}"

    def _call(self, op: str, *args: Any) -> Any:
        conn = self._start()
        try:
            conn.send((op, args))
            ready = conn.poll(self.limits.timeout)
        except (BrokenPipeError, EOFError, OSError):
            ready = True
        if not ready:
            assert self._proc is not None
            self._proc.kill()
            self._proc.join(timeout=5)
            self._stop()
            raise ReadFailed(Code.READ_TIMEOUT, f"{self.limits.timeout:g}")
        try:
            answer = conn.recv()
        except (EOFError, OSError):
            assert self._proc is not None
            self._proc.join(timeout=5)
            code, detail = self._crash_detail()
            self._stop()
            raise ReadFailed(code, detail) from None
        if answer[0] == "ok":
            return answer[1]
        code = Code[answer[1]]
        if code is Code.READ_MEMORY:
            self._stop()
        raise ReadFailed(code, answer[2])

    def validate(self, path: Path, name: str, today: date | None = None) -> Report:
        """Validate ``path`` in the child; the report names the file ``name``."""
        report: Report = self._call("validate", str(path), name, today)
        return report

    def annotate(self, path: Path, report: Report, out: Path) -> bool:
        """Write the annotated copy of a rejected file; False when it cannot be made."""
        return bool(self._call("annotate", str(path), report, str(out)))

    def record_copy(self, source: Path, target: Path, record: dict[str, Any]) -> None:
        """Write the record copy of a validated workbook (the form with its record sheet)."""
        self._call("record_copy", str(source), str(target), record)
