"""The ledger against the outbox (``qmsforms ledger check [--repair]``), either engine.

Every record has its JSON at ``outbox/<path>`` holding what the intake wrote for it
(`qmsforms.intake.outbox.record_json`: record id, sha256, data, the rest of its row) and an
archived original, ``outbox/archive/<form>/<record_id>__<name>``, whose sha256 is the
record's; a voided record has its void file beside its JSON; every action has its journal,
``outbox/actions/<action_id>.json``, holding its row. Record JSON and journals in the outbox
that the ledger does not know are reported and never deleted.

What is found is data (`Finding`: code, path, record or action id, message in Chinese and
English). ``repair`` writes again, atomically and from the ledger, what the ledger can say:
record JSON, void files and journals missing or differing. An archived original missing or
changed cannot be made again: it is reported as not repaired.
"""

from __future__ import annotations

import glob
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..files import sha256_of

if TYPE_CHECKING:
    from ...workspace import Workspace
    from .store import LedgerStore

MESSAGES: dict[str, tuple[str, str]] = {
    "RECORD_JSON_MISSING": ("发件箱中缺少记录 JSON", "the record JSON is missing from the outbox"),
    "RECORD_JSON_DIFFERS": ("记录 JSON 与台账不一致", "the record JSON differs from the ledger"),
    "RECORD_JSON_UNKNOWN": ("台账中没有这条记录 JSON 对应的记录(未删除)",
                            "no ledger record has this record JSON (it is left in place)"),
    "VOID_FILE_MISSING": ("已作废记录缺少作废文件", "the voided record's void file is missing"),
    "ARCHIVE_MISSING": ("缺少归档原件,无法从台账重建", "the archived original is missing and "
                        "cannot be re-created from the ledger"),
    "ARCHIVE_DIFFERS": ("归档原件的 sha256 与记录不符,无法从台账重建",
                        "the archived original's sha256 is not the record's; it cannot be "
                        "re-created from the ledger"),
    "JOURNAL_MISSING": ("缺少纠正措施日志", "the action's journal is missing"),
    "JOURNAL_DIFFERS": ("纠正措施日志与台账不一致", "the action's journal differs from the ledger"),
    "JOURNAL_UNKNOWN": ("台账中没有这条纠正措施日志对应的措施(未删除)",
                        "no ledger action has this journal (it is left in place)"),
}
"""Each finding's code and its message (Chinese, English)."""

REPAIRABLE = {"RECORD_JSON_MISSING", "RECORD_JSON_DIFFERS", "VOID_FILE_MISSING",
              "JOURNAL_MISSING", "JOURNAL_DIFFERS"}
"""What ``repair`` writes again from the ledger; the rest only a person can settle."""


@dataclass(frozen=True)
class Finding:
    """One disagreement between the ledger and the outbox; ``path`` relative to the outbox;
    ``repaired`` when ``--repair`` wrote the file again."""

    code: str
    path: str
    record_id: str | None = None
    action_id: str | None = None
    repaired: bool = False

    @property
    def message_zh(self) -> str:
        """What is wrong, in Chinese."""
        return MESSAGES[self.code][0]

    @property
    def message_en(self) -> str:
        """What is wrong, in English."""
        return MESSAGES[self.code][1]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"code": self.code, "path": self.path, "record_id": self.record_id,
                "action_id": self.action_id, "repaired": self.repaired,
                "message_zh": self.message_zh, "message_en": self.message_en}


