"""How one plant's ledger rows merge into the shared ledger's (`qmsforms.intake.ledger.migrate`):
worked out in memory from both ledgers' rows, as a `Plan` of writes.

The rules make the same copy twice change nothing, and whichever plant moves in first, the
copy received first is the record and the last received of a natural key its latest (ids and
action numbers are those the target had first):

- a row the target holds already (the same claim, blank, attempt, event, or record with the
  same content received at the same time under the same name) is left alone;
- the same content (sha256) recorded in the target under another receipt is one record: it
  keeps the id it has in the target and takes the receipt (time received and processed,
  name, site, notes) of whichever copy was received first; the later copy's file row becomes
  a ``duplicate`` of it, and no second record is made;
- a natural key with records from more than one plant (or one that lost a copy to the rule
  above) is re-linked in received order: each record that counts supersedes the one received
  before it, the last received is the latest, voided records keep their link and never count.
  Keys held by one plant only keep their chains exactly as they were;
- actions: the cause key is unique; the same cause from two plants is one action under the
  number the target gave it, with the details of the earlier raised. A new cause keeps its
  number unless the target uses it for another cause; then it takes the next number of its
  year, and the renumbering is reported.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .store import LedgerError

TABLES = ("records", "files", "issued", "attempts", "events", "actions")
"""The tables copied, in the order they are written (a file row names its record)."""

KEYS = {"files": ("claim_id",), "issued": ("instance_id",), "attempts": ("claim_id",),
         "events": ("at", "kind", "claim_id", "detail")}
"""What identifies a row of the tables copied as they are (records merge by sha256, actions
by cause key): a row the target holds already under this identity is not copied again."""
_RECEIPT = ("received_at", "processed_at", "source_name", "notes", "site")
Row = dict[str, Any]


@dataclass
class Migration:
    """What a migration did (or, dry, would do): per table the rows in the source, already
    in the target, copied, expected and found; merged contents, re-linked records, actions
    merged and renumbered; the checks' ``problems`` (none when it succeeded)."""

    source: str
    target: str
    dry_run: bool
    site: str | None = None
    tables: dict[str, dict[str, int | None]] = field(default_factory=dict)
    merged: list[dict[str, Any]] = field(default_factory=list)
    relinked: list[dict[str, Any]] = field(default_factory=list)
    actions_merged: list[dict[str, Any]] = field(default_factory=list)
    renumbered: list[dict[str, str]] = field(default_factory=list)
    record_hashes: dict[str, Any] = field(default_factory=dict)
    problems: list[dict[str, Any]] = field(default_factory=list)
    writes: int = 0

    @property
    def changed(self) -> bool:
        """Whether anything was (or would be) written to the target."""
        return self.writes > 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (what ``qmsforms ledger migrate --json`` prints)."""
        return {"source": self.source, "target": self.target, "dry_run": self.dry_run,
                "site": self.site, "changed": self.changed, "tables": self.tables,
                "merged": self.merged, "relinked": self.relinked,
                "actions_merged": self.actions_merged, "renumbered": self.renumbered,
                "record_hashes": self.record_hashes, "problems": self.problems}


def stamp(source: dict[str, list[Row]], site: str, site_forms: set[str]) -> dict[str, list[Row]]:
    """``source`` with ``site`` on every row without one, as the intake would have filed it
    at that site: a record of a form keyed per site (`site_forms`) gets the site in its
    natural key (`qmsforms.site.natural_key`), and an action raised from one gets the site
    mark on its scope and cause key (`qmsforms.actions.causes.site_mark`)."""
    from ...actions.causes import SITE_MARK
    from ...site import SITE_KEY
    from .store import key_text

    out: dict[str, list[Row]] = {t: [] for t in source}
    rekeyed: set[str] = set()
    for table, rows in source.items():
        for row in rows:
            row = dict(row)
            if row.get("site") or table == "events":
                out[table].append(row)
                continue
            row["site"] = site
            if table == "records" and row["form"] in site_forms:
                key = json.loads(row["natural_key"])
                if SITE_KEY not in key:
                    row["natural_key"] = key_text(key | {SITE_KEY: site})
                    rekeyed.add(row["record_id"])
            out[table].append(row)
    mark = f"{SITE_MARK}{site}"
    for action in out["actions"]:
        if action["source_record"] in rekeyed and action["scope"].split(":")[0] in (
                "customer", "survey") and SITE_MARK not in action["scope"]:
            action["scope"] += mark
            action["cause_key"] += mark
    return out


def _site(row: Row, site: str | None, columns: set[str]) -> Row:
    """``row`` with the columns the target has, ``site`` stamped where it is empty."""
    out = {k: v for k, v in row.items() if k in columns and not (k == "id" and "at" in row)}
    if site is not None and not out.get("site") and "site" in columns:
        out["site"] = site
    return out


def _order(r: Row) -> tuple[str, str, str]:
    return (r["received_at"], r["processed_at"], r["record_id"])


def _chain(members: list[Row]) -> dict[str, tuple[str | None, bool]]:
    """Supersedes and latest of one natural key's records re-linked in received order."""
    ordered = sorted(members, key=_order)
    ids = {r["record_id"] for r in ordered}
    voided = {r["record_id"] for r in ordered if r.get("voided_at")}
    links: dict[str, tuple[str | None, bool]] = {}
    previous: str | None = None
    for r in ordered:
        own = r["supersedes"] if r["supersedes"] in ids else None
        if r["record_id"] in voided:
            links[r["record_id"]] = (own, False)
            continue
        links[r["record_id"]] = (previous or (own if own in voided else None), False)
        previous = r["record_id"]
    if previous is not None:
        links[previous] = (links[previous][0], True)
    return links


