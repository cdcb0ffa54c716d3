"""Policies as versioned TOML: loading, workspace overrides, digests, bad files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from qmsforms.blanks import issue_blank
from qmsforms.excel.fill import fill_workbook
from qmsforms.scoring import MonitoringPolicy, PolicyError, parse_policy, score_monitoring
from qmsforms.scoring.policy import PolicyBroken, merge
from qmsforms.validate import validate_file
from qmsforms.workspace import Workspace, init_workspace

from ..excel.test_templates import WARRANTY as TEMPLATES_WARRANTY


def add_config(ws: Workspace, text: str) -> Workspace:
    with (ws.root / "qmsforms.toml").open("a", encoding="utf-8") as fh:
        fh.write("\n" + text + "\n")
    return Workspace(ws.root)


def test_shipped_policies_load(repo_ws: Workspace) -> None:
    assert list(repo_ws.policies) == ["automotive-qdo", "monitoring-000", "survey-000"]
    general = repo_ws.policies.get("monitoring-000")
    assert isinstance(general, MonitoringPolicy)
    assert [c.key for c in general.categories] == ["quality", "delivery", "performance",
                                                   "scorecard"]
    assert [c.points for c in general.categories] == [30, 30, 20, 20]
    assert general.annual.survey_weight == Decimal("0.5")
    qdo = repo_ws.policies.get("automotive-qdo")
    assert [c.points for c in qdo.categories] == [25, 50, 25]
    assert qdo.annual.survey_weight == Decimal("0.2") and qdo.override == "scorecard_pct"


def test_config_override_changes_the_digest_not_the_version(ws: Workspace) -> None:
    before = ws.policies.get("monitoring-000").ref
    ws = add_config(ws, "[policies.monitoring-000.alerts]\nmonthly_target = 92")
    policy = ws.policies.get("monitoring-000")
    assert policy.alerts.monthly_target == 92 and policy.alerts.consecutive_months == 3
    assert policy.ref.version == before.version and policy.ref.digest != before.digest
    data = {"performance_rate": 55}                                      # total 91
    assert score_monitoring(data, policy).below_target
    plain = init_workspace(ws.root.parent / "plain").policies.get("monitoring-000")
    assert not score_monitoring(data, plain).below_target


def test_config_override_of_a_survey_policy(ws: Workspace) -> None:
    ws = add_config(ws, "[policies.survey-000]\nflag_below_pct = 70")
    form = ws.registry.get("satisfaction-survey")
    assert ws.policies.survey(form).flag_below_pct == 70


def test_workspace_policy_file_replaces_the_shipped_one(ws: Workspace) -> None:
    path = ws.schemas_dir / "policies" / "monitoring-000.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('version = "1"',
                                                             'version = "2"'),
                    encoding="utf-8")
    assert Workspace(ws.root).policies.get("monitoring-000").ref.version == "2"


def test_unknown_policy_names_are_errors(ws: Workspace) -> None:
    with pytest.raises(PolicyError, match="nope"):
        _ = add_config(ws, '[scoring]\nmonitoring = "nope"').policies
    with pytest.raises(PolicyError, match="overrides unknown"):
        _ = add_config(init_workspace(ws.root.parent / "b"), "[policies.nope]\nx = 1").policies


def test_a_survey_policy_cannot_score_monitoring(ws: Workspace) -> None:
    with pytest.raises(PolicyError, match="not a monitoring policy"):
        _ = add_config(ws, '[scoring]\nmonitoring = "survey-000"').policies


def general_raw(repo_ws: Workspace) -> dict:
    import tomllib

    return tomllib.loads((repo_ws.root / "schemas" / "policies" / "monitoring-000.toml")
                         .read_text(encoding="utf-8"))


@pytest.mark.parametrize(("change", "message"), [
    ({"kind": "other"}, "kind"),
    ({"bands": [{"min": 50, "key": "a", "zh": "a", "en": "a"},
                {"min": 90, "key": "b", "zh": "b", "en": "b"}]}, "highest min"),
    ({"bands": [{"min": 50, "key": "a", "zh": "a", "en": "a"}]}, "start at 0"),
    ({"alerts": {"categories": ["nope"]}}, "unknown categories"),
    ({"categories": [{"key": "x", "zh": "x", "en": "x", "points": 10,
                      "rate": "performance_rate", "deductions": {"q_full_return": 1}}]},
     "exactly one"),
    ({"categories": [{"key": "x", "zh": "x", "en": "x", "points": 10,
                      "deductions": {"q_full_return": -1}}]}, "positive"),
    ({"annual": {"survey_weight": 2}}, "survey_weight"),
])
def test_invalid_policies_are_refused(repo_ws: Workspace, change: dict, message: str) -> None:
    raw = merge(general_raw(repo_ws), change)
    if "categories" in change:
        raw["alerts"] = {"categories": []}
    with pytest.raises(PolicyError, match=message):
        parse_policy(raw, "test")


def test_merge_is_deep_for_tables_and_replaces_lists() -> None:
    assert merge({"a": {"b": 1, "c": 2}, "l": [1, 2]}, {"a": {"c": 3}, "l": [9]}) == {
        "a": {"b": 1, "c": 3}, "l": [9]}


WARRANTY = TEMPLATES_WARRANTY + """
[scoring]
policy = "warranty-000"
"""

WARRANTY_POLICY = """
id = "warranty-000"
version = "3"
kind = "survey"
title_zh = "保修反馈评分"
title_en = "Warranty feedback scoring"
decimals = 1
pct_per_point = 30          # Good 90 %, Fair 60 %, Poor 30 %
flag_below_pct = 60
complaint_max_pct = 30
csat_min_pct = 90

