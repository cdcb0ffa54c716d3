"""Scoring a returned questionnaire (SPEC §4.1).

item % = answer × pct_per_point (level × 20 on the five-level scale, score × 10 on 1–10);
survey score = Σ(weight × item %) / Σ(weight) over the answered items, rounded half-up to the
policy's decimals; the band follows from the rounded score. Answered items below
``flag_below_pct`` are flagged for follow-up, those at or below ``complaint_max_pct`` are
followed up as complaints, and CSAT top-2-box is the share of answered items at or above
``csat_min_pct``. Fewer answers than the questionnaire's ``min_answered`` gives no score.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from ..forms.questionnaire import Questionnaire
from .policy import Band, PolicyRef, SurveyPolicy
from .rounding import as_float, rounded


@dataclass(frozen=True)
class ItemScore:
    """One scored question of one returned questionnaire."""

    code: str
    zh: str
    en: str
    weight: float
    answer: int | None
    pct: float | None
    flagged: bool = False
    complaint: bool = False


@dataclass(frozen=True)
class SurveyScore:
    """The score of one returned questionnaire."""

    policy: PolicyRef
    questionnaire: str
    revision: str
    score: float | None
    band: Band | None
    answered: int
    questions: int
    min_answered: int
    csat_pct: float | None
    items: tuple[ItemScore, ...] = field(default_factory=tuple)

    kind = "survey"

    @property
    def complete(self) -> bool:
        """Whether enough questions were answered for the survey to count."""
        return self.answered >= self.min_answered

    @property
    def flagged(self) -> tuple[str, ...]:
        """Codes of the answered items below the follow-up threshold."""
        return tuple(i.code for i in self.items if i.flagged)

    @property
    def complaints(self) -> tuple[str, ...]:
        """Codes of the items answered so low they are followed up as complaints."""
        return tuple(i.code for i in self.items if i.complaint)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, as stored in a record and printed by ``--json``."""
        return {
            "kind": self.kind,
            "policy": self.policy.to_dict(),
            "questionnaire": self.questionnaire,
            "revision": self.revision,
            "score": self.score,
            "band": _band_dict(self.band),
            "complete": self.complete,
            "answered": self.answered,
            "questions": self.questions,
            "min_answered": self.min_answered,
            "csat_pct": self.csat_pct,
            "flagged": list(self.flagged),
            "complaints": list(self.complaints),
            "items": [asdict(i) for i in self.items],
        }


def _band_dict(band: Band | None) -> dict[str, str] | None:
    return None if band is None else {"key": band.key, "zh": band.zh, "en": band.en}


def pct_per_point(questionnaire: Questionnaire, policy: SurveyPolicy) -> Decimal:
    """Percent per answer point: the policy's value, else 100 / the scale's top value."""
    if policy.pct_per_point is not None:
        return policy.pct_per_point
    scale = questionnaire.scale
    top = max(int(lv.value) for lv in scale.levels) if scale.kind == "ticks" else scale.max
    return Decimal(100) / Decimal(top)


def score_survey(answers: Mapping[str, int | None], questionnaire: Questionnaire,
                 policy: SurveyPolicy) -> SurveyScore:
    """Score one questionnaire's answers (question code -> level or score, None if blank)."""
    per_point = pct_per_point(questionnaire, policy)
    items: list[ItemScore] = []
    weighted = Decimal(0)
    weights = Decimal(0)
    top_box = 0
    for q in questionnaire.questions:
        answer = answers.get(q.code)
        weight = Decimal(str(q.weight))
        if answer is None:
            items.append(ItemScore(q.code, q.zh, q.en, float(weight), None, None))
            continue
        pct = Decimal(answer) * per_point
        weighted += weight * pct
        weights += weight
        top_box += pct >= policy.csat_min_pct
        items.append(ItemScore(
            q.code, q.zh, q.en, float(weight), answer, as_float(rounded(pct, 1)),
            flagged=pct < policy.flag_below_pct, complaint=pct <= policy.complaint_max_pct,
        ))
    answered = sum(i.answer is not None for i in items)
    score: Decimal | None = None
    csat: Decimal | None = None
    if answered and answered >= questionnaire.min_answered:
        score = rounded(weighted / weights, policy.decimals)
        csat = rounded(Decimal(100) * top_box / answered, policy.decimals)
    return SurveyScore(
        policy=policy.ref, questionnaire=questionnaire.id, revision=questionnaire.revision,
        score=as_float(score), band=None if score is None else policy.band(score),
        answered=answered, questions=len(items), min_answered=questionnaire.min_answered,
        csat_pct=as_float(csat), items=tuple(items),
    )
