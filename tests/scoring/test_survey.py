"""Survey scoring (SPEC §4.1), worked by hand from the seed rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from qmsforms.scoring import score_survey
from qmsforms.workspace import Workspace

CODES = ("product_quality", "delivery", "packaging", "appearance", "service_attitude",
         "response", "complaint_handling", "technical_support", "price")
WEIGHTS = (25, 20, 10, 5, 10, 10, 10, 5, 5)


@pytest.fixture
def survey(repo_ws: Workspace):
    form = repo_ws.registry.get("satisfaction-survey")
    policy = repo_ws.policies.survey(form)

    def score(*levels: int | None):
        answers = dict(zip(CODES, levels, strict=False))
        return score_survey(answers, form.questionnaire, policy)

    return score


def test_weights_are_those_of_the_spec(repo_ws: Workspace) -> None:
    q = repo_ws.registry.get("satisfaction-survey").questionnaire
    assert tuple(x.code for x in q.questions) == CODES
    assert tuple(x.weight for x in q.questions) == WEIGHTS


def test_all_very_satisfied_is_100(survey) -> None:
    result = survey(5, 5, 5, 5, 5, 5, 5, 5, 5)
    assert result.score == 100.0 and result.band.key == "very_satisfied"
    assert result.csat_pct == 100.0 and result.flagged == () and result.complaints == ()


def test_worked_example(survey) -> None:
    # 25×100 + 20×80 + 10×80 + 5×100 + 10×100 + 10×80 + 10×60 + 5×80 + 5×60 = 8500; / 100
    result = survey(5, 4, 4, 5, 5, 4, 3, 4, 3)
    assert result.score == 85.0 and result.band.key == "satisfied"
    assert [i.pct for i in result.items] == [100, 80, 80, 100, 100, 80, 60, 80, 60]
    assert result.csat_pct == 77.8                      # 7 of 9 at level 4 or 5
    assert result.flagged == ("complaint_handling", "price")
    assert result.policy.id == "survey-000" and result.policy.version == "1"


def test_95_is_very_satisfied(survey) -> None:
    # product quality at 4: (25×80 + 75×100) / 100 = 95.0
    result = survey(4, 5, 5, 5, 5, 5, 5, 5, 5)
    assert result.score == 95.0 and result.band.key == "very_satisfied"


def test_94_9_is_satisfied(repo_ws: Workspace) -> None:
    policy = repo_ws.policies.survey(repo_ws.registry.get("satisfaction-survey"))
    assert policy.band(Decimal("94.9")).key == "satisfied"
    assert policy.band(Decimal("95.0")).key == "very_satisfied"
    assert policy.band(Decimal("85")).key == "satisfied"
    assert policy.band(Decimal("84.9")).key == "average"
    assert policy.band(Decimal("70")).key == "average"
    assert policy.band(Decimal("69.9")).key == "poor"
    assert policy.band(Decimal("50")).key == "poor"
    assert policy.band(Decimal("49.9")).key == "very_poor"


def test_score_rounds_half_up_to_one_decimal(survey) -> None:
    # answered: quality 5 (25), delivery 5 (20), packaging 5 (10), appearance 5 (5),
    # service 4 (10), price 4 (5): (60×100 + 15×80) / 75 = 96.0
    assert survey(5, 5, 5, 5, 4, None, None, None, 4).score == 96.0
    # quality 5, delivery 4, packaging 5, appearance 5, service 5, technical 4:
    # (25×100 + 20×80 + 10×100 + 5×100 + 10×100 + 5×80) / 75 = 7000 / 75 = 93.333…
    assert survey(5, 4, 5, 5, 5, None, None, 4, None).score == 93.3
    # quality 5, delivery 5, packaging 5, appearance 4, service 5, response 5, price 4:
    # (25+20+10+10+10)×100 + (5+5)×80 = 8300 / 85 = 97.647… → 97.6
    assert survey(5, 5, 5, 4, 5, 5, None, None, 4).score == 97.6


def test_unanswered_items_leave_the_denominator(survey) -> None:
    result = survey(5, 5, 5, 5, 5, None, None, None, None)
    assert result.score == 100.0 and result.answered == 5 and result.complete


def test_one_answered_row_fewer_than_five_is_incomplete(survey) -> None:
    result = survey(5, 5, 5, 5, None, None, None, None, None)
    assert result.answered == 4 and not result.complete
    assert result.score is None and result.band is None and result.csat_pct is None


def test_flags_below_80_and_complaints_at_levels_1_and_2(survey) -> None:
    result = survey(4, 3, 2, 1, 5)
    assert result.flagged == ("delivery", "packaging", "appearance")   # 60, 40, 20 %
    assert result.complaints == ("packaging", "appearance")           # levels 2 and 1
    assert not next(i for i in result.items if i.code == "product_quality").flagged


def test_lowest_possible_score_is_20(survey) -> None:
    result = survey(1, 1, 1, 1, 1, 1, 1, 1, 1)
    assert result.score == 20.0 and result.band.key == "very_poor" and result.csat_pct == 0


def test_service_evaluation_scores_times_ten_equal_weights(repo_ws: Workspace) -> None:
    form = repo_ws.registry.get("service-evaluation")
    policy = repo_ws.policies.survey(form)
    codes = form.questionnaire.question_codes
    assert len(codes) == 7 and {q.weight for q in form.questionnaire.questions} == {1}
    result = score_survey(dict(zip(codes, (9, 8, 9, 10, 8, 7, 8), strict=True)),
                          form.questionnaire, policy)
    # (90 + 80 + 90 + 100 + 80 + 70 + 80) / 7 = 84.2857…
    assert result.score == 84.3 and result.band.key == "average"
    assert result.csat_pct == 42.9                      # 9, 9, 10: 3 of 7 at 90 % or more
    assert result.flagged == (codes[5],)                # 70 %
    low = score_survey(dict(zip(codes, (4, 5, 10, 10, 10, 10, 10), strict=True)),
                       form.questionnaire, policy)
    assert low.complaints == (codes[0],)                # 40 % is a complaint, 50 % is not


def test_to_dict_carries_policy_and_items(survey) -> None:
    d = survey(5, 4, 4, 5, 5, 4, 3, 4, 3).to_dict()
    assert d["kind"] == "survey" and d["policy"]["id"] == "survey-000"
    assert len(d["policy"]["digest"]) == 12
    assert d["band"] == {"key": "satisfied", "zh": "满意", "en": "Satisfied"}
    assert d["items"][0]["code"] == "product_quality" and d["items"][0]["pct"] == 100.0
