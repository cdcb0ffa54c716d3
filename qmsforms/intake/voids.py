"""Voiding a record: in the ledger, and beside the record in the outbox, so that a ledger
rebuilt from the outbox (`qmsforms.intake.rebuild`) voids it again.

A record voided with ``qmsforms records void`` keeps every file it had; one small JSON file is
added beside its record JSON, ``outbox/records/<form>/<record_id>.void.json``, holding who
voided it, when and why, as the ledger does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .ledger import RecordRow, open_ledger
from .outputs import write_json

if TYPE_CHECKING:
    from ..workspace import Workspace

VOID_SUFFIX = ".void.json"
"""The suffix of the outbox file that says a record was voided (beside ``<record_id>.json``)."""


def void_path(outbox: Path, record_path: str) -> Path:
    """The void file of the record whose JSON is ``record_path`` (relative to the outbox)."""
    return outbox / (record_path.removesuffix(".json") + VOID_SUFFIX)


def void_record(workspace: Workspace, record_id: str, reason: str, by: str) -> RecordRow:
    """Void ``record_id`` in the ledger, then write its void file into the outbox.

    The actions its causes raised are reconciled in the same transaction (an action whose
    cause only this record showed gets ``cause_removed_by``), and their journal rewritten.

    Raises `VoidRefused` (a `UsageError`) for an unknown or already voided record.
    """
    from ..actions.raising import reconcile, write_journal

    changed: list[str] = []

    def actions(db: Any, voided: RecordRow) -> None:
        assert voided.voided is not None
        changed.extend(reconcile(workspace, ledger, db, voided, voided.voided["at"]))

    with open_ledger(workspace, write=True) as ledger:
        row = ledger.void(record_id, reason, by, then=actions)
        assert row.voided is not None
        write_json(void_path(workspace.outbox, row.path),
                   {"record_id": row.record_id, "form": row.form, **row.voided})
        write_journal(workspace.outbox, ledger, changed)
    return row


def read_voids(outbox: Path) -> dict[str, dict[str, Any]]:
    """Record id -> ``{"at", "by", "reason"}`` from the void files in the outbox (a file that
    cannot be read, or names another record, is left out)."""
    found: dict[str, dict[str, Any]] = {}
    folder = outbox / "records"
    for path in sorted(folder.rglob(f"*{VOID_SUFFIX}")) if folder.is_dir() else []:
        try:
            void = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        record_id = str(void.get("record_id", "")) if isinstance(void, dict) else ""
        if record_id and path.name == record_id + VOID_SUFFIX and all(
                isinstance(void.get(k), str) for k in ("at", "by", "reason")):
            found[record_id] = {k: void[k] for k in ("at", "by", "reason")}
    return found
