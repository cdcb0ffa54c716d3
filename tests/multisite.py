"""Three plants on one PostgreSQL ledger, for tests/intake/test_multisite.py (issue 17).

Two watchers of the Ningbo plant (hosts ``ningbo-a`` and ``ningbo-b``, sites ``NB`` and
``NB2``) watch one shared inbox, as two machines on one SMB share would; a third (host
``suzhou``, site ``SZ``) watches the Suzhou plant's own inbox. Each watcher has a workspace root
of its own (its ``.qmsforms`` state: claim locks, heartbeat), whose ``[paths] inbox`` names its
plant's inbox and whose ``[paths] outbox`` names one central outbox that all three write, so
the outbox the ledger is checked against is one folder, as at a company that keeps its
records in one place.

`plan` makes the 600 files once: one blank per form is issued from the workspace and filled
with openpyxl with a key token, and every file is a copy of it with the token replaced
(`tests.intake.test_watch._variant`); a revision is the same blank filled again with other
values under the same key. Each file says what it must become, so the assertions do not
depend on which watcher took it or in what order: only on the waves (a revision or a re-send
is dropped in a later wave than the file it follows, once that one was decided).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from qmsforms.blanks import issue_blank
from qmsforms.excel.fill import fill_workbook
from qmsforms.intake import WORK_DIR, candidates
from qmsforms.intake.ledger import LedgerStore
from qmsforms.workspace import Workspace, init_workspace

from .conftest import VALID
from .intake import test_watch as watch

SHARED, SUZHOU = "ningbo", "suzhou"
"""The two inboxes: the Ningbo plant's share (two watchers) and the Suzhou plant's own."""
WAVES = 5
"""The files are dropped in this many waves, each once the one before it is decided."""


@dataclass(frozen=True)
class Plant:
    """One watcher's machine: its host and site ids, the inbox it watches, its observer."""

    host: str
    site: str
    inbox: str
    mode: tuple[str, ...] = ()


PLANTS = (
    Plant("ningbo-a", "NB", SHARED),
    Plant("ningbo-b", "NB2", SHARED, ("--poll", "0.2")),  # as over SMB: no native events
    Plant("suzhou", "SZ", SUZHOU),
)

KEY_SCOPE = {"satisfaction-survey": "site", "satisfaction-monitoring": "site",
             "shipping-list": "company", "complaint": "company"}
"""Per form, whether its natural key is company-wide or per site, in every workspace: document
and ticket numbers are the company's, a survey or a month's sheet is a plant's own."""


def workspaces(root: Path) -> dict[str, Workspace]:
    """A workspace root per plant (by site id), their inboxes and one central outbox."""
    inboxes = {SHARED: root / "share-ningbo", SUZHOU: root / "share-suzhou"}
    outbox = root / "central-outbox"
    for folder in (*inboxes.values(), outbox):
        folder.mkdir()
    scope = ", ".join(f'"{form}" = "{how}"' for form, how in KEY_SCOPE.items())
    out = {}
    for plant in PLANTS:
        ws = init_workspace(root / f"ws-{plant.host}")
        with (ws.root / "qmsforms.toml").open("a", encoding="utf-8") as fh:
            fh.write(f'\n[paths]\ninbox = "{inboxes[plant.inbox]}"\noutbox = "{outbox}"\n'
                     f"\n[site]\nkey_scope = {{ {scope} }}\n")
        ws = Workspace(ws.root)
        assert ws.inbox == inboxes[plant.inbox] and ws.outbox == outbox
        out[plant.site] = ws
    return out


