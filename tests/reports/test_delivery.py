"""On-time delivery from shipping lists, offered as the monitoring sheet's inputs."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from qmsforms.cli import cli
from qmsforms.intake import Ledger
from qmsforms.reports import (
    DeliveryMonth,
    delivery_performance,
    monitoring_prefill,
    on_time_rate,
)
from qmsforms.validate import validate_file

from .. import year as yr


@pytest.fixture(scope="module")
def months(year: yr.Year) -> list[DeliveryMonth]:
    with Ledger(year.ws.state_dir / "ledger.sqlite") as ledger:
        return delivery_performance(ledger.records(), yr.YEAR)


def test_deliveries_count_in_the_month_they_were_due(months: list[DeliveryMonth]) -> None:
    found = {(m.customer, m.month): (m.deliveries, m.on_time, m.late_lists) for m in months}
    assert found == {
        (yr.A, "2026-03"): (3, 2, ("FH-A2",)),  # delivered early counts as on time
        (yr.A, "2026-04"): (1, 1, ()),
        (yr.B, "2026-03"): (1, 1, ()),
        (yr.B, "2026-06"): (1, 0, ("FH-B2",)),
        (yr.D, "2026-04"): (1, 0, ("FH-D1",)),
    }  # FH-A5 has no actual date yet: left out


def test_on_time_rate(year: yr.Year) -> None:
    with Ledger(year.ws.state_dir / "ledger.sqlite") as ledger:
        rates = on_time_rate(ledger.records("shipping-list"))
    assert rates[yr.A, "2026-03"] == Decimal("66.7")
    assert rates[yr.B, "2026-06"] == Decimal("0.0")
    assert DeliveryMonth("X", "2026-01", 8, 7).rate == Decimal("87.5")


def test_prefill_offers_what_the_customers_policy_reads(year: yr.Year,
                                                        months: list[DeliveryMonth]) -> None:
    march = next(m for m in months if m.customer == yr.A and m.month == "2026-03")
    general = monitoring_prefill(march, year.ws.policies.monitoring(yr.A))
    assert general["performance_rate"] == "66.7" and "a_late_delivery" not in general
    assert "FH-A2" in general["remarks"]
    april = next(m for m in months if m.customer == yr.D)
    automotive = monitoring_prefill(april, year.ws.policies.monitoring(yr.D))
    assert automotive["a_late_delivery"] == "1" and "performance_rate" not in automotive
    assert monitoring_prefill(None, year.ws.policies.monitoring(yr.A)) == {}


def test_monitoring_issue_prefills_sheets_that_validate(year: yr.Year, tmp_path: Path) -> None:
    root = ["--root", str(year.ws.root), "monitoring", "issue"]
    result = CliRunner().invoke(cli, [*root, "--month", "2026-03", "--out", str(tmp_path),
                                      "--json"])
    assert result.exit_code == 0, result.output
    sheets = {s["customer"]: s for s in json.loads(result.stdout)}
    assert set(sheets) == {yr.A, yr.B}
    report = validate_file(sheets[yr.A]["path"], year.ws)
    assert report.valid, report.issues
    assert report.data["customer"] == yr.A and report.data["month"] == "2026-03"
    assert Decimal(report.data["performance_rate"]) == Decimal("66.7")
    assert report.scores["total"] == 93.3  # 30 + 30 + 66.7 % × 20 + 20

    auto = CliRunner().invoke(cli, [*root, "--month", "2026年4月", "--customer", yr.D,
                                    "--out", str(tmp_path / "auto"), "--json"])
    assert auto.exit_code == 0, auto.output
    (sheet,) = json.loads(auto.stdout)
    scored = validate_file(sheet["path"], year.ws)
    assert scored.valid and scored.data["a_late_delivery"] == 1
    assert scored.scores["policy"]["id"] == "automotive-qdo"
    with Ledger(year.ws.state_dir / "ledger.sqlite") as ledger:
        assert scored.instance_id in {row["instance_id"] for row in ledger.issued()}

    bad = CliRunner().invoke(cli, [*root, "--month", "March"])
    assert bad.exit_code == 2


def test_report_delivery_cli(year: yr.Year) -> None:
    result = CliRunner().invoke(cli, ["--root", str(year.ws.root), "report", "delivery",
                                      "--year", str(yr.YEAR), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {(r["customer"], r["month"]): r["rate"] for r in rows}[yr.A, "2026-03"] == 66.7
    text = CliRunner().invoke(cli, ["--root", str(year.ws.root), "report", "delivery",
                                    "--year", str(yr.YEAR)])
    assert text.exit_code == 0 and "FH-A2" in text.stdout
