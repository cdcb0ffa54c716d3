"""Where a workspace keeps its campaign plans: ``outbox/campaigns/<year>/plan.json``."""

from __future__ import annotations

import hashlib
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from ..issues import UsageError
from ..scoring.policy import Campaign
from .customer_list import CustomerEntry, read_customer_list
from .plan import SURVEY_FORM, CampaignError, CampaignPlan, plan_campaign

if TYPE_CHECKING:
    from ..workspace import Workspace


def campaign_rule(workspace: Workspace) -> Campaign:
    """The ``[campaign]`` settings of the survey form's policy in this workspace."""
    return workspace.policies.survey(workspace.registry.get(SURVEY_FORM)).campaign


def campaign_dir(workspace: Workspace, year: int) -> Path:
    """``outbox/campaigns/<year>/``: the plan and the issued blanks."""
    return workspace.outbox / "campaigns" / str(year)


def plan_path(workspace: Workspace, year: int) -> Path:
    """Where the year's plan is kept."""
    return campaign_dir(workspace, year) / "plan.json"


def save_plan(workspace: Workspace, plan: CampaignPlan) -> Path:
    """Write the plan atomically; returns its path."""
    path = plan_path(workspace, plan.year)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(plan.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_plan(workspace: Workspace, year: int | None = None) -> CampaignPlan:
    """The plan of ``year`` (default: the latest year planned in this workspace)."""
    if year is None:
        folder = workspace.outbox / "campaigns"
        years = sorted(int(p.parent.name) for p in folder.glob("*/plan.json")
                       if p.parent.name.isdigit()) if folder.is_dir() else []
        if not years:
            raise CampaignError("no survey campaign planned yet: run qmsforms survey plan "
                                "--customers LIST.xlsx --year YYYY first")
        year = years[-1]
    path = plan_path(workspace, year)
    if not path.is_file():
        raise CampaignError(f"no survey campaign planned for {year} ({path} is missing)")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CampaignError(f"{path}: cannot read the plan: {exc}") from exc
    return CampaignPlan.from_dict(raw)


def plan_from_list(workspace: Workspace, customer_list: str | os.PathLike[str] | None,
                   year: int, *, seed: int | None = None,
                   replace_existing: bool = False) -> CampaignPlan:
    """Read the list (None: the workspace's customer master), apply the workspace's rule,
    save and return the plan.

    An existing plan of the year is kept (it may have blanks issued against it) unless
    ``replace_existing``.
    """
    if plan_path(workspace, year).is_file() and not replace_existing:
        raise UsageError(f"a survey campaign for {year} is already planned "
                         f"({plan_path(workspace, year)}); use --force to plan it again",
                         f"{year} 年的调查已有计划({plan_path(workspace, year)});"
                         "要重新计划请加 --force")
    if customer_list is None:
        entries, name, digest = _from_master(workspace)
    else:
        source = Path(customer_list)
        entries = read_customer_list(source)
        name, digest = source.name, hashlib.sha256(source.read_bytes()).hexdigest()
    plan = plan_campaign(entries, year, campaign_rule(workspace), seed=seed, source=name,
                         source_sha256=digest)
    save_plan(workspace, plan)
    return plan


def _from_master(workspace: Workspace) -> tuple[list[CustomerEntry], str, str]:
    """The customer master's customers as a campaign list, its file name and digest."""
    from ..customers import current_master, master_path

    master = current_master(workspace)
    path = master_path(workspace)
    if not master:
        raise UsageError("没有客户主数据,请用 --customers 指定客户一览表 / no customer master: "
                         "name the customer list with --customers LIST.xlsx, or import it "
                         "first (qmsforms customers import LIST.xlsx)")
    lacking = [c.name for c in master.customers if c.order_value is None]
    if lacking:
        raise CampaignError(f"客户主数据中这些客户没有年订单额 / the customer master has no annual "
                            f"order value for: {', '.join(lacking)}")
    entries = [CustomerEntry(c.name, c.order_value or Decimal(0), c.automotive, c.code)
               for c in master.customers]
    return entries, path.name, hashlib.sha256(path.read_bytes()).hexdigest()
