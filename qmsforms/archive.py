"""``templates/archive/``: byte-identical copies of the templates a release or a forced build
replaced, so a customised template is never lost."""

from __future__ import annotations

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
