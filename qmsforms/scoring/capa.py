"""Where a corrective action stands, from its form (纠正/预防措施处理单) [SPEC §8].

The status is stored with each ``corrective-action`` record; the action register reads it
to follow the action it belongs to (the record's ``action_no`` is the action's id).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STATUSES = ("open", "in_progress", "verified", "closed")
"""An action's stages, in order."""

WORK_FIELDS = ("containment", "root_cause", "corrective_action")
"""Any of these filled in means the action is being worked on."""


def capa_status(data: Mapping[str, Any]) -> dict[str, Any]:
    """The scores of one corrective-action form: its status and whether it worked.

    ``status`` is ``closed`` when the closure box is ticked (validation has made sure the form
    is complete then), ``verified`` when the verification found it effective, ``in_progress``
    when containment, root cause or corrective action is written (or a verification found it
    not effective), ``open`` otherwise. ``effective`` is the verification's result as a bool,
    None before there is one. ``data`` is the validated data or its JSON form.
    """
    result = data.get("verification_result")
    effective = {"effective": True, "not_effective": False}.get(result or "")
    if data.get("closed") is True:
        status = "closed"
    elif effective is True:
        status = "verified"
    elif effective is False or any(_filled(data.get(name)) for name in WORK_FIELDS):
        status = "in_progress"
    else:
        status = "open"
    return {"kind": "capa", "action_no": data.get("action_no"), "status": status,
            "effective": effective}


def _filled(value: object) -> bool:
    return value is not None and str(value).strip() != ""
