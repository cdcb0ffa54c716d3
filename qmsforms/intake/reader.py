"""Reading returned files in a child process with a memory and a time limit (SPEC §7).

A returned file is untrusted input read by native code (python-calamine is Rust, lxml is C).
A file that makes a reader abort, allocate without bound or loop must cost one rejection, not
the watcher. So the intake never reads a returned file in its own process: a `ReaderProcess`
keeps one child (a fresh interpreter running `serve`, so it shares no
threads, locks or ``__main__`` with the caller) that validates, annotates and writes record
copies. The child runs under ``RLIMIT_AS``; the parent waits for each answer at most
``timeout`` seconds. A child that dies, runs out of memory or takes too long is replaced by a
fresh one, and the caller gets a `ReadFailed` carrying the code of the rejection to give if
the file keeps failing.
"""

from __future__ import annotations

import contextlib
import faulthandler
import logging
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..issues import Code, Issue, QmsFormsError, Report

if TYPE_CHECKING:
    from ..workspace import Workspace

log = logging.getLogger(__name__)

_MiB = 1024 * 1024
_START_TIMEOUT = 120.0  # seconds for a new reader to import and say it is ready


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on reading one returned file (configurable in ``qmsforms.toml``)."""

    timeout: float = 120.0  # seconds for one file
    memory_mb: int = 2048  # address space of the reader process
    attempts: int = 2  # reads of one file that may fail before it is refused

    @classmethod
    def of(cls, workspace: Workspace) -> ReadLimits:
        """The limits set in the workspace's ``qmsforms.toml`` (``[limits]``)."""
        found = workspace.config.limits
        return cls(timeout=found.read_timeout_seconds, memory_mb=found.read_memory_mb,
                   attempts=found.read_attempts)


class ReadInterrupted(BaseException):
    """The caller asked to stop while a file was being read: the child was stopped and the
    file is left as it was, to be read again (not counted against it)."""


class ReaderUnavailable(QmsFormsError):
    """The reader process cannot start (a broken installation, or a memory limit too low
    for Python itself): no file is to blame, so none is refused for it."""


class ReadFailed(Exception):
    """The reader could not finish a file: it died, ran out of memory or time, or raised."""

    def __init__(self, code: Code, detail: str) -> None:
        super().__init__(f"{code.name}: {detail}")
        self.code = code
        self.detail = detail


# -- the child ------------------------------------------------------------------------------------

def _warm_up(ws: Any) -> None:
    """Import what reading a workbook needs (the validator, scoring, every form's model)
    before the child says it is ready, so a file's time limit counts its read, not the
    imports. The Word readers load with the first .docx."""
    from .. import scoring, validate  # noqa: F401

    for form in ws.registry:
        form.fields  # noqa: B018 - the form's model module is imported on first use


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


def _op_validate(ws: Any, path: str, name: str, today: date | None,
                 with_data: bool = True) -> Report:
    from ..validate import validate_path

    report = Report(path=name)
    validate_path(Path(path), ws, report, today)
    if not with_data:  # not sent back through the pipe when nobody reads it
        report.data = None
    return report


def _op_annotate(ws: Any, path: str, report: Report, out: str) -> bool:
    from ..annotate import annotate

    return annotate(path, report, out) is not None


def _op_record_copy(ws: Any, source: str, target: str, record: dict[str, Any]) -> None:
    from .outputs import write_record_sheet_copy

    # the caller fsyncs the folder once, after all of the decision's files
    write_record_sheet_copy(Path(source), Path(target), record, dirs=set())


_CHILD = ("import sys; from qmsforms.intake.reader import serve; "
          "serve(sys.argv[1], int(sys.argv[2]), exit_after=True)")
_OPS: dict[str, Callable[..., Any]] = {
    "validate": _op_validate, "annotate": _op_annotate, "record_copy": _op_record_copy}


