"""What became of the files of one pass, and what stops a pass: `Outcome`, `ProcessResult`,
`Blocked` (an error of the surroundings, not of a file) and the poison codes (reads a file
kept killing, stalling or exhausting)."""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..issues import Code, Issue, QmsFormsError, Report
from .ledger import UNAVAILABLE
from .reader import ReaderUnavailable, refusal

POISON = (Code.READ_TIMEOUT, Code.READ_MEMORY, Code.READER_CRASHED, Code.PROCESSING_FAILED)
"""The codes of a file refused because its reads failed every attempt."""

# Errors of the surroundings, not of a file: the share, the disk, permissions, the ledger.
_ENVIRONMENT = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO,
                errno.ENOENT, errno.ESTALE, errno.ENOTCONN, errno.EHOSTDOWN,
                errno.EHOSTUNREACH, errno.ETIMEDOUT, errno.ENODEV, errno.ENXIO}


class Blocked(QmsFormsError):
    """The intake cannot go on for a reason outside any file (disk full, read-only outbox,
    share gone, ledger unwritable). Files stay where they are; the intake resumes by itself
    once the cause is gone."""


BLOCKING: tuple[type[BaseException], ...] = (OSError, *UNAVAILABLE)
"""Errors that may mean the surroundings stop the intake (`blocked_by` decides which)."""


def blocked_by(exc: BaseException) -> Blocked | None:
    """The `Blocked` an error of the surroundings means, or None for any other error."""
    if isinstance(exc, Blocked):
        return exc
    if isinstance(exc, ReaderUnavailable):
        return Blocked(str(exc))
    if isinstance(exc, UNAVAILABLE):
        return Blocked(f"ledger: {exc}")
    if isinstance(exc, OSError) and exc.errno in _ENVIRONMENT:
        where = f" ({exc.filename})" if exc.filename else ""
        return Blocked(f"{exc.strerror or exc}{where}")
    return None


def poison_report(name: str, attempt: dict[str, Any] | None) -> Report:
    """The rejection of a file its reader could not finish, after every attempt."""
    last = (attempt or {}).get("last_error") or ""
    code_name, _, detail = last.partition(": ")
    code = Code.__members__.get(code_name)
    if code not in POISON:
        code, detail = Code.PROCESSING_FAILED, last or "interrupted while reading"
    assert code is not None
    count = (attempt or {}).get("count", 0)
    return refusal(name, Issue.make(code, detail=detail, attempts=count))


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
