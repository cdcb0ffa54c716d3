"""qmsforms: controlled Excel and Word forms for factory quality departments.

The public API is named here (``from qmsforms import validate_file, Workspace``); each name is
imported on first use, so ``import qmsforms`` and the command's start stay cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .lazy import lazy_names
from .version import __version__

_PUBLIC = {
    "Workspace": "workspace", "init_workspace": "workspace", "ConfigError": "config",
    "validate_file": "validate", "validate_files": "validate",
    "issue_blank": "blanks", "annotate": "annotate",
    "Report": "issues", "Issue": "issues", "Code": "issues", "QmsFormsError": "issues",
    "UsageError": "issues",
    "Intake": "intake", "Outcome": "intake", "ProcessResult": "intake",
    "Ledger": "intake", "LedgerError": "intake", "open_ledger": "intake",
    "Watcher": "intake.watch", "ReadLimits": "intake.reader",
    "validate_isolated": "intake.reader", "intake_status": "intake.status",
}

__all__ = [
    "Code", "ConfigError", "Intake", "Issue", "Ledger", "LedgerError", "Outcome",
    "ProcessResult", "QmsFormsError", "ReadLimits", "Report", "UsageError", "Watcher",
    "Workspace", "__version__", "annotate", "init_workspace", "intake_status", "issue_blank",
    "open_ledger", "validate_file", "validate_files", "validate_isolated",
]

if TYPE_CHECKING:
    from .annotate import annotate
    from .blanks import issue_blank
    from .config import ConfigError
    from .intake import Intake, Ledger, LedgerError, Outcome, ProcessResult, open_ledger
    from .intake.reader import ReadLimits, validate_isolated
    from .intake.status import intake_status
    from .intake.watch import Watcher
    from .issues import Code, Issue, QmsFormsError, Report, UsageError
    from .validate import validate_file, validate_files
    from .workspace import Workspace, init_workspace


__getattr__, __dir__ = lazy_names(__name__, _PUBLIC)
