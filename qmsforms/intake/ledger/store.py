"""What a ledger is, whatever engine keeps it: the rows, the error, the operations.

The intake, the listings, the reports, campaigns and the CLI use a ledger only through
`LedgerStore`; `qmsforms.intake.ledger.sqlite` implements it on SQLite. An engine keeps the
same invariants (one outcome per claimed file, one record per content hash, one latest
record per natural key) and raises `LedgerError` with the same codes.

`LedgerStore` is an abstract base class, not a typing ``Protocol``: what does not depend on
the engine (`links`, the context manager, the natural-key text every engine compares) is
written once here, and an engine that lacks an operation fails as soon as it is constructed
rather than when the intake first reaches for the missing method. It is generic in the
transaction handle: `transaction` yields the engine's own handle (a ``sqlite3.Connection``),
and the writes that belong to that transaction take it back.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Generic, TypeVar

from ...issues import QmsFormsError, UsageError

Tx = TypeVar("Tx")
S = TypeVar("S", bound="LedgerStore[Any]")


class LedgerError(QmsFormsError):
    """The ledger cannot be opened, is damaged, or must not be used as it is.

    ``code`` says which (``LEDGER_MISSING``, ``LEDGER_DAMAGED``, ``LEDGER_READONLY``,
    ``LEDGER_REPLACED``, ``LEDGER_NEWER``, ``LEDGER_EXISTS``, ``LEDGER_BUSY``,
    ``LEDGER_UNAVAILABLE``; moving a ledger in, `qmsforms.intake.ledger.migrate`:
    ``LEDGER_NOT_POSTGRES``, ``LEDGER_NOT_SQLITE``, ``LEDGER_NO_SITE``, ``LEDGER_MISMATCH``);
    the message is given in Chinese and English.
    """

    def __init__(self, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(code, message_zh, message_en)
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en

    def __str__(self) -> str:
        return f"{self.code}: {self.message_zh}\n{self.message_en}"


class VoidRefused(UsageError):
    """A record that cannot be voided: unknown, or voided already (``voided`` says when)."""

    def __init__(self, record_id: str, voided: dict[str, str] | None) -> None:
        self.record_id = record_id
        self.voided = voided
        if voided is None:
            text = (f"台账中没有记录 {record_id}(用 qmsforms records --all --voided 查看)"
                    f" / there is no record {record_id} in the ledger (qmsforms records --all "
                    "--voided lists them)")
        else:
            text = (f"记录 {record_id} 已于 {voided['at']} 由 {voided['by']} 作废"
                    f"(原因:{voided['reason']})/ record {record_id} was voided already, "
                    f"at {voided['at']} by {voided['by']} ({voided['reason']})")
        super().__init__(text)


@dataclass(frozen=True)
class RecordRow:
    """One record: a valid form as accepted, with its place in the revision chain."""

    record_id: str
    form: str
    revision: str
    instance_id: str | None
    sha256: str
    natural_key: dict[str, Any]
    data: dict[str, Any]
    scores: dict[str, Any] | None
    source_name: str
    received_at: str
    processed_at: str
    path: str
    customer: str | None = None
    period: str | None = None
    supersedes: str | None = None
    latest: bool = True
    notes: tuple[str, ...] = field(default_factory=tuple)
    voided: dict[str, str] | None = None
    """When the record was voided: ``at``, ``by`` and ``reason`` (None while it counts)."""
    site: str | None = None
    """The site whose watcher took the file (`qmsforms.site`); None for a single site."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "record_id": self.record_id, "form": self.form, "revision": self.revision,
            "instance_id": self.instance_id, "sha256": self.sha256,
            "natural_key": self.natural_key, "customer": self.customer, "period": self.period,
            "supersedes": self.supersedes, "latest": self.latest, "notes": list(self.notes),
            "data": self.data, "scores": self.scores, "source_name": self.source_name,
            "received_at": self.received_at, "processed_at": self.processed_at,
            "path": self.path, "voided": self.voided, "site": self.site,
        }


