"""An exclusive, non-blocking lock per claim, released by the OS when its holder dies."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt


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
        return cls(path, fd)

    def release(self) -> None:
        """Delete the lock file and release the lock."""
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(self._fd)
