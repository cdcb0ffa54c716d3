"""The watched inbox: every dropped file ends as exactly one record or one rejection (SPEC §5)."""

from __future__ import annotations

from .files import WORK_DIR, Settler, candidates, is_ignored
from .ledger import FileRow, Ledger, LedgerError, RecordRow, open_ledger
from .outcome import Outcome, ProcessResult
from .pipeline import Intake

__all__ = ["WORK_DIR", "FileRow", "Intake", "Ledger", "LedgerError", "Outcome", "ProcessResult",
           "RecordRow", "Settler", "candidates", "is_ignored", "open_ledger"]
