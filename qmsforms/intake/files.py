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

import contextlib
import hashlib
import logging
import os
import re
import stat
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..issues import readable

log = logging.getLogger(__name__)

WORK_DIR = ".qmsforms-work"
MAX_DEPTH = 4  # folder levels looked into below the inbox
CLAIM_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{12}$")

_TEMP = re.compile(r"(^~\$)|(^\.~lock\..*#$)|(\.tmp$)|(^~.*\.TMP$)|(\.(part|crdownload)$)",
                   re.IGNORECASE)


# Files Windows and macOS drop into any folder people look at.
_SYSTEM = {"thumbs.db", "desktop.ini", "ehthumbs.db", "icon\r"}


def is_ignored(name: str) -> bool:
    """Lock, temp, hidden and system files, and names without an extension (Excel's save
    temp)."""
    if not name or name.startswith(".") or _TEMP.search(name) or name.lower() in _SYSTEM:
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
    for lock in lock_files(path):
        try:
            os.lstat(lock)
            return True
        except OSError:  # absent, or a name too long to exist
            continue
    return False


def display_name(name: str) -> str:
    """A file name as people read it.

    A name that is not valid UTF-8 (GBK names from zips made on Chinese Windows) arrives with
    surrogate escapes; it is decoded as GB18030 where it can be, else its bad bytes are shown
    as ``\\xNN``. The file on disk keeps its name; only the ledger and the outbox use this.
    """
    return readable(name)


def candidates(inbox: Path, depth: int = MAX_DEPTH) -> list[Path]:
    """Entries of the inbox that may be forms, oldest path first.

    Folders are looked into (a clerk copies a folder of returned forms into the inbox), up to
    ``depth`` levels, without following links; hidden entries and ignored names are left out.
    Links, pipes and devices are returned too, never followed or opened: they are refused.
    """
    out: list[Path] = []
    try:
        entries = list(os.scandir(inbox))
    except OSError:
        return []
    for entry in entries:
        try:
            folder = entry.is_dir(follow_symlinks=False)
        except OSError:
            continue
        if folder:  # any name: "2026.11 回执" and "回执" alike; hidden ones are not people's
            if depth > 0 and not entry.name.startswith("."):
                out.extend(candidates(Path(entry.path), depth - 1))
        elif not is_ignored(entry.name):
            out.append(Path(entry.path))
    return sorted(out)


def is_regular(path: Path) -> bool:
    """Whether ``path`` itself (not what a link points at) is a regular file."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def kind_of(path: Path) -> str | None:
    """``None`` for a regular file, else what it is: ``link``, ``pipe``, ``socket``, ``device``,
    ``folder`` (or ``missing``)."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return "missing"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISFIFO(mode):
        return "pipe"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device"


# Opening to look: never waits on a pipe, never follows a link.
LOOK_ONLY = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
_EOCD = b"PK\x05\x06"
_TAIL = 22 + 65535  # end-of-central-directory record plus the longest comment


def ends_like_zip(path: Path) -> bool:
    """Whether the file ends like a complete zip (its end-of-central-directory record).

    Only the tail is read, so a huge or hostile file costs nothing here; whether the zip
    really opens is the reader's business. Never opens anything but a regular file, and never
    blocks (``O_NONBLOCK``): a pipe named ``x.xlsx`` cannot hang the intake.
    """
    fd = os.open(path, LOOK_ONLY)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return False
        start = max(0, st.st_size - _TAIL)
        os.lseek(fd, start, os.SEEK_SET)
        tail = os.read(fd, st.st_size - start)
    finally:
        os.close(fd)
    return _EOCD in tail


@dataclass
class _Look:
    size: int
    mtime_ns: int
    since: float


