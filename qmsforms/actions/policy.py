"""The action policy (``schemas/policies/actions-000.toml``): departments, due dates, targets.

Rules as data: which department answers each source of action, how many working days it has,
the survey target and the fields that hold a customer's suggestions. The shipped file is
replaced as a whole by a workspace's own ``schemas/policies/actions-000.toml``. A broken file
stops the raising with a `DefinitionBroken` naming its file, line and key.
"""

from __future__ import annotations

import functools
import logging
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..config import package_defaults
from ..definitions import load_definition, policy_path

if TYPE_CHECKING:
    from ..workspace import Workspace

log = logging.getLogger(__name__)

POLICY_ID = "actions-000"
"""The action policy's id (and file stem)."""

SOURCES = ("complaint", "monitoring_streak", "month_below_target", "year_below_target",
           "survey_item", "survey_below_target", "suggestion")
"""The sources of an action, in the order they are listed."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Department(_Strict):
    """Who answers an action, in Chinese and English."""

    department_zh: str = Field(min_length=1)
    department_en: str = Field(min_length=1)


class Source(Department):
    """One source of actions: its department, its due date, whether it raises at all."""

    enabled: bool = True
    due_working_days: int | None = Field(None, ge=0, le=365)
    """Working days from the day raised; none: no due date (the next management review)."""
    categories: dict[str, Department] = Field(default_factory=dict)
    """Per monitoring category (``quality``, ``delivery``): who answers a streak in it."""


class ActionPolicy(_Strict):
    """The action policy as read from its TOML file."""

    id: str
    version: str
    kind: Literal["actions"]
    title_zh: str = ""
    title_en: str = ""
    source: str = ""
    prefix: str = Field("CA", pattern=r"^[A-Z]{1,6}$")
    survey_target: Decimal = Field(Decimal(90), ge=0, le=100)
    comment_fields: tuple[str, ...] = ("suggestions", "feedback", "summary")
    holidays: tuple[date, ...] = ()
    sources: dict[Literal["complaint", "monitoring_streak", "month_below_target",
                          "year_below_target", "survey_item", "survey_below_target",
                          "suggestion"], Source]

    def of(self, source: str) -> Source | None:
        """The settings of ``source``; None when the policy leaves it out or disables it."""
        found = self.sources.get(source)  # type: ignore[call-overload]
        return found if found is not None and found.enabled else None

    def department(self, source: str, category: str | None = None) -> Department:
        """Who answers an action of ``source`` (a streak: by its category when named)."""
        found = self.sources[source]  # type: ignore[index]
        return found.categories.get(category or "", found)

    def due(self, source: str, raised: date) -> date | None:
        """The due date of an action of ``source`` raised on ``raised``."""
        found = self.sources.get(source)  # type: ignore[call-overload]
        if found is None or found.due_working_days is None:
            return None
        return add_working_days(raised, found.due_working_days, self.holidays)


def add_working_days(start: date, days: int, holidays: tuple[date, ...] = ()) -> date:
    """``start`` plus ``days`` working days (Monday to Friday, not in ``holidays``)."""
    off = set(holidays)
    current = start
    left = days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in off:
            left -= 1
    return current


def policy_file(workspace: Workspace) -> Path:
    """The action policy file in force: the workspace's own, else the shipped one."""
    return policy_path(POLICY_ID, (workspace.schemas_dir, package_defaults() / "schemas"))


def load_action_policy(workspace: Workspace) -> ActionPolicy:
    """Read the action policy in force; `DefinitionBroken` (file, line, key; zh + en) when
    it is not TOML or breaks the model. The file is read again only when it changed (the
    intake asks for it with every record)."""
    path = policy_file(workspace)
    try:
        stat = path.stat()
    except OSError:
        return load_definition(ActionPolicy, path, POLICY_ID)  # says what is wrong
    return _load(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _load(path: Path, _mtime_ns: int, _size: int) -> ActionPolicy:
    return load_definition(ActionPolicy, path, POLICY_ID)
