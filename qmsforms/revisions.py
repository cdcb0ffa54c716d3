"""The revision history of a workspace's forms: ``templates/revisions.toml``.

Revisions are data. Every release of a form is one ``[[release]]`` entry (form, revision, the
revision it supersedes, effective date, grace days, who released it, when, what changed and
which template files it touched); the current revision of a form is its latest release. The
shipped history holds the first revision of each built-in form; a workspace's own history
replaces the shipped entries of the forms it names. A questionnaire never released keeps the
``revision`` its TOML file declares.

The file is written by `qmsforms.release` and is meant to be read by people too (an IATF
auditor asks for the revision history of every controlled form).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path

from .config import ConfigError, Superseded

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

HISTORY_NAME = "revisions.toml"
HEADER = """\
# Revision history of the controlled forms of this workspace (IATF 16949 7.5.3).
# One [[release]] per released revision; written by `qmsforms templates release`.
# The current revision of a form is its last entry here. Keep this file with the templates.
"""


@dataclass(frozen=True)
class Release:
    """One released revision of a form."""

    form: str
    revision: str
    previous: str = ""
    """The revision it superseded ('' for a form's first revision)."""
    effective: date | None = None
    grace_days: int = 90
    """Days a returned copy of ``previous`` is still accepted after ``effective``."""
    released_by: str = ""
    released_at: str = ""
    """UTC time of the release, ``YYYY-MM-DDTHH:MM:SSZ``."""
    note: str = ""
    templates: tuple[str, ...] = ()
    backups: tuple[str, ...] = ()
    """Byte-identical copies of the templates as they were before the release."""

    def as_dict(self) -> dict[str, object]:
        """This release as JSON-ready data."""
        data = asdict(self)
        data["effective"] = self.effective.isoformat() if self.effective else None
        data["templates"], data["backups"] = list(self.templates), list(self.backups)
        return data

    def to_toml(self) -> str:
        """This release as one ``[[release]]`` table."""
        lines = ["[[release]]", f"form = {_quote(self.form)}",
                 f"revision = {_quote(self.revision)}"]
        if self.previous:
            lines.append(f"previous = {_quote(self.previous)}")
        if self.effective:
            lines.append(f"effective = {self.effective.isoformat()}")
        lines.append(f"grace_days = {self.grace_days}")
        for key in ("released_by", "released_at", "note"):
            value = getattr(self, key)
            if value:
                lines.append(f"{key} = {_quote(value)}")
        for key in ("templates", "backups"):
            items = getattr(self, key)
            if items:
                lines.append(f"{key} = [{', '.join(_quote(i) for i in items)}]")
        return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)


@dataclass
class History:
    """Every release, in the order they were made."""

    releases: list[Release] = field(default_factory=list)

    def of(self, form_id: str) -> list[Release]:
        """The releases of one form, oldest first."""
        return [r for r in self.releases if r.form == form_id]

    def current(self, form_id: str) -> Release | None:
        """The latest release of a form; None when it was never released."""
        found = self.of(form_id)
        return found[-1] if found else None

    def revisions(self) -> dict[str, str]:
        """The current revision of every form this history names."""
        return {r.form: r.revision for r in self.releases}

    def superseded(self, form_id: str) -> dict[str, Superseded]:
        """The revisions of a form that a later release superseded, with their grace period."""
        out: dict[str, Superseded] = {}
        for release in self.of(form_id):
            if release.previous and release.effective:
                out[release.previous] = Superseded(on=release.effective,
                                                   grace_days=release.grace_days)
        return out

    def text(self) -> str:
        """The whole file."""
        return HEADER + "".join("\n" + r.to_toml() for r in self.releases)


def _release(entry: dict[str, object], path: Path) -> Release:
    try:
        effective = entry.get("effective")
        if isinstance(effective, datetime):
            effective = effective.date()
        return Release(
            form=str(entry["form"]), revision=str(entry["revision"]),
            previous=str(entry.get("previous", "")),
            effective=effective if isinstance(effective, date) else None,
            grace_days=int(entry.get("grace_days", 90)),  # type: ignore[call-overload]
            released_by=str(entry.get("released_by", "")),
            released_at=str(entry.get("released_at", "")), note=str(entry.get("note", "")),
            templates=tuple(str(t) for t in entry.get("templates", ())),  # type: ignore[attr-defined]
            backups=tuple(str(t) for t in entry.get("backups", ())))  # type: ignore[attr-defined]
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: a [[release]] entry is incomplete or invalid ({exc})",
                          f"{path}:发布记录不完整或无效({exc})。") from exc


def read_history(path: Path) -> History:
    """The history in one file; an empty one when the file does not exist."""
    if not path.is_file():
        return History()
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}",
                          f"{path}:不是有效的 TOML:{exc}") from exc
    entries = data.get("release", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: release must be a list of [[release]] tables",
                          f"{path}:release 须为 [[release]] 表的列表。")
    return History([_release(e, path) for e in entries if isinstance(e, dict)])


def merged_history(files: Iterable[Path]) -> History:
    """The histories of ``files`` in order; a later file replaces the forms it names."""
    merged: list[Release] = []
    for path in files:
        history = read_history(path)
        named = {r.form for r in history.releases}
        merged = [r for r in merged if r.form not in named] + history.releases
    return History(merged)