@dataclass
class CheckReport:
    """What ``ledger check`` found: ``valid`` when nothing (before any repair)."""

    records: int = 0
    actions: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """Whether the ledger and the outbox agree."""
        return not self.findings

    @property
    def not_repaired(self) -> list[Finding]:
        """Findings left as they are (not repairable, or no repair asked for)."""
        return [f for f in self.findings if not f.repaired]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (what ``--json`` prints)."""
        return {"valid": self.valid, "records": self.records, "actions": self.actions,
                "findings": [f.to_dict() for f in self.findings],
                "repaired": sum(f.repaired for f in self.findings),
                "not_repaired": len(self.not_repaired)}


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return FileNotFoundError
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _plain(data: Any) -> Any:
    """``data`` as JSON reads it back (what a file written by `write_json` holds)."""
    return json.loads(json.dumps(data, ensure_ascii=False, default=str))


def _files(folder: Path, pattern: str) -> list[Path]:
    return sorted(p for p in folder.rglob(pattern) if p.is_file()
                  and not p.name.startswith(".")) if folder.is_dir() else []


def check_ledger(workspace: Workspace, *, repair: bool = False,
                 site: str | None = None) -> CheckReport:
    """Compare ``workspace``'s ledger with its outbox; with ``repair``, write again from the
    ledger the record JSON, void files and action journals missing or differing.

    The rows checked are ``site``'s, by default the workspace's own site
    (`qmsforms.site.site_id`; every row when it has none): several plants sharing one ledger
    each keep their own outbox."""
    from ...actions.raising import JOURNAL_DIR, write_journal
    from ...site import site_id
    from ..outbox import record_json
    from ..outputs import write_json
    from ..voids import VOID_SUFFIX, void_path
    from . import open_ledger

    outbox = workspace.outbox
    report = CheckReport()
    found: list[Finding] = []
    with open_ledger(workspace, site=site or site_id(workspace)) as ledger:
        rows = ledger.records(latest_only=False, voided=True)
        actions = ledger.actions()
        report.records, report.actions = len(rows), len(actions)
        for row in rows:
            expected = _plain(record_json(row))
            held = _json(outbox / row.path)
            code = ("RECORD_JSON_MISSING" if held is FileNotFoundError
                    else "RECORD_JSON_DIFFERS" if held != expected else None)
            if code is not None:
                if repair:
                    write_json(outbox / row.path, expected)
                found.append(Finding(code, row.path, row.record_id, repaired=repair))
            if row.voided is not None:
                void = void_path(outbox, row.path)
                if not void.is_file():
                    if repair:
                        write_json(void, {"record_id": row.record_id, "form": row.form,
                                          **row.voided})
                    found.append(Finding("VOID_FILE_MISSING", void.relative_to(outbox)
                                         .as_posix(), row.record_id, repaired=repair))
            found += _archive(outbox, row.form, row.record_id, row.sha256)
        known = {row.path for row in rows}
        for path in _files(outbox / "records", "*.json"):
            rel = path.relative_to(outbox).as_posix()
            if rel not in known and not path.name.endswith(VOID_SUFFIX) \
                    and ledger.record(path.stem) is None:
                found.append(Finding("RECORD_JSON_UNKNOWN", rel))
        found += _journals(outbox / JOURNAL_DIR, ledger, repair)
        if repair:
            write_journal(outbox, ledger, [f.action_id for f in found
                                           if f.action_id and f.code in REPAIRABLE])
    report.findings = found
    return report


def _archive(outbox: Path, form: str, record_id: str, sha256: str) -> list[Finding]:
    folder = outbox / "archive" / form
    copies = sorted(folder.glob(f"{glob.escape(record_id)}__*")) if folder.is_dir() else []
    if not copies:
        return [Finding("ARCHIVE_MISSING", f"archive/{form}/{record_id}__*", record_id)]
    if any(sha256_of(p)[0] == sha256 for p in copies):
        return []
    return [Finding("ARCHIVE_DIFFERS", copies[0].relative_to(outbox).as_posix(), record_id)]


def _journals(folder: Path, ledger: LedgerStore[Any], repair: bool) -> list[Finding]:
    found: list[Finding] = []
    ids = set()
    for action in ledger.actions():
        ids.add(action.action_id)
        rel = f"{folder.name}/{action.action_id}.json"
        held = _json(folder / f"{action.action_id}.json")
        if held is FileNotFoundError:
            found.append(Finding("JOURNAL_MISSING", rel, action_id=action.action_id,
                                 repaired=repair))
        elif held != _plain(action.to_dict()):
            found.append(Finding("JOURNAL_DIFFERS", rel, action_id=action.action_id,
                                 repaired=repair))
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if path.stem not in ids and not path.name.startswith("."):
            found.append(Finding("JOURNAL_UNKNOWN", f"{folder.name}/{path.name}"))
    return found