[[bands]]
min = 80
key = "good"
zh = "好"
en = "Good"

[[bands]]
min = 0
key = "bad"
zh = "差"
en = "Bad"
"""


def test_questionnaire_and_policy_written_only_as_toml(tmp_path: Path) -> None:
    """Generated, filled, validated and scored end to end from two TOML files."""
    ws = init_workspace(tmp_path / "ws")
    (ws.schemas_dir / "questionnaires" / "warranty-feedback.toml").write_text(
        WARRANTY, encoding="utf-8")
    (ws.schemas_dir / "policies" / "warranty-000.toml").write_text(
        WARRANTY_POLICY, encoding="utf-8")
    ws = Workspace(ws.root)
    blank = issue_blank(ws, "warranty-feedback", tmp_path / "w.xlsx")
    wb = load_workbook(blank)
    fill_workbook(wb, ws.registry.get("warranty-feedback"),
                  {"customer": "ACME", "claim_no": "W-9", "speed": 3, "fairness": 2,
                   "contact": 1})
    wb.save(blank)
    report = validate_file(blank, ws)
    assert report.valid, report.codes()
    scores = report.scores
    # speed weighs 2: (2 × 90 + 1 × 60 + 1 × 30) / 4 = 67.5
    assert scores["score"] == 67.5 and scores["band"]["key"] == "bad"
    assert scores["policy"]["id"] == "warranty-000" and scores["policy"]["version"] == "3"
    assert scores["flagged"] == ["contact"] and scores["complaints"] == ["contact"]
    assert scores["csat_pct"] == 33.3


def test_a_broken_policy_file_disables_only_that_policy(ws: Workspace) -> None:
    folder = ws.schemas_dir / "policies"
    path = folder / "automotive-qdo.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("decimals =", "decimalz =", 1), encoding="utf-8")
    line = text[:text.index("decimals =")].count("\n") + 1
    (folder / "no-id.toml").write_text('kind = "survey"\n', encoding="utf-8")
    (folder / "not-toml.toml").write_text('id = "x"\nkind = \n', encoding="utf-8")
    policies = Workspace(ws.root).policies
    assert set(policies.broken) == {"automotive-qdo", "no-id", "not-toml"}
    (typo,) = policies.broken["automotive-qdo"]
    assert (typo.file, typo.line, typo.key) == ("automotive-qdo.toml", line, "decimalz")
    assert policies.broken["no-id"][0].key == "id"
    assert policies.broken["not-toml"][0].line == 2
    with pytest.raises(PolicyBroken) as raised:
        policies.get("automotive-qdo")
    assert raised.value.problems == (typo,)
    assert policies.monitoring("华东汽车").id == "monitoring-000"


def test_a_bad_override_in_qmsforms_toml_is_blamed_on_it(ws: Workspace) -> None:
    policies = add_config(ws, '[policies.monitoring-000]\ndecimals = "two"').policies
    (problem,) = policies.broken["monitoring-000"]
    text = (ws.root / "qmsforms.toml").read_text(encoding="utf-8")
    line = text[:text.index('decimals = "two"')].count("\n") + 1
    assert (problem.file, problem.line, problem.key) == (
        "qmsforms.toml", line, "policies.monitoring-000.decimals")
    assert "automotive-qdo" not in policies.broken
