"""Loading a workbook with openpyxl, as the Excel wing does wherever it writes one.

openpyxl warns about every extension it does not know (data validation lists from WPS,
conditional formats from newer Excel); those warnings mean nothing to a person issuing or
annotating a form, so they are silenced here, in one place.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook


def load_quietly(path: str | os.PathLike[str], **options: Any) -> Workbook:
    """``openpyxl.load_workbook(path, **options)`` without openpyxl's warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_workbook(path, **options)
