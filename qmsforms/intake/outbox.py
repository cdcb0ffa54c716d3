"""What a decision leaves in the outbox (step 3 of the pipeline), written again unchanged when
recovery redoes it: a record's archive copy, record workbook and JSON; a rejection's
original, annotated copy and reports; a duplicate's copy.

Each file is written atomically and fsynced before its rename (`outputs.atomic_write`); the
folders that received files are fsynced once each after all of a decision's files, which
makes their new entries durable before the claim is released.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..issues import Report
from ..safe_text import safe_filename
from ..validate import WORD_SUFFIXES
from ..workspace import Workspace
from .files import Claim, kind_of
from .ledger import RecordRow
from .outcome import POISON
from .outputs import copy_file, fsync_dirs, report_text, write_bytes, write_json
from .reader import ReaderProcess, ReadFailed

log = logging.getLogger(__name__)


def base_name(name: str) -> str:
    """The file name of an inbox entry's display name (``sub/a.xlsx`` -> ``a.xlsx``)."""
    return name.rsplit("/", 1)[-1]


def rejection_base(claim: Claim) -> str:
    """Where a rejection's files go, relative to the outbox, without their suffixes."""
    stem = safe_filename(Path(base_name(claim.name)).stem, "file", 60)
    return f"rejected/{stem}__{claim.claim_id[-12:-4]}"


def record_json(row: RecordRow) -> dict[str, Any]:
    """What ``outbox/<row.path>`` holds for a record (`qmsforms.intake.rebuild` reads it back,
    `qmsforms.intake.ledger.check` compares it with the ledger)."""
    record: dict[str, Any] = {
        "record_id": row.record_id, "form": row.form, "revision": row.revision,
        "instance_id": row.instance_id, "data": row.data, "scores": row.scores,
        "source": {"name": row.source_name, "sha256": row.sha256,
                   "received_at": row.received_at},
        "processed_at": row.processed_at,
    }
    if row.site:
        record["site"] = row.site
    if row.supersedes:
        record["supersedes"] = row.supersedes
    if row.notes:
        record["notes"] = list(row.notes)
    return record


class OutboxWriter:
    """Writes the outputs of decisions into ``workspace``'s outbox; workbooks are touched only
    in ``reader`` (the record copy, the annotated copy), never in this process."""

    def __init__(self, workspace: Workspace, reader: ReaderProcess) -> None:
        self.outbox = workspace.outbox
        self.reader = reader

    def duplicate(self, claim: Claim, location: str) -> None:
        """The duplicate file as it came, at ``location`` below the outbox."""
        dirs: set[Path] = set()
        copy_file(claim.path, self.outbox / location, dirs)
        fsync_dirs(dirs)

    def record(self, claim: Claim, row: RecordRow) -> None:
        """The archive copy, the record copy (the form with its record sheet or block) and the
        record JSON."""
        record = record_json(row)
        folder = self.outbox / "records" / row.form
        dirs: set[Path] = set()
        copy_file(claim.path, self.outbox / "archive" / row.form /
                  f"{row.record_id}__{safe_filename(base_name(claim.name))}", dirs)
        suffix = ".docx" if claim.path.suffix.lower() in WORD_SUFFIXES else ".xlsx"
        self._record_copy(claim.path, folder / f"{row.record_id}{suffix}", record, dirs)
        write_json(self.outbox / row.path, record, dirs)
        fsync_dirs(dirs)

    def _record_copy(self, source: Path, target: Path, record: dict[str, Any],
                     dirs: set[Path]) -> None:
        """The record copy, written by the reader process; the file as it came if it fails."""
        try:
            self.reader.record_copy(source, target, record)
            dirs.add(target.parent)
        except ReadFailed as failed:
            log.warning("%s: record copy failed (%s %s); the file is kept as it came",
                        source.name, failed.code.name, failed.detail)
            copy_file(source, target, dirs)

    def rejection(self, claim: Claim, report: Report) -> None:
        """The original (when it is a regular file), an annotated copy where cells can say
        what is wrong, and the report as JSON and as text."""
        base = self.outbox / rejection_base(claim)
        suffix = Path(base_name(claim.name)).suffix.lower()
        safe_suffix = suffix if suffix and len(suffix) <= 6 and suffix[1:].isalnum() else ".bin"
        regular = kind_of(claim.path) is None
        dirs: set[Path] = set()
        if regular:
            copy_file(claim.path, base.with_name(base.name + safe_suffix), dirs)
        poisoned = any(i.code in {c.name for c in POISON} for i in report.issues)
        if (regular and not poisoned and suffix in (".xlsx", ".docx")
                and any(i.cell for i in report.issues)):
            tmp = claim.folder / f".annotated{suffix}"
            try:
                if self.reader.annotate(claim.path, report, tmp):
                    copy_file(tmp, base.with_name(base.name + f".annotated{suffix}"), dirs)
            except ReadFailed as failed:  # the annotated copy is a courtesy
                log.warning("%s: no annotated copy (%s)", claim.name, failed.code.name)
            finally:
                tmp.unlink(missing_ok=True)
        payload = report.to_dict()
        payload["path"] = claim.name
        write_json(base.with_name(base.name + ".report.json"), payload, dirs)
        write_bytes(base.with_name(base.name + ".report.txt"),
                    report_text(report, claim.name).encode("utf-8"), dirs)
        fsync_dirs(dirs)
