"""Validate a filled form: safety gate, identity, binding, extraction, model — every issue.

The front door: a file is dispatched by its kind to the Excel wing (`qmsforms.excel.validate`)
or the Word wing (`qmsforms.word.validate`). `validate_file` never raises for bad input:
whatever is wrong with the file ends up in the returned `Report` as issues with a code, a
location and a message in Chinese and English.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from .excel.package import BookError
from .excel.validate import WORD_SUFFIXES, open_workbook, validate_workbook
from .issues import Report
from .normalize import ticks_in_use
from .workspace import Workspace

if TYPE_CHECKING:
    from .registry import FormDef

__all__ = ["WORD_SUFFIXES", "collector_paused", "validate_file", "validate_files",
           "validate_path"]


def validate_path(path: Path, workspace: Workspace, report: Report,
                  today: date | None = None) -> FormDef | None:
    """Validate an .xlsx or .docx file into ``report``; returns the form when it is known.

    Tick boxes and yes/no answers are read with the workspace's ``[ticks]`` vocabulary.
    """
    with ticks_in_use(workspace.config.ticks.marks()):
        return _validate_path(path, workspace, report, today)


def _validate_path(path: Path, workspace: Workspace, report: Report,
                   today: date | None) -> FormDef | None:
    if path.suffix.lower() in WORD_SUFFIXES:
        from .word.validate import validate_word

        return validate_word(path, workspace, report, today)
    book, issues = open_workbook(path, workspace.config.limits.reader_limits())
    report.add(issues)
    if book is None:
        return None
    with book, collector_paused():
        try:
            return validate_workbook(book, workspace, report, today)
        except BookError as error:  # a part found broken only when it was needed
            report.add(error.issue)
            report.data = report.scores = None
            return None


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a workbook is read.

    Reading a large sheet allocates hundreds of thousands of small objects and no reference
    cycles; left on, the collector walks them all again and again (a fifth of the time on a
    50,000-line list). It is switched back on afterwards, and anything cyclic is collected
    then.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def validate_file(path: str | os.PathLike[str], workspace: Workspace | None = None,
                  today: date | None = None) -> Report:
    """Validate one filled form file (.xlsx or .docx); never raises for anything wrong with it."""
    workspace = workspace or Workspace()
    path = Path(path)
    report = Report(path=str(path))
    validate_path(path, workspace, report, today)
    return report


def validate_files(paths: Iterable[str | os.PathLike[str]],
                   workspace: Workspace | None = None) -> list[Report]:
    """Validate several files; one report each, in order."""
    workspace = workspace or Workspace()
    return [validate_file(p, workspace) for p in paths]
