"""Which watchers run on a workspace: each writes a heartbeat file under ``.qmsforms/watchers/``.

A running ``qmsforms watch`` keeps ``.qmsforms/watchers/<host>-<pid>.json`` up to date (process
id, host (`qmsforms.site.host_id`), site, when it started, its last heartbeat, the inbox, the
mode, and what it is doing) and removes it when it stops. What it is doing is ``state``:
``watching``; ``waiting_for_ledger`` while its ledger cannot be reached (started while the
PostgreSQL server is away, or lost while watching); ``blocked`` when anything else stops the
intake (disk full, a read-only outbox). The last two carry ``since`` and ``last_error``.

``qmsforms status`` reads these files: a watcher whose process is gone left its file behind (it
was killed or its machine stopped), which needs a person; one whose heartbeat is old while its
process lives is not responding.
"""

from __future__ import annotations

import calendar
import contextlib
import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..site import host_id
from ..version import __version__
from .waiting import stamp

log = logging.getLogger(__name__)

WATCHERS_DIR = "watchers"
"""The folder of heartbeat files in the workspace's state folder (``.qmsforms/``)."""

BEAT_SECONDS = 10.0
"""How often a watcher renews its heartbeat file (its loop does, so a stuck loop shows)."""

WATCHING, WAITING_FOR_LEDGER, BLOCKED = "watching", "waiting_for_ledger", "blocked"
"""What a watcher does, as its heartbeat's ``state`` says."""


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine."""
    if pid <= 0:
        return False
    if sys.platform == "win32":  # pragma: no cover - os.kill(pid, 0) would end it there
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # QUERY_LIMITED_INFORMATION
        if not handle:
            return bool(kernel32.GetLastError() == 5)  # access denied: it exists
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:  # pragma: no cover - Windows without the process
        return False
    return True


class Heartbeat:
    """The heartbeat file of the watcher in this process."""

    def __init__(self, state_dir: Path, info: dict[str, Any]) -> None:
        host = host_id()
        self.folder = state_dir / WATCHERS_DIR
        self.path = self.folder / f"{host}-{os.getpid()}.json"
        self.info = {"pid": os.getpid(), "host": host, "started_at": stamp(time.time()),
                     "version": __version__, **info}
        self.doing: dict[str, Any] = {"state": WATCHING, "since": self.info["started_at"],
                                      "last_error": None}
        """What the watcher does (``state``), since when, and the error that keeps it."""
        self._last = 0.0

    def beat(self, now: float | None = None, *, force: bool = False, **counts: Any) -> None:
        """Renew the file (at most every `BEAT_SECONDS` unless ``force``); never raises."""
        now = time.monotonic() if now is None else now
        if not force and self._last and now - self._last < BEAT_SECONDS:
            return
        self._last = now
        self.info.update(counts)
        data = {**self.info, **self.doing, "heartbeat_at": stamp(time.time())}
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:  # a read-only state folder: status will not see this watcher
            log.debug("cannot write the heartbeat %s: %s", self.path, exc)

    def doing_now(self, state: str, error: str | None = None) -> None:
        """Say what the watcher does now (`WATCHING`, `WAITING_FOR_LEDGER`, `BLOCKED`) and
        why; a change of state or of error is written at once, ``since`` kept while the
        state stays."""
        changed = state != self.doing["state"]
        if not changed and error == self.doing["last_error"]:
            self.beat()
            return
        since = stamp(time.time()) if changed else self.doing["since"]
        self.doing = {"state": state, "since": since, "last_error": error}
        self.beat(force=True)

    def clear_dead(self) -> list[dict[str, Any]]:
        """Remove the files of watchers on this host whose process is gone; returns what they
        said (a watcher that was killed never removed its own)."""
        dead = []
        for seen in watchers(self.folder.parent, float("inf")):
            if seen.state == "gone" and seen.info.get("host") == self.info["host"]:
                with contextlib.suppress(OSError):
                    (self.folder / seen.file).unlink()
                    dead.append(seen.info)
        return dead

    def remove(self) -> None:
        """The watcher stopped: its file goes."""
        with contextlib.suppress(OSError):
            self.path.unlink()


@dataclass(frozen=True)
class WatcherSeen:
    """A watcher as its heartbeat file shows it, and what became of it."""

    state: str  # running | not_responding | gone | elsewhere
    info: dict[str, Any]
    file: str

    @property
    def needs_person(self) -> bool:
        """A watcher that died or hangs needs a person."""
        return self.state in ("gone", "not_responding")


def _age(text: str | None, now: float) -> float | None:
    try:
        return now - calendar.timegm(time.strptime(str(text), "%Y-%m-%dT%H:%M:%SZ"))
    except (TypeError, ValueError, OverflowError):
        return None


def watchers(state_dir: Path, silent_after: float) -> list[WatcherSeen]:
    """The watchers whose heartbeat files are in ``state_dir``, oldest first.

    ``running``: its process lives and its heartbeat is younger than ``silent_after`` seconds
    (whether it is watching or waiting is the file's own ``state``);
    ``not_responding``: the process lives but its loop has not beaten for longer; ``gone``: the
    process no longer exists (killed, or it crashed); ``elsewhere``: on another host, seen
    within ``silent_after`` (a heartbeat older than that there counts as ``gone``).
    """
    folder = state_dir / WATCHERS_DIR
    try:
        files = sorted(p for p in folder.iterdir() if p.suffix == ".json"
                       and not p.name.startswith("."))
    except OSError:
        return []
    here = host_id()
    now = time.time()
    seen: list[WatcherSeen] = []
    for path in files:
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(info, dict):
            continue
        age = _age(info.get("heartbeat_at"), now)
        silent = age is None or age > silent_after
        if info.get("host") == here:
            alive = _alive(int(info.get("pid") or 0))
            state = "gone" if not alive else "not_responding" if silent else "running"
        else:
            state = "gone" if silent else "elsewhere"
        seen.append(WatcherSeen(state, info, path.name))
    return sorted(seen, key=lambda w: str(w.info.get("started_at")))
