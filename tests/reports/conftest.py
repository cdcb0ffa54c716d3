"""The year of records every report test reads, built once per session."""

from __future__ import annotations

import pytest

from .. import year as yr


@pytest.fixture(scope="session")
def year(tmp_path_factory: pytest.TempPathFactory) -> yr.Year:
    """Twelve months of shipping lists, monitoring sheets, surveys and complaints, processed
    through the intake into one workspace (the report tests only read it)."""
    return yr.shared_year(tmp_path_factory)
