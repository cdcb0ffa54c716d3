"""Properties that hold for every input: scores stay in range and move the right way."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from qmsforms.scoring import annual_score, score_monitoring, score_survey
from qmsforms.workspace import Workspace

WS = Workspace(__import__("pathlib").Path(__file__).resolve().parents[2])
GENERAL = WS.policies.get("monitoring-000")
QDO = WS.policies.get("automotive-qdo")
SURVEY_FORM = WS.registry.get("satisfaction-survey")
SERVICE_FORM = WS.registry.get("service-evaluation")

COUNT_FIELDS = sorted({n for policy in (GENERAL, QDO) for c in policy.categories
                       for p in c.parts for n in p.deductions})
counts = st.integers(min_value=0, max_value=40)
pcts = st.decimals(min_value=0, max_value=100, places=2)


@st.composite
def monitoring_data(draw: st.DrawFn) -> dict[str, object]:
    data: dict[str, object] = {name: draw(counts) for name in COUNT_FIELDS}
    data["performance_rate"] = draw(pcts)
    data["scorecard_pct"] = draw(st.none() | pcts)
    data["ppm_target"] = draw(st.decimals(min_value=1, max_value=5000, places=1))
    data["ppm_actual"] = draw(st.none() | st.decimals(min_value=0, max_value=20000, places=1))
    return data


def in_range(score) -> bool:
    return (0 <= score.total <= 100
            and all(0 <= c.score <= c.points for c in score.categories)
            and all(0 <= p.score <= p.points for c in score.categories for p in c.parts))


@settings(max_examples=300, deadline=None)
@given(monitoring_data())
def test_monthly_scores_stay_in_range(data: dict[str, object]) -> None:
    for policy in (GENERAL, QDO):
        score = score_monitoring(data, policy)
        assert in_range(score)
        assert score.band.min <= score.total


@settings(max_examples=300, deadline=None)
@given(monitoring_data(), st.sampled_from(COUNT_FIELDS), st.integers(1, 5))
def test_one_more_deduction_never_raises_a_score(data: dict[str, object], field: str,
                                                 more: int) -> None:
    worse = {**data, field: int(data[field]) + more}  # type: ignore[call-overload]
    for policy in (GENERAL, QDO):
        before, after = score_monitoring(data, policy), score_monitoring(worse, policy)
        assert after.total <= before.total
        for a, b in zip(after.categories, before.categories, strict=True):
            assert a.score <= b.score


@settings(max_examples=200, deadline=None)
@given(monitoring_data(), st.decimals(min_value=0, max_value=5000, places=1))
def test_higher_ppm_never_raises_a_score(data: dict[str, object], extra: Decimal) -> None:
    if data["ppm_actual"] is None:
        return
    worse = {**data, "ppm_actual": data["ppm_actual"] + extra}  # type: ignore[operator]
    assert score_monitoring(worse, QDO).total <= score_monitoring(data, QDO).total


@settings(max_examples=200, deadline=None)
@given(monitoring_data(), pcts)
def test_a_lower_rate_never_raises_a_score(data: dict[str, object], lower: Decimal) -> None:
    rate = data["performance_rate"]
    worse = {**data, "performance_rate": min(lower, rate)}  # type: ignore[type-var]
    assert score_monitoring(worse, GENERAL).total <= score_monitoring(data, GENERAL).total


def answers_for(form, levels: st.SearchStrategy[int]) -> st.SearchStrategy[dict]:
    codes = form.questionnaire.question_codes
    n = form.questionnaire.min_answered
    return st.lists(st.none() | levels, min_size=len(codes), max_size=len(codes)).filter(
        lambda xs: sum(x is not None for x in xs) >= n).map(
        lambda xs: dict(zip(codes, xs, strict=True)))


SURVEYS = [(SURVEY_FORM, st.integers(1, 5), 5), (SERVICE_FORM, st.integers(1, 10), 10)]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_survey_scores_stay_in_range(data: st.DataObject) -> None:
    for form, levels, top in SURVEYS:
        answers = data.draw(answers_for(form, levels))
        result = score_survey(answers, form.questionnaire, WS.policies.survey(form))
        assert result.complete
        assert 100 / top <= result.score <= 100
        assert 0 <= result.csat_pct <= 100
        assert Decimal(str(result.score)) >= result.band.min


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_one_level_higher_never_lowers_the_survey_score(data: st.DataObject) -> None:
    for form, levels, top in SURVEYS:
        answers = data.draw(answers_for(form, levels))
        answered = [c for c, v in answers.items() if v is not None and v < top]
        if not answered:
            continue
        code = data.draw(st.sampled_from(answered))
        better = {**answers, code: answers[code] + 1}
        policy = WS.policies.survey(form)
        before = score_survey(answers, form.questionnaire, policy)
        after = score_survey(better, form.questionnaire, policy)
        assert after.score >= before.score
        assert after.csat_pct >= before.csat_pct
        assert len(after.flagged) <= len(before.flagged)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.integers(1, 12).map(lambda m: f"2026-{m:02d}"),
                       st.decimals(min_value=0, max_value=100, places=1), max_size=12),
       st.lists(st.decimals(min_value=20, max_value=100, places=1), max_size=3))
def test_annual_scores_stay_in_range(months: dict[str, Decimal],
                                     surveys: list[Decimal]) -> None:
    for policy in (GENERAL, QDO):
        result = annual_score("A", 2026, months, surveys, policy)
        if not months and not surveys:
            assert result is None
            continue
        assert 0 <= result.score <= 100
        assert result.complete == (len(months) == 12)
