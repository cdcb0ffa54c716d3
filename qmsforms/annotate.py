"""The annotated copy of a rejected file, in either format: the front door of both wings.

Kept apart from `qmsforms.validate` so that validating imports neither openpyxl nor
python-docx: only a rejection needs them.
"""

from __future__ import annotations

import os
from pathlib import Path

from .issues import Report


def annotate(path: str | os.PathLike[str], report: Report,
             out: str | os.PathLike[str]) -> Path | None:
    """Write a copy of an invalid form with each problem marked where it is.

    A workbook gets each bad cell filled and commented and, after the form (which stays the
    first sheet, so it prints first), a sheet listing every issue; a Word form gets each bad
    control shaded and commented. Returns the path written, or None when the file cannot be
    opened to be annotated (then only the report can be given) or was refused for its size.
    """
    if Path(path).suffix.lower() == ".docx":
        from .word.annotate import annotate_word

        return annotate_word(Path(path), report, Path(out))
    from .excel.annotate import annotate_workbook

    return annotate_workbook(path, report, out)
