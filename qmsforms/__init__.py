"""qmsforms: controlled Excel and Word forms for factory quality departments.

The public API is named here (``from qmsforms import validate_file, Workspace``); each name is
imported on first use, so ``import qmsforms`` and the command's start stay cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562)."""
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'qmsforms' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
