"""``qmsforms watch``: the inbox watched until stopped.

File events only say where to look; what is taken is decided by looking (`Settler`). Native
events (inotify and friends) where they work, watchdog's polling observer for network shares
(SMB/NFS deliver no native events), and a full rescan at start and every ``rescan`` seconds
because events can be lost either way. SIGINT and SIGTERM stop the loop after the file in
hand; a SIGKILL loses nothing either, because claims and ledger decisions are recovered.

A file share comes and goes. The watcher notices when the inbox disappears or is replaced by
another folder, and when its observer died (watchdog's polling emitter stops for good when the
folder it watches vanishes); it waits for the inbox, restarts the observer and rescans. When
the surroundings block the intake (disk full, a read-only outbox, an unwritable ledger) it
claims nothing new, says so, and retries with a growing pause until the cause is gone.

What an operator needs to see is logged: a file waiting on an editor's lock (once, and a
warning when the lock turns stale), and at each change of day a summary of the day's records,
duplicates and rejections (logger `SUMMARY_LOGGER`, so a quiet terminal can still show it).
The watcher keeps a heartbeat file under ``.qmsforms/watchers/`` for ``qmsforms status``, which
says whether it watches, waits for its ledger (from before it started, or lost while watching)
or is blocked by something else, since when and why.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from ..site import site_id
from ..workspace import Workspace
from .files import WORK_DIR, candidates, is_ignored
from .heartbeat import BLOCKED, WAITING_FOR_LEDGER, WATCHING, Heartbeat
from .ledger import LedgerError
from .outcome import Blocked, Outcome
from .pipeline import Intake
from .reader import ReadInterrupted, ReadLimits
from .waiting import lock_state

log = logging.getLogger(__name__)

SUMMARY_LOGGER = f"{__name__}.summary"
"""The logger of the daily summary lines."""
summary_log = logging.getLogger(SUMMARY_LOGGER)
_LOCK_LOOK = 5.0  # seconds between looks at the lock files of waiting files

_BACKOFF = (2.0, 5.0, 10.0, 30.0, 60.0)  # seconds between retries while blocked
_RETRY = 10.0  # seconds before a claim kept after an error is tried again


class _Inbox(FileSystemEventHandler):
    """Collects paths in the inbox (and its folders) that events point at."""

    def __init__(self, inbox: Path, pending: set[Path], lock: threading.Lock,
                 rescan: threading.Event) -> None:
        self.inbox = inbox
        self.pending = pending
        self.lock = lock
        self.rescan = rescan

    def on_any_event(self, event: FileSystemEvent) -> None:
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if not raw:
                continue
            path = Path(raw if isinstance(raw, str) else os.fsdecode(raw))
            try:
                parts = path.relative_to(self.inbox).parts
            except ValueError:
                continue
            if not parts or any(p.startswith(".") for p in parts) or is_ignored(parts[-1]):
                continue
            if event.is_directory:
                self.rescan.set()  # a folder copied in: look into it
            else:
                with self.lock:
                    self.pending.add(path)


def watcher_heartbeat(ws: Workspace, poll: float | None = None) -> Heartbeat:
    """The heartbeat file of a watcher of ``ws`` in this process (inbox, mode, site)."""
    return Heartbeat(ws.state_dir, {"inbox": str(ws.inbox), "mode": _mode(poll),
                                    "site": site_id(ws)})


def _mode(poll: float | None) -> str:
    return f"poll {poll:g} s" if poll else "native"


def _ledger_lost(blocked: BaseException) -> str | None:
    """``LEDGER_UNAVAILABLE: message`` when what blocks the intake is its ledger out of reach
    (somewhere in the causes of ``blocked``), else None (a read-only or busy ledger, a full
    disk: blocked, not waiting)."""
    cause: BaseException | None = blocked
    seen: set[int] = set()
    while cause is not None and id(cause) not in seen:  # `raise exc from exc` is a loop
        seen.add(id(cause))
        if isinstance(cause, LedgerError) and cause.code == "LEDGER_UNAVAILABLE":
            return f"{cause.code}: {cause.message_en}"
        cause = cause.__cause__ or cause.__context__
    return None


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


class Watcher:
    """Watches one workspace's inbox; `run` blocks until `stop` is called or a signal arrives."""

    def __init__(self, workspace: Workspace, *, poll: float | None = None,
                 settle: float = 0.5, quiet: float | None = None, rescan: float = 300.0,
                 limits: ReadLimits | None = None,
                 on_outcome: Callable[[Outcome], None] | None = None,
                 clock: Callable[[], datetime] = datetime.now,
                 stopping: threading.Event | None = None,
                 heartbeat: Heartbeat | None = None) -> None:
        self.ws = workspace
        self.poll = poll
        self.rescan = rescan
        self.on_outcome = on_outcome
        self.stopping = stopping or threading.Event()
        """Set to stop after the file in hand; a caller that took SIGTERM/SIGINT before the
        watcher existed passes the event its handler sets. ``heartbeat``: the one that
        `when_reachable` kept while this watcher waited for its ledger."""
        self.intake = Intake(workspace, settle=settle, quiet=quiet, limits=limits)
        self.intake.reader.stop = self.stopping  # a stop does not wait for a slow read
        self.interval = min(settle, poll) if poll else settle
        self._pending: set[Path] = set()
        self._lock = threading.Lock()
        self._rescan_now = threading.Event()
        self._observer: Any = None
        self._watched: tuple[int, int] | None = None
        self.processed = 0
        self.failures = 0
        self.restarts = 0  # observer restarts (the inbox vanished, was replaced, or died)
        self.blocked: str | None = None
        self.clock = clock  # local time: the day of the daily summary
        self.day: date = clock().date()
        self.tally: Counter[str] = Counter()  # outcomes of the current day
        self.stale_after = workspace.config.intake.stale_lock_minutes * 60
        self._locks: dict[Path, str] = {}  # waiting files seen locked -> open | stale_lock
        self._lock_look = 0.0
        self.mode = _mode(poll)
        self.heartbeat = heartbeat or watcher_heartbeat(workspace, poll)

    def stop(self, *_: object) -> None:
        """Ask the loop to stop after the file in hand."""
        self.stopping.set()

    def _signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return

        def handler(signum: int, frame: FrameType | None) -> None:
            self.stop()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def _emit(self, outcome: Outcome | None) -> None:
        if outcome is not None:
            self.processed += 1
            self._roll_day()
            self.tally[outcome.outcome] += 1
            if self.on_outcome:
                self.on_outcome(outcome)

    def summary(self, final: bool = False) -> str:
        """The summary line of the current day (so far, when ``final``)."""
        t = self.tally
        return (f"{'今日至此 so far' if final else '每日汇总 daily summary'} {self.day}: "
                f"{t['record']} records, {t['duplicate']} duplicates, {t['rejected']} rejected")

    def _roll_day(self) -> None:
        """At the first look after midnight, log the summary of the day that ended."""
        today = self.clock().date()
        if today != self.day:
            summary_log.info("%s", self.summary())
            self.day, self.tally = today, Counter()

    def _look_at_locks(self, waiting: list[Path]) -> None:
        """Log once that a file waits on an editor, and warn once when that lock is stale."""
        now = time.monotonic()
        if now - self._lock_look < _LOCK_LOOK:
            return
        self._lock_look = now
        for path in set(self._locks) - set(waiting):
            del self._locks[path]
        for path in waiting:
            found = lock_state(path, self.stale_after)
            if found is None:
                self._locks.pop(path, None)
                continue
            if self._locks.get(path) == found.state:
                continue
            self._locks[path] = found.state
            if found.state == "stale_lock":
                log.warning("WAIT %s: %s", path.name, found.detail)
            else:
                log.info("WAIT %s: %s", path.name, found.detail)

    def _scan(self) -> None:
        for outcome in self.intake.recover():
            self._emit(outcome)
        found = candidates(self.ws.inbox)
        with self._lock:
            self._pending.update(found)

    # -- the observer -----------------------------------------------------------------------

    def _start_observer(self) -> bool:
        inbox = self.ws.inbox
        identity = _identity(inbox)
        if identity is None:
            return False
        observer = PollingObserver(timeout=self.poll) if self.poll else Observer()
        observer.schedule(_Inbox(inbox.resolve(), self._pending, self._lock, self._rescan_now),
                          str(inbox.resolve()), recursive=True)
        observer.start()
        self._observer, self._watched = observer, identity
        return True

    def _stop_observer(self) -> None:
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join(timeout=5)

    def _observer_healthy(self) -> bool:
        observer = self._observer
        if observer is None or not observer.is_alive():
            return False
        return all(emitter.is_alive() for emitter in list(observer.emitters))

    def _check_inbox(self) -> bool:
        """Whether the inbox is there; restarts the observer when it went or was replaced."""
        identity = _identity(self.ws.inbox)
        if identity is None:
            if self._observer is not None or self.heartbeat.doing["state"] == WATCHING:
                log.error("收件箱不见了(共享断开?),等待恢复 / the inbox %s is gone (share "
                          "unavailable?); waiting for it", self.ws.inbox)
                self._stop_observer()
                self.heartbeat.doing_now(BLOCKED, f"the inbox {self.ws.inbox} is not there "
                                                  "(is the share mounted?)")
            return False
        if identity != self._watched or not self._observer_healthy():
            was_running = self._observer is not None
            self._stop_observer()
            if was_running:
                self.restarts += 1
                log.warning("收件箱已恢复,重新监视 / the inbox %s is back or was replaced, or "
                            "its observer stopped; watching it again", self.ws.inbox)
            if not self._start_observer():
                return False
            self._rescan_now.set()
        return True

    # -- the loop ------------------------------------------------------------------------------

    def run(self) -> None:
        """Watch until stopped."""
        self._signals()
        next_scan = 0.0
        retry_at = 0.0
        backoff = 0
        for dead in self.heartbeat.clear_dead():
            log.warning("上次的 watch(pid %s,启动于 %s)未正常停止 / the watcher pid %s started "
                        "%s stopped without cleaning up (killed, or its machine stopped)",
                        dead.get("pid"), dead.get("started_at"), dead.get("pid"),
                        dead.get("started_at"))
        try:
            self.heartbeat.info["processed"] = 0
            self.heartbeat.doing_now(WATCHING)
            self._check_inbox()
            self._rescan_now.set()
            while not self.stopping.is_set():
                try:
                    now = time.monotonic()
                    self.heartbeat.beat(now, processed=self.processed)
                    self._roll_day()
                    if not self._check_inbox():
                        self.stopping.wait(max(self.interval, 1.0))
                        continue
                    if self.blocked is not None:
                        if now < retry_at:
                            self.stopping.wait(min(1.0, retry_at - now))
                            continue
                        self._rescan_now.set()
                    if self._rescan_now.is_set() or now >= next_scan:
                        self._rescan_now.clear()
                        self._scan()
                        next_scan = time.monotonic() + self.rescan
                        if self.intake.failed:  # kept claims are tried again soon
                            next_scan = min(next_scan, time.monotonic() + _RETRY)
                        if self.blocked is not None:
                            log.warning("已恢复处理 / the intake resumes: %s is resolved",
                                        self.blocked)
                            self.blocked, backoff = None, 0
                    self._take_ready()
                    if self.heartbeat.doing["state"] != WATCHING:  # the files went through
                        self.heartbeat.doing_now(WATCHING)
                except Blocked as blocked:
                    if str(blocked) != self.blocked:
                        log.error("处理已暂停,文件保留原处,将自动重试 / the intake is blocked: "
                                  "%s; files stay where they are and it retries by itself",
                                  blocked)
                    self.blocked = str(blocked)
                    lost = _ledger_lost(blocked)
                    if lost is None:
                        self.heartbeat.doing_now(BLOCKED, self.blocked)
                    else:
                        self.heartbeat.doing_now(WAITING_FOR_LEDGER, lost)
                    retry_at = time.monotonic() + _BACKOFF[min(backoff, len(_BACKOFF) - 1)]
                    backoff += 1
                except ReadInterrupted:
                    log.info("stopping: the file being read is left for the next start")
                    break
                except Exception:  # the watcher never stops on an error
                    self.failures += 1
                    log.exception("unexpected error in the watch loop; it goes on")
                    self.stopping.wait(1.0)
                self.stopping.wait(self.interval)
        finally:
            self._stop_observer()
            self.intake.close()
            self.heartbeat.remove()

    def _take_ready(self) -> None:
        with self._lock:
            pending = [p for p in self._pending if os.path.lexists(p)]
            self._pending.intersection_update(pending)
        ready = self.intake.settler.look(pending)
        taken = set(ready)
        self._look_at_locks([p for p in pending if p not in taken])
        for path in ready:
            if self.stopping.is_set():
                break
            with self._lock:
                self._pending.discard(path)
            try:
                self._emit(self.intake.take(path))
            except Blocked:
                raise
            except Exception:  # one file never stops the watcher
                self.failures += 1
                log.exception("%s could not be finished; its claim is kept in %s and tried "
                              "again in %g s", path.name, WORK_DIR, _RETRY)


