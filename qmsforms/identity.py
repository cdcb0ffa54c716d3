"""The hidden identity of an issued form: form id, revision, fingerprint, instance id.

It is written twice into every workbook: as custom document properties and on a very hidden
sheet. Either copy is enough to identify a returned file (some editors drop custom properties,
others un-hide sheets), and both survive a LibreOffice re-save.

The fingerprint hashes the form's *binding* — field names, kinds, the shape each one covers,
table columns and tick options — not its looks, so a restyled template keeps its fingerprint
while a template whose fields were changed does not.

This module knows no file format: the workbook copies are written and read by
`qmsforms.excel.identity`, the Word ones by `qmsforms.word.props`.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .version import __version__

if TYPE_CHECKING:
    from .registry import FormDef

IDENTITY_SHEET = "_qmsforms"
PROPERTY_PREFIX = "qmsforms."
KEYS = ("form", "revision", "fingerprint", "instance_id", "lang", "generator")


@dataclass(frozen=True)
class Identity:
    """What a blank says about itself. ``instance_id`` is empty on a template."""

    form: str
    revision: str
    fingerprint: str
    instance_id: str = ""
    lang: str = "both"
    generator: str = f"qmsforms {__version__}"

    def issued(self) -> Identity:
        """A copy with a fresh instance id, for one issued blank."""
        return replace(self, instance_id=str(uuid.uuid4()))


def fingerprint(form: FormDef, revision: str | None = None) -> str:
    """A short stable hash of the form's binding (see the module docstring)."""
    parts: list[object] = [form.id, revision or form.revision]
    for spec in form.fields:
        entry: list[object] = [spec.name, spec.kind]
        if spec.kind == "ticks":
            entry.append([level[0] for level in spec.levels])
        if spec.kind == "choice":
            entry.append(sorted(spec.choices))
        if spec.kind == "table":
            entry.append([[c.name, c.kind] for c in spec.columns])
        parts.append(entry)
    digest = hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()[:16]


def identity_for(form: FormDef, lang: str = "both") -> Identity:
    """The template identity of a form (no instance id yet)."""
    return Identity(form=form.id, revision=form.revision, fingerprint=fingerprint(form),
                    lang=lang)


def identity_of(rows: list[tuple[Any, ...]], props: dict[str, Any]) -> Identity | None:
    """The identity in a hidden sheet's (key, value) rows, else in custom properties.

    ``props`` are custom document properties by name (``qmsforms.form`` ...); None when
    neither copy names a form.
    """
    found: dict[str, str] = {}
    for row in rows:
        if len(row) >= 2 and row[0] in KEYS and row[1] is not None:
            found[str(row[0])] = str(row[1]).strip()
    if "form" not in found:
        for name, value in props.items():
            if name.startswith(PROPERTY_PREFIX):
                key = name[len(PROPERTY_PREFIX):]
                if key in KEYS and value not in (None, "-"):
                    found[key] = str(value).strip()
    if not found.get("form"):
        return None
    return Identity(
        form=found["form"],
        revision=found.get("revision", ""),
        fingerprint=found.get("fingerprint", ""),
        instance_id=found.get("instance_id", ""),
        lang=found.get("lang", "both"),
        generator=found.get("generator", ""),
    )