def _next_number(action_id: str, used: set[str]) -> str:
    prefix = action_id.rsplit("-", 1)[0] + "-"
    numbers = [int(i.rsplit("-", 1)[1]) for i in used
               if i.startswith(prefix) and i.rsplit("-", 1)[1].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


@dataclass
class Plan:
    """The writes a migration makes, worked out from both ledgers' rows."""

    inserts: dict[str, list[Row]] = field(default_factory=dict)
    receipts: dict[str, Row] = field(default_factory=dict)
    demoted: list[str] = field(default_factory=list)
    links: dict[str, tuple[str | None, bool]] = field(default_factory=dict)
    action_updates: dict[str, Row] = field(default_factory=dict)
    expected_hashes: set[str] = field(default_factory=set)


def plan(source: dict[str, list[Row]], target: dict[str, list[Row]], columns: dict[str, set[str]],
         site: str | None, report: Migration) -> Plan:
    """Work out what copying ``source`` into ``target`` writes (see the module's rules)."""
    out = Plan(inserts={t: [] for t in TABLES})
    by_sha = {r["sha256"]: dict(r) for r in target["records"]}
    by_id = {r["record_id"]: r for r in by_sha.values()}
    taken: dict[str, str] = {}  # source record id -> the record id it has in the target
    providing: set[str] = set()  # source records whose file row stays the record's
    new: dict[str, Row] = {}
    touched: set[tuple[str, str]] = set()
    keys_before = {(r["form"], r["natural_key"]) for r in by_sha.values()}
    for s in sorted(source["records"], key=_order):
        s = _site(s, site, columns["records"])
        key = (s["form"], s["natural_key"])
        t = by_sha.get(s["sha256"])
        if t is None:
            if s["record_id"] in by_id:  # ids are date + hash: another content, never seen
                raise LedgerError("LEDGER_MISMATCH",
                                  f"记录号 {s['record_id']} 在两个台账中内容不同。",
                                  f"record {s['record_id']} has other content in the target")
            new[s["record_id"]] = s
            taken[s["record_id"]] = s["record_id"]
            providing.add(s["record_id"])
            if key in keys_before:
                touched.add(key)
            continue
        taken[s["record_id"]] = t["record_id"]
        if all(t.get(c) == s.get(c) for c in _RECEIPT[:3]):
            providing.add(s["record_id"])  # this very receipt was copied before
            continue
        earlier = _order(s)[:2] < _order(t)[:2]
        report.merged.append({"sha256": s["sha256"], "record_id": t["record_id"],
                              "duplicate": s["record_id"] if not earlier else t["record_id"],
                              "kept_from": "source" if earlier else "target"})
        touched.update({key, (t["form"], t["natural_key"])})
        if earlier:
            receipt = {c: s[c] for c in _RECEIPT if c in s and c in columns["records"]}
            out.receipts[t["record_id"]] = receipt
            t.update(receipt)
            providing.add(s["record_id"])
            out.demoted += [f["claim_id"] for f in target["files"]
                            if f["record_id"] == t["record_id"] and f["outcome"] == "record"]
    for r in new.values():  # links to a copy merged away follow it
        if r["supersedes"] in taken and taken[r["supersedes"]] != r["supersedes"]:
            r["supersedes"] = taken[r["supersedes"]]
            touched.add((r["form"], r["natural_key"]))
    every = list(by_sha.values()) + list(new.values())
    groups: dict[tuple[str, str], list[Row]] = {}
    for r in every:
        groups.setdefault((r["form"], r["natural_key"]), []).append(r)
    for key, members in groups.items():
        if key in touched:
            out.links.update(_chain(members))
        else:
            out.links.update({r["record_id"]: (r["supersedes"], bool(r["latest"]))
                              for r in members if r["record_id"] in new})
    for r in every:
        link = out.links.get(r["record_id"])
        if link is not None and r["record_id"] not in new and \
                link != (r["supersedes"], bool(r["latest"])):
            report.relinked.append({"record_id": r["record_id"], "supersedes": link[0],
                                    "latest": link[1]})
    out.inserts["records"] = list(new.values())
    out.expected_hashes = set(by_sha)
    _plan_rows(source, target, columns, site, out, taken, providing)
    _plan_actions(source, target, columns, site, out, taken, report)
    return out


def _plan_rows(source: dict[str, list[Row]], target: dict[str, list[Row]],
               columns: dict[str, set[str]], site: str | None, out: Plan,
               taken: dict[str, str], providing: set[str]) -> None:
    """Files, issued blanks, attempts and events the target does not hold yet."""
    for table, key in KEYS.items():
        held = Counter(tuple(r[k] for k in key) for r in target[table])
        for row in source[table]:
            ident = tuple(row[k] for k in key)
            if held[ident]:
                held[ident] -= 1
                continue
            row = _site(row, site, columns[table])
            if table == "files" and row["record_id"]:
                if row["outcome"] == "record" and row["record_id"] not in providing:
                    row["outcome"] = "duplicate"
                row["record_id"] = taken.get(row["record_id"], row["record_id"])
            out.inserts[table].append(row)


def _plan_actions(source: dict[str, list[Row]], target: dict[str, list[Row]],
                  columns: dict[str, set[str]], site: str | None, out: Plan,
                  taken: dict[str, str], report: Migration) -> None:
    """Actions by cause key: one per cause (the earlier raised), numbers unique."""
    by_cause = {a["cause_key"]: a for a in target["actions"]}
    used = {a["action_id"] for a in target["actions"]}
    for a in sorted(source["actions"], key=lambda a: (a["raised_at"], a["action_id"])):
        a = _site(a, site, columns["actions"])
        for ref in ("source_record", "cause_removed_by"):
            a[ref] = taken.get(a[ref], a[ref]) if a[ref] else a[ref]
        t = by_cause.get(a["cause_key"])
        if t is not None:
            content = {k: v for k, v in a.items() if k != "action_id"}
            if a["raised_at"] < t["raised_at"]:
                out.action_updates[t["action_id"]] = content
                t.update(content)
            if a["action_id"] != t["action_id"] or t["action_id"] in out.action_updates:
                report.actions_merged.append({"cause_key": a["cause_key"],
                                              "action_id": t["action_id"],
                                              "from": a["action_id"],
                                              "updated": t["action_id"] in out.action_updates})
            continue
        number = a["action_id"]
        if number in used:
            number = _next_number(number, used)
            report.renumbered.append({"from": a["action_id"], "to": number,
                                      "cause_key": a["cause_key"]})
            a["action_id"] = number
        used.add(number)
        by_cause[a["cause_key"]] = a
        out.inserts["actions"].append(a)
