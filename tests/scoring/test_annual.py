"""A customer's year, the company months and the alerts (SPEC §4.2, §4.3)."""

from __future__ import annotations

from decimal import Decimal

from qmsforms.scoring import (
    MonthlyResult,
    SurveyResult,
    annual_alerts,
    annual_score,
    company_monthly,
    monthly_alerts,
    split_results,
    year_summary,
)
from qmsforms.workspace import Workspace


def months(year: int, values: list[float]) -> dict[str, Decimal]:
    return {f"{year}-{i:02d}": Decimal(str(v)) for i, v in enumerate(values, start=1)}


def test_monitoring_000_is_the_monthly_mean(repo_ws: Workspace) -> None:
    policy = repo_ws.policies.get("monitoring-000")
    result = annual_score("A", 2026, months(2026, [90, 94] * 6), [], policy)
    assert result.score == 92 and result.basis == "monthly" and result.complete
    assert result.band.key == "satisfied" and result.policy.id == "monitoring-000"


def test_monitoring_000_with_a_survey_is_half_and_half(repo_ws: Workspace) -> None:
    policy = repo_ws.policies.get("monitoring-000")
    result = annual_score("A", 2026, months(2026, [92] * 12), [Decimal(85)], policy)
    assert result.score == Decimal("88.5") and result.basis == "monthly+survey"   # 46 + 42.5
    assert result.survey_score == 85 and result.monthly_mean == 92


def test_automotive_is_two_tenths_survey_eight_tenths_monthly(repo_ws: Workspace) -> None:
    policy = repo_ws.policies.get("automotive-qdo")
    result = annual_score("A", 2026, months(2026, [92] * 12), [Decimal(85)], policy)
    assert result.score == Decimal("90.6")                                   # 17 + 73.6
    two = annual_score("A", 2026, months(2026, [92] * 12), [Decimal(80), Decimal(90)],
                       policy)
    assert two.survey_score == 85 and two.surveys == 2 and two.score == Decimal("90.6")
    alone = annual_score("A", 2026, months(2026, [92] * 12), [], policy)
    assert alone.score == 92 and alone.basis == "monthly"


def test_year_with_fewer_than_12_months_is_incomplete(repo_ws: Workspace) -> None:
    policy = repo_ws.policies.get("monitoring-000")
    data = months(2026, [95] * 12)
    del data["2026-07"]
    result = annual_score("A", 2026, data, [], policy)
    assert not result.complete and result.missing_months == ("2026-07",)
    assert result.to_dict()["months_evaluated"] == 11 and result.score == 95


def test_other_years_are_ignored_and_survey_only_customers_count(repo_ws: Workspace) -> None:
    policy = repo_ws.policies.get("monitoring-000")
    data = {**months(2025, [10] * 12), "2026-01": Decimal(90)}
    assert annual_score("A", 2026, data, [], policy).score == 90
    survey_only = annual_score("B", 2026, {}, [Decimal("87.5")], policy)
    assert survey_only.basis == "survey" and survey_only.score == Decimal("87.5")
    assert not survey_only.complete
    assert annual_score("C", 2026, {}, [], policy) is None


def test_company_monthly_is_the_mean_over_customers() -> None:
    results = [MonthlyResult("A", "2026-01", Decimal(90)), MonthlyResult("B", "2026-01",
                                                                         Decimal(81)),
               MonthlyResult("A", "2026-02", Decimal(100)),
               MonthlyResult("A", "2025-12", Decimal(10))]
    assert company_monthly(results, 2026) == {"2026-01": Decimal("85.5"),
                                              "2026-02": Decimal(100)}


def test_a_later_result_for_the_same_month_replaces_the_earlier() -> None:
    results = [MonthlyResult("A", "2026-01", Decimal(50)), MonthlyResult("A", "2026-01",
                                                                         Decimal(90))]
    assert company_monthly(results, 2026) == {"2026-01": Decimal(90)}


def run(customer: str, months_lost: dict[str, float], category: str = "quality",
        total: float = 95) -> list[MonthlyResult]:
    return [MonthlyResult(customer, m, Decimal(str(total)), {category: Decimal(str(lost))})
            for m, lost in months_lost.items()]


