"""Issuing the campaign: one personalised blank per chosen customer (step 3 of
`qmsforms.campaign`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..safe_text import safe_filename
from .plan import CampaignError, CampaignPlan, IssuedBlank, now
from .store import campaign_dir, load_plan, save_plan

if TYPE_CHECKING:
    from ..workspace import Workspace


def issue_campaign(workspace: Workspace, year: int | None = None, *,
                   out_dir: str | os.PathLike[str] | None = None, lang: str | None = None,
                   progress: Callable[[IssuedBlank], None] | None = None,
                   ) -> tuple[CampaignPlan, list[IssuedBlank]]:
    """Issue a personalised blank to every chosen customer not issued one yet.

    Returns the updated plan (saved) and the blanks issued now. Running it again issues only
    to customers added since (none, normally), so it is safe to repeat.
    """
    from ..blanks import issue_blank
    from ..excel.identity import read_identity
    from ..excel.workbook import load_quietly
    from ..intake.ledger import open_ledger

    plan = load_plan(workspace, year)
    folder = Path(out_dir) if out_dir else campaign_dir(workspace, plan.year) / "blanks"
    have = {i.customer for i in plan.issued}
    todo = [c for c in plan.chosen if c.customer not in have]
    issued: list[IssuedBlank] = []
    if not todo:
        return plan, issued
    with open_ledger(workspace, write=True) as ledger:
        for choice in todo:
            values = {"customer": choice.customer, "period": str(plan.year)}
            if choice.code:
                values["customer_code"] = choice.code
            name = safe_filename(f"{choice.code + ' ' if choice.code else ''}"
                                 f"{choice.customer}", "customer", 70)
            path = issue_blank(workspace, plan.form, folder / f"{name} {plan.year}.xlsx",
                               lang=lang, values=values, record=True, ledger=ledger)
            identity = read_identity(load_quietly(path))
            if identity is None or not identity.instance_id:  # pragma: no cover - defensive
                raise CampaignError(f"{path}: the issued blank carries no instance id")
            blank = IssuedBlank(choice.customer, identity.instance_id, str(path), now())
            issued.append(blank)
            plan = replace(plan, issued=(*plan.issued, blank))
            save_plan(workspace, plan)  # after each blank, so an interruption loses none
            if progress:
                progress(blank)
    return plan, issued
