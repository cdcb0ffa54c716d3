"""The targets of the management-review scorecard (policy ``review-000``) [seed 004].

``schemas/policies/review-000.toml`` holds each KPI's labels, unit, target and whether it is met
at or above (``min``) or at or below (``max``) the target; a workspace's own file replaces the
shipped one as a whole, and a broken file raises `PolicyBroken` naming its file, line and key.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..config import package_defaults
from ..definitions import load_definition, policy_path
from ..scoring.policy import PolicyBroken

if TYPE_CHECKING:
    from ..workspace import Workspace

POLICY_ID = "review-000"
KPI_KEYS = ("on_time_delivery", "complaint_ppm", "excess_freight", "complaint_sla",
            "satisfaction", "survey_return_rate")
"""The scorecard's KPIs, in the order it shows them."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KpiTarget(_Strict):
    """One KPI's labels and target."""

    zh: str
    en: str
    unit: str
    target: Decimal
    comparison: Literal["min", "max"]
    """``min``: met at or above the target; ``max``: met at or below it."""

    def met(self, value: Decimal | None) -> bool | None:
        """Whether ``value`` meets the target (None without a value)."""
        if value is None:
            return None
        return value >= self.target if self.comparison == "min" else value <= self.target


class ReviewPolicy(_Strict):
    """The targets of the management-review scorecard (``schemas/policies/review-000.toml``)."""

    id: str
    version: str
    kind: Literal["review"]
    title_zh: str = ""
    title_en: str = ""
    source: str = ""
    kpis: dict[str, KpiTarget] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _every_kpi(self) -> ReviewPolicy:
        missing = [k for k in KPI_KEYS if k not in self.kpis]
        unknown = [k for k in self.kpis if k not in KPI_KEYS]
        if missing or unknown:
            raise ValueError(f"kpis must be exactly {', '.join(KPI_KEYS)}"
                             + (f"; missing {', '.join(missing)}" if missing else "")
                             + (f"; unknown {', '.join(unknown)}" if unknown else ""))
        return self


def review_policy_path(workspace: Workspace | None = None) -> Path:
    """The policy file in use: the workspace's ``schemas/policies/review-000.toml`` when it
    has one (it replaces the shipped file as a whole), else the shipped one."""
    own = workspace.schemas_dir if workspace is not None else None
    return policy_path(POLICY_ID, (own, package_defaults() / "schemas"))


def load_review_policy(workspace: Workspace | None = None,
                       path: Path | None = None) -> ReviewPolicy:
    """Read the review targets strictly; a broken file raises `PolicyBroken` naming its
    file, line and key in Chinese and English."""
    return load_definition(ReviewPolicy, path or review_policy_path(workspace), POLICY_ID,
                           broken=PolicyBroken)