def _send(fh: IO[bytes], message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    fh.write(struct.pack("!Q", len(data)) + data)
    fh.flush()


def _receive(fh: IO[bytes]) -> Any:
    head = fh.read(8)
    if len(head) < 8:
        raise EOFError("the pipe closed")
    (size,) = struct.unpack("!Q", head)
    data = fh.read(size)
    if len(data) < size:
        raise EOFError("the pipe closed mid-message")
    return pickle.loads(data)


def serve(root: str, memory_mb: int, *, exit_after: bool = False) -> None:
    """The child's loop: one request in, one answer out, until the parent closes the pipe.

    Requests come on stdin and answers go out on the original stdout; anything the readers
    print goes to stderr, which the parent keeps for the crash message. With ``exit_after``
    the process ends at once when the loop does: every answer is sent and every file it wrote
    is closed by then, and the parent waits for the exit, so the interpreter's teardown of
    what the last read left in memory would only delay it.
    """
    try:
        _serve(root, memory_mb)
    finally:
        if exit_after:
            sys.stderr.flush()
            os._exit(0)


def _serve(root: str, memory_mb: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    if hasattr(faulthandler, "register"):  # SIGUSR1 prints where a stalled read is
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    requests = os.fdopen(os.dup(0), "rb")
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    from ..workspace import Workspace

    ws = Workspace(root)
    _warm_up(ws)
    _limit_memory(memory_mb)
    _send(answers, ("ready",))  # the time limit counts from here, not from the imports
    while True:
        try:
            op, args = _receive(requests)
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
            _send(answers, answer)
        except MemoryError:
            _send(answers, ("failed", Code.READ_MEMORY.name, f"{memory_mb} MB"))
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
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self.stop: threading.Event | None = None  # set: a read in progress is abandoned
        self.started = 0  # children started; a test and `status` read it

    def __enter__(self) -> ReaderProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> subprocess.Popen[bytes]:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            return proc
        self._stop()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child
        env = dict(os.environ, PYTHONIOENCODING="utf-8")
        proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(self.root), str(self.limits.memory_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, env=env,
            close_fds=True)
        self._proc = proc
        self.started += 1
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], _START_TIMEOUT)
        try:
            if not ready:
                raise EOFError(f"no answer in {_START_TIMEOUT:g} s")
            hello = _receive(proc.stdout)
            if hello != ("ready",):
                raise EOFError(f"unexpected {hello!r}")
        except (EOFError, OSError, pickle.UnpicklingError) as exc:
            detail = self._crash_detail(proc)[1] if ready else str(exc)
            tail = self._stderr_tail()
            self._stop(kill=True)
            raise ReaderUnavailable(
                f"读取进程无法启动 / the reader process cannot start ({detail}); check the "
                f"installation and [limits] read_memory_mb in qmsforms.toml. {tail[-500:]}"
            ) from exc
        return proc

    def _stop(self, kill: bool = False) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and kill:
            proc.kill()
        if proc is not None:
            with contextlib.suppress(OSError):
                assert proc.stdin is not None
                proc.stdin.close()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def close(self) -> None:
        """Stop the child process."""
        self._stop()

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        try:
            self._stderr.seek(0, os.SEEK_END)
            self._stderr.seek(max(0, self._stderr.tell() - 4000))
            return self._stderr.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _crash_detail(self, proc: subprocess.Popen[bytes]) -> tuple[Code, str]:
        try:
            exitcode = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            exitcode = proc.wait()
        tail = self._stderr_tail()
        if "memory allocation of" in tail or "MemoryError" in tail:
            return Code.READ_MEMORY, f"{self.limits.memory_mb} MB"
        if exitcode < 0:
            try:
                what = signal.Signals(-exitcode).name
            except ValueError:
                what = f"signal {-exitcode}"
            return Code.READER_CRASHED, what
        return Code.READER_CRASHED, f"exit {exitcode}"

    def _wait(self, pipe: IO[bytes], interruptible: bool) -> bool:
        """Wait for the child's answer: False after the time limit; `ReadInterrupted` when
        the caller asks to stop and the call may be abandoned."""
        deadline = time.monotonic() + self.limits.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            ready, _, _ = select.select([pipe], [], [], min(left, 0.25))
            if ready:
                return True
            if interruptible and self.stop is not None and self.stop.is_set():
                self._stop(kill=True)
                raise ReadInterrupted

    def _call(self, op: str, *args: Any, interruptible: bool = False) -> Any:
        """Run ``op`` in the child. Only a read may be abandoned when a stop is asked for:
        the outputs of a file already decided (its annotated or record copy) are finished,
        within the time limit, so that a stop never leaves a decision half-written."""
        proc = self._start()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            _send(proc.stdin, (op, args))
            ready = self._wait(proc.stdout, interruptible)
        except OSError:  # the child is gone already
            ready = True
        if not ready:
            proc.kill()
            proc.wait()
            self._stop()
            raise ReadFailed(Code.READ_TIMEOUT, f"{self.limits.timeout:g}")
        try:
            answer = _receive(proc.stdout)
        except (EOFError, OSError, pickle.UnpicklingError):
            code, detail = self._crash_detail(proc)
            self._stop()
            raise ReadFailed(code, detail) from None
        if answer[0] == "ok":
            return answer[1]
        code = Code[answer[1]]
        if code is Code.READ_MEMORY:
            self._stop()
        raise ReadFailed(code, answer[2])

    def validate(self, path: Path, name: str, today: date | None = None, *,
                 with_data: bool = True) -> Report:
        """Validate ``path`` in the child; the report names the file ``name``.

        Without ``with_data`` the report comes back without the form's data (its validity,
        issues and scores are the same), which saves sending a large form's rows back.
        """
        report: Report = self._call("validate", str(path), name, today, with_data,
                                    interruptible=True)
        return report

    def annotate(self, path: Path, report: Report, out: Path) -> bool:
        """Write the annotated copy of a rejected file; False when it cannot be made."""
        return bool(self._call("annotate", str(path), report, str(out)))

    def record_copy(self, source: Path, target: Path, record: dict[str, Any]) -> None:
        """Write the record copy of a validated workbook (the form with its record sheet)."""
        self._call("record_copy", str(source), str(target), record)



def refusal(name: str, issue: Issue) -> Report:
    """The report of a file refused for one reason found without reading it through (its
    reader failed, or it is a link or a pipe)."""
    report = Report(path=name)
    report.add(issue)
    return report


def validate_isolated(paths: Iterable[str | os.PathLike[str]], workspace: Workspace,
                      limits: ReadLimits | None = None,
                      annotate_dir: Path | None = None, *,
                      with_data: bool = True) -> list[Report]:
    """Validate files in a reader process: one report each, in order, whatever the files do
    to the reader (a crash, a stall or a giant allocation is that file's report).

    With ``annotate_dir``, an annotated copy of each invalid workbook is written there.
    Without ``with_data`` the reports carry no form data (see `ReaderProcess.validate`).
    """
    reports: list[Report] = []
    with ReaderProcess(workspace.root, limits or ReadLimits.of(workspace)) as reader:
        for raw in paths:
            path = Path(raw)
            try:
                report = reader.validate(path, str(raw), with_data=with_data)
            except ReadFailed as failed:
                reports.append(refusal(str(raw), Issue.make(
                    failed.code, detail=failed.detail, attempts=1)))
                continue
            reports.append(report)
            if annotate_dir is not None and not report.valid:
                out = annotate_dir / f"{path.stem}.annotated{path.suffix.lower()}"
                with contextlib.suppress(ReadFailed):
                    reader.annotate(path, report, out)
    return reports
