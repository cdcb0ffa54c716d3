"""The management-review pack as data: every KPI against its target, satisfaction beside the
previous year, complaints by category and department with PPM per customer, and the actions
raised in the period — from two years of records taken in by the real intake
(`tests.reports.review_year`), compared with figures worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from qmsforms.issues import UsageError
from qmsforms.reports.review import ReviewPack, period_months, review_pack
from qmsforms.reports.review_policy import KPI_KEYS, load_review_policy
from qmsforms.reports.review_rows import ActionSection
from qmsforms.scoring.policy import PolicyBroken
from qmsforms.workspace import Workspace

from . import review_year as ry

TODAY = date(2027, 1, 10)


@pytest.fixture(scope="module")
def two_years(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return ry.shared_review_year(tmp_path_factory.mktemp("review"))


@pytest.fixture(scope="module")
def packs(two_years: Workspace) -> dict[str | None, ReviewPack]:
    return {half: review_pack(two_years, ry.YEAR, half, today=TODAY)
            for half in (None, "H1", "H2")}


HALVES = (None, "H1", "H2")


def _value(pack: ReviewPack, key: str) -> Decimal | None:
    return pack.kpi(key).value


# -- the scorecard -----------------------------------------------------------------------------

def test_the_scorecard_has_the_six_kpis_with_the_policy_targets(
        packs: dict[str | None, ReviewPack]) -> None:
    pack = packs[None].to_dict()
    assert [k["key"] for k in pack["kpis"]] == list(KPI_KEYS)
    targets = {k["key"]: (k["target"], k["comparison"]) for k in pack["kpis"]}
    assert targets == {"on_time_delivery": (95.0, "min"), "complaint_ppm": (200.0, "max"),
                       "excess_freight": (2000.0, "max"), "complaint_sla": (100.0, "min"),
                       "satisfaction": (90.0, "min"), "survey_return_rate": (70.0, "min")}
    assert pack["signoff"] == {"prepared_by": None, "reviewed_by": None, "approved_by": None}
    assert pack["previous_year"] == 2025


@pytest.mark.parametrize("half", HALVES)
def test_kpi_values_match_the_hand_worked_figures(packs: dict[str | None, ReviewPack],
                                                  half: str | None) -> None:
    pack = packs[half]
    assert _value(pack, "on_time_delivery") == ry.OTD[half]
    assert _value(pack, "complaint_ppm") == ry.PPM[half]
    assert _value(pack, "complaint_sla") == ry.SLA[half]
    assert _value(pack, "satisfaction") == ry.SATISFACTION[half]
    assert _value(pack, "survey_return_rate") == ry.RETURN_RATE
    assert pack.months == period_months(ry.YEAR, half)


def test_met_follows_the_comparison(packs: dict[str | None, ReviewPack]) -> None:
    met = {k.key: k.met for k in packs[None].kpis}
    assert met == {"on_time_delivery": False, "complaint_ppm": False, "excess_freight": None,
                   "complaint_sla": False, "satisfaction": True, "survey_return_rate": False}
    assert packs["H2"].kpi("on_time_delivery").met is True  # 100 % ≥ 95


def test_excess_freight_is_not_recorded_by_any_form(packs: dict[str | None, ReviewPack]
                                                     ) -> None:
    freight = packs[None].kpi("excess_freight")
    assert freight.value is None and freight.met is None
    assert set(freight.by_month.values()) == {None}


def test_by_month_values(packs: dict[str | None, ReviewPack]) -> None:
    pack = packs[None]
    otd = pack.kpi("on_time_delivery").by_month
    assert (otd["2026-01"], otd["2026-02"], otd["2026-04"]) == (Decimal(100), Decimal(0), None)
    ppm = pack.kpi("complaint_ppm").by_month
    assert ppm["2026-01"] == Decimal(2000)        # 2 of 1000
    assert ppm["2026-02"] == Decimal(0)           # 0 of 2500
    assert ppm["2026-09"] == Decimal(4000)        # 4 of 1000
    assert ppm["2026-08"] == Decimal("666.7")     # 1 of 1500
    sla = pack.kpi("complaint_sla").by_month
    assert (sla["2026-03"], sla["2026-09"], sla["2026-02"]) == (Decimal(50), Decimal(0), None)
    company = pack.kpi("satisfaction").by_month
    assert company["2026-06"] == Decimal("99.5") and company["2026-07"] == Decimal("98.5")
    assert list(packs["H2"].kpi("satisfaction").by_month) == list(period_months(ry.YEAR, "H2"))


# -- satisfaction, complaints ------------------------------------------------------------------

def test_satisfaction_beside_the_previous_year(packs: dict[str | None, ReviewPack]) -> None:
    rows = {c["customer"]: c for c in packs[None].to_dict()["satisfaction"]}
    assert set(rows) == {ry.A, ry.B}  # the alias 华东汽配 is A
    for customer, (score, previous) in ry.ANNUAL.items():
        row = rows[customer]
        assert (Decimal(str(row["score"])), Decimal(str(row["previous"]))) == (score, previous)
        assert Decimal(str(row["change"])) == score - previous
    assert rows[ry.A]["trend"] == "up" and rows[ry.B]["trend"] == "down"
    assert not rows[ry.A]["below_target"]


@pytest.mark.parametrize("half", HALVES)
def test_ppm_per_master_customer(packs: dict[str | None, ReviewPack], half: str | None) -> None:
    rows = {p.customer: (p.complained, p.delivered, p.ppm) for p in packs[half].complaints.ppm}
    assert rows == ry.PPM_BY_CUSTOMER[half]


def test_pareto_by_category_and_by_department(packs: dict[str | None, ReviewPack]) -> None:
    complaints = packs[None].to_dict()["complaints"]
    assert [(r["key"], r["count"], r["share"], r["cumulative"])
            for r in complaints["by_category"]] == [
        ("quality", 3, 60.0, 60.0), ("delivery", 1, 20.0, 80.0),
        ("packaging", 1, 20.0, 100.0)]
    assert [(r["key"], r["count"], r["cumulative"]) for r in complaints["by_cause"]] == [
        ("质量部", 3, 60.0), ("生产部", 1, 80.0), ("unassigned", 1, 100.0)]
    h1 = packs["H1"].to_dict()["complaints"]
    assert [(r["key"], r["count"]) for r in h1["by_category"]] == [("quality", 2),
                                                                   ("delivery", 1)]


def test_this_month_is_the_last_month_with_complaints(packs: dict[str | None, ReviewPack]
                                                      ) -> None:
    year = packs[None].complaints
    assert (year.this_month, year.last_month) == ("2026-09", "2026-08")
    compare = {m.key: (m.this, m.last, m.change) for m in year.month_compare}
    assert compare["quality"] == (1, 0, 1) and compare["packaging"] == (0, 1, -1)
    h1 = packs["H1"].complaints
    assert (h1.this_month, h1.last_month) == ("2026-03", "2026-02")
    assert {m.key: m.this for m in h1.month_compare}["delivery"] == 1


# -- actions -----------------------------------------------------------------------------------

def _action(no: str, source: str, dept: str, raised: str, status: str,
            overdue: bool = False) -> dict[str, Any]:
    return {"action_id": no, "source": source, "cause_key": f"{source}:{no}", "cause": {},
            "source_record": "r", "customer": ry.A, "problem_zh": "问题", "problem_en": "p",
            "department_zh": dept, "department_en": dept, "raised_on": raised, "due": None,
            "status": status, "overdue": overdue, "age_days": 1, "link": None,
            "effective": None, "cause_removed_by": None}


ACTIONS = [
    _action("CA-2026-0001", "complaint", "质量部", "2026-01-21", "closed"),
    _action("CA-2026-0002", "complaint", "质量部", "2026-03-16", "in_progress", True),
    _action("CA-2026-0003", "month_below_target", "营业部", "2026-07-02", "open", True),
    _action("CA-2026-0004", "survey_item", "营业部", "2026-12-15", "verified"),
    _action("CA-2026-0005", "suggestion", "营业部", "2026-12-15", "open"),
    _action("CA-2025-0009", "complaint", "质量部", "2025-12-06", "open", True),  # 2025
]


def test_actions_counted_by_source_and_department(two_years: Workspace) -> None:
    year = review_pack(two_years, ry.YEAR, actions=ACTIONS, today=TODAY).to_dict()["actions"]
    assert {k: year[k] for k in ("raised", "open", "overdue", "closed", "verified")} == \
        {"raised": 5, "open": 3, "overdue": 2, "closed": 1, "verified": 1}
    assert year["by_source"]["complaint"] == {"raised": 2, "open": 1, "overdue": 1,
                                              "closed": 1, "verified": 0}
    assert year["by_department"]["营业部"] == {"raised": 3, "open": 2, "overdue": 1,
                                               "closed": 0, "verified": 1}
    h1 = ActionSection.of(ACTIONS, period_months(ry.YEAR, "H1")).to_dict()
    assert (h1["raised"], list(h1["by_source"])) == (2, ["complaint"])


def test_no_actions_give_empty_counts(packs: dict[str | None, ReviewPack]) -> None:
    actions = packs[None].to_dict()["actions"]
    assert actions == {"raised": 0, "open": 0, "overdue": 0, "closed": 0, "verified": 0,
                       "by_source": {}, "by_department": {}}


# -- the policy --------------------------------------------------------------------------------

def test_a_workspace_policy_file_replaces_the_shipped_one(ws: Workspace) -> None:
    shipped = load_review_policy(ws)
    own = ws.schemas_dir / "policies" / "review-000.toml"
    own.parent.mkdir(parents=True, exist_ok=True)
    text = (Path(__file__).parents[2] / "schemas" / "policies" / "review-000.toml"
            ).read_text(encoding="utf-8")
    own.write_text(text.replace("target = 70", "target = 90"), encoding="utf-8")
    assert load_review_policy(ws).kpis["survey_return_rate"].target == 90
    assert shipped.kpis["survey_return_rate"].target == 70
    assert "review-000" not in ws.policies.broken  # not a scoring policy: not loaded there


def test_a_broken_policy_names_file_line_and_key(ws: Workspace) -> None:
    own = ws.schemas_dir / "policies" / "review-000.toml"
    own.parent.mkdir(parents=True, exist_ok=True)
    text = (Path(__file__).parents[2] / "schemas" / "policies" / "review-000.toml"
            ).read_text(encoding="utf-8")
    own.write_text(text.replace('comparison = "max"', 'comparison = "most"', 1),
                   encoding="utf-8")
    with pytest.raises(PolicyBroken) as caught:
        load_review_policy(ws)
    (problem,) = caught.value.problems
    assert problem.file == "review-000.toml" and problem.key == "kpis.complaint_ppm.comparison"
    lines = own.read_text(encoding="utf-8").splitlines()
    assert problem.line is not None and "most" in lines[problem.line - 1]
    assert problem.message_zh and problem.message_en
    own.write_text("id = 'review-000'\n[kpis\n", encoding="utf-8")
    with pytest.raises(PolicyBroken):
        load_review_policy(ws)


def test_a_half_is_h1_or_h2() -> None:
    assert period_months(2026, "H1")[-1] == "2026-06"
    with pytest.raises(UsageError):
        period_months(2026, "H3")
