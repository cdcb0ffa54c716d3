"""Issuing the corrective-action form for an action (``qmsforms actions issue``).

The blank (纠正/预防措施处理单) comes pre-filled with what the register knows: the action's
number, source, the record that raised it, customer, day raised, responsible department, due
date and the problem in Chinese and English. A complaint action is answered by its 8D
report, so none is issued for it: ``qmsforms 8d new --from RECORD`` writes that.
"""

from __future__ import annotations

import os
from datetime import date
from itertools import chain, count
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..issues import UsageError
from .register import CAPA_FORM

if TYPE_CHECKING:
    from ..intake.ledger import ActionRow
    from ..workspace import Workspace


def prefill(row: ActionRow) -> dict[str, Any]:
    """The corrective-action fields an action pre-fills."""
    return {
        "action_no": row.action_id, "source": row.source,
        "source_ref": row.source_record, "customer": row.customer,
        "raised_on": date.fromisoformat(row.raised_on),
        "responsible_dept": f"{row.department_zh} / {row.department_en}",
        "due_date": date.fromisoformat(row.due) if row.due else None,
        "problem": f"{row.problem_zh}\n{row.problem_en}",
    }


def default_path(action_id: str, folder: Path | None = None) -> Path:
    """Where ``actions issue`` writes without ``-o``: ``<action_id>.xlsx`` in ``folder``
    (default: the current folder), numbered ``-2``, ``-3`` … rather than overwrite one."""
    here = folder or Path.cwd()
    names = chain([f"{action_id}.xlsx"], (f"{action_id}-{n}.xlsx" for n in count(2)))
    return next(here / name for name in names if not (here / name).exists())


def issue_action(workspace: Workspace, action_id: str,
                 out: str | os.PathLike[str] | None = None, *,
                 lang: str | None = None) -> Path:
    """Issue the corrective-action blank of ``action_id``, pre-filled (`prefill`), and
    remember it as issued; the path written. `UsageError` for an unknown action and for a
    complaint action (its 8D report answers it)."""
    from ..blanks import issue_blank
    from ..intake.ledger import open_ledger

    with open_ledger(workspace) as ledger:
        row = ledger.action(action_id)
    if row is None:
        raise UsageError(f"no action {action_id!r}; `qmsforms actions` lists them",
                         f"没有措施 {action_id!r};`qmsforms actions` 列出全部措施")
    if row.source == "complaint":
        record = row.cause.get("record") or row.source_record
        raise UsageError(
            f"{action_id} is a complaint's action: its 8D report answers it. Write the 8D "
            f"with `qmsforms 8d new --from {record}`",
            f"{action_id} 是客户投诉的措施,由 8D 报告处理:请用 `qmsforms 8d new --from "
            f"{record}` 生成 8D 报告")
    values = {k: v for k, v in prefill(row).items() if v is not None}
    target = Path(out) if out is not None else default_path(action_id)
    return issue_blank(workspace, CAPA_FORM, target, lang=lang, values=values, record=True)