# -- the files -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sent:
    """One file dropped into an inbox and what it must become.

    ``outcome`` is ``record``, ``rejected`` (with ``code``) or ``duplicate`` (of the record
    made from the same bytes). A record's ``form`` and ``key`` (the key token) say which
    revision chain it belongs to.
    """

    name: str
    inbox: str
    wave: int
    data: bytes
    outcome: str
    code: str | None = None
    form: str | None = None
    key: str | None = None

    @property
    def sha(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


REVISED: dict[str, list[dict[str, Any]]] = {  # form -> the values of each version after the first
    "satisfaction-monitoring": [{"d_packaging": 2}, {"d_packaging": 2, "d_delay_notified": 1}],
    "shipping-list": [{"lines": [dict(VALID["shipping-list"]["lines"][0], batch_no=b)]}
                      for b in ("B2", "B3")],
    "complaint": [{"description": "焊缝开裂,已返工"}, {"description": "焊缝开裂,已返工并复检"}],
}
PREFIX = {"satisfaction-survey": "S", "satisfaction-monitoring": "M", "shipping-list": "P",
          "complaint": "C"}
KEY_FIELD = {"satisfaction-survey": "customer", "satisfaction-monitoring": "customer",
             "shipping-list": "doc_no", "complaint": "ticket_no"}

INBOX_PLAN: dict[str, dict[str, Any]] = {
    # singles: distinct keys, one version each; chains: (form, keys, versions); invalid: per
    # kind of rejection; resends: byte-identical copies of this inbox's earlier files
    SHARED: {"singles": {"satisfaction-survey": 75, "satisfaction-monitoring": 50,
                         "shipping-list": 50, "complaint": 40},
             "chains": [("shipping-list", 15, 3), ("complaint", 20, 2)],
             "invalid": 15, "resends": 50, "rejected_resends": 5},
    SUZHOU: {"singles": {"satisfaction-survey": 30, "satisfaction-monitoring": 25,
                         "shipping-list": 25, "complaint": 20},
             "chains": [("satisfaction-monitoring", 10, 3)],
             "invalid": 8, "resends": 20, "rejected_resends": 0},
}
CROSS_DUPLICATES = 16
"""Records of the Ningbo share sent again, byte-identical, to Suzhou: duplicates there."""
CROSS_KEYS = 10
"""Monitoring sheets of Ningbo customers and months sent from Suzhou with other content: their
key is per site (`KEY_SCOPE`), so they are records of their own, not revisions of Ningbo's."""


def templates(ws: Workspace, ledger: LedgerStore[Any],
              folder: Path) -> dict[tuple[str, int], bytes]:
    """(form, version) -> a filled workbook whose key field holds ``watch.TOKEN``; versions
    of one form are one issued blank filled again (one instance id, as an edited re-save).
    ``("few", 0)`` is a survey with two questions left blank (rejected as incomplete)."""
    out: dict[tuple[str, int], bytes] = {}
    token = watch.TOKEN.decode()
    for form_id, key in KEY_FIELD.items():
        path = folder / f"{form_id}.xlsx"
        issue_blank(ws, form_id, path, record=True, ledger=ledger)
        wb = load_workbook(path)
        values = dict(VALID[form_id], **{key: token})
        for version, change in enumerate([{}, *REVISED.get(form_id, [])]):
            fill_workbook(wb, ws.registry.get(form_id), dict(values, **change), "both")
            wb.save(path)
            out[form_id, version] = path.read_bytes()
    few = dict(VALID["satisfaction-survey"], customer=token)
    del few["appearance"], few["service_attitude"]
    path = folder / "few.xlsx"
    issue_blank(ws, "satisfaction-survey", path, record=True, ledger=ledger)
    wb = load_workbook(path)
    fill_workbook(wb, ws.registry.get("satisfaction-survey"), few, "both")
    wb.save(path)
    out["few", 0] = path.read_bytes()
    return out


def plan(blanks: dict[tuple[str, int], bytes], seed: int) -> list[Sent]:
    """The 600 files, in the order they are dropped (wave by wave, shuffled within one)."""
    rng = random.Random(seed)
    serial = itertools.count(1)
    sent: list[Sent] = []

    def record(form: str, version: int, inbox: str, wave: int, key: str) -> Sent:
        data = watch._variant(blanks[form, version], key)
        return Sent(f"{form}-{next(serial):03d}.xlsx", inbox, wave, data, "record",
                    form=form, key=key)

    def new_key(form: str) -> str:
        return f"{PREFIX[form]}{next(serial):06d}"

    for inbox, spec in INBOX_PLAN.items():
        for form, count in spec["singles"].items():
            sent += [record(form, 0, inbox, rng.randrange(WAVES), new_key(form))
                     for _ in range(count)]
        for form, keys, versions in spec["chains"]:
            for _ in range(keys):
                key = new_key(form)
                waves = sorted(rng.sample(range(WAVES), versions))
                sent += [record(form, v, inbox, w, key) for v, w in enumerate(waves)]
        for kind in ("bad", "cut", "few"):
            for _ in range(spec["invalid"]):
                n = next(serial)
                if kind == "bad":
                    data = rng.randbytes(3000 + n)
                elif kind == "cut":
                    whole = watch._variant(blanks["complaint", 0], f"B{n:06d}")
                    data = whole[: len(whole) // 2]
                else:
                    data = watch._variant(blanks["few", 0], f"F{n:06d}")
                sent.append(Sent(f"{kind}-{n:03d}.xlsx", inbox, rng.randrange(WAVES), data,
                                 "rejected", code=watch.REJECTION_CODES[kind]))

    def resend(pool: list[Sent], count: int, inbox: str | None = None) -> None:
        for original in rng.sample([s for s in pool if s.wave < WAVES - 1], count):
            outcome = "duplicate" if original.outcome == "record" else "rejected"
            sent.append(Sent(f"again-{next(serial):03d}-{original.name}",
                             inbox or original.inbox, rng.randrange(original.wave + 1, WAVES),
                             original.data, outcome, code=original.code))

    first = list(sent)
    for inbox, spec in INBOX_PLAN.items():
        mine = [s for s in first if s.inbox == inbox]
        resend([s for s in mine if s.outcome == "record"], spec["resends"])
        resend([s for s in mine if s.outcome == "rejected"], spec["rejected_resends"])
    resend([s for s in first if s.inbox == SHARED and s.outcome == "record"], CROSS_DUPLICATES,
           SUZHOU)
    taken = {s.key for s in sent if s.inbox == SUZHOU}
    monitoring = [s for s in first if s.inbox == SHARED and s.form == "satisfaction-monitoring"
                  and s.wave < WAVES - 1 and s.key not in taken]
    for original in rng.sample(monitoring, CROSS_KEYS):
        assert original.key is not None
        sent.append(record("satisfaction-monitoring", 1, SUZHOU,
                           rng.randrange(original.wave + 1, WAVES), original.key))
    rng.shuffle(sent)
    sent.sort(key=lambda s: s.wave)
    return sent


def chains(sent: list[Sent]) -> set[tuple[str, ...]]:
    """The revision chains the records must form, as the sha256 of each version in order.

    A chain is the records of one form and key, in the order their waves sent them; a
    per-site form's chain is also one inbox's. Which of its two watchers takes a file decides
    the site of a Ningbo file, so the Ningbo share's revisions are of company-wide forms.
    """
    out: dict[tuple[str | None, ...], list[Sent]] = {}
    for s in sent:
        if s.outcome == "record":
            per_site = s.form is not None and KEY_SCOPE[s.form] == "site"
            out.setdefault((s.form, s.key, s.inbox if per_site else None), []).append(s)
    for versions in out.values():
        waves = [s.wave for s in versions]
        assert waves == sorted(set(waves)), "versions of one key in one wave: order is chance"
    return {tuple(s.sha for s in sorted(v, key=lambda s: s.wave)) for v in out.values()}


# -- the watchers ----------------------------------------------------------------------------

@contextlib.contextmanager
def environ(**values: str) -> Iterator[None]:
    """These environment variables set (the watchers started inside inherit them)."""
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def start(plant: Plant, ws: Workspace, logs: Path, n: int) -> watch.WatchProcess:
    """A ``qmsforms watch`` subprocess for ``plant``: its own host and site id."""
    with environ(QMSFORMS_HOST=plant.host, QMSFORMS_SITE=plant.site):
        return watch.WatchProcess(ws, list(plant.mode), logs, f"{plant.host}-{n}")


def outcomes(process: watch.WatchProcess) -> int:
    """How many outcomes (records, rejections, duplicates) a watcher printed so far."""
    return sum(process.marks().values())


def quiet(ledger: LedgerStore[Any], inboxes: list[Path], files: int) -> bool:
    """``files`` decided, every inbox empty and no claim left in its work folder."""
    if ledger.count("files") < files:
        return False
    for inbox in inboxes:
        work = inbox / WORK_DIR
        if candidates(inbox) or (work.exists() and any(work.iterdir())):
            return False
    return True
