"""The benchmark's ledger filler writes records the satisfaction report reads like intake's."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from benchmarks.ledger_fill import AUTOMOTIVE_POLICY, fill_ledger
from qmsforms.intake import Ledger
from qmsforms.intake.ledger import RecordRow
from qmsforms.reports import satisfaction_report
from qmsforms.scoring import score_form
from qmsforms.workspace import Workspace, init_workspace

YEAR = 2026
MONITORING = "satisfaction-monitoring"
SURVEY = "satisfaction-survey"


def _records(ws: Workspace) -> list[RecordRow]:
    with Ledger(ws.state_dir / "ledger.sqlite") as ledger:
        return ledger.records()


def test_five_customers_fill_a_valid_scored_year(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws")
    assert fill_ledger(ws, customers=5, year=YEAR, seed=3) == 65

    rows = _records(ws)
    assert Counter(r.form for r in rows) == {MONITORING: 60, SURVEY: 5}
    assert len({r.sha256 for r in rows}) == 65
    assert len({r.record_id for r in rows}) == 65
    fresh = Workspace(ws.root)
    for r in rows:
        form = fresh.registry.get(r.form)
        model = form.model.model_validate(r.data)
        assert model.model_dump(mode="json") == r.data
        assert r.natural_key == {k: r.data[k] for k in form.natural_key}
        assert r.customer == r.data["customer"]
        assert r.period == (r.data.get("period") or r.data.get("month"))
        assert r.latest and r.supersedes is None
        assert r.scores is not None
        assert r.scores == score_form(form, r.data, fresh)[0]
    months = Counter(r.data["customer"] for r in rows if r.form == MONITORING)
    assert sorted(months.values()) == [12] * 5
    for customer in months:
        assert sorted(r.data["month"] for r in rows
                      if r.form == MONITORING and r.customer == customer) == \
            [f"{YEAR}-{m:02d}" for m in range(1, 13)]
    surveys = [r for r in rows if r.form == SURVEY]
    assert sorted(r.data["customer"] for r in surveys) == sorted(months)
    scores = [(r.form, r.scores or {}) for r in rows]
    assert all(s["kind"] == "survey" and s["score"] is not None
               for form, s in scores if form == SURVEY)
    assert all(s["kind"] == "monitoring" and s["total"] is not None
               for form, s in scores if form == MONITORING)

    report = satisfaction_report(fresh, YEAR)
    assert len(report.customers) == 5
    assert sorted(c.customer for c in report.customers) == sorted(months)
    for c in report.customers:
        assert c.annual.score is not None
        assert c.annual.complete and c.annual.surveys == 1
        assert c.annual.basis == "monthly+survey"
        assert len(c.monthly) == 12
    assert len(report.surveys) == 5
    assert len(report.company) == 12


def test_every_seventh_customer_is_scored_as_automotive(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws")
    assert fill_ledger(ws, customers=14, year=YEAR) == 14 * 13
    rows = _records(ws)
    policies = {(r.data["customer"], (r.scores or {})["policy"]["id"])
                for r in rows if r.form == MONITORING}
    automotive = sorted(c for c, p in policies if p == AUTOMOTIVE_POLICY)
    assert len(policies) == 14 and len(automotive) == 2

    report = satisfaction_report(Workspace(ws.root), YEAR)
    by_policy = Counter(c.annual.policy.id for c in report.customers)
    assert by_policy == {AUTOMOTIVE_POLICY: 2, "monitoring-000": 12}
    assert sorted(c.customer for c in report.customers
                  if c.annual.policy.id == AUTOMOTIVE_POLICY) == automotive


def test_the_same_seed_fills_the_same_data(tmp_path: Path) -> None:
    first, second = init_workspace(tmp_path / "a"), init_workspace(tmp_path / "b")
    fill_ledger(first, customers=8, year=YEAR, seed=11)
    fill_ledger(second, customers=8, year=YEAR, seed=11)
    assert [(r.form, r.data, r.scores) for r in _records(first)] == \
        [(r.form, r.data, r.scores) for r in _records(second)]
