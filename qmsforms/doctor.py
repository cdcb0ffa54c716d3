"""What is wrong with a workspace's definitions (``qmsforms doctor``, SPEC §9).

A broken questionnaire or policy file disables only what depends on it; `check_definitions`
lists every such file with its line and key, and what it disables, so a person can fix it.
``qmsforms status`` shows the same list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .config import CONFIG_NAME
from .definitions import DefinitionProblem
from .issues import QmsFormsError
from .workspace import Workspace

MONITORING_FORM = "satisfaction-monitoring"


@dataclass
class DefinitionsReport:
    """The definition problems of one workspace and the forms each broken file disables."""

    problems: list[DefinitionProblem] = field(default_factory=list)
    disabled: dict[str, list[str]] = field(default_factory=dict)  # form id -> why (files)

    @property
    def ok(self) -> bool:
        """True when every definition reads."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``doctor --json`` prints this."""
        return {"ok": self.ok, "problems": [p.to_dict() for p in self.problems],
                "disabled": self.disabled}


def check_definitions(ws: Workspace) -> DefinitionsReport:
    """Read every questionnaire and policy of ``ws``; never raises for a broken file."""
    report = DefinitionsReport()
    registry = ws.registry
    for form_id, problems in registry.broken.items():
        report.problems += problems
        report.disabled.setdefault(form_id, []).extend(dict.fromkeys(p.file for p in problems))
    try:
        policies = ws.policies
    except QmsFormsError as exc:  # the configuration itself: nothing is scored
        report.problems.append(DefinitionProblem(
            "config", "policies", CONFIG_NAME, None, "", f"评分配置有误({exc})", str(exc)))
        return report
    broken = policies.broken
    for problems in broken.values():
        report.problems += problems
    for form in registry:
        needs = set()
        if form.questionnaire is not None:
            needs.add(str(form.questionnaire.scoring.get("policy", "survey-000")))
        elif form.id == MONITORING_FORM:
            needs.update({policies.monitoring_default, *policies.customers.values()})
        for pid in sorted(needs & set(broken)):
            report.disabled.setdefault(form.id, []).extend(p.file for p in broken[pid][:1])
    return report