class Settler:
    """Decides when files are complete by looking at them repeatedly.

    ``look`` is called with the current candidates, every ``interval`` seconds or so; it
    returns the files that are ready. A file is ready when two looks in a row saw the same
    size and mtime (at least ``interval`` apart), no editor lock is beside it, and it ends as
    a zip, or when it stayed unchanged for ``quiet`` seconds without that (it will be rejected
    with the reason). Links, pipes and devices are ready at once (they are refused unread). A
    file that cannot be read (share permissions) is left where it is, in `unreadable`.
    """

    def __init__(self, interval: float = 0.5, quiet: float = 5.0) -> None:
        self.interval = interval
        self.quiet = quiet
        self._seen: dict[Path, _Look] = {}
        self.unreadable: dict[Path, str] = {}

    def look(self, paths: Iterable[Path], now: float | None = None) -> list[Path]:
        """Look at ``paths`` once; returns those complete now."""
        now = time.monotonic() if now is None else now
        ready: list[Path] = []
        current = set()
        for path in paths:
            current.add(path)
            try:
                st = os.lstat(path)
            except OSError:
                self._seen.pop(path, None)
                continue
            if stat.S_ISDIR(st.st_mode):
                continue
            if not stat.S_ISREG(st.st_mode):
                ready.append(path)
                continue
            before = self._seen.get(path)
            if before is None or (before.size, before.mtime_ns) != (st.st_size, st.st_mtime_ns):
                self._seen[path] = _Look(st.st_size, st.st_mtime_ns, now)
                continue
            if now - before.since < self.interval or is_locked(path):
                continue
            try:
                complete = ends_like_zip(path)
            except OSError as exc:
                self.unreadable[path] = exc.strerror or type(exc).__name__
                continue
            self.unreadable.pop(path, None)
            if complete or now - before.since >= self.quiet:
                ready.append(path)
                del self._seen[path]
        for gone in set(self._seen) - current:
            del self._seen[gone]
        for gone in set(self.unreadable) - current:
            del self.unreadable[gone]
        return ready

    def forget(self, path: Path) -> None:
        """Stop tracking a file (it was claimed or removed)."""
        self._seen.pop(path, None)
        self.unreadable.pop(path, None)

    @property
    def waiting(self) -> int:
        """Files seen but not yet complete."""
        return len(self._seen)


@dataclass(frozen=True)
class Claim:
    """A file taken from the inbox into the work folder, under a unique claim id.

    ``name`` is the name people read (its path below the inbox, decoded for display);
    ``path`` is where the claimed file now is.
    """

    claim_id: str
    name: str
    path: Path

    @property
    def folder(self) -> Path:
        """The claim's own folder in the work folder."""
        return self.path.parent


def claim_folders(work: Path) -> tuple[list[Path], list[Path]]:
    """The claim folders in the work folder (oldest first) and anything else found there.

    Only folders named like a claim id were made by the intake; everything else in the work
    folder was put there by someone else and is never deleted.
    """
    try:
        entries = sorted(work.iterdir())
    except OSError:
        return [], []
    claims: list[Path] = []
    strays: list[Path] = []
    for entry in entries:
        if CLAIM_ID.match(entry.name) and entry.is_dir() and not entry.is_symlink():
            claims.append(entry)
        else:
            strays.append(entry)
    return claims, strays


def claim_entries(folder: Path) -> list[Path]:
    """What a claim folder holds, except the intake's own hidden files."""
    try:
        return sorted(p for p in folder.iterdir() if not p.name.startswith(".~part-")
                      and not p.name.startswith(".annotated"))
    except OSError:
        return []


def free_name(folder: Path, name: str) -> Path:
    """``folder/name``, or ``folder/stem (2).ext`` and so on if that exists already."""
    target = folder / name
    n = 2
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    while os.path.lexists(target):
        target = folder / (f"{stem} ({n}).{ext}" if ext else f"{stem} ({n})")
        n += 1
    return target


def new_claim_id() -> str:
    """A claim id: UTC time to the second and 48 random bits (sorts by claim time)."""
    return f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{uuid.uuid4().hex[:12]}"


def claim_time(claim_id: str) -> str:
    """When a file was claimed, from its claim id (``2026-11-21T08:00:00Z``); now for an id
    that does not say."""
    try:
        stamp = datetime.strptime(claim_id[:16], "%Y%m%dT%H%M%SZ")
    except ValueError:
        stamp = datetime.now(timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def sha256_of(path: Path) -> tuple[str, int]:
    """The sha256 (hex) and size of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def claim(path: Path, work: Path) -> Claim | None:
    """Move ``path`` into its own folder under ``work``; None if another process took it."""
    claim_id = new_claim_id()
    folder = work / claim_id
    folder.mkdir(parents=True)
    target = folder / path.name
    try:
        os.rename(path, target)
    except FileNotFoundError:
        folder.rmdir()
        return None
    return Claim(claim_id, display_name(path.name), target)


def return_to_inbox(inbox: Path, entry: Path, why: str) -> None:
    """Put something that is not the intake's own back where people left it (under a free
    name); hidden files (the share's own, the intake's) stay where they are."""
    if entry.name.startswith("."):
        return
    try:
        target = free_name(inbox, entry.name)
        os.rename(entry, target)
    except OSError as exc:
        log.warning("could not return %s to the inbox (%s): %s", entry, why, exc)
        return
    log.warning("%s %s: returned to the inbox as %s", why, entry.name, target.name)


def remove_empty(folder: Path) -> None:
    """Remove a folder the intake made, if nothing is left in it."""
    with contextlib.suppress(OSError):
        folder.rmdir()
