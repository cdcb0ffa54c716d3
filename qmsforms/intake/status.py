"""What the intake is doing and what needs a person (``qmsforms status``, SPEC §9).

Everything here is found by looking, never by asking a running watcher: the inbox and its
work folder, the claim locks, the watchers' heartbeat files, the ledger and the outbox.
`intake_status` only reads (it creates, takes and removes nothing); it can run beside a
watcher, from a scheduler or from monitoring, and its ``needs_person`` decides the exit code of
``qmsforms status``.

The result is a list of named sections of `Entry` rows (``watchers``, ``inbox``, ``claims``,
``rejections``, ``outbox``, ``customers``, ``actions``, ``definitions``); a check that finds
something more adds a section of its own (`IntakeStatus.add`) and the command prints it and
counts it in ``needs_person`` unchanged.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..workspace import Workspace
from .claims import FileClaimLocks, claim_locks
from .files import WORK_DIR, candidates, claim_entries, claim_folders, display_name, is_ignored
from .heartbeat import BLOCKED, WAITING_FOR_LEDGER, WATCHING, watchers
from .ledger import FileRow, LedgerError, LedgerStore, ledger_path, open_ledger
from .waiting import lock_state, stamp, why_waiting

MIN_FREE_MB = 200
"""Free space below this on the outbox's or the ledger's disk needs a person."""

SECTIONS = ("watchers", "inbox", "claims", "rejections", "outbox", "customers",
            "actions", "definitions")
"""The sections every status has, in the order they are shown."""


@dataclass
class Entry:
    """One thing the status names (a watcher, a file, a claim, a group of rejections, an
    outbox problem) and its state; ``info`` holds what only some entries have (pid, host …)."""

    name: str
    state: str  # a stable keyword (see the README's ``status --json``)
    detail: str = ""
    since: str | None = None
    person: bool = False  # needs a person
    info: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"name": self.name, "state": self.state, "detail": self.detail,
                "since": self.since, "needs_person": self.person, **self.info}


@dataclass
class IntakeStatus:
    """The state of one workspace's intake."""

    workspace: str = ""
    ledger: str = "ok"
    counts: dict[str, int] = field(default_factory=dict)
    last_record: dict[str, Any] | None = None
    sections: dict[str, list[Entry]] = field(
        default_factory=lambda: {name: [] for name in SECTIONS})

    def add(self, section: str, entry: Entry) -> None:
        """Add ``entry`` to ``section`` (a new section is shown after the others)."""
        self.sections.setdefault(section, []).append(entry)

    @property
    def inbox(self) -> list[Entry]:
        """Files waiting in the inbox, and why."""
        return self.sections["inbox"]

    @property
    def claims(self) -> list[Entry]:
        """Claims in the work folder: in progress (by which process), failing, waiting."""
        return self.sections["claims"]

    @property
    def outbox(self) -> list[Entry]:
        """Problems of the outbox: records without their JSON, no space, not writable."""
        return self.sections["outbox"]

    @property
    def watchers(self) -> list[Entry]:
        """Watchers on this workspace, from their heartbeat files."""
        return self.sections["watchers"]

    @property
    def rejections(self) -> list[Entry]:
        """Rejections not yet sent again, one entry per sender or customer."""
        return self.sections["rejections"]

    @property
    def needs_person(self) -> bool:
        """Whether anything here waits for a person (``qmsforms status`` exits 1)."""
        return self.ledger != "ok" or any(
            e.person for entries in self.sections.values() for e in entries)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``status --json`` prints this."""
        return {"workspace": self.workspace, "needs_person": self.needs_person,
                "checked_at": stamp(time.time()), "ledger": self.ledger,
                "counts": self.counts, "last_record": self.last_record,
                **{name: [e.to_dict() for e in entries]
                   for name, entries in self.sections.items()}}


def intake_status(ws: Workspace, *, locks: Path | None = None,
                  site: str | None = None) -> IntakeStatus:
    """Look at the workspace's watchers, inbox, work folder, ledger and outbox; the
    rejections and overdue actions of one ``site`` (or of every site)."""
    status = IntakeStatus(workspace=str(ws.root))
    settings = ws.config.intake
    stale_after = settings.stale_lock_minutes * 60
    limits = ws.config.limits
    _watchers(ws, status, 300 + limits.read_timeout_seconds * limits.read_attempts)
    running = any(e.state in ("running", "elsewhere") for e in status.watchers)
    now = time.time()
    for path in candidates(ws.inbox):
        status.add("inbox", _inbox_entry(ws.inbox, path, stale_after, running, now))
    ledger: LedgerStore[Any] | None = None
    try:
        ledger = open_ledger(ws, site=site)  # read-only; checked (quick_check) as it opens
    except LedgerError as exc:
        status.ledger = str(exc)
    except (OSError, sqlite3.Error) as exc:  # reported, never raised
        status.ledger = f"cannot be read: {exc}"
    try:
        _claims(ws, status, ledger, locks or ws.state_dir / "locks", stale_after)
        if ledger is not None:
            _ledger_and_outbox(ws, status, ledger)
            _rejections(status, ledger)
    finally:
        if ledger is not None:
            ledger.close()
    _space(ws, status)
    _definitions(ws, status)
    return status


def _definitions(ws: Workspace, status: IntakeStatus) -> None:
    """The broken definition files (``qmsforms doctor``), each a thing a person must fix."""
    from ..actions.policy import load_action_policy
    from ..definitions import DefinitionBroken
    from ..doctor import check_definitions

    problems = list(check_definitions(ws).problems)
    try:
        load_action_policy(ws)
    except DefinitionBroken as exc:  # read by the raising, not by the scoring policies
        problems += exc.problems
    for p in problems:
        status.add("definitions", Entry(p.where, "definition_broken",
                                        f"{p.message_zh} / {p.message_en}; disables {p.target}",
                                        person=True))


def _watchers(ws: Workspace, status: IntakeStatus, silent_after: float) -> None:
    """Each watcher's heartbeat: alive or not, and what it does (watching, waiting for its
    ledger, blocked), since when and why."""
    for seen in watchers(ws.state_dir, silent_after):
        info = {k: seen.info.get(k) for k in ("pid", "host", "site", "mode", "inbox",
                                              "heartbeat_at", "processed", "started_at")}
        detail = {"running": "运行中 / running",
                  "elsewhere": "在另一台机器上运行 / running on another host",
                  "not_responding": f"进程仍在,但 {int(silent_after)} 秒无心跳 / its process "
                                    f"lives but has not beaten for {int(silent_after)} s",
                  "gone": f"已意外停止(进程不存在);请重新启动 watch,或删除 "
                          f".qmsforms/watchers/{seen.file} / stopped without cleaning up (its "
                          "process is gone): start the watcher again (it clears this) or "
                          f"remove .qmsforms/watchers/{seen.file}"}[seen.state]
        state, person, since = seen.state, seen.needs_person, seen.info.get("started_at")
        # a heartbeat written before the watcher said what it does only had "blocked"
        doing = seen.info.get("state") or (BLOCKED if seen.info.get("blocked") else WATCHING)
        if state in ("running", "elsewhere") and doing in (WAITING_FOR_LEDGER, BLOCKED):
            host = seen.info.get("host")
            error = seen.info.get("last_error") or seen.info.get("blocked")
            since = seen.info.get("since") or since
            info["last_error"] = error
            state, person = doing, True  # it claims nothing until the cause is gone
            detail = (f"{host} 上的 watch 自 {since} 起等待台账,文件留在收件箱 / watcher on "
                      f"{host} waiting for the ledger since {since}, the files wait in the "
                      f"inbox: {error}" if doing == WAITING_FOR_LEDGER else
                      f"已暂停,文件保留原处 / blocked, files stay where they are: {error}")
        status.add("watchers", Entry(f"{seen.info.get('host')}:{seen.info.get('pid')}",
                                     state, detail, since, person, info))


def _inbox_entry(inbox: Path, path: Path, stale_after: float, watched: bool,
                 now: float) -> Entry:
    name = "/".join(display_name(p) for p in path.relative_to(inbox).parts)
    why = why_waiting(path, stale_after, now)
    person = why.needs_person
    detail = why.detail
    if why.state == "waiting" and not watched and why.since and now - why.since > stale_after:
        person = True  # nothing takes it: the scheduled `process` stopped, or no watcher runs
        detail += ";没有运行中的 watch,请运行 qmsforms process / no watcher runs: run " \
                  "`qmsforms process` or start `qmsforms watch`"
    since = None if why.since is None else stamp(why.since)
    return Entry(name, why.state, detail, since, person,
                 {"lock": why.lock} if why.lock else {})


def _claims(ws: Workspace, status: IntakeStatus, ledger: LedgerStore[Any] | None, locks: Path,
            stale_after: float) -> None:
    work = ws.inbox / WORK_DIR
    folders, strays = claim_folders(work)
    claims = claim_locks(ledger, locks) if ledger is not None else FileClaimLocks(locks)
    for stray in strays:
        if not stray.name.startswith("."):
            status.add("claims", Entry(f"{WORK_DIR}/{display_name(stray.name)}", "stray",
                                       "不是 qmsforms 的文件,下一轮放回收件箱 / not the intake's: "
                                       "returned to the inbox at the next pass"))
    attempts = {a["claim_id"]: a for a in ledger.open_attempts()} if ledger else {}
    limit = ws.config.limits.read_attempts
    for folder in folders:
        forms = [e for e in claim_entries(folder) if not is_ignored(e.name)]
        name = f"{WORK_DIR}/{folder.name}"
        shown = ", ".join(display_name(e.name) for e in forms) or "(empty)"
        claimed = _claim_time(folder.name)
        holder = claims.holder(folder.name)
        if holder is not None:
            who = f"pid {holder.get('pid', '?')} @ {holder.get('host', '?')}"
            status.add("claims", Entry(name, "in_progress", f"{shown}: 处理中 / being processed "
                                       f"by {who}", holder.get("since") or claimed, False,
                                       {"pid": holder.get("pid"), "host": holder.get("host"),
                                        "claimed_at": claimed}))
            continue
        decided = ledger.file(folder.name) if ledger else None
        tried = attempts.get(folder.name)
        locked = lock_state(forms[0], stale_after) if len(forms) == 1 else None
        if locked is not None:
            status.add("claims", Entry(name, locked.state, f"{shown}: {locked.detail}",
                                       stamp(locked.since or 0), locked.needs_person,
                                       {"lock": locked.lock, "claimed_at": claimed}))
        elif decided is not None:
            status.add("claims", Entry(name, "outputs_pending",
                                       f"{shown}: {decided.outcome} decided, outbox files not "
                                       "yet written", decided.processed_at, True))
        elif tried is not None and tried["last_error"]:
            status.add("claims", Entry(
                name, "failing", f"{shown}: {tried['count']} of {limit} failed read(s), last "
                f"{tried['last_error']}", tried["last_at"], True,
                {"attempts": tried["count"], "attempts_allowed": limit,
                 "last_error": tried["last_error"], "claimed_at": claimed}))
        elif tried is not None and tried["count"]:
            status.add("claims", Entry(
                name, "retrying", f"{shown}: a read began and did not finish ({tried['count']} "
                f"of {limit}); tried again at the next pass", tried["last_at"], False,
                {"attempts": tried["count"], "attempts_allowed": limit, "claimed_at": claimed}))
        else:
            status.add("claims", Entry(name, "claimed", f"{shown}: finished at the next pass",
                                       claimed))


def _claim_time(claim_id: str) -> str:
    day, _, clock = claim_id[:16].partition("T")
    return f"{day[:4]}-{day[4:6]}-{day[6:8]}T{clock[:2]}:{clock[2:4]}:{clock[4:6]}Z"


def _ledger_and_outbox(ws: Workspace, status: IntakeStatus, ledger: LedgerStore[Any]) -> None:
    files = ledger.files()
    status.counts = {t: ledger.count(t) for t in ("records", "files", "issued")}
    for outcome in ("rejected", "duplicate"):
        status.counts[outcome] = sum(f.outcome == outcome for f in files)
    rows = ledger.records(latest_only=False)
    if rows:
        last = max(rows, key=lambda r: (r.processed_at, r.record_id))
        status.last_record = {"record_id": last.record_id, "form": last.form,
                              "name": last.source_name, "customer": last.customer,
                              "processed_at": last.processed_at}
    for row in rows:
        if not (ws.outbox / row.path).is_file():
            status.add("outbox", Entry(row.record_id, "record_json_missing",
                                       f"{row.path} not written yet", row.processed_at, True))
    # customers to follow up: unknown to the customer master, answers at 1-2 not handled
    from ..customers.follow_up import follow_ups

    for f in follow_ups(ws, rows):
        status.add("customers", Entry(f.name, f.state, f.detail, f.since, True))
    _overdue_actions(ws, status, ledger)


def _overdue_actions(ws: Workspace, status: IntakeStatus, ledger: LedgerStore[Any]) -> None:
    """Corrective actions past their due date, neither verified nor closed (those whose cause
    a later record removed are left out: nothing is left to correct)."""
    from ..actions import action_views

    for view in action_views(ws, ledger):
        if not view.overdue or view.row.cause_removed_by:
            continue
        row = view.row
        who = f"{row.customer}: " if row.customer else ""
        status.add("actions", Entry(
            row.action_id, "overdue",
            f"{who}{row.problem_zh} 责任部门 {row.department_zh},要求 {view.due} 前完成 / "
            f"{who}{row.problem_en} Department: {row.department_en}; due {view.due}",
            view.due, True, {"source": row.source, "status": view.status}))


def _keys(name: str, instance_id: str | None, *, both: bool) -> set[tuple[str, str]]:
    """What ties a re-sent file to its rejection: the blank it was filled on, else (a file
    without a readable identity) its name; ``both`` for a file that may answer either."""
    keys = {("instance", instance_id)} if instance_id else set()
    if both or not instance_id:
        keys.add(("name", name.rsplit("/", 1)[-1]))
    return keys


def _rejections(status: IntakeStatus, ledger: LedgerStore[Any]) -> None:
    """Rejections not followed by a record or duplicate of the same blank (or file name)."""
    instances = {r.record_id: r.instance_id for r in ledger.records(latest_only=False)}
    issued = {i["instance_id"]: i.get("customer") for i in ledger.issued()}
    pending: list[tuple[set[tuple[str, str]], FileRow]] = []
    for row in ledger.files():
        inst = ((row.report or {}).get("instance_id") if row.outcome == "rejected"
                else instances.get(row.record_id or ""))
        keys = _keys(row.name, inst, both=True)
        pending = [(k, f) for k, f in pending if not k & keys]  # answered, or rejected again
        if row.outcome == "rejected":
            pending.append((_keys(row.name, inst, both=False), row))
    groups: dict[str, list[dict[str, Any]]] = {}
    for keys, row in pending:
        inst = next((v for k, v in keys if k == "instance"), None)
        sender = (issued.get(inst) if inst else None) or (
            row.name.split("/", 1)[0] if "/" in row.name else "?")
        groups.setdefault(sender, []).append({
            "name": row.name, "form": row.form, "codes": list(row.codes),
            "rejected_at": row.processed_at, "report": f"outbox/{row.location}"})
    for sender, items in sorted(groups.items()):
        status.add("rejections", Entry(
            sender, "not_resent", f"{len(items)} 份被拒收的文件尚未重新提交 / {len(items)} "
            f"rejected file(s) not sent again: {', '.join(i['name'] for i in items)}",
            min(i["rejected_at"] for i in items), False, {"files": items}))


def _space(ws: Workspace, status: IntakeStatus) -> None:
    """The outbox and the ledger's folder: there, writable, with room."""
    for what, folder in (("outbox", ws.outbox), ("ledger", ledger_path(ws).parent)):
        if not folder.is_dir():
            continue
        try:
            free = shutil.disk_usage(folder).free // 2**20
        except OSError as exc:
            status.add("outbox", Entry(what, "unreachable", str(exc), None, True))
            continue
        if free < MIN_FREE_MB:
            status.add("outbox", Entry(what, "low_disk", f"磁盘仅剩 {free} MB / only {free} MB "
                                       f"free on {folder}'s disk", None, True,
                                       {"free_mb": free}))
        if not os.access(folder, os.W_OK):
            status.add("outbox", Entry(what, "not_writable", f"{folder} 不可写 / {folder} "
                                       "cannot be written", None, True))
