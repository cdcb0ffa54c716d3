"""``qmsforms watch``: the inbox watched until stopped.

File events only say where to look; what is taken is decided by looking (`Settler`). Native
events (inotify and friends) where they work, watchdog's polling observer for network shares
(SMB/NFS deliver no native events), and a full rescan at start and every ``rescan`` seconds
because events can be lost either way. SIGINT and SIGTERM stop the loop after the file in
hand; a SIGKILL loses nothing either, because claims and ledger decisions are recovered.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from ..workspace import Workspace
from .files import candidates, is_ignored
from .pipeline import Intake, Outcome


class _Inbox(FileSystemEventHandler):
    """Collects paths in the inbox that events point at."""

    def __init__(self, inbox: Path, pending: set[Path], lock: threading.Lock) -> None:
        self.inbox = inbox
        self.pending = pending
        self.lock = lock

    def on_any_event(self, event: FileSystemEvent) -> None:
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if not raw:
                continue
            path = Path(raw if isinstance(raw, str) else raw.decode())
            if path.parent == self.inbox and not is_ignored(path.name):
                with self.lock:
                    self.pending.add(path)


class Watcher:
    """Watches one workspace's inbox; `run` blocks until `stop` is called or a signal arrives."""

    def __init__(self, workspace: Workspace, *, poll: float | None = None,
                 settle: float = 0.5, quiet: float | None = None, rescan: float = 300.0,
                 on_outcome: Callable[[Outcome], None] | None = None) -> None:
        self.ws = workspace
        self.poll = poll
        self.rescan = rescan
        self.on_outcome = on_outcome
        self.stopping = threading.Event()
        self.intake = Intake(workspace, settle=settle, quiet=quiet)
        self.interval = min(settle, poll) if poll else settle
        self._pending: set[Path] = set()
        self._lock = threading.Lock()
        self.processed = 0
        self.failures = 0

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
            if self.on_outcome:
                self.on_outcome(outcome)

    def _scan(self) -> None:
        for outcome in self.intake.recover():
            self._emit(outcome)
        found = candidates(self.ws.inbox)
        with self._lock:
            self._pending.update(found)

    def run(self) -> None:
        """Watch until stopped."""
        self._signals()
        inbox = self.ws.inbox.resolve()
        observer = PollingObserver(timeout=self.poll) if self.poll else Observer()
        observer.schedule(_Inbox(inbox, self._pending, self._lock), str(inbox),
                          recursive=False)
        observer.start()
        try:
            self._scan()
            last_scan = time.monotonic()
            while not self.stopping.is_set():
                if time.monotonic() - last_scan >= self.rescan:
                    self._scan()
                    last_scan = time.monotonic()
                with self._lock:
                    pending = [p for p in self._pending if p.exists()]
                    self._pending.intersection_update(pending)
                for path in self.intake.settler.look(pending):
                    if self.stopping.is_set():
                        break
                    with self._lock:
                        self._pending.discard(path)
                    try:
                        self._emit(self.intake.take(path))
                    except Exception as exc:  # one file never stops the watcher
                        self.failures += 1
                        print(f"ERROR {path.name}: {type(exc).__name__}: {exc} (its claim is "
                              "retried at the next rescan)", file=sys.stderr, flush=True)
                self.stopping.wait(self.interval)
        finally:
            observer.stop()
            observer.join(timeout=5)
            self.intake.close()


def watch(workspace: Workspace, **options: object) -> Watcher:
    """Build a `Watcher` and run it until stopped; returns it (for its counters)."""
    watcher = Watcher(workspace, **options)  # type: ignore[arg-type]
    watcher.run()
    return watcher