def test_three_months_running_raises_one_alert(repo_ws: Workspace) -> None:
    results = run("A", {"2026-01": 3, "2026-02": 5, "2026-03": 2, "2026-04": 0})
    alerts = monthly_alerts(results, repo_ws.policies.monitoring)
    assert [(a.kind, a.customer, a.category, a.months) for a in alerts] == [
        ("consecutive_deduction", "A", "quality", ("2026-01", "2026-02", "2026-03"))]
    assert alerts[0].responsible_zh == "质量部"
    assert "质量表现" in alerts[0].message_zh and "Quality" in alerts[0].message_en


def test_two_months_or_a_gap_raise_none(repo_ws: Workspace) -> None:
    gap = run("A", {"2026-01": 3, "2026-02": 3, "2026-04": 3})
    assert monthly_alerts(gap, repo_ws.policies.monitoring) == []
    broken = run("A", {"2026-01": 3, "2026-02": 3, "2026-03": 0, "2026-04": 3})
    assert monthly_alerts(broken, repo_ws.policies.monitoring) == []


def test_a_longer_run_is_one_alert_across_the_new_year(repo_ws: Workspace) -> None:
    results = run("A", {"2025-11": 2, "2025-12": 2, "2026-01": 2, "2026-02": 2},
                  category="delivery")
    (alert,) = monthly_alerts(results, repo_ws.policies.monitoring)
    assert alert.months == ("2025-11", "2025-12", "2026-01", "2026-02")
    assert alert.category == "delivery" and alert.responsible_en == "Planning department"


def test_only_the_policy_categories_alert(repo_ws: Workspace) -> None:
    results = run("A", {"2026-01": 1, "2026-02": 1, "2026-03": 1}, category="performance")
    assert monthly_alerts(results, repo_ws.policies.monitoring) == []


def test_month_below_target(repo_ws: Workspace) -> None:
    results = [MonthlyResult("A", "2026-01", Decimal("89.9")),
               MonthlyResult("A", "2026-02", Decimal(90))]
    (alert,) = monthly_alerts(results, repo_ws.policies.monitoring)
    assert alert.kind == "month_below_target" and alert.months == ("2026-01",)
    assert alert.value == Decimal("89.9") and alert.target == 90


def test_year_below_target(repo_ws: Workspace) -> None:
    policy = repo_ws.policies.get("monitoring-000")
    low = annual_score("A", 2026, months(2026, [89] * 12), [], policy)
    ok = annual_score("B", 2026, months(2026, [90] * 12), [], policy)
    (alert,) = annual_alerts([low, ok])
    assert alert.kind == "year_below_target" and alert.customer == "A"
    assert alert.months == ("2026",) and alert.to_dict()["value"] == 89.0


def test_year_summary_from_records(repo_ws: Workspace) -> None:
    records = [("satisfaction-monitoring", {"customer": "A", "month": f"2026-{m:02d}"},
                {"kind": "monitoring", "total": 92.0,
                 "categories": [{"key": "quality", "lost": 3.0}]})
               for m in range(1, 13)]
    records.append(("satisfaction-survey", {"customer": "A", "period": "2026-H2"},
                    {"kind": "survey", "score": 86.0}))
    records.append(("service-evaluation", {"customer": "A", "service_ref": "S"},
                    {"kind": "survey", "score": 10.0}))
    records.append(("shipping-list", {"customer": "A"}, None))
    monthly, surveys = split_results(records)
    assert len(monthly) == 12 and surveys == [SurveyResult("A", "2026-H2", Decimal("86.0"))]
    summary = year_summary(monthly, surveys, 2026, repo_ws.policies)
    (annual,) = summary.annual
    assert annual.score == 89 and annual.basis == "monthly+survey"    # 46 + 43
    kinds = sorted(a.kind for a in summary.alerts)
    assert kinds == ["consecutive_deduction", "year_below_target"]
    assert summary.to_dict()["company_monthly"]["2026-05"] == 92.0


def test_policy_per_customer(ws: Workspace) -> None:
    with (ws.root / "qmsforms.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[scoring.customers]\n"Auto  Co" = "automotive-qdo"\n')
    policies = Workspace(ws.root).policies
    assert policies.monitoring("auto co").id == "automotive-qdo"
    assert policies.monitoring("Other").id == "monitoring-000"
    results = [MonthlyResult("Auto Co", f"2026-{m:02d}", Decimal(90)) for m in range(1, 13)]
    summary = year_summary(results, [SurveyResult("Auto Co", "2026", Decimal(100))], 2026,
                           policies)
    assert summary.annual[0].score == 92 and summary.annual[0].policy.id == "automotive-qdo"
