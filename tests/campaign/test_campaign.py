"""The survey campaign: the customer list, the sampling rule at its boundaries, issuing the
personalised blanks and tracking their return through the real intake."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook

from qmsforms.blanks import issue_blank
from qmsforms.campaign import (
    CampaignPlan,
    CustomerEntry,
    campaign_rule,
    campaign_status,
    issue_campaign,
    load_plan,
    plan_campaign,
    plan_from_list,
    quota,
)
from qmsforms.cli import cli
from qmsforms.excel.fill import fill_workbook
from qmsforms.excel.identity import read_identity
from qmsforms.intake import Intake, Ledger
from qmsforms.scoring.policy import Campaign
from qmsforms.workspace import Workspace

RULE = Campaign()
NO_MINIMUM = Campaign(minimum=0)

# name, code, order value in 万元, automotive
LIST: tuple[tuple[str, str, float, str | None], ...] = (
    ("Alpha 汽车", "C01", 120, "是"), ("Bravo", "C02", 80, "否"), ("Charlie", "C03", 50, None),
    ("Delta", "C04", 45, "否"), ("Echo", "C05", 30, None), ("Foxtrot", "C06", 20, "否"),
    ("Golf 汽车", "C07", 15, "是"), ("Hotel", "C08", 12, None), ("India", "C09", 9, None),
    ("Juliet", "C10", 6, None), ("Kilo", "C11", 4, None), ("Lima", "C12", 2, None),
    ("Mike", "C13", 1, None), ("November", "C14", 0.5, None),
)
CHOSEN = ["Alpha 汽车", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf 汽车", "Hotel",
          "India", "Juliet"]
"""Tier 1 (> 50 万) both; tier 2 half of four, topped up with the other two and then the
largest small customers to reach 10; Golf always (automotive)."""
ANSWERS = {"product_quality": 5, "delivery": 4, "packaging": 4, "appearance": 5,
           "service_attitude": 4, "response": 4}


def entries(*values: float | int | str, automotive: tuple[int, ...] = ()) -> list[CustomerEntry]:
    """Customers C000, C001 … with the given order values."""
    return [CustomerEntry(f"C{i:03d}", Decimal(str(v)), i in automotive, f"{i:03d}")
            for i, v in enumerate(values)]


def chosen(plan: CampaignPlan) -> dict[str, str | None]:
    return {c.customer: c.reason for c in plan.chosen}


# -- the sampling rule ---------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "tier"), [
    ("500000.01", "over_500k"), ("500000", "200k_500k"), ("200000", "200k_500k"),
    ("199999.99", "under_200k"), ("0", "under_200k"), ("9000000", "over_500k")])
def test_tiers_at_their_boundaries(value: str, tier: str) -> None:
    assert RULE.tier(Decimal(value)).key == tier


def test_exactly_500000_is_sampled_at_half_and_just_above_is_always_asked() -> None:
    plan = plan_campaign(entries(500000, 500000, 500000, 500000, 500001), 2026, NO_MINIMUM)
    reasons = chosen(plan)
    assert reasons["C004"] == "all"
    assert sorted(r for c, r in reasons.items() if c != "C004") == ["sampled", "sampled"]
    assert [(t.key, t.customers, t.quota) for t in plan.tiers[:2]] == [
        ("over_500k", 1, 1), ("200k_500k", 4, 2)]


def test_exactly_200000_is_in_the_half_tier() -> None:
    plan = plan_campaign(entries(200000, 200000, 199999), 2026, NO_MINIMUM)
    tiers = {c.customer: c.tier for c in plan.choices}
    assert tiers == {"C000": "200k_500k", "C001": "200k_500k", "C002": "under_200k"}
    assert plan.tiers[1].chosen == 1 and plan.tiers[2].chosen == 1


@pytest.mark.parametrize(("customers", "rate", "expected"), [
    (5, 50, 3), (4, 50, 2), (1, 50, 1), (21, 10, 3), (20, 10, 2), (1, 10, 1), (0, 10, 0),
    (3, 100, 3)])
def test_quota_rounds_up(customers: int, rate: int, expected: int) -> None:
    assert quota(customers, Decimal(rate)) == expected


def test_automotive_customers_are_always_asked() -> None:
    small = [1000 * (i + 1) for i in range(20)]
    plan = plan_campaign(entries(*small, automotive=(0, 1, 2)), 2026, NO_MINIMUM)
    assert chosen(plan) == {"C002": "automotive", "C001": "automotive", "C000": "automotive"}
    one = plan_campaign(entries(*small, *small[:10], automotive=(5,)), 2026, NO_MINIMUM)
    reasons = chosen(one)
    assert reasons["C005"] == "automotive" and len(reasons) == 3  # 30 × 10 % = 3 in all


def test_at_least_ten_are_asked_largest_first() -> None:
    values = [190000 - 10000 * i for i in range(15)]  # all below 200,000: 2 sampled
    plan = plan_campaign(entries(*values), 2026, RULE)
    reasons = chosen(plan)
    assert len(reasons) == 10
    assert list(reasons.values()).count("sampled") == 2
    topped = sorted(c for c, r in reasons.items() if r == "minimum")
    sampled = {c for c, r in reasons.items() if r == "sampled"}
    largest = [f"C{i:03d}" for i in range(15) if f"C{i:03d}" not in sampled][:8]
    assert topped == largest


def test_everyone_is_asked_when_fewer_than_ten_exist() -> None:
    plan = plan_campaign(entries(100, 200, 300, 250000, 600000), 2026, RULE)
    assert len(plan.chosen) == 5


def test_the_choice_is_reproducible_from_the_recorded_seed() -> None:
    values = [1000 * (i + 1) for i in range(60)]
    first = plan_campaign(entries(*values), 2026, NO_MINIMUM)
    again = plan_campaign(list(reversed(entries(*values))), 2026, NO_MINIMUM)
    other = plan_campaign(entries(*values), 2026, NO_MINIMUM, seed=7)
    assert first.seed == 2026 and other.seed == 7
    assert chosen(first) == chosen(again)  # the list's row order does not matter
    assert chosen(first) != chosen(other)
    assert chosen(plan_campaign(entries(*values), 2026, NO_MINIMUM, seed=7)) == chosen(other)
    assert CampaignPlan.from_dict(json.loads(json.dumps(first.to_dict()))) == first


def test_the_rule_is_policy_data(ws: Workspace) -> None:
    assert campaign_rule(ws) == RULE
    with (ws.root / "qmsforms.toml").open("a", encoding="utf-8") as fh:
        fh.write("\n[policies.survey-000.campaign]\nreturn_target = 80\nminimum = 12\n")
    rule = campaign_rule(Workspace(ws.root))
    assert (rule.return_target, rule.minimum, rule.tiers) == (80, 12, RULE.tiers)
    with pytest.raises(ValueError):
        Campaign(tiers=RULE.tiers[::-1])


# -- the customer list ---------------------------------------------------------------------------

def write_list(path: Path, english: bool = False) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(["客户一览表 Customer list"])
    if english:
        ws.append(["No.", "Customer name", "Customer code", "Annual order value (CNY)",
                   "Automotive"])
    else:
        ws.append(["序号", "客户名称", "客户编号", "年订单额(万元)", "汽车客户"])
    for n, (name, code, wan, auto) in enumerate(LIST, start=1):
        value: Any = wan if not english else f"¥{int(wan * 10000):,}"
        mark = auto if not english else ("√" if auto == "是" else None)
        ws.append([n, f" {name} ", code, value, mark])
    ws.append([])
    wb.save(path)
    return path


# -- plan, issue, return, status through the intake ----------------------------------------------

def _return(ws: Workspace, blank: str | Path, name: str,
            answers: dict[str, Any] | None = None) -> None:
    wb = load_workbook(blank)
    fill_workbook(wb, ws.registry.get("satisfaction-survey"), answers or ANSWERS)
    wb.save(ws.inbox / name)


def test_campaign_end_to_end(ws: Workspace, tmp_path: Path) -> None:
    customer_list = write_list(tmp_path / "客户一览表.xlsx")
    plan = plan_from_list(ws, customer_list, 2026)
    assert [c.customer for c in plan.chosen] == CHOSEN
    assert chosen(plan)["Golf 汽车"] == "automotive" and chosen(plan)["Bravo"] == "all"
    assert load_plan(ws) == plan and plan.source_sha256

    plan, issued = issue_campaign(ws, 2026)
    assert [b.customer for b in issued] == CHOSEN
    assert issue_campaign(ws, 2026)[1] == []  # issuing again issues nothing twice
    with Ledger(ws.state_dir / "ledger.sqlite") as ledger:
        rows = {r["instance_id"]: r for r in ledger.issued("satisfaction-survey")}
    for blank in issued:
        assert rows[blank.instance_id]["customer"] == blank.customer
        wb = load_workbook(blank.path)
        assert read_identity(wb).instance_id == blank.instance_id  # type: ignore[union-attr]
    first = {b.customer: b for b in issued}
    assert "C07" in Path(first["Golf 汽车"].path).name

    for blank in issued[:6]:
        _return(ws, blank.path, f"back {blank.customer}.xlsx")
    # Hotel answers on a blank issued to nobody in the campaign: noted, not counted
    stray = issue_blank(ws, "satisfaction-survey", tmp_path / "stray.xlsx",
                        values={"customer": "Hotel", "period": "2026"}, record=True)
    _return(ws, stray, "stray.xlsx")
    with Intake(ws, settle=0.05, quiet=0.05) as intake:
        assert intake.process().count("record") == 7

    status = campaign_status(ws)
    assert (status.issued, status.returned, status.rate) == (10, 6, Decimal("60.0"))
    assert status.target == 70 and not status.target_met and status.still_needed == 1
    assert [c.customer for c in status.chase] == CHOSEN[6:]  # largest order value first
    hotel = next(c for c in status.customers if c.customer == "Hotel")
    assert hotel.state == "issued" and len(hotel.other_returns) == 1
    assert next(c for c in status.customers if c.customer == "Alpha 汽车").score == 87.5

    _return(ws, first["India"].path, "india.xlsx")
    with Intake(ws, settle=0.05, quiet=0.05) as intake:
        intake.process()
    status = campaign_status(ws, 2026)
    assert status.rate == Decimal("70.0") and status.target_met
    assert [c.customer for c in status.chase] == ["Golf 汽车", "Hotel", "Juliet"]


def run(ws: Workspace, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--root", str(ws.root), "survey", *args])


def test_survey_commands(ws: Workspace, tmp_path: Path) -> None:
    assert run(ws, "status").exit_code == 1  # nothing planned yet
    customer_list = str(write_list(tmp_path / "list.xlsx"))
    planned = run(ws, "plan", "--customers", customer_list, "--year", "2026", "--json")
    assert planned.exit_code == 0, planned.output
    data = json.loads(planned.stdout)
    assert data["seed"] == 2026 and data["chosen"] == 10 and len(data["choices"]) == 14
    again = run(ws, "plan", "--customers", customer_list, "--year", "2026")
    assert again.exit_code == 2  # the plan is kept unless --force
    forced = run(ws, "plan", "--customers", customer_list, "--year", "2026", "--seed", "5",
                 "--force")
    assert forced.exit_code == 0 and "Golf 汽车" in forced.stdout

    issued = run(ws, "issue", "--json")
    assert issued.exit_code == 0, issued.output
    blanks = json.loads(issued.stdout)
    assert len(blanks) == 10 and all(Path(b["path"]).is_file() for b in blanks)
    text = run(ws, "issue")
    assert text.exit_code == 0 and "0 blanks issued now" in text.stdout

    _return(ws, blanks[0]["path"], "back.xlsx")
    with Intake(ws, settle=0.05, quiet=0.05) as intake:
        intake.process()
    status = run(ws, "status", "--year", "2026", "--json")
    assert status.exit_code == 0
    data = json.loads(status.stdout)
    assert (data["issued"], data["returned"], data["rate"], data["target"]) == (10, 1, 10.0,
                                                                             70.0)
    assert data["chase"] == CHOSEN[1:]
    shown = run(ws, "status")
    assert shown.exit_code == 0 and "Bravo" in shown.stdout


def test_a_rejected_return_needs_correction_not_chasing(ws: Workspace, tmp_path: Path) -> None:
    assert run(ws, "plan", "--customers", str(write_list(tmp_path / "list.xlsx")),
               "--year", "2026").exit_code == 0
    blanks = json.loads(run(ws, "issue", "--json").stdout)
    alpha, bravo = blanks[0], blanks[1]
    _return(ws, alpha["path"], "alpha.xlsx", {"product_quality": 5, "delivery": 4})  # too few
    _return(ws, bravo["path"], "bravo.xlsx")
    with Intake(ws, settle=0.05, quiet=0.05) as intake:
        assert intake.process().count("rejected") == 1
    data = json.loads(run(ws, "status", "--json").stdout)
    assert data["needs_correction"] == ["Alpha 汽车"] and "Alpha 汽车" not in data["chase"]
    (row,) = [c for c in data["customers"] if c["customer"] == "Alpha 汽车"]
    assert row["state"] == "needs_correction"
    (rejection,) = row["rejections"]
    assert rejection["codes"] == ["INCOMPLETE_SURVEY"] and rejection["name"] == "alpha.xlsx"
    assert rejection["reason_zh"] and rejection["reason_en"]
    shown = run(ws, "status").stdout
    line = next(x for x in shown.splitlines() if "Alpha 汽车" in x and "returned" in x)
    assert "needs correction" in line and "待回收" not in line
    assert "INCOMPLETE_SURVEY" in shown

    _return(ws, alpha["path"], "alpha again.xlsx")  # corrected and sent again
    with Intake(ws, settle=0.05, quiet=0.05) as intake:
        assert intake.process().count("record") == 1
    data = json.loads(run(ws, "status", "--json").stdout)
    assert data["needs_correction"] == [] and data["returned"] == 2


def test_the_plan_can_come_from_the_customer_master(ws: Workspace, tmp_path: Path) -> None:
    assert run(ws, "plan", "--year", "2026").exit_code == 2  # no master, no list
    listed = CliRunner().invoke(cli, ["--root", str(ws.root), "customers", "import",
                                      str(write_list(tmp_path / "list.xlsx"))])
    assert listed.exit_code == 0, listed.output
    planned = run(ws, "plan", "--year", "2026", "--json")
    assert planned.exit_code == 0, planned.output
    data = json.loads(planned.stdout)
    assert data["source"] == "customers.toml"
    assert sorted(c["customer"] for c in data["choices"] if c["reason"]) == sorted(CHOSEN)
