"""Recovery: finishing the claims an interrupted run left in the work folder.

A claim whose decision is in the ledger only has its outputs written again; one without a
decision is processed from scratch; what a claim is not sure about goes back to the inbox.
Each claim is recovered under its lock (`qmsforms.intake.claims`), so claims a live run holds
are skipped: on this machine with SQLite, on any machine with PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .claims import ClaimLocks
from .files import (
    Claim,
    claim_entries,
    claim_folders,
    display_name,
    is_ignored,
    is_locked,
    kind_of,
    remove_empty,
    return_to_inbox,
)
from .ledger import LedgerStore
from .outcome import BLOCKING, Outcome, blocked_by

log = logging.getLogger(__name__)

Process = Callable[[Claim, str | None], Outcome]
"""Processes a claim (with the kind of entry it holds, None for a regular file)."""


class Recovery:
    """Finishes the claims left in ``work``, processing each with ``process``.

    ``failed`` (claim id -> the error of its last try) and ``waiting`` (claim id -> why it
    waits) are the intake's own dictionaries, updated in place.
    """

    def __init__(self, inbox: Path, work: Path, locks: ClaimLocks, ledger: LedgerStore[Any],
                 process: Process, failed: dict[str, str], waiting: dict[str, str]) -> None:
        self.inbox, self.work, self.locks = inbox, work, locks
        self.ledger = ledger
        self.process = process
        self.failed = failed
        self.waiting = waiting

    def run(self) -> list[Outcome]:
        """Finish every claim not held by another run; strays go back to the inbox.

        One claim that cannot be finished never stops the others: it is logged, kept in
        ``failed`` and tried again at the next run. Raises `Blocked` when the surroundings stop
        the intake (the claim locks out of reach among them).
        """
        out: list[Outcome] = []
        claims, strays = claim_folders(self.work)
        for stray in strays:
            return_to_inbox(self.inbox, stray, "found in the work folder")
        self.waiting.clear()
        for folder in claims:
            try:
                lock = self.locks.acquire(folder.name)
            except BLOCKING as exc:
                raise blocked_by(exc) or exc from exc
            if lock is None:
                continue
            try:
                outcome = self._one(folder)
            except Exception as exc:  # one claim never stops the others
                blocked = blocked_by(exc)
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

    def _one(self, folder: Path) -> Outcome | None:
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
                return_to_inbox(self.inbox, entry, f"left in claim {claim_id}")
            remove_empty(folder)
            return None
        if is_locked(target):
            self.waiting[claim_id] = "open in an editor"
            log.info("claim %s (%s) is open in an editor; it waits", claim_id, target.name)
            return None
        name = decided.name if decided is not None else display_name(target.name)
        self.ledger.log("recovered", claim_id, name)
        return self.process(Claim(claim_id, name, target), kind_of(target))