T = TypeVar("T")


def when_reachable(start: Callable[[], T], stopping: threading.Event, *,
                   first: float = 2.0, longest: float = 60.0,
                   heartbeat: Heartbeat | None = None) -> T | None:
    """``start()`` once the ledger can be reached (SPEC §10: off-line is not lost).

    While it raises ``LEDGER_UNAVAILABLE`` (a PostgreSQL server out of reach) nothing is
    claimed: the files wait in the inbox, the reason is logged, and it is tried again after a
    pause that doubles up to ``longest`` seconds. None when ``stopping`` is set first; any
    other error is raised. A ``heartbeat`` (`watcher_heartbeat`) says meanwhile that this
    watcher waits for its ledger, since when and why, so ``qmsforms status`` shows it; it is
    removed when the wait ends without a watcher, and handed on to the watcher otherwise.
    """
    pause = first
    started = False
    try:
        while not stopping.is_set():
            try:
                found = start()
                started = True
                return found
            except LedgerError as exc:
                if exc.code != "LEDGER_UNAVAILABLE":
                    raise
                if heartbeat is not None:
                    heartbeat.doing_now(WAITING_FOR_LEDGER, f"{exc.code}: {exc.message_en}")
                log.warning("台账无法连接,文件留在收件箱,%g 秒后重试 / the ledger cannot be "
                            "reached; the files wait in the inbox, trying again in %g s: %s",
                            pause, pause, exc.message_en)
            stopping.wait(pause)
            pause = min(pause * 2, longest)
        return None
    finally:
        if heartbeat is not None and not started:
            heartbeat.remove()
