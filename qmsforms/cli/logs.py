"""Where the library's log goes when a command runs: stderr, and for ``watch`` a rotating log
file under ``.qmsforms/logs/`` and timestamped outcome lines on stdout.

The library only logs (through `logging`, under the ``qmsforms`` logger); the handlers are
set here, by the command, never by the library.
"""

from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from ..workspace import Workspace

STAMP = "%Y-%m-%d %H:%M:%S"
"""Local time on every line of ``watch`` (the daily summary counts local days)."""

BANNER_LOGGER = "qmsforms.cli.watch"
"""The start banner and the stop line of ``watch``: shown even with ``--quiet``."""

OUTCOME_LOGGER = "qmsforms.cli.outcomes"
"""One line per file taken (REC, REJ, DUP): stdout (unless ``--quiet``) and the log file."""

LOG_FILE = Path("logs") / "watch.log"
"""The watch log, below the workspace's state folder (``.qmsforms/``)."""


def log_to_stderr(timestamps: bool) -> None:
    """Show the library's log on stderr (``watch``: with timestamps)."""
    handler = logging.StreamHandler(sys.stderr)
    fmt = "%(asctime)s %(levelname)s %(message)s" if timestamps else "%(levelname)s %(message)s"
    handler.setFormatter(logging.Formatter(fmt, STAMP))
    root = logging.getLogger("qmsforms")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if timestamps else logging.WARNING)


class _Quiet(logging.Filter):
    """Warnings and errors, and the records of the ``always`` loggers; nothing else."""

    def __init__(self, always: tuple[str, ...]) -> None:
        super().__init__()
        self.always = always

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or record.name in self.always


class _StopRace(logging.Filter):
    """watchdog's inotify emitter logs an error when it is stopped while events are queued
    (``queue_events() called when the thread is inactive``): nothing is lost, the watcher
    is stopping anyway; it is left out rather than alarm the operator at every stop."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "when the thread is inactive" not in record.getMessage()


def watch_logging(ws: Workspace, *, quiet: bool) -> Path | None:
    """Set up the log of ``watch``; returns the log file (None when it cannot be written).

    stderr gets every log line with its time (with ``quiet`` only warnings, errors, the
    banner and the daily summary); stdout gets one timestamped line per file taken (none with
    ``quiet``); the rotating log file gets all of it, as ``[intake] log_max_mb`` and
    ``log_backups`` say.
    """
    from ..intake.watch import SUMMARY_LOGGER  # loads the watcher: only ``watch`` needs it

    settings = ws.config.intake
    form = logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", STAMP)
    err = logging.StreamHandler(sys.stderr)
    err.setFormatter(form)
    if quiet:
        err.addFilter(_Quiet((BANNER_LOGGER, SUMMARY_LOGGER)))
    handlers: list[logging.Handler] = [err]
    path: Path | None = ws.state_dir / LOG_FILE
    file: logging.Handler | None = None
    try:
        assert path is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        file = RotatingFileHandler(path, maxBytes=int(settings.log_max_mb * 2**20),
                                   backupCount=settings.log_backups, encoding="utf-8")
        file.setFormatter(form)
        handlers.append(file)
    except OSError as exc:
        err.handle(logging.makeLogRecord({
            "name": BANNER_LOGGER, "levelno": logging.WARNING, "levelname": "WARNING",
            "msg": f"无法写日志文件 / cannot write the log file {path}: {exc}"}))
        path = None
    root = logging.getLogger("qmsforms")
    root.handlers[:] = handlers
    root.setLevel(logging.INFO)
    observer = logging.getLogger("watchdog")  # the file-event library: its warnings, timed too
    observer.handlers[:] = handlers
    observer.propagate = False
    observer.setLevel(logging.WARNING)
    for handler in handlers:  # records of its child loggers pass the handlers, not its filters
        handler.addFilter(_StopRace())
    outcomes = logging.getLogger(OUTCOME_LOGGER)
    outcomes.propagate = False
    out = logging.StreamHandler(sys.stdout)
    out.setFormatter(logging.Formatter("%(asctime)s %(message)s", STAMP))
    outcomes.handlers[:] = [h for h in (None if quiet else out, file) if h is not None]
    outcomes.setLevel(logging.INFO)
    return path
