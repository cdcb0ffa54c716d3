"""The SQLite ledger's files and what can go wrong with them: where they live, read-only or
immutable files, damage, a lost ledger, a busy one; and the errors that say so.

SQLite maps the ``-shm`` file into memory, and the kernel answers a write through a mapping of a
file made immutable with SIGBUS, which kills the process without a word; hence `unwritable`
checks before and during use, and `abandon` for a connection that cannot be closed safely.
"""

from __future__ import annotations

import ctypes
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from .store import LedgerError

if TYPE_CHECKING:
    from ...workspace import Workspace

LEDGER_NAME = "ledger.sqlite"
"""The ledger's file name in the workspace's state folder (``.qmsforms/``)."""

SIDE_FILES = ("-wal", "-shm")
"""SQLite's companions of the ledger file in WAL mode (same name plus these suffixes)."""


def _errorcode(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
    return None if code is None else int(code) & 0xFF


_CORRUPT, _NOTADB, _BUSY, _LOCKED, _READONLY, _CANTOPEN = 11, 26, 5, 6, 8, 14


def is_damage(exc: sqlite3.Error) -> bool:
    """SQLITE_CORRUPT or SQLITE_NOTADB: the file is damaged or no database at all."""
    code = _errorcode(exc)
    if code is not None:
        return code in (_CORRUPT, _NOTADB)
    text = str(exc)
    return "malformed" in text or "not a database" in text


def is_busy(exc: sqlite3.Error) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED: another connection holds the lock."""
    code = _errorcode(exc)
    if code is not None:
        return code in (_BUSY, _LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


def side_files(path: str | Path) -> list[Path]:
    """The ledger file and its ``-wal`` and ``-shm`` companions (present or not)."""
    return [Path(path), *(Path(f"{path}{suffix}") for suffix in SIDE_FILES)]


def ledger_path(workspace: Workspace) -> Path:
    """Where a workspace's ledger lives: ``.qmsforms/ledger.sqlite``."""
    return workspace.state_dir / LEDGER_NAME


def unwritable(paths: list[Path]) -> Path | None:
    """The first of ``paths`` that exists and cannot be written (read-only or immutable)."""
    for path in paths:
        if path.exists() and not os.access(path, os.W_OK):
            return path
    return None


def abandon(db: sqlite3.Connection) -> None:
    """Never close ``db``, not even when it is garbage-collected or at interpreter exit.

    Closing checkpoints the WAL through the memory mapping of the ``-shm`` file; when that
    file was made immutable under the open connection the kernel kills the process with
    SIGBUS. Left open, the connection ends with the process, which SQLite handles like a crash:
    every committed transaction is in the WAL and the next opener recovers it.
    """
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(db))


def missing_error(path: Path, records: int, wal: bool) -> LedgerError:
    """``LEDGER_MISSING``: no ledger (or an empty one) beside ``records`` records or a WAL file
    left by the lost one."""
    zh_what, en_what = [], []
    if records:
        zh_what.append(f"而发件箱中已有 {records} 条记录")
        en_what.append(f"while the outbox holds {records} records")
    if wal:
        zh_what.append(f"而它的 -wal 文件({path.name}-wal)仍在,只属于丢失的那个台账")
        en_what.append(f"while its -wal file ({path.name}-wal), which belongs only to the lost "
                       "ledger, is still there")
    return LedgerError(
        "LEDGER_MISSING",
        f"台账 {path} 缺失或为空,{';'.join(zh_what)}。为免重复记录或覆盖已有记录,qmsforms "
        f"不会新建台账。请从备份恢复 .qmsforms/{path.name}(连同其 -wal 文件),或运行 "
        "`qmsforms ledger rebuild` 从发件箱重建台账(原有文件会被移到一旁保留)。",
        f"the ledger {path} is missing or empty {' and '.join(en_what)}. qmsforms does not "
        "start a new ledger over them (files would be recorded again and their records "
        f"overwritten). Restore .qmsforms/{path.name} (with its -wal file) from a backup, or "
        "rebuild it from the outbox with `qmsforms ledger rebuild` (what is there is moved "
        "aside and kept).")


def damaged_error(path: Path, detail: str) -> LedgerError:
    """``LEDGER_DAMAGED``: restore from a backup or rebuild."""
    return LedgerError(
        "LEDGER_DAMAGED",
        f"台账 {path} 已损坏({detail})。请从备份恢复 .qmsforms/{path.name}(连同其 -wal 文件);"
        "若无备份,运行 `qmsforms ledger rebuild --force` 从发件箱重建(损坏的文件会被移到一旁"
        "保留,不会删除)。",
        f"the ledger {path} is damaged ({detail}). Restore .qmsforms/{path.name} (with its -wal "
        "file) from a backup; without one, rebuild it from the outbox with `qmsforms ledger "
        "rebuild --force` (the damaged file is moved aside and kept, never deleted).")


def readonly_error(path: Path, *, became: bool = False) -> LedgerError:
    """``LEDGER_READONLY``: ``path`` is (or ``became``, while open) read-only or immutable."""
    zh_when = "在 qmsforms 打开它之后变成了" if became else "是"
    en_when = "became" if became else "is"
    zh_what, en_what = ("台账文件夹", "the ledger's folder") if path.is_dir() else (
        "台账文件", "the ledger file")
    return LedgerError(
        "LEDGER_READONLY",
        f"{zh_what} {path} {zh_when}只读或不可变(immutable),qmsforms 无法安全地使用台账。"
        f"请用 `lsattr` 查看属性,用 `chattr -i {path}` 去除不可变属性,或授予写权限"
        "(也检查 .qmsforms 文件夹及台账的 -wal、-shm 文件),然后重新启动。",
        f"{en_what} {path} {en_when} read-only or immutable, so qmsforms cannot use the "
        f"ledger safely. Check with `lsattr`, remove the immutable flag with `chattr -i {path}` "
        "or grant write permission (check the .qmsforms folder and the ledger's -wal and -shm "
        "files too), then start again.")



def newer_error(path: Path, current: int, known: int) -> LedgerError:
    """``LEDGER_NEWER``: the schema is ``current``, this qmsforms knows up to ``known``."""
    return LedgerError(
        "LEDGER_NEWER",
        f"台账 {path} 的结构版本 {current} 比本版 qmsforms({known})新;请升级 qmsforms。",
        f"{path}: ledger schema {current} is newer than this qmsforms ({known}); upgrade "
        "qmsforms")


def open_error(path: Path, exc: sqlite3.Error) -> LedgerError:
    """The `LedgerError` an error met while opening the ledger at ``path`` means."""
    if isinstance(exc, LedgerError):
        return exc
    if is_damage(exc):
        return damaged_error(path, str(exc))
    bad = unwritable([*side_files(path), path.parent])
    if bad is not None:
        return readonly_error(bad)
    return LedgerError(
        "LEDGER_UNAVAILABLE",
        f"无法打开台账 {path}:{exc}。请检查文件、文件夹与权限。",
        f"cannot open the ledger {path}: {exc}. Check the file, its folder and permissions.")
