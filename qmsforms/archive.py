"""``templates/archive/``: byte-identical copies of the templates a release or a forced build
replaced, so a customised template is never lost; and ``templates/.built.json``, what qmsforms
itself last wrote there, which tells a customised template from a generated one."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

ARCHIVE = "archive"
"""Folder under ``templates/`` with the byte-identical copies of replaced templates."""


def backup_path(path: Path, tag: str) -> Path:
    """A free name in ``templates/archive/`` for the old copy of ``path`` (``tag``: ``rev-A``:
    ``complaint.en.rev-A.xlsx``)."""
    folder = path.parent / ARCHIVE
    folder.mkdir(exist_ok=True)
    candidate = folder / f"{path.stem}.{tag}{path.suffix}"
    n = 2
    while candidate.exists():
        candidate = folder / f"{path.stem}.{tag}-{n}{path.suffix}"
        n += 1
    return candidate


def keep_copy(path: Path, tag: str) -> Path:
    """Copy ``path`` byte for byte into the archive; returns the copy."""
    target = backup_path(path, tag)
    shutil.copy2(path, target)
    return target


BUILT = ".built.json"
"""In a templates folder: the SHA-256 of each template as qmsforms last wrote it (a build, or a
release of a template that had not been customised), so that a template changed since
(restyled in Excel) is known to be customised."""


def built_hashes(folder: Path) -> dict[str, str]:
    """File name -> SHA-256 of the templates qmsforms wrote into ``folder``."""
    try:
        found = json.loads((folder / BUILT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


def write_built(folder: Path, hashes: dict[str, str]) -> None:
    """Record what qmsforms wrote into ``folder``."""
    (folder / BUILT).write_text(json.dumps(hashes, indent=1, sort_keys=True) + "\n",
                                encoding="utf-8")


def file_sha(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
