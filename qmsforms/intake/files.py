"""Files in the inbox: which to ignore, when one is complete, and claiming it.

Office programs save through lock and temp files (Excel: ``~$name.xlsx`` owner file, a temp
file without extension renamed over the original; LibreOffice: ``.~lock.name.xlsx#``). Those
are never forms. A file is complete when its size and mtime are unchanged across two looks
and it opens as a zip; a copy keeps the source's old mtime, so age alone proves nothing. A
file that stays unchanged but never opens is taken after a quiet period so it can be rejected
with a reason instead of waiting forever. While an editor's lock file for it exists, a file is
still being edited and is left alone.

Claiming is an atomic rename into the inbox's hidden work folder: of two watchers only one
rename succeeds, and a claimed file survives a crash where it can be found again.
"""

from __future__ import annotations

import os
import re
import time
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

WORK_DIR = ".qmsforms-work"

_TEMP = re.compile(r"(^~\$)|(^\.~lock\..*#$)|(\.tmp$)|(^~.*\.TMP$)|(\.(part|crdownload)$)",
                   re.IGNORECASE)


def is_ignored(name: str) -> bool:
    """Lock, temp and hidden files, and names without an extension (Excel's save temp)."""
    if not name or name.startswith(".") or _TEMP.search(name):
        return True
    stem, dot, ext = name.rpartition(".")
    return not dot or not stem or not ext


def lock_files(path: Path) -> tuple[Path, ...]:
    """The editor lock files that would exist while ``path`` is open in Excel or LibreOffice."""
    name = path.name
    owner = "~$" + (name[2:] if len(name) > 2 else name)
    return (path.with_name("~$" + name), path.with_name(owner),
            path.with_name(f".~lock.{name}#"))


def is_locked(path: Path) -> bool:
    """Whether an editor holds ``path`` open (its lock file is beside it)."""
    return any(p.exists() for p in lock_files(path))


def candidates(inbox: Path) -> list[Path]:
    """Files in the inbox that may be forms (not recursive; ignored names left out)."""
    try:
        entries = list(os.scandir(inbox))
    except FileNotFoundError:
        return []
    out = []
    for entry in entries:
        if is_ignored(entry.name):
            continue
        try:
            if entry.is_file(follow_symlinks=False):
                out.append(Path(entry.path))
        except OSError:
            continue
    return sorted(out)


def _openable(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            zf.infolist()
        return True
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False


@dataclass
class _Look:
    size: int
    mtime_ns: int
    since: float


class Settler:
    """Decides when files are complete by looking at them repeatedly.

    ``look`` is called with the current candidates, every ``interval`` seconds or so; it
    returns the files that are ready. A file is ready when two looks in a row saw the same
    size and mtime (at least ``interval`` apart), no editor lock is beside it, and it opens
    as a zip, or when it stayed unchanged for ``quiet`` seconds without opening (it will be
    rejected with the reason).
    """

    def __init__(self, interval: float = 0.5, quiet: float = 5.0) -> None:
        self.interval = interval
        self.quiet = quiet
        self._seen: dict[Path, _Look] = {}

    def look(self, paths: Iterable[Path], now: float | None = None) -> list[Path]:
        """Look at ``paths`` once; returns those complete now."""
        now = time.monotonic() if now is None else now
        ready: list[Path] = []
        current = set()
        for path in paths:
            current.add(path)
            try:
                st = path.stat()
            except OSError:
                self._seen.pop(path, None)
                continue
            before = self._seen.get(path)
            if before is None or (before.size, before.mtime_ns) != (st.st_size, st.st_mtime_ns):
                self._seen[path] = _Look(st.st_size, st.st_mtime_ns, now)
                continue
            if now - before.since < self.interval or is_locked(path):
                continue
            if _openable(path) or now - before.since >= self.quiet:
                ready.append(path)
                del self._seen[path]
        for gone in set(self._seen) - current:
            del self._seen[gone]
        return ready

    def forget(self, path: Path) -> None:
        """Stop tracking a file (it was claimed or removed)."""
        self._seen.pop(path, None)

    @property
    def waiting(self) -> int:
        """Files seen but not yet complete."""
        return len(self._seen)


@dataclass(frozen=True)
class Claim:
    """A file taken from the inbox into the work folder, under a unique claim id."""

    claim_id: str
    name: str
    path: Path

    @property
    def folder(self) -> Path:
        """The claim's own folder in the work folder."""
        return self.path if self.path.is_dir() else self.path.parent


def claim(path: Path, work: Path) -> Claim | None:
    """Move ``path`` into its own folder under ``work``; None if another process took it."""
    claim_id = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:12]}"
    folder = work / claim_id
    folder.mkdir(parents=True)
    target = folder / path.name
    try:
        os.rename(path, target)
    except FileNotFoundError:
        folder.rmdir()
        return None
    return Claim(claim_id, path.name, target)


def pending_claims(work: Path) -> list[Claim]:
    """Claims found in the work folder, oldest first (an empty one has ``path`` = its folder).

    Some may belong to a run that is still working on them; take each one's lock first.
    """
    out = []
    try:
        folders = sorted(p for p in work.iterdir() if p.is_dir())
    except FileNotFoundError:
        return []
    for folder in folders:
        try:
            files = [p for p in folder.iterdir()
                     if p.is_file() and not p.name.startswith(".")]
        except FileNotFoundError:
            continue
        path = files[0] if len(files) == 1 else folder
        out.append(Claim(folder.name, path.name, path))
    return out
