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

import hashlib
import os
import shutil
import time
import uuid
import warnings
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from ..issues import Report
from ..registry import FormDef
from ..safe_text import safe_filename
from ..safety import check_defusedxml
from ..validate import WORD_SUFFIXES, validate_path
from ..workspace import Workspace
from .files import WORK_DIR, Claim, Settler, candidates, pending_claims
from .ledger import FileRow, RecordRow, open_ledger
from .locks import ClaimLock
from .outputs import (
    RECORD_SHEET,
    RECORD_TITLE,
    add_record_sheet,
    atomic_write,
    copy_file,
    fsync_dir,
    record_rows,
    remove_parts,
    report_text,
    save_workbook,
    write_bytes,
    write_json,
)
from .record_copy import Unsupported, write_record_copy


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


class Intake:
    """Processes files of one workspace's inbox into its outbox and ledger."""

    def __init__(self, workspace: Workspace, *, settle: float = 0.5, quiet: float | None = None,
                 today: date | None = None) -> None:
        check_defusedxml()
        self.ws = workspace
        self.today = today
        self.work = workspace.inbox / WORK_DIR
        self.locks = workspace.state_dir / "locks"
        self.settler = Settler(settle, 10 * settle if quiet is None else quiet)
        self.work.mkdir(parents=True, exist_ok=True)
        self.locks.mkdir(parents=True, exist_ok=True)
        workspace.outbox.mkdir(parents=True, exist_ok=True)
        workspace.policies  # noqa: B018 - a bad policy stops the intake before any file moves
        self.ledger = open_ledger(workspace, write=True)
        remove_parts(workspace.outbox)

    def close(self) -> None:
        """Close the ledger."""
        self.ledger.close()

    def __enter__(self) -> Intake:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- claiming ---------------------------------------------------------------------------

    def _new_claim_id(self) -> str:
        return f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:12]}"

    def take(self, path: Path, *, copy: bool = False) -> Outcome | None:
        """Claim ``path`` and process it; None when another process took it first.

        ``copy`` claims by copying (for files named outside the inbox, which stay put).
        """
        claim_id = self._new_claim_id()
        lock = ClaimLock.acquire(self.locks / f"{claim_id}.lock")
        assert lock is not None  # a fresh id is never locked
        try:
            folder = self.work / claim_id
            folder.mkdir()
            target = folder / path.name
            try:
                if copy:
                    shutil.copyfile(path, target)
                else:
                    os.rename(path, target)
            except FileNotFoundError:
                shutil.rmtree(folder, ignore_errors=True)
                return None
            fsync_dir(folder)
            return self._process(Claim(claim_id, path.name, target))
        finally:
            lock.release()

    def recover(self) -> list[Outcome]:
        """Finish claims an interrupted run left behind (skipping those another run holds)."""
        out = []
        for claim in pending_claims(self.work):
            lock = ClaimLock.acquire(self.locks / f"{claim.claim_id}.lock")
            if lock is None:
                continue
            try:
                if claim.path.is_file():
                    self.ledger.log("recovered", claim.claim_id, claim.name)
                    out.append(self._process(claim))
                elif claim.path.is_dir():  # claimed folder the file never reached
                    shutil.rmtree(claim.path, ignore_errors=True)
            finally:
                lock.release()
        return out

    # -- processing ---------------------------------------------------------------------------

    def _process(self, claim: Claim) -> Outcome:
        decided = self.ledger.file(claim.claim_id)
        outcome = self._redo(claim, decided) if decided else self._decide(claim)
        shutil.rmtree(claim.folder, ignore_errors=True)
        fsync_dir(self.work)
        return outcome

    def _validate(self, claim: Claim) -> tuple[Report, FormDef | None]:
        report = Report(path=claim.name)
        form = validate_path(claim.path, self.ws, report, self.today)
        return report, form

    def _decide(self, claim: Claim) -> Outcome:
        sha, size = _sha256(claim.path)
        received = _claim_time(claim.claim_id)
        report, form = self._validate(claim)
        if not (report.valid and report.data is not None and form is not None):
            return self._reject(claim, report, sha, size, received)
        data = report.data
        natural = {k: data.get(k) for k in form.natural_key}
        processed = _now()
        with self.ledger.transaction() as db:
            existing = self.ledger.record_by_sha(sha)
            if existing is not None:
                location = f"archive/duplicates/{claim.claim_id}__{safe_filename(claim.name)}"
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
        with self.ledger.transaction() as db:
            self.ledger.add_file(db, FileRow(
                claim.claim_id, claim.name, sha, size, received, _now(), "rejected", location,
                None, report.form, codes))
        self._write_rejection(claim, report)
        return Outcome(claim.claim_id, claim.name, "rejected", location, report.form,
                       codes=codes)

    def _rejection_base(self, claim: Claim) -> str:
        stem = safe_filename(Path(claim.name).stem, "file", 60)
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
        report, _ = self._validate(claim)
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
                  f"{row.record_id}__{safe_filename(claim.name)}")
        if claim.path.suffix.lower() in WORD_SUFFIXES:
            copy_file(claim.path, folder / f"{row.record_id}.docx")
        else:
            _write_record_copy(claim.path, folder / f"{row.record_id}.xlsx", record)
        write_json(out / row.path, record)

    def _write_rejection(self, claim: Claim, report: Report) -> None:
        base = self.ws.outbox / self._rejection_base(claim)
        suffix = Path(claim.name).suffix.lower()
        safe_suffix = suffix if suffix and len(suffix) <= 6 and suffix[1:].isalnum() else ".bin"
        copy_file(claim.path, base.with_name(base.name + safe_suffix))
        if suffix in (".xlsx", ".docx") and any(i.cell for i in report.issues):
            tmp = claim.folder / f".annotated{suffix}"
            try:
                if _annotate(claim.path, report, tmp) is not None:
                    copy_file(tmp, base.with_name(base.name + f".annotated{suffix}"))
            except Exception:  # an annotated copy is a courtesy; the report is the outcome
                pass
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

        Files still changing or open in an editor are left for the next pass.
        """
        outcomes = self.recover()
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
        waiting = [p for p in paths if p not in ready and p.exists()]
        for path in paths:
            if path not in ready:
                continue
            outside = named and path.resolve().parent != inbox
            outcome = self.take(path, copy=outside)
            if outcome is not None:
                outcomes.append(outcome)
                if progress:
                    progress(outcome)
        return ProcessResult(outcomes, waiting)


def _annotate(path: Path, report: Report, out: Path) -> Path | None:
    """The annotated copy of a rejected file: cells or content controls marked up."""
    if path.suffix.lower() == ".docx":
        from ..word.annotate import annotate_word

        return annotate_word(path, report, out)
    from ..templates import annotate

    return annotate(path, report, out)


@dataclass(frozen=True)
class ProcessResult:
    """The outcomes of one pass and the files left waiting (still changing or open)."""

    outcomes: list[Outcome]
    waiting: list[Path]

    def count(self, outcome: str) -> int:
        """How many files ended as ``record``, ``rejected`` or ``duplicate``."""
        return sum(o.outcome == outcome for o in self.outcomes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``process --json`` prints this."""
        return {"outcomes": [o.to_dict() for o in self.outcomes],
                "waiting": [str(p) for p in self.waiting],
                "records": self.count("record"), "rejected": self.count("rejected"),
                "duplicates": self.count("duplicate")}


def _write_record_copy(source: Path, target: Path, record: dict[str, Any]) -> None:
    """The filled workbook with its record sheet first: added to the package directly, or by
    openpyxl for a package shape that needs it, or the file as it came if neither can."""
    try:
        atomic_write(target, lambda tmp: write_record_copy(
            source, tmp, record_rows(record), RECORD_SHEET, RECORD_TITLE))
        return
    except (Unsupported, zipfile.BadZipFile, KeyError, ValueError):
        pass
    wb = _load_for_copy(source)
    if wb is None:
        copy_file(source, target)
    else:
        add_record_sheet(wb, record)
        save_workbook(wb, target)


def _load_for_copy(path: Path) -> Workbook | None:
    """The validated file opened with openpyxl to write its record copy; None if it cannot be."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return load_workbook(path)
    except Exception:  # any failure only costs the scores sheet of the copy
        return None
