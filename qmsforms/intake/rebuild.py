"""Rebuild a lost ledger from the outbox (``qmsforms ledger rebuild``).

Every ``outbox/records/<form>/<record_id>.json`` the intake wrote holds what its records row
held: the record id, form, revision, instance id, data, scores, source (name, sha256, time
received), time processed, the record it supersedes and its notes. From these the records
come back with their natural keys (from the form definitions), their revision chains and
their ``latest`` flags, and each gets a files row (outcome ``record``, claim id
``rebuilt-<record_id>``), so a file dropped again is a duplicate, not a new record.

A record voided with ``qmsforms records void`` has a void file beside its JSON
(`qmsforms.intake.voids`) and is voided again, in the order the voids were made. The
corrective actions are raised again by replaying the records and voids in the order they
happened (`qmsforms.actions.raising.replay_actions`), numbered as the outbox's action journal
says.
What the outbox does not hold is not rebuilt: the outcome rows of rejections and duplicates,
the blanks issued from the workspace (returned forms are then noted ``not_issued_here``), the
event log and the attempts.

The new ledger is built beside the old place under a temporary name and linked into place
only when complete, so a watcher starting meanwhile finds either no ledger (and refuses) or
the whole one. An existing ledger is never deleted: a blank one (missing, empty, no tables) is
moved aside, a filled one only with ``force``; its ``-wal`` and ``-shm`` go with it.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import sqlite3
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..actions.raising import replay_actions
from ..issues import UsageError
from ..site import natural_key
from .ledger import FileRow, Ledger, LedgerError, RecordRow, ledger_url
from .ledger.schema import void_record as void_row
from .ledger.sqlite_files import (
    SIDE_FILES,
    is_busy,
    ledger_path,
    readonly_error,
    side_files,
    unwritable,
)
from .ledger.store import key_text
from .outputs import fsync_dir
from .voids import VOID_SUFFIX, read_voids

if TYPE_CHECKING:
    from ..workspace import Workspace

log = logging.getLogger(__name__)

_REQUIRED = ("record_id", "form", "revision", "data", "source", "processed_at")


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _existing(path: Path) -> tuple[bool, int | None]:
    """Whether a ledger file holds anything, and how many records (None: unreadable)."""
    try:
        if path.stat().st_size == 0:
            return False, 0
    except FileNotFoundError:
        return False, 0
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
            if not tables:
                return False, 0
            if "records" not in tables:
                return True, None
            return True, int(db.execute("SELECT count(*) FROM records").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error:
        return True, None


def _in_use(path: Path) -> bool:
    """Whether another connection has the ledger open (a running watcher, say).

    A connection in exclusive locking mode needs the database file's exclusive lock, which
    any other open connection to a WAL database prevents. A file SQLite cannot read as a
    database is not in use by qmsforms.
    """
    try:
        db = sqlite3.connect(str(path), timeout=0, isolation_level=None)
    except sqlite3.Error:
        return False
    try:
        db.execute("PRAGMA locking_mode = EXCLUSIVE")
        db.execute("BEGIN EXCLUSIVE")
        db.execute("ROLLBACK")
        return False
    except sqlite3.Error as exc:
        return is_busy(exc)
    finally:
        db.close()


def _check_movable(path: Path) -> None:
    """The ledger, its -wal and -shm all move aside, or none does."""
    bad = unwritable([*side_files(path), path.parent])
    if bad is not None:
        raise readonly_error(bad)


def _move_aside(path: Path) -> list[str]:
    """Rename the ledger and its -wal/-shm to ``<name>.bak-<timestamp>`` (kept together)."""
    base = path.with_name(f"{path.name}.bak-{_stamp()}")
    n = 1
    while any(Path(f"{base}{s}").exists() for s in ("", *SIDE_FILES)):
        n += 1
        base = path.with_name(f"{path.name}.bak-{_stamp()}-{n}")
    moved: list[str] = []
    _check_movable(path)
    for source, suffix in zip(side_files(path), ("", *SIDE_FILES), strict=True):
        if source.exists():
            target = Path(f"{base}{suffix}")
            try:
                os.rename(source, target)
            except OSError as exc:
                raise LedgerError(
                    "LEDGER_READONLY",
                    f"无法把 {source} 移到一旁({exc.strerror});请检查它和 .qmsforms 文件夹的"
                    f"属性与权限(`lsattr`、`chattr -i`)。已移走的文件:{moved or '无'}。",
                    f"cannot move {source} aside ({exc.strerror}); check its and the .qmsforms "
                    f"folder's attributes and permissions (`lsattr`, `chattr -i`). Moved "
                    f"already: {moved or 'nothing'}.") from exc
            moved.append(str(target))
    fsync_dir(path.parent)
    return moved


def _read_records(workspace: Workspace) -> tuple[list[RecordRow], dict[str, int],
                                                 list[dict[str, str]]]:
    """Record rows from the outbox's record JSON; file sizes from the archive; what was
    skipped and why."""
    outbox = workspace.outbox
    registry = workspace.registry
    rows: list[RecordRow] = []
    sizes: dict[str, int] = {}
    skipped: list[dict[str, str]] = []
    seen_sha: set[str] = set()
    folder = outbox / "records"
    paths = sorted(p for p in folder.rglob("*.json")
                   if p.is_file() and not p.name.startswith(".")
                   and not p.name.endswith(VOID_SUFFIX)) if folder.is_dir() else []
    for path in paths:
        rel = path.relative_to(outbox).as_posix()

        def skip(reason: str, rel: str = rel) -> None:
            skipped.append({"path": rel, "reason": reason})

        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            skip("unreadable")
            continue
        if not isinstance(record, dict) or any(k not in record for k in _REQUIRED) or \
                not isinstance(record["source"], dict) or not isinstance(record["data"], dict):
            skip("incomplete")
            continue
        record_id, form_id = str(record["record_id"]), str(record["form"])
        if path.stem != record_id or path.parent != folder / form_id:
            skip("misplaced")
            continue
        if form_id not in registry:
            skip("unknown_form")
            continue
        source = record["source"]
        sha = str(source.get("sha256") or "")
        if len(sha) != 64 or sha in seen_sha:
            skip("duplicate_content" if sha in seen_sha else "no_sha256")
            continue
        seen_sha.add(sha)
        form = registry.get(form_id)
        data = record["data"]
        site = record.get("site") or None
        rows.append(RecordRow(
            record_id=record_id, form=form_id, revision=str(record["revision"]),
            instance_id=record.get("instance_id"), sha256=sha,
            natural_key=natural_key(workspace, form, data, site), data=data,
            scores=record.get("scores"), source_name=str(source.get("name") or path.name),
            received_at=str(source.get("received_at") or record["processed_at"]),
            processed_at=str(record["processed_at"]), path=f"records/{form_id}/{record_id}.json",
            customer=data.get("customer"), period=data.get("period") or data.get("month"),
            supersedes=record.get("supersedes") or None,
            notes=tuple(record.get("notes") or ()), site=site))
        archive = outbox / "archive" / form_id
        copies = sorted(archive.glob(f"{glob.escape(record_id)}__*")) if archive.is_dir() else []
        sizes[record_id] = copies[0].stat().st_size if copies else 0
    return rows, sizes, skipped


def _chain(rows: list[RecordRow]) -> tuple[list[RecordRow], list[dict[str, str]]]:
    """Set ``latest`` from the revision chains; a link to a record not in the outbox is
    dropped, and of two unlinked records with one natural key only the newer stays latest."""
    ids = {r.record_id for r in rows}
    notes: list[dict[str, str]] = []
    fixed = []
    for r in rows:
        if r.supersedes and r.supersedes not in ids:
            notes.append({"path": r.path, "reason": "supersedes_missing",
                          "record_id": r.supersedes})
            r = replace(r, supersedes=None)
        fixed.append(r)
    superseded = {r.supersedes for r in fixed if r.supersedes}
    fixed = [replace(r, latest=r.record_id not in superseded) for r in fixed]
    newest: dict[tuple[str, str], RecordRow] = {}
    for r in sorted((r for r in fixed if r.latest), key=lambda r: (r.processed_at, r.record_id)):
        key = (r.form, key_text(r.natural_key))
        if key in newest:
            notes.append({"path": newest[key].path, "reason": "same_key_not_latest",
                          "record_id": r.record_id})
        newest[key] = r
    keep = {r.record_id for r in newest.values()}
    return [replace(r, latest=r.record_id in keep) for r in fixed], notes


def rebuild_ledger(workspace: Workspace, *, force: bool = False) -> dict[str, Any]:
    """Re-create the workspace's ledger from the record JSON in its outbox.

    Refuses (`LedgerError` ``LEDGER_EXISTS``) when a ledger with content exists, unless
    ``force``, which moves it aside first (``ledger.sqlite.bak-<timestamp>``, with its -wal
    and -shm; never deleted); refuses (``LEDGER_BUSY``) while another process has it open.
    Returns the counts: ``records``, ``latest``, ``superseded``, ``voided``, ``files``,
    ``forms`` (records per form), ``skipped`` (record JSON not rebuilt, with the reason),
    ``adjusted`` (links dropped, latest flags corrected), ``actions`` (corrective actions
    raised again), ``moved_aside`` (the files renamed) and ``ledger``.
    """
    if ledger_url(workspace) is not None:  # never a SQLite ledger beside the shared one
        raise UsageError(
            "台账保存在 PostgreSQL 数据库中:rebuild 只重建 SQLite 台账。请用 pg_dump 的备份恢复"
            "数据库。 / the ledger is kept in a PostgreSQL database: rebuild only rebuilds a "
            "SQLite ledger. Restore the database from a pg_dump backup.")
    path = ledger_path(workspace)
    path.parent.mkdir(parents=True, exist_ok=True)
    filled, count = _existing(path)
    if filled and not force:
        held = "?" if count is None else str(count)
        raise LedgerError(
            "LEDGER_EXISTS",
            f"台账 {path} 已存在(含 {held} 条记录);重建只用于缺失或为空的台账。若确需用发件箱"
            "重建,加 --force:原台账会被移到一旁保留(不会删除)。",
            f"the ledger {path} exists (holding {held} records); a rebuild only replaces a "
            "missing or empty ledger. To rebuild from the outbox anyway, add --force: the "
            "present ledger is moved aside and kept (never deleted).")
    if path.exists() and _in_use(path):
        raise LedgerError(
            "LEDGER_BUSY",
            f"台账 {path} 正被另一个进程使用(正在运行的 qmsforms watch?)。请先停止它再重建。",
            f"the ledger {path} is open in another process (a running `qmsforms watch`?). "
            "Stop it before rebuilding.")
    if any(p.exists() for p in side_files(path)):
        _check_movable(path)
    rows, sizes, skipped = _read_records(workspace)
    rows, adjusted = _chain(rows)
    rows.sort(key=lambda r: (r.processed_at, r.record_id))

    temp = path.with_name(f".{path.name}.rebuild-{os.getpid()}")
    for stale in side_files(temp):
        stale.unlink(missing_ok=True)  # our own temporary name, left by a failed rebuild
    forms: dict[str, int] = {}
    try:
        with Ledger(temp) as ledger:
            with ledger.transaction() as db:
                db.execute("PRAGMA defer_foreign_keys = ON")
                for row in rows:
                    ledger.add_record(db, row)
                    ledger.add_file(db, FileRow(
                        f"rebuilt-{row.record_id}", row.source_name, row.sha256,
                        sizes.get(row.record_id, 0), row.received_at, row.processed_at,
                        "record", row.path, row.record_id, row.form, site=row.site))
                    forms[row.form] = forms.get(row.form, 0) + 1
                ids = {row.record_id for row in rows}
                voids = sorted((v["at"], record_id, v) for record_id, v in
                               read_voids(workspace.outbox).items() if record_id in ids)
                for _at, record_id, void in voids:  # in the order they were voided
                    void_row(db, record_id, void["reason"], void["by"], void["at"])
                actions = replay_actions(workspace, ledger, db, rows,
                                         {record_id: void for _at, record_id, void in voids})
            latest = ledger.records(latest_only=True)
            result: dict[str, Any] = {
                "records": len(rows), "latest": len(latest),
                "superseded": len(rows) - len(latest) - len(voids), "voided": len(voids),
                "files": len(rows), "forms": forms, "skipped": skipped, "adjusted": adjusted,
                "actions": actions,
            }
            ledger.log("rebuilt", None, json.dumps(
                {k: result[k] for k in ("records", "latest", "superseded", "voided", "files")}
                | {"skipped": len(skipped), "adjusted": len(adjusted)}))
            if ledger.integrity() != "ok":  # pragma: no cover - a fresh file
                raise LedgerError("LEDGER_DAMAGED", "重建的台账未通过完整性检查。",
                                  "the rebuilt ledger failed its integrity check")
        if any(p.exists() for p in side_files(temp)[1:]):  # pragma: no cover
            raise LedgerError("LEDGER_UNAVAILABLE", "重建的台账未能完整写入(-wal 仍在)。",
                              "the rebuilt ledger was not checkpointed (its -wal remains)")
        with temp.open("rb") as fh:
            os.fsync(fh.fileno())
        moved = _move_aside(path) if any(p.exists() for p in side_files(path)) else []
        try:
            os.link(temp, path)  # never replaces a ledger created meanwhile
        except FileExistsError as exc:
            raise LedgerError(
                "LEDGER_EXISTS",
                f"重建期间有其他进程新建了台账 {path};重建的台账未放入。",
                f"another process created the ledger {path} during the rebuild; the rebuilt "
                "one was not put in place") from exc
        fsync_dir(path.parent)
    finally:
        for part in side_files(temp):
            part.unlink(missing_ok=True)
    result["moved_aside"] = moved
    result["ledger"] = str(path)
    log.info("rebuilt %s from the outbox: %d records (%d latest), %d skipped", path,
             result["records"], result["latest"], len(skipped))
    return result
