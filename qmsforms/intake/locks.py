"""An exclusive, non-blocking lock per claim, released by the OS when its holder dies.

The lock file names its holder (process id, host, since when) so ``qmsforms status`` can say
which process works on a claim; `ClaimLock.holder` reads that without taking or removing
anything. The files live in the workspace's local ``.qmsforms/locks``, so only the processes
of one machine see them: they are the claim locks of the SQLite ledger, with which one inbox is
watched from one machine (`qmsforms.intake.claims`).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

from ..site import host_id

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt


def this_process() -> dict[str, Any]:
    """Who holds a lock taken now: ``pid``, ``host`` and ``since`` (UTC)."""
    return {"pid": os.getpid(), "host": host_id(),
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


class ClaimLock:
    """Held while a claim is processed; a crashed holder's lock is free again at once."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd

    @classmethod
    def acquire(cls, path: Path) -> ClaimLock | None:
        """Take the lock at ``path`` without waiting; None when another process holds it."""
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            else:  # pragma: no cover
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            os.close(fd)
            return None
        with contextlib.suppress(OSError):  # the holder's name is a courtesy, never a must
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps(this_process()).encode())
        return cls(path, fd)

    def release(self) -> None:
        """Delete the lock file and release the lock."""
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(self._fd)

    @staticmethod
    def holder(path: Path) -> dict[str, Any] | None:
        """Who holds the lock at ``path`` (``pid``, ``host``, ``since``; empty when it does not
        say), or None when nobody does. Creates, takes and removes nothing."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return None
        try:
            try:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                    fcntl.flock(fd, fcntl.LOCK_UN)
                else:  # pragma: no cover
                    msvcrt.locking(fd, msvcrt.LK_NBRLCK, 1)
                    msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
                return None  # free: nobody holds it
            except OSError:
                pass
            try:
                found = json.loads(os.read(fd, 4096) or b"{}")
            except (OSError, ValueError):
                return {}
            return found if isinstance(found, dict) else {}
        finally:
            os.close(fd)
