"""The intake pipeline: claimed file in, exactly one record or one rejection out (SPEC §5).

Order of work for one claimed file, chosen so a crash at any point loses nothing and never
doubles anything:

1. identify, extract, validate and score the file (nothing written yet);
2. decide, in one immediate ledger transaction, what it is — a duplicate of a recorded file,
   a new record (a revision of the latest record with its natural key, if there is one), or
   a rejection — and commit that decision with its record and file rows and the corrective
   actions it raises or answers (`qmsforms.actions.raising`);
3. materialise the decision in the outbox (archive copy, record workbook, record JSON, action
   journal; or the rejection's report, annotated copy and original), each file written
   atomically (`outbox.OutboxWriter`);
4. remove the claim from the work folder.

A run that dies before 2 leaves the claim to be processed again from scratch; one that dies
after 2 leaves a claim whose decision is in the ledger, and recovery (`recovery.Recovery`) only
redoes step 3, which writes the same files again. Each claim is processed under an exclusive
lock (`claims`), so a second watcher never touches a claim the first one holds, and recovers it
if the first one died. With SQLite the locks are files on this machine, so one inbox is
watched from one machine; with PostgreSQL they are in the database, and several machines may
watch one inbox. The decision of step 2 locks its natural key and content first
(`LedgerStore.lock`), so decisions about other files do not wait for it.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any

from ..actions.raising import reconcile, touched_by, write_journal
from ..customers.follow_up import record_notes
from ..definitions import DefinitionFiles
from ..issues import Code, Issue, Report, UsageError
from ..registry import FormDef
from ..safe_text import safe_filename
from ..safety import check_defusedxml
from ..site import natural_key, site_id
from ..workspace import Workspace
from .claims import claim_locks
from .files import (
    WORK_DIR,
    Claim,
    Settler,
    candidates,
    claim_entries,
    claim_time,
    display_name,
    kind_of,
    new_claim_id,
    remove_empty,
    return_to_inbox,
    sha256_of,
)
from .ledger import UNAVAILABLE, FileRow, LedgerStore, RecordRow, decision_keys, open_ledger
from .ledger.store import now
from .outbox import OutboxWriter, base_name, rejection_base
from .outcome import BLOCKING, Blocked, Outcome, ProcessResult, blocked_by, poison_report
from .outputs import copy_file, fsync_dir, remove_parts
from .reader import ReaderProcess, ReadFailed, ReadInterrupted, ReadLimits, refusal
from .recovery import Recovery

log = logging.getLogger(__name__)


_KIND_ZH = {"pipe": "管道 pipe", "socket": "套接字 socket", "device": "设备 device",
            "folder": "文件夹 folder", "missing": "不存在 missing"}


class Intake:
    """Processes files of one workspace's inbox into its outbox and ledger.

    Returned files are read in a `ReaderProcess` under ``limits``; a file that kills, stalls
    or exhausts it is retried until ``limits.attempts`` reads failed and then refused. Errors
    of the surroundings (disk full, read-only outbox, share gone) raise `Blocked` and leave
    every file where it is.
    """

    def __init__(self, workspace: Workspace, *, settle: float = 0.5, quiet: float | None = None,
                 today: date | None = None, limits: ReadLimits | None = None) -> None:
        check_defusedxml()
        self.ws = workspace
        self.site = site_id(workspace)
        self.today = today
        self.work = workspace.inbox / WORK_DIR
        self.settler = Settler(settle, 10 * settle if quiet is None else quiet)
        self.limits = limits or ReadLimits.of(workspace)
        workspace.policies  # noqa: B018 - a bad [scoring] setting stops it before a file moves
        self.definitions = DefinitionFiles([workspace.schemas_dir / "questionnaires",
                                            workspace.schemas_dir / "policies"])
        self.ledger: LedgerStore[Any] = open_ledger(workspace, write=True)
        self.claims = claim_locks(self.ledger, workspace.state_dir / "locks")
        self.reader = ReaderProcess(workspace.root, self.limits)
        self.outbox = OutboxWriter(workspace, self.reader)
        self.waiting_claims: dict[str, str] = {}  # claim id -> why it waits
        self.failed: dict[str, str] = {}  # claim id -> the error of its last try
        self.recovery = Recovery(workspace.inbox, self.work, self.claims, self.ledger,
                                 self._process, self.failed, self.waiting_claims)
        try:
            self._folders()
            remove_parts(workspace.outbox)
        except OSError as exc:
            log.warning("cannot prepare the work folders yet: %s", exc)

    def close(self) -> None:
        """Stop the reader and close the claim locks and the ledger."""
        self.reader.close()
        self.claims.close()
        self.ledger.close()

    def __enter__(self) -> Intake:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _folders(self) -> None:
        """(Re-)create the folders the intake needs: someone may have deleted them. An inbox
        configured outside the workspace (a plant's share) is never created: absent, the share
        is not mounted, and the intake is blocked until it is."""
        if not self.ws.inbox.is_dir() and not _inside(self.ws.inbox, self.ws.root):
            raise FileNotFoundError(errno.ENOENT, "收件箱不存在(共享未挂载?)/ the inbox is "
                                    "not there (is the share mounted?)", str(self.ws.inbox))
        self.work.mkdir(parents=True, exist_ok=True)
        self.ws.outbox.mkdir(parents=True, exist_ok=True)

    def _fresh_definitions(self) -> None:
        """Definition files edited since they were read (a typo fixed, a form disabled) are
        read again, here and by a new reader child, before the next file."""
        if self.definitions.changed():
            log.info("定义文件已更改,重新读取 / definition files changed; reading them again")
            for name in ("registry", "policies"):
                self.ws.__dict__.pop(name, None)  # the workspace's cached properties
            self.reader.close()

    def display(self, path: Path) -> str:
        """The name of an inbox entry as people read it: its path below the inbox."""
        try:
            rel = path.relative_to(self.ws.inbox)
        except ValueError:
            return display_name(path.name)
        return "/".join(display_name(part) for part in rel.parts)

    # -- claiming ---------------------------------------------------------------------------

    def take(self, path: Path, *, copy: bool = False) -> Outcome | None:
        """Claim ``path`` and process it; None when another process took it first.

        ``copy`` claims by copying (for files named outside the inbox, which stay put).
        Raises `Blocked` when the surroundings stop the intake; the file is then either still
        in the inbox or claimed, and finished by the next `recover`.
        """
        try:
            self._folders()
            self._fresh_definitions()
            kind = kind_of(path)
            if copy and kind == "link":  # named on the command line: the person meant it
                path, kind = path.resolve(), kind_of(path.resolve())
            if kind == "missing":
                return None
            self.ledger.version  # noqa: B018 - a ledger out of reach claims nothing (Blocked)
            claim_id = new_claim_id()
            lock = self.claims.acquire(claim_id)
            assert lock is not None  # a fresh id is never locked
        except BLOCKING as exc:
            raise blocked_by(exc) or exc from exc
        try:
            folder = self.work / claim_id
            target = folder / path.name
            try:
                folder.mkdir()
                if copy and kind is None:
                    copy_file(path, target)
                elif not copy:
                    os.rename(path, target)
            except FileNotFoundError:
                remove_empty(folder)
                return None
            except OSError as exc:
                remove_empty(folder)
                raise blocked_by(exc) or exc from exc
            fsync_dir(folder)
            return self._process(Claim(claim_id, self.display(path), target), kind)
        finally:
            lock.release()

    def recover(self) -> list[Outcome]:
        """Finish claims an interrupted run left behind (skipping those another run holds).

        One claim that cannot be finished never stops the others: it is logged, kept, and
        tried again at the next recovery (a file whose reads keep failing is refused after
        ``limits.attempts``). Raises `Blocked` when the surroundings stop the intake.
        """
        try:
            self._folders()
            self._fresh_definitions()
        except OSError as exc:
            raise blocked_by(exc) or exc from exc
        return self.recovery.run()

    # -- processing ---------------------------------------------------------------------------

    def _process(self, claim: Claim, kind: str | None = None) -> Outcome:
        try:
            decided = self.ledger.file(claim.claim_id)
        except UNAVAILABLE as exc:
            raise blocked_by(exc) or exc from exc
        try:
            outcome = self._redo(claim, decided) if decided else self._decide(claim, kind)
        except Exception as exc:
            blocked = blocked_by(exc)
            if blocked is not None:
                raise blocked from exc
            self.failed[claim.claim_id] = f"{type(exc).__name__}: {exc}"
            if decided is None:
                self.ledger.fail_attempt(claim.claim_id, f"{Code.PROCESSING_FAILED.name}: "
                                         f"{type(exc).__name__}: {exc}"[:300])
            raise
        self.failed.pop(claim.claim_id, None)
        self._release(claim)
        return outcome

    def _release(self, claim: Claim) -> None:
        """The outcome is durable: the claimed file goes, anything else goes back."""
        with contextlib.suppress(FileNotFoundError):
            claim.path.unlink()
        for entry in claim_entries(claim.folder):
            return_to_inbox(self.ws.inbox, entry, f"left in claim {claim.claim_id}")
        for hidden in claim.folder.glob(".~part-*"):
            hidden.unlink(missing_ok=True)
        remove_empty(claim.folder)
        fsync_dir(self.work)

    def _read(self, claim: Claim) -> Report:
        """Validate the claimed file in the reader process, within the attempts allowed."""
        while True:
            count = self.ledger.begin_attempt(claim.claim_id, claim.name)
            if count > self.limits.attempts:
                return poison_report(claim.name, self.ledger.attempt(claim.claim_id))
            try:
                report = self.reader.validate(claim.path, claim.name, self.today)
            except ReadInterrupted:  # asked to stop: not the file's fault
                self.ledger.end_attempt(claim.claim_id)
                raise
            except ReadFailed as failed:
                log.warning("%s: read %d of %d failed: %s %s", claim.name, count,
                            self.limits.attempts, failed.code.name, failed.detail)
                self.ledger.fail_attempt(claim.claim_id, f"{failed.code.name}: {failed.detail}")
                continue
            self.ledger.end_attempt(claim.claim_id)
            return report

    def _form(self, report: Report) -> FormDef | None:
        if not (report.valid and report.data is not None and report.form):
            return None
        try:
            return self.ws.registry.get(report.form)
        except UsageError as exc:  # valid, but for a form this workspace no longer has
            log.warning("%s: %s; the file is rejected", report.path, exc)
            return None

    def _decide(self, claim: Claim, kind: str | None) -> Outcome:
        received = claim_time(claim.claim_id)
        kind = kind if kind is not None else kind_of(claim.path)
        if kind is not None:
            issue = (Issue.make(Code.LINK_NOT_FOLLOWED) if kind == "link"
                     else Issue.make(Code.NOT_A_FILE, detail=_KIND_ZH.get(kind, kind)))
            return self._reject(claim, refusal(claim.name, issue),
                                hashlib.sha256(b"").hexdigest(), 0, received)
        sha, size = sha256_of(claim.path)
        report = self._read(claim)
        form = self._form(report)
        if form is None or report.data is None:
            return self._reject(claim, report, sha, size, received)
        data = report.data
        natural = natural_key(self.ws, form, data, self.site)
        processed = now()
        raised: list[str] = []
        with self.ledger.transaction() as db:
            self.ledger.lock(db, *decision_keys(form.id, natural, sha))
            existing = self.ledger.record_by_sha(sha)
            if existing is not None:
                location = (f"archive/duplicates/{claim.claim_id}__"
                            f"{safe_filename(base_name(claim.name))}")
                self.ledger.add_file(db, FileRow(
                    claim.claim_id, claim.name, sha, size, received, processed, "duplicate",
                    location, existing.record_id, form.id, site=self.site))
                self.ledger.log("duplicate", claim.claim_id, existing.record_id, db=db)
                row = None
            else:
                previous = self.ledger.latest(form.id, natural)
                notes = self._notes(report.instance_id, form.id, natural) + record_notes(report)
                record_id = f"R{processed[:10].replace('-', '')}-{sha[:10]}"
                row = RecordRow(
                    record_id=record_id, form=form.id, revision=report.revision or "",
                    instance_id=report.instance_id, sha256=sha, natural_key=natural,
                    data=data, scores=report.scores, source_name=claim.name,
                    received_at=received, processed_at=processed,
                    path=f"records/{form.id}/{record_id}.json",
                    customer=data.get("customer"),
                    period=data.get("period") or data.get("month"),
                    supersedes=previous.record_id if previous else None, notes=notes,
                    site=self.site)
                self.ledger.add_record(db, row)
                self.ledger.add_file(db, FileRow(
                    claim.claim_id, claim.name, sha, size, received, processed, "record",
                    row.path, record_id, form.id, site=self.site))
                raised = reconcile(self.ws, self.ledger, db, row, received)
        if row is None:
            assert existing is not None
            self.outbox.duplicate(claim, location)
            notes = ("duplicate_of_voided",) if existing.voided else ()
            return Outcome(claim.claim_id, claim.name, "duplicate", location, form.id,
                           existing.record_id, notes=notes)
        self.outbox.record(claim, row)
        write_journal(self.ws.outbox, self.ledger, raised)
        return Outcome(claim.claim_id, claim.name, "record", row.path, form.id, row.record_id,
                       row.supersedes, notes=row.notes)

    def _notes(self, instance_id: str | None, form_id: str,
               natural: dict[str, Any]) -> tuple[str, ...]:
        if not instance_id:
            return ("no_instance_id",)
        notes = []
        if not self.ledger.is_issued(instance_id):
            notes.append("not_issued_here")
        if self.ledger.blank_reused(instance_id, form_id, natural):
            notes.append("reused_blank")
        return tuple(notes)

    def _reject(self, claim: Claim, report: Report, sha: str, size: int,
                received: str) -> Outcome:
        location = rejection_base(claim) + ".report.txt"
        codes = tuple(dict.fromkeys(i.code for i in report.errors))
        payload = report.to_dict()
        payload["path"] = claim.name
        with self.ledger.transaction() as db:
            self.ledger.add_file(db, FileRow(
                claim.claim_id, claim.name, sha, size, received, now(), "rejected", location,
                None, report.form, codes, payload, site=self.site))
        self.outbox.rejection(claim, report)
        return Outcome(claim.claim_id, claim.name, "rejected", location, report.form,
                       codes=codes)

    def _redo(self, claim: Claim, decided: FileRow) -> Outcome:
        """Write the outputs of a decision already committed (after a crash)."""
        if decided.outcome == "duplicate":
            self.outbox.duplicate(claim, decided.location)
            return Outcome(claim.claim_id, claim.name, "duplicate", decided.location,
                           decided.form, decided.record_id)
        if decided.outcome == "record":
            row = self.ledger.record(decided.record_id or "")
            assert row is not None
            self.outbox.record(claim, row)
            write_journal(self.ws.outbox, self.ledger, touched_by(self.ledger, row.record_id))
            return Outcome(claim.claim_id, claim.name, "record", row.path, row.form,
                           row.record_id, row.supersedes, notes=row.notes)
        if decided.report is not None:
            report = Report.from_dict(decided.report)
        else:  # decided by a version that kept no report: read the file again
            report = self._read(claim)
        self.outbox.rejection(claim, report)
        return Outcome(claim.claim_id, claim.name, "rejected", decided.location, decided.form,
                       codes=decided.codes)

    # -- one pass ---------------------------------------------------------------------------------

    def process(self, files: Iterable[Path] | None = None,
                progress: Callable[[Outcome], None] | None = None) -> ProcessResult:
        """One pass: recover, then take every complete file (of the inbox, or ``files``).

        Files still changing or open in an editor are left for the next pass, and so is
        everything once the surroundings block the intake (`ProcessResult.blocked`).
        """
        try:
            outcomes = self.recover()
        except Blocked as blocked:
            return self._result([], [], str(blocked))
        inbox = self.ws.inbox.resolve()
        if files is None:
            paths = candidates(self.ws.inbox)
            named = False
        else:
            paths = [Path(f) for f in files]
            named = True
        self.settler.look(paths)
        time.sleep(self.settler.interval)
        ready = set(self.settler.look(paths, time.monotonic() + self.settler.quiet))
        waiting = [p for p in paths if p not in ready and os.path.lexists(p)
                   and not os.path.isdir(p)]
        for path in paths:
            if path not in ready:
                continue
            outside = named and not _inside(path, inbox)
            try:
                outcome = self.take(path, copy=outside)
            except Blocked as blocked:
                log.error("处理已暂停,文件保留原处 / the intake is blocked: %s", blocked)
                return self._result(outcomes, waiting, str(blocked))
            except Exception:
                log.exception("%s could not be finished; its claim is kept", path.name)
                continue
            if outcome is not None:
                outcomes.append(outcome)
                if progress:
                    progress(outcome)
        for _ in range(self.limits.attempts + 1):  # claims kept after an error: bounded retries
            if not self.failed:
                break
            try:
                retried = self.recover()
            except Blocked as blocked:
                return self._result(outcomes, waiting, str(blocked))
            outcomes += retried
            if progress:
                for outcome in retried:
                    progress(outcome)
        return self._result(outcomes, waiting, None)

    def _result(self, outcomes: list[Outcome], waiting: list[Path],
                blocked: str | None) -> ProcessResult:
        left = {self.display(p): why for p, why in self.settler.unreadable.items()}
        left.update({f"{WORK_DIR}/{cid}": why for cid, why in self.waiting_claims.items()})
        return ProcessResult(outcomes, waiting, left=left, failed=dict(self.failed),
                             blocked=blocked)


def _inside(path: Path, inbox: Path) -> bool:
    try:
        path.parent.resolve().relative_to(inbox)
    except (ValueError, OSError):
        return False
    return True


