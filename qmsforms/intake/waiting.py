"""Why a file in the inbox is not taken yet, said so a person can act on it (SPEC §9).

A file waits while an editor holds it open (its lock file is beside it), while it is still
being copied, or when the intake may not read it. An editor's lock file outlives a crash of
the editor or of the PC: a lock older than ``[intake] stale_lock_minutes`` is **stale**, and the
file then waits until a person removes the lock. `process`, the watcher's log and `status`
all use `why_waiting`, so they say the same thing.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .files import display_name, ends_like_zip, kind_of, lock_files

COPYING_SECONDS = 10.0
"""A file changed within this many seconds is taken to be still arriving."""

PERSON = frozenset({"stale_lock", "unreadable"})
"""The states in which a file waits until a person acts."""


def stamp(seconds: float) -> str:
    """A POSIX time as the UTC text the ledger and ``status`` use (``2026-11-21T08:00:00Z``)."""
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Waiting:
    """Why one inbox file waits: a stable ``state`` keyword, a bilingual ``detail``, and since
    when (POSIX seconds; the lock's age for an open file)."""

    state: str  # open | stale_lock | copying | incomplete | unreadable | waiting | link | pipe …
    detail: str
    since: float | None = None
    lock: str | None = None  # the editor's lock file, by name

    @property
    def needs_person(self) -> bool:
        """Whether the file waits until a person acts (a stale lock, no permission to read)."""
        return self.state in PERSON

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"state": self.state, "detail": self.detail,
                "since": None if self.since is None else stamp(self.since), "lock": self.lock,
                "needs_person": self.needs_person}


def editor_lock(path: Path) -> tuple[Path, float] | None:
    """The oldest editor lock file beside ``path`` and its modification time, if any."""
    found: list[tuple[float, Path]] = []
    for lock in lock_files(path):
        try:
            found.append((os.lstat(lock).st_mtime, lock))
        except OSError:  # absent, or a name too long to exist
            continue
    if not found:
        return None
    mtime, lock = min(found)
    return lock, mtime


def lock_state(path: Path, stale_after: float, now: float | None = None) -> Waiting | None:
    """``open`` or ``stale_lock`` when an editor's lock file is beside ``path``, else None."""
    found = editor_lock(path)
    if found is None:
        return None
    lock, since = found
    now = time.time() if now is None else now
    minutes = max(0, int((now - since) // 60))
    name = display_name(lock.name)
    if now - since > stale_after:
        return Waiting("stale_lock",
                       f"锁文件 {name} 已存在 {minutes} 分钟,可能是编辑器崩溃后遗留:如无人打开"
                       f"此文件,请删除该锁文件,否则文件一直等待 / stale lock {name} "
                       f"({minutes} min old): remove it if nobody has the file open, or the "
                       "file waits", since, name)
    return Waiting("open", f"正在编辑器中打开(锁文件 {name})/ open in an editor (lock file "
                           f"{name})", since, name)


def _complete(path: Path) -> bool | str:
    """True when ``path`` ends like a complete zip, False when not, or why it cannot be read."""
    try:
        return ends_like_zip(path)  # the same look the settler takes
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def why_waiting(path: Path, stale_after: float, now: float | None = None) -> Waiting:
    """Why the inbox file ``path`` waits (or ``waiting``: it is taken at the next pass).

    Looks only: nothing is opened beyond the end of the file (``LOOK_ONLY``), nothing blocks.
    """
    now = time.time() if now is None else now
    kind = kind_of(path)
    if kind == "missing":
        return Waiting("gone", "已不在收件箱 / no longer in the inbox")
    if kind is not None:
        return Waiting(kind, f"不是普通文件({kind}),将被拒收且不读取 / a {kind}, not a "
                             "regular file: refused unread at the next pass")
    locked = lock_state(path, stale_after, now)
    if locked is not None:
        return locked
    st = os.lstat(path)
    complete = _complete(path)
    if isinstance(complete, str):
        return Waiting("unreadable", f"无法读取({complete}),请检查共享权限 / cannot be read "
                                     f"({complete}): check the share's permissions",
                       st.st_mtime)
    if now - st.st_mtime < COPYING_SECONDS:
        return Waiting("copying", f"仍在写入({st.st_size} 字节)/ still being copied or saved "
                                  f"({st.st_size} bytes)", st.st_mtime)
    if not complete:
        return Waiting("incomplete", f"不是完整的文件({st.st_size} 字节):仍在复制,或已损坏"
                                     f"(保持不变则被拒收)/ not a complete file ({st.st_size} "
                                     "bytes): still being copied, or truncated (refused once it "
                                     "stops changing)", st.st_mtime)
    return Waiting("waiting", f"完整,下一轮处理({st.st_size} 字节)/ complete, taken at the "
                              f"next pass ({st.st_size} bytes)", max(st.st_mtime, st.st_ctime))


def waiting_reasons(paths: list[Path], stale_after: float, inbox: Path | None = None
                    ) -> dict[str, Waiting]:
    """`why_waiting` for each of ``paths``, keyed by the name people read (below ``inbox``)."""
    now = time.time()
    out: dict[str, Waiting] = {}
    for path in paths:
        try:
            name = "/".join(display_name(p) for p in path.relative_to(inbox).parts) if inbox \
                else display_name(path.name)
        except ValueError:
            name = display_name(path.name)
        out[name] = why_waiting(path, stale_after, now)
    return out
