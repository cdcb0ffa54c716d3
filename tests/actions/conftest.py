"""Fixtures of the action tests: files dropped into the real inbox and taken by the intake."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from qmsforms.actions import action_views
from qmsforms.intake import Intake, open_ledger
from qmsforms.workspace import Workspace

TakeFn = Callable[..., list[Any]]
ViewsFn = Callable[..., list[dict[str, Any]]]


def working_days_after(start: date, days: int) -> date:
    """``start`` plus ``days`` weekdays, counted here by hand (no holidays)."""
    current, left = start, days
    while left:
        current += timedelta(days=1)
        if current.isoweekday() <= 5:
            left -= 1
    return current


def today_utc() -> date:
    """The UTC date the intake stamps as received today."""
    return datetime.now(timezone.utc).date()


@pytest.fixture
def take(ws: Workspace) -> TakeFn:
    """``take(*files)``: copy the files into the inbox and run one intake pass; the
    outcomes."""

    def run(*files: Path) -> list[Any]:
        for i, f in enumerate(files):
            shutil.copyfile(f, ws.inbox / f"{i:02d} {f.name}")
        with Intake(ws, settle=0.05, quiet=0.05) as intake:
            return list(intake.process().outcomes)

    return run


@pytest.fixture
def views(ws: Workspace) -> ViewsFn:
    """``views(today=None)``: the register's actions as dicts."""

    def run(today: date | None = None) -> list[dict[str, Any]]:
        with open_ledger(ws) as ledger:
            return [v.to_dict() for v in action_views(ws, ledger, today)]

    return run


MONTH = "satisfaction-monitoring"


def sheet(make_filled: Callable[..., Path], customer: str, month: str,
          **events: Any) -> Path:
    """A filled monitoring sheet of ``customer`` for ``month`` with these event counts."""
    return make_filled(MONTH, {"customer": customer, "month": month,
                               "performance_rate": 100, **events})