@dataclass(frozen=True)
class FileRow:
    """The outcome of one file taken from the inbox."""

    claim_id: str
    name: str
    sha256: str
    size: int
    received_at: str
    processed_at: str
    outcome: str
    location: str
    record_id: str | None = None
    form: str | None = None
    codes: tuple[str, ...] = ()
    report: dict[str, Any] | None = None
    """A rejection's report (``Report.to_dict()``), kept so its outputs can be rewritten."""
    site: str | None = None
    """The site whose watcher took the file; None for a single site."""


@dataclass(frozen=True)
class ActionRow:
    """One corrective/preventive action raised by a cause the records show
    (`qmsforms.actions`); ``scope`` groups the actions one record's causes are reconciled
    against (a customer's monitoring, one survey, one complaint)."""

    action_id: str
    cause_key: str
    scope: str
    source: str
    cause: dict[str, Any]
    source_record: str | None
    customer: str | None
    problem_zh: str
    problem_en: str
    department_zh: str
    department_en: str
    raised_on: str
    due: str | None
    raised_at: str
    updated_at: str
    cause_removed_by: str | None = None
    site: str | None = None
    """The site of the record that raised it; None for a single site."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the row as the ledger holds it; the outbox journal keeps this)."""
        return {
            "action_id": self.action_id, "cause_key": self.cause_key, "scope": self.scope,
            "source": self.source, "cause": self.cause, "source_record": self.source_record,
            "customer": self.customer, "problem_zh": self.problem_zh,
            "problem_en": self.problem_en, "department_zh": self.department_zh,
            "department_en": self.department_en, "raised_on": self.raised_on, "due": self.due,
            "raised_at": self.raised_at, "updated_at": self.updated_at,
            "cause_removed_by": self.cause_removed_by, "site": self.site,
        }


def key_text(values: dict[str, Any]) -> str:
    """A natural key as the text every engine stores and compares (sorted JSON)."""
    return json.dumps(values, sort_keys=True, ensure_ascii=False, default=str)


def decision_keys(form: str, natural_key: dict[str, Any], sha256: str) -> tuple[str, str]:
    """The keys a decision about a file of ``form`` with this natural key and content locks
    (`LedgerStore.lock`) before it reads the latest record and the record of that content;
    voiding a record locks the same."""
    return f"record:{form}:{key_text(natural_key)}", f"sha:{sha256}"


def site_of(only: str | None, site: str | None) -> str | None:
    """The site a read is narrowed to: the one the call names, else the ledger's own."""
    return site if site is not None else only


