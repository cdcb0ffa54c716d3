"""Corrective and preventive actions (SPEC §8): raised by the records' causes, answered by
the corrective-action form or, for a complaint, its 8D report.

- `policy`: the action policy (departments, due dates in working days, targets);
- `causes`: what the records show that needs an action, scope by scope;
- `raising`: causes reconciled with the actions inside the intake's transaction, replayed by
  ``ledger rebuild``;
- `register`: the actions with their status (`action_views`), what ``qmsforms actions`` lists;
- `issue`: the corrective-action blank issued for an action, pre-filled.
"""

from __future__ import annotations

from .policy import ActionPolicy, add_working_days, load_action_policy
from .register import STATUSES, ActionView, action_views, select

__all__ = ["STATUSES", "ActionPolicy", "ActionView", "action_views", "add_working_days",
           "load_action_policy", "select"]
