"""The watched inbox: every dropped file ends as exactly one record or one rejection (SPEC §5).

With the SQLite ledger one inbox is watched from one machine; with the PostgreSQL ledger
several machines may watch one inbox (`qmsforms.intake.claims`).

The names below are imported on first use (PEP 562): the reader process and ``qmsforms
validate`` import `qmsforms.intake.reader` without loading the pipeline, the ledger or the
writers of the outbox.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_names

_NAMES = {
    "WORK_DIR": "files", "Settler": "files", "candidates": "files", "is_ignored": "files",
    "FileRow": "ledger", "Ledger": "ledger", "LedgerError": "ledger", "RecordRow": "ledger",
    "open_ledger": "ledger", "Outcome": "outcome", "ProcessResult": "outcome",
    "Intake": "pipeline",
}

__all__ = ["WORK_DIR", "FileRow", "Intake", "Ledger", "LedgerError", "Outcome", "ProcessResult",
           "RecordRow", "Settler", "candidates", "is_ignored", "open_ledger"]

if TYPE_CHECKING:
    from .files import WORK_DIR, Settler, candidates, is_ignored
    from .ledger import FileRow, Ledger, LedgerError, RecordRow, open_ledger
    from .outcome import Outcome, ProcessResult
    from .pipeline import Intake


__getattr__, __dir__ = lazy_names(__name__, _NAMES)