def now() -> str:
    """The current UTC time as the ledger writes it (``2026-11-21T08:00:00Z``)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def outbox_records(outbox: Path) -> int:
    """How many record JSON files ``outbox/records/`` holds (part files not counted)."""
    folder = outbox / "records"
    if not folder.is_dir():
        return 0
    return sum(1 for p in folder.rglob("*.json") if not p.name.startswith(".") and p.is_file())


class LedgerStore(ABC, Generic[Tx]):
    """The ledger's operations. Use as a context manager or call `close`.

    Reads may run any time; writes run inside `transaction` and take the handle it yields.
    ``readonly`` ledgers refuse `transaction` with ``LEDGER_UNAVAILABLE``.
    """

    readonly: bool
    only_site: str | None = None
    """When set, `records`, `files`, `actions`, `issued` and `customers` read this site's rows
    only, unless a call names a site of its own (``--site`` on listings and reports)."""

    def __enter__(self: S) -> S:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[Tx]:
        """A write-locking transaction: committed on success, else rolled back."""

    @abstractmethod
    def lock(self, db: Tx, *keys: str) -> None:
        """Lock the text ``keys`` until transaction ``db`` ends, waiting for another
        transaction holding any of them (``LEDGER_BUSY`` past the ledger's timeout).

        A transaction that decides from what it reads (duplicate? revision of which record?
        which actions?) locks the keys of that first (`decision_keys`, ``scope:<scope>``,
        ``number:<prefix>``): decisions about one key are made one after the other, each
        seeing what the one before committed; those about other keys are not held up. Locks
        are taken in one order whatever order ``keys`` come in. An engine whose transactions
        are exclusive anyway (SQLite's ``BEGIN IMMEDIATE``) has nothing to do here.
        """

    @property
    @abstractmethod
    def version(self) -> int:
        """The schema version (number of migrations applied)."""

    @abstractmethod
    def integrity(self) -> str:
        """``ok`` when the database is sound, else what is wrong."""

    # -- reads ---------------------------------------------------------------------------

    @abstractmethod
    def file(self, claim_id: str) -> FileRow | None:
        """The outcome recorded for a claimed file, if any."""

    @abstractmethod
    def files(self, outcome: str | None = None, site: str | None = None) -> list[FileRow]:
        """Every file taken from the inbox (or those with ``outcome``, of ``site``), oldest
        first."""

    @abstractmethod
    def record(self, record_id: str) -> RecordRow | None:
        """One record by id."""

    @abstractmethod
    def record_by_sha(self, sha256: str) -> RecordRow | None:
        """The record made from byte-identical content, if any."""

    @abstractmethod
    def latest(self, form: str, natural_key: dict[str, Any]) -> RecordRow | None:
        """The latest record of ``form`` with this natural key."""

    @abstractmethod
    def by_instance(self, instance_id: str) -> list[RecordRow]:
        """Records that came back on the blank with this instance id."""

    def blank_reused(self, instance_id: str, form: str, natural_key: dict[str, Any]) -> bool:
        """Whether a record of ``form`` came back on the blank with this instance id under
        another natural key (one blank filled in again for another customer or period)."""
        return any(r.form == form and r.natural_key != natural_key
                   for r in self.by_instance(instance_id))

    @abstractmethod
    def records(self, form: str | None = None, customer: str | None = None,
                latest_only: bool = True, voided: bool = False,
                site: str | None = None) -> list[RecordRow]:
        """Records, oldest first; by default only the latest revision of each; with ``site``
        (or `only_site`), that site's only.

        ``customer`` matches any customer name containing it. Voided records are left out
        unless ``voided`` is asked for: every report and listing reads records here, so none
        can count a voided one by forgetting to filter.
        """

    @abstractmethod
    def customers(self, form: str) -> list[str]:
        """The customer names, as typed, of the latest records of ``form`` (none voided)."""

    @abstractmethod
    def count(self, table: str) -> int:
        """Rows in ``records``, ``files``, ``issued``, ``events`` or ``attempts``.

        Raises ValueError for any other name.
        """

    @abstractmethod
    def is_issued(self, instance_id: str) -> bool:
        """Whether ``qmsforms new`` issued this blank in this workspace."""

    @abstractmethod
    def issued(self, form: str | None = None) -> list[dict[str, Any]]:
        """The blanks issued here (``instance_id``, ``form``, ``revision``, ``issued_at``,
        ``customer``, ``path``, ``site``), oldest first (of `only_site` when it is set)."""

    @abstractmethod
    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The event log (duplicates, recoveries, notes), in order."""

    @abstractmethod
    def attempt(self, claim_id: str) -> dict[str, Any] | None:
        """The attempts counted for a claim (``claim_id``, ``name``, ``count``, ``first_at``,
        ``last_at``, ``last_error``), or None."""

    @abstractmethod
    def open_attempts(self) -> list[dict[str, Any]]:
        """Attempts at claims not decided yet (no file row), oldest first."""

    def links(self, row: RecordRow) -> dict[str, Any]:
        """Records linked to ``row``: a complaint's 8D (with its status), an 8D's complaint."""
        if row.form == "complaint" and row.data.get("ticket_no"):
            report = self.latest("8d-report", {"complaint_no": row.data["ticket_no"]})
            status = (report.scores or {}) if report else {}
            return {"eight_d": None if report is None else {
                "record_id": report.record_id, "reached": status.get("reached"),
                "closed": status.get("closed", False)}}
        if row.form == "8d-report" and row.data.get("complaint_no"):
            complaint = self.latest("complaint", {"ticket_no": row.data["complaint_no"]})
            return {"complaint": complaint.record_id if complaint else None}
        return {}

    # -- writes ----------------------------------------------------------------------------

    @abstractmethod
    def add_record(self, db: Tx, row: RecordRow) -> None:
        """Insert a record in transaction ``db``; one it supersedes stops being the latest."""

    @abstractmethod
    def add_file(self, db: Tx, row: FileRow) -> None:
        """Record the outcome of a claimed file in transaction ``db``."""

    @abstractmethod
    def log(self, kind: str, claim_id: str | None = None, detail: str = "",
            db: Tx | None = None) -> None:
        """Append to the event log, in transaction ``db`` or on its own."""

    @abstractmethod
    def void(self, record_id: str, reason: str, by: str, at: str | None = None,
             then: Callable[[Tx, RecordRow], None] | None = None) -> RecordRow:
        """Void a record (own transaction): it stays in the ledger with who, when (``at``,
        default now) and why, is left out of `records` and is no longer the latest of its
        natural key (a later file with that key is recorded normally; the revision it
        superseded counts again). Raises `VoidRefused` for an unknown or voided record.

        ``then(db, row)`` runs in the same transaction once the record is voided (the
        actions its causes raised are reconciled there, `qmsforms.actions.raising`).
        """

    # -- actions (schema 4) ----------------------------------------------------------------

    @abstractmethod
    def actions(self, scope: str | None = None, site: str | None = None) -> list[ActionRow]:
        """The actions raised (those of one ``scope``; of ``site`` or `only_site`), by number.

        A ledger older than schema 4 holds none."""

    @abstractmethod
    def action_ids(self, prefix: str) -> list[str]:
        """The numbers of the actions starting with ``prefix`` (``CA-2026-``): what the next
        number is counted from, without reading every action."""

    @abstractmethod
    def action(self, action_id: str) -> ActionRow | None:
        """One action by its number."""

    @abstractmethod
    def add_action(self, db: Tx, row: ActionRow) -> None:
        """Insert an action in transaction ``db`` (its number and cause key are unique)."""

    @abstractmethod
    def update_action(self, db: Tx, action_id: str, cause_removed_by: str | None,
                      updated_at: str, cause: dict[str, Any] | None = None,
                      problem: tuple[str, str] | None = None) -> None:
        """Set or clear, in transaction ``db``, the record that removed an action's cause;
        ``cause`` and ``problem`` (zh, en): its details and text as the records show them now
        (a streak grown longer)."""

    @abstractmethod
    def add_issued(self, instance_id: str, form: str, revision: str, issued_at: str,
                   customer: str | None = None, path: str | None = None,
                   site: str | None = None) -> None:
        """Remember a blank issued from this workspace (own transaction; once per id), at
        ``site``."""

    @abstractmethod
    def begin_attempt(self, claim_id: str, name: str) -> int:
        """Count one more attempt at processing a claim (own transaction); the new count."""

    @abstractmethod
    def end_attempt(self, claim_id: str) -> None:
        """An attempt that finished, whatever it found, is taken off the count again: only
        reads that failed or never ended (the process died) count against a file."""

    @abstractmethod
    def fail_attempt(self, claim_id: str, error: str) -> None:
        """Remember why the last attempt at a claim failed (own transaction).

        Raises KeyError when no attempt was begun for ``claim_id``. The error text is kept to
        its first 2,000 characters.
        """
