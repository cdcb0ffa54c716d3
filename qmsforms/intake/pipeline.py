"""The intake pipeline: claimed file in, exactly one record or one rejection out (SPEC §5).

Order of work for one claimed file, chosen so a crash at any point loses nothing and never
doubles anything:

1. identify, extract, validate and score the file (nothing written yet);
2. decide, in one immediate ledger transaction, what it is — a duplicate of a recorded file,
   a new record (a revision of the latest record with its natural key, if there is one), or
   a rejection — and commit that decision with its record and file rows;
3. materialise the decision in the outbox (archive copy, record workbook, record JSON; or the
   rejection's report, annotated copy and original), each file written atomically;
4. remove the claim from the work folder.

A run that dies before 2 leaves the claim to be processed again from scratch; one that dies
after 2 leaves a claim whose decision is in the ledger, and recovery only redoes step 3, which
writes the same files again. Each claim is processed under an exclusive lock, so a second
watcher never touches a claim the first one holds, and recovers it if the first one died.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from ..issues import Code, Issue, QmsFormsError, Report
from ..registry import FormDef
from ..safe_text import safe_filename
from ..safety import check_defusedxml
from ..validate import WORD_SUFFIXES
from ..workspace import Workspace
from .files import (
    WORK_DIR,
    Claim,
    Settler,
    candidates,
    claim_entries,
    claim_folders,
    display_name,
    free_name,
    is_ignored,
    is_locked,
    kind_of,
    new_claim_id,
)
from .ledger import FileRow, LedgerError, RecordRow, open_ledger
from .locks import ClaimLock
from .outputs import copy_file, fsync_dir, remove_parts, report_text, write_bytes, write_json
from .reader import (
    ReaderProcess,
    ReaderUnavailable,
    ReadFailed,
    ReadInterrupted,
    ReadLimits,
    refusal,
)

log = logging.getLogger(__name__)

_POISON = (Code.READ_TIMEOUT, Code.READ_MEMORY, Code.READER_CRASHED, Code.PROCESSING_FAILED)
# Errors of the surroundings, not of a file: the share, the disk, permissions, the ledger.
_ENVIRONMENT = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO,
                errno.ENOENT, errno.ESTALE, errno.ENOTCONN, errno.EHOSTDOWN,
                errno.EHOSTUNREACH, errno.ETIMEDOUT, errno.ENODEV, errno.ENXIO}


class Blocked(QmsFormsError):
    """The intake cannot go on for a reason outside any file (disk full, read-only outbox,
    share gone, ledger unwritable). Files stay where they are; the intake resumes by itself
    once the cause is gone."""


def _blocked(exc: BaseException) -> Blocked | None:
    """The `Blocked` an error of the surroundings means, or None for any other error."""
    if isinstance(exc, Blocked):
        return exc
    if isinstance(exc, ReaderUnavailable):
        return Blocked(str(exc))
    if isinstance(exc, (LedgerError, sqlite3.OperationalError)):
        return Blocked(f"ledger: {exc}")
    if isinstance(exc, OSError) and exc.errno in _ENVIRONMENT:
        where = f" ({exc.filename})" if exc.filename else ""
        return Blocked(f"{exc.strerror or exc}{where}")
    return None


@dataclass(frozen=True)
class Outcome:
    """What became of one file."""

    claim_id: str
    name: str
    outcome: str  # record | rejected | duplicate
    location: str
    form: str | None = None
    record_id: str | None = None
    supersedes: str | None = None
    codes: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"claim_id": self.claim_id, "name": self.name, "outcome": self.outcome,
                "location": self.location, "form": self.form, "record_id": self.record_id,
                "supersedes": self.supersedes, "codes": list(self.codes),
                "notes": list(self.notes)}


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _claim_time(claim_id: str) -> str:
    try:
        stamp = datetime.strptime(claim_id[:16], "%Y%m%dT%H%M%SZ")
    except ValueError:
        return _now()
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


_KIND_ZH = {"pipe": "管道 pipe", "socket": "套接字 socket", "device": "设备 device",
            "folder": "文件夹 folder", "missing": "不存在 missing"}


def _poison_report(name: str, attempt: dict[str, Any] | None) -> Report:
    """The rejection of a file its reader could not finish, after every attempt."""
    last = (attempt or {}).get("last_error") or ""
    code_name, _, detail = last.partition(": ")
    code = Code.__members__.get(code_name)
    if code not in _POISON:
        code, detail = Code.PROCESSING_FAILED, last or "interrupted while reading"
    assert code is not None
    count = (attempt or {}).get("count", 0)
    return refusal(name, Issue.make(code, detail=detail, attempts=count))


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
        self.today = today
        self.work = workspace.inbox / WORK_DIR
        self.locks = workspace.state_dir / "locks"
        self.settler = Settler(settle, 10 * settle if quiet is None else quiet)
        self.limits = limits or ReadLimits.of(workspace)
        workspace.policies  # noqa: B018 - a bad policy stops the intake before any file moves
        self.ledger = open_ledger(workspace, write=True)
        self.reader = ReaderProcess(workspace.root, self.limits)
        self.waiting_claims: dict[str, str] = {}  # claim id -> why it waits
        self.failed: dict[str, str] = {}  # claim id -> the error of its last try
        try:
            self._folders()
            remove_parts(workspace.outbox)
        except OSError as exc:
            log.warning("cannot prepare the work folders yet: %s", exc)

    def close(self) -> None:
        """Stop the reader and close the ledger."""
        self.reader.close()
        self.ledger.close()

    def __enter__(self) -> Intake:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _folders(self) -> None:
        """(Re-)create the folders the intake needs: someone may have deleted them."""
        self.work.mkdir(parents=True, exist_ok=True)
        self.locks.mkdir(parents=True, exist_ok=True)
        self.ws.outbox.mkdir(parents=True, exist_ok=True)

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
            kind = kind_of(path)
            if copy and kind == "link":  # named on the command line: the person meant it
                path, kind = path.resolve(), kind_of(path.resolve())
            if kind == "missing":
                return None
            claim_id = new_claim_id()
            lock = ClaimLock.acquire(self.locks / f"{claim_id}.lock")
            assert lock is not None  # a fresh id is never locked
        except OSError as exc:
            raise _blocked(exc) or exc from exc
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
                _remove_empty(folder)
                return None
            except OSError as exc:
                _remove_empty(folder)
                raise _blocked(exc) or exc from exc
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
        out: list[Outcome] = []
        try:
            self._folders()
        except OSError as exc:
            raise _blocked(exc) or exc from exc
        claims, strays = claim_folders(self.work)
        for stray in strays:
            self._return_to_inbox(stray, "found in the work folder")
        self.waiting_claims.clear()
        for folder in claims:
            lock = ClaimLock.acquire(self.locks / f"{folder.name}.lock")
            if lock is None:
                continue
            try:
                outcome = self._recover_one(folder)
            except Exception as exc:  # one claim never stops the others
                blocked = _blocked(exc)
                if blocked is not None:
                    raise blocked from exc
                self.failed[folder.name] = f"{type(exc).__name__}: {exc}"
                log.exception("claim %s could not be finished; it is kept and tried again",
                              folder.name)
                continue
            finally:
                lock.release()
            if outcome is not None:
                out.append(outcome)
        return out

    def _recover_one(self, folder: Path) -> Outcome | None:
        claim_id = folder.name
        entries = claim_entries(folder)
        decided = self.ledger.file(claim_id)
        target: Path | None = None
        if decided is not None:
            base = decided.name.rsplit("/", 1)[-1]
            target = next((e for e in entries if display_name(e.name) == base), None)
        else:
            forms = [e for e in entries if not is_ignored(e.name)]
            if len(forms) == 1:
                target = forms[0]
        if target is None:
            # Nothing this claim is sure about: what is there goes back to the inbox, where
            # it is claimed afresh. A decided claim without its file has had its outputs
            # written (the file is removed only after them).
            for entry in entries:
                self._return_to_inbox(entry, f"left in claim {claim_id}")
            _remove_empty(folder)
            return None
        if is_locked(target):
            self.waiting_claims[claim_id] = "open in an editor"
            log.info("claim %s (%s) is open in an editor; it waits", claim_id, target.name)
            return None
        name = decided.name if decided is not None else display_name(target.name)
        self.ledger.log("recovered", claim_id, name)
        return self._process(Claim(claim_id, name, target), kind_of(target))

    def _return_to_inbox(self, entry: Path, why: str) -> None:
        """Put something that is not the intake's own back where people left it."""
        if entry.name.startswith("."):
            return  # hidden files (the share's own, the intake's) stay where they are
        try:
            target = free_name(self.ws.inbox, entry.name)
            os.rename(entry, target)
        except OSError as exc:
            log.warning("could not return %s to the inbox (%s): %s", entry, why, exc)
            return
        log.warning("%s %s: returned to the inbox as %s", why, entry.name, target.name)

    # -- processing ---------------------------------------------------------------------------

    def _process(self, claim: Claim, kind: str | None = None) -> Outcome:
        decided = self.ledger.file(claim.claim_id)
        try:
            outcome = self._redo(claim, decided) if decided else self._decide(claim, kind)
        except Exception as exc:
            blocked = _blocked(exc)
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
            self._return_to_inbox(entry, f"left in claim {claim.claim_id}")
        for hidden in claim.folder.glob(".~part-*"):
            hidden.unlink(missing_ok=True)
        _remove_empty(claim.folder)
        fsync_dir(self.work)

    def _read(self, claim: Claim) -> Report:
        """Validate the claimed file in the reader process, within the attempts allowed."""
        while True:
            count = self.ledger.begin_attempt(claim.claim_id, claim.name)
            if count > self.limits.attempts:
                return _poison_report(claim.name, self.ledger.attempt(claim.claim_id))
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
        except Exception:
            return None

    def _decide(self, claim: Claim, kind: str | None) -> Outcome:
        received = _claim_time(claim.claim_id)
        kind = kind if kind is not None else kind_of(claim.path)
        if kind is not None:
            issue = (Issue.make(Code.LINK_NOT_FOLLOWED) if kind == "link"
                     else Issue.make(Code.NOT_A_FILE, detail=_KIND_ZH.get(kind, kind)))
            return self._reject(claim, refusal(claim.name, issue),
                                hashlib.sha256(b"").hexdigest(), 0, received)
        sha, size = _sha256(claim.path)
        report = self._read(claim)
        form = self._form(report)
        if form is None or report.data is None:
            return self._reject(claim, report, sha, size, received)
        data = report.data
        natural = {k: data.get(k) for k in form.natural_key}
        processed = _now()
        with self.ledger.transaction() as db:
            existing = self.ledger.record_by_sha(sha)
            if existing is not None:
                location = (f"archive/duplicates/{claim.claim_id}__"
                            f"{safe_filename(_base(claim.name))}")
                self.ledger.add_file(db, FileRow(
                    claim.claim_id, claim.name, sha, size, received, processed, "duplicate",
                    location, existing.record_id, form.id))
                self.ledger.log("duplicate", claim.claim_id, existing.record_id, db=db)
                row = None
            else:
                previous = self.ledger.latest(form.id, natural)
                notes = self._notes(report.instance_id, form.id, natural)
                record_id = f"R{processed[:10].replace('-', '')}-{sha[:10]}"
                row = RecordRow(
                    record_id=record_id, form=form.id, revision=report.revision or "",
                    instance_id=report.instance_id, sha256=sha, natural_key=natural,
                    data=data, scores=report.scores, source_name=claim.name,
                    received_at=received, processed_at=processed,
                    path=f"records/{form.id}/{record_id}.json",
                    customer=data.get("customer"),
                    period=data.get("period") or data.get("month"),
                    supersedes=previous.record_id if previous else None, notes=notes)
                self.ledger.add_record(db, row)
                self.ledger.add_file(db, FileRow(
                    claim.claim_id, claim.name, sha, size, received, processed, "record",
                    row.path, record_id, form.id))
        if row is None:
            assert existing is not None
            copy_file(claim.path, self.ws.outbox / location)
            return Outcome(claim.claim_id, claim.name, "duplicate", location, form.id,
                           existing.record_id)
        self._write_record(claim, row)
        return Outcome(claim.claim_id, claim.name, "record", row.path, form.id, row.record_id,
                       row.supersedes, notes=row.notes)

    def _notes(self, instance_id: str | None, form_id: str,
               natural: dict[str, Any]) -> tuple[str, ...]:
        if not instance_id:
            return ("no_instance_id",)
        notes = []
        if not self.ledger.is_issued(instance_id):
            notes.append("not_issued_here")
        if any(r.form == form_id and r.natural_key != natural
               for r in self.ledger.by_instance(instance_id)):
            notes.append("reused_blank")
        return tuple(notes)

    def _reject(self, claim: Claim, report: Report, sha: str, size: int,
                received: str) -> Outcome:
        location = self._rejection_base(claim) + ".report.txt"
        codes = tuple(dict.fromkeys(i.code for i in report.errors))
        payload = report.to_dict()
        payload["path"] = claim.name
        with self.ledger.transaction() as db:
            self.ledger.add_file(db, FileRow(
                claim.claim_id, claim.name, sha, size, received, _now(), "rejected", location,
                None, report.form, codes, payload))
        self._write_rejection(claim, report)
        return Outcome(claim.claim_id, claim.name, "rejected", location, report.form,
                       codes=codes)

    def _rejection_base(self, claim: Claim) -> str:
        stem = safe_filename(Path(_base(claim.name)).stem, "file", 60)
        return f"rejected/{stem}__{claim.claim_id[-12:-4]}"

    def _redo(self, claim: Claim, decided: FileRow) -> Outcome:
        """Write the outputs of a decision already committed (after a crash)."""
        if decided.outcome == "duplicate":
            copy_file(claim.path, self.ws.outbox / decided.location)
            return Outcome(claim.claim_id, claim.name, "duplicate", decided.location,
                           decided.form, decided.record_id)
        if decided.outcome == "record":
            row = self.ledger.record(decided.record_id or "")
            assert row is not None
            self._write_record(claim, row)
            return Outcome(claim.claim_id, claim.name, "record", row.path, row.form,
                           row.record_id, row.supersedes, notes=row.notes)
        if decided.report is not None:
            report = Report.from_dict(decided.report)
        else:  # decided by a version that kept no report: read the file again
            report = self._read(claim)
        self._write_rejection(claim, report)
        return Outcome(claim.claim_id, claim.name, "rejected", decided.location, decided.form,
                       codes=decided.codes)

    # -- outputs --------------------------------------------------------------------------------

    def _write_record(self, claim: Claim, row: RecordRow) -> None:
        out = self.ws.outbox
        record: dict[str, Any] = {
            "record_id": row.record_id, "form": row.form, "revision": row.revision,
            "instance_id": row.instance_id, "data": row.data, "scores": row.scores,
            "source": {"name": row.source_name, "sha256": row.sha256,
                       "received_at": row.received_at},
            "processed_at": row.processed_at,
        }
        if row.supersedes:
            record["supersedes"] = row.supersedes
        if row.notes:
            record["notes"] = list(row.notes)
        folder = out / "records" / row.form
        copy_file(claim.path, out / "archive" / row.form /
                  f"{row.record_id}__{safe_filename(_base(claim.name))}")
        if claim.path.suffix.lower() in WORD_SUFFIXES:
            copy_file(claim.path, folder / f"{row.record_id}.docx")
        else:
            self._record_copy(claim.path, folder / f"{row.record_id}.xlsx", record)
        write_json(out / row.path, record)

    def _record_copy(self, source: Path, target: Path, record: dict[str, Any]) -> None:
        """The record copy, written by the reader process; the file as it came if it fails."""
        try:
            self.reader.record_copy(source, target, record)
        except ReadFailed as failed:
            log.warning("%s: record copy failed (%s %s); the file is kept as it came",
                        source.name, failed.code.name, failed.detail)
            copy_file(source, target)

    def _write_rejection(self, claim: Claim, report: Report) -> None:
        base = self.ws.outbox / self._rejection_base(claim)
        suffix = Path(_base(claim.name)).suffix.lower()
        safe_suffix = suffix if suffix and len(suffix) <= 6 and suffix[1:].isalnum() else ".bin"
        regular = kind_of(claim.path) is None
        if regular:
            copy_file(claim.path, base.with_name(base.name + safe_suffix))
        poisoned = any(i.code in {c.name for c in _POISON} for i in report.issues)
        if (regular and not poisoned and suffix in (".xlsx", ".docx")
                and any(i.cell for i in report.issues)):
            tmp = claim.folder / f".annotated{suffix}"
            try:
                if self.reader.annotate(claim.path, report, tmp):
                    copy_file(tmp, base.with_name(base.name + f".annotated{suffix}"))
            except ReadFailed as failed:  # the annotated copy is a courtesy
                log.warning("%s: no annotated copy (%s)", claim.name, failed.code.name)
            finally:
                tmp.unlink(missing_ok=True)
        payload = report.to_dict()
        payload["path"] = claim.name
        write_json(base.with_name(base.name + ".report.json"), payload)
        write_bytes(base.with_name(base.name + ".report.txt"),
                    report_text(report, claim.name).encode("utf-8"))

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


def _base(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def _inside(path: Path, inbox: Path) -> bool:
    try:
        path.parent.resolve().relative_to(inbox)
    except (ValueError, OSError):
        return False
    return True


def _remove_empty(folder: Path) -> None:
    """Remove a folder the intake made, if nothing is left in it."""
    with contextlib.suppress(OSError):
        folder.rmdir()


@dataclass(frozen=True)
class ProcessResult:
    """The outcomes of one pass and the files left waiting (still changing or open)."""

    outcomes: list[Outcome]
    waiting: list[Path]
    left: dict[str, str] = field(default_factory=dict)  # left alone, and why
    failed: dict[str, str] = field(default_factory=dict)  # claims kept after an error
    blocked: str | None = None  # why the pass stopped early

    def count(self, outcome: str) -> int:
        """How many files ended as ``record``, ``rejected`` or ``duplicate``."""
        return sum(o.outcome == outcome for o in self.outcomes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``process --json`` prints this."""
        return {"outcomes": [o.to_dict() for o in self.outcomes],
                "waiting": [str(p) for p in self.waiting],
                "left": self.left, "failed": self.failed, "blocked": self.blocked,
                "records": self.count("record"), "rejected": self.count("rejected"),
                "duplicates": self.count("duplicate")}
