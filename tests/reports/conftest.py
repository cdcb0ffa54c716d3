"""The year of records every report test reads (built once per session), and the written
report workbook opened."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from .. import year as yr


@pytest.fixture(scope="session")
def year(tmp_path_factory: pytest.TempPathFactory) -> yr.Year:
    """Twelve months of shipping lists, monitoring sheets, surveys and complaints, processed
    through the intake into one workspace (the report tests only read it)."""
    return yr.shared_year(tmp_path_factory)


@pytest.fixture(scope="module")
def wb(xlsx: Path) -> Any:
    """The report workbook the test module's ``xlsx`` fixture wrote, opened with openpyxl."""
    return load_workbook(xlsx)
