"""Questionnaires as data: a TOML file in ``schemas/questionnaires/`` becomes a form model.

A quality engineer adds a questionnaire by writing TOML, not Python. The file names the
header fields, the scored questions (a row of tick boxes over a shared scale, or a typed score
within a range), optional single-choice questions (a row of tick boxes, one per option) and the
free-text footer. `questionnaire_model` turns it into a pydantic model with the same field
metadata as the hand-written forms, so blanks, extraction and validation need nothing special.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from ..definitions import DefinitionProblem, problems_of, read_toml
from ..fields import REQUIRED, input_field
from .common import FormModel, form_error

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_IDENT = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Level(_Strict):
    """One option of a scale or a single-choice question."""

    value: int | str
    zh: str
    en: str


class Scale(_Strict):
    """How scored questions are answered: ticks over ``levels``, or a typed score min..max."""

    kind: Literal["ticks", "score"]
    levels: tuple[Level, ...] = ()
    min: int = 1
    max: int = 10

    @model_validator(mode="after")
    def _consistent(self) -> Scale:
        if self.kind == "ticks" and len(self.levels) < 2:
            raise ValueError("a ticks scale needs at least two levels")
        if self.kind == "ticks" and not all(isinstance(lv.value, int) for lv in self.levels):
            raise ValueError("scale levels must be whole numbers")
        if self.kind == "score" and self.min >= self.max:
            raise ValueError("score scale needs min < max")
        return self


class InputSpec(_Strict):
    """A header, footer or sign-off field of a questionnaire."""

    name: str = Field(pattern=_IDENT)
    zh: str
    en: str
    kind: Literal["text", "longtext", "date", "month", "int", "choice"] = "text"
    required: bool = False
    width: int = Field(1, ge=1, le=3)
    max_length: int | None = Field(None, gt=0)
    pattern: str | None = None
    choices: dict[str, tuple[str, str]] = Field(default_factory=dict)
    help_zh: str = ""
    help_en: str = ""

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, pattern: str | None) -> str | None:
        """A pattern the model's validator cannot build would stop every form, not this one."""
        if pattern is not None:
            try:
                TypeAdapter(Annotated[str, StringConstraints(pattern=pattern)])
            except Exception as exc:  # pydantic-core's SchemaError carries no public base
                raise ValueError(f"the pattern is not a valid regular expression: "
                                 f"{str(exc).splitlines()[-1]}") from exc
        return pattern


class Question(_Strict):
    """A scored question; ``weight`` counts in the weighted survey score."""

    code: str = Field(pattern=_IDENT)
    zh: str
    en: str
    weight: float = Field(1.0, gt=0)
    help_zh: str = ""
    help_en: str = ""


class ChoiceQuestion(_Strict):
    """A single-choice question answered by ticking one of its options (not scored)."""

    code: str = Field(pattern=_IDENT)
    zh: str
    en: str
    options: tuple[Level, ...] = Field(min_length=2)


class Questionnaire(_Strict):
    """A questionnaire definition as read from TOML."""

    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    revision: str = Field(min_length=1, max_length=10)
    title_zh: str
    title_en: str
    intro_zh: str = ""
    intro_en: str = ""
    natural_key: tuple[str, ...]
    key_scope: Literal["company", "site"] = "site"
    """Whether the natural key is company-wide or per site: two plants surveying one customer
    keep two records unless the questionnaire says ``company``."""
    min_answered: int = Field(1, ge=0)
    scale: Scale
    header: tuple[InputSpec, ...] = ()
    questions: tuple[Question, ...] = Field(min_length=1)
    choices: tuple[ChoiceQuestion, ...] = ()
    footer: tuple[InputSpec, ...] = ()
    signoff: tuple[InputSpec, ...] = ()
    scoring: dict[str, Any] = Field(default_factory=lambda: {"policy": "survey-000"})

    @model_validator(mode="after")
    def _names_unique_and_known(self) -> Questionnaire:
        names = [f.name for f in (*self.header, *self.footer, *self.signoff)]
        names += [q.code for q in self.questions] + [c.code for c in self.choices]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"field names used twice: {', '.join(dupes)}")
        unknown = [k for k in self.natural_key if k not in names]
        if unknown:
            raise ValueError(f"natural_key names unknown fields: {', '.join(unknown)}")
        if self.min_answered > len(self.questions):
            raise ValueError("min_answered exceeds the number of questions")
        return self

    @property
    def question_codes(self) -> tuple[str, ...]:
        """The scored question codes in order."""
        return tuple(q.code for q in self.questions)


def load_questionnaire(path: Path) -> Questionnaire:
    """Read and check one questionnaire TOML file (raises ValueError naming the file)."""
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
        return Questionnaire.model_validate(raw)
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise ValueError(f"{path.name}: {exc}") from exc


def read_questionnaire(path: Path) -> Questionnaire | list[DefinitionProblem]:
    """One questionnaire file, or the problems that disable its form (file, line, key, why)."""
    found = read_toml("questionnaire", path)
    if isinstance(found, list):
        return found
    raw, text = found
    try:
        return Questionnaire.model_validate(raw)
    except ValidationError as exc:
        return problems_of("questionnaire", raw["id"], path, exc, text)


class QuestionnaireModel(FormModel):
    """Base of every model built from a questionnaire; checks the answered count."""

    questionnaire: ClassVar[Questionnaire]

    @model_validator(mode="after")
    def _enough_answered(self) -> QuestionnaireModel:
        q = type(self).questionnaire
        answered = sum(getattr(self, code) is not None for code in q.question_codes)
        if answered < q.min_answered:
            raise form_error("INCOMPLETE_SURVEY", "too few questions answered",
                             value=answered, detail=q.min_answered)
        return self

    def answers(self) -> dict[str, int | None]:
        """Scored question code -> level or score (None when not answered)."""
        return {code: getattr(self, code) for code in type(self).questionnaire.question_codes}


_PY_TYPES: dict[str, Any] = {"text": str, "longtext": str, "choice": str, "month": str,
                             "int": int}


def _input(spec: InputSpec, group: str) -> tuple[Any, Any]:
    from datetime import date

    py: Any = date if spec.kind == "date" else _PY_TYPES[spec.kind]
    constraints: dict[str, Any] = {}
    if spec.max_length:
        constraints["max_length"] = spec.max_length
    if spec.pattern:
        constraints["pattern"] = spec.pattern
    info = input_field(
        spec.zh, spec.en, kind=spec.kind, group=group,  # type: ignore[arg-type]
        default=REQUIRED if spec.required else None, choices=spec.choices or None,
        help_zh=spec.help_zh, help_en=spec.help_en, width=spec.width, **constraints,
    )
    return (py if spec.required else py | None, info)


def questionnaire_model(q: Questionnaire) -> type[QuestionnaireModel]:
    """Build the pydantic form model of a questionnaire."""
    fields: dict[str, Any] = {}
    for spec in q.header:
        fields[spec.name] = _input(spec, "header")
    scale = q.scale
    for question in q.questions:
        if scale.kind == "ticks":
            values = [int(lv.value) for lv in scale.levels]
            info = input_field(
                question.zh, question.en, kind="ticks", group="questions",
                levels=[(lv.value, lv.zh, lv.en) for lv in scale.levels],
                weight=question.weight, help_zh=question.help_zh, help_en=question.help_en,
                ge=min(values), le=max(values),
            )
        else:
            info = input_field(
                question.zh, question.en, kind="score", group="questions",
                weight=question.weight, help_zh=question.help_zh, help_en=question.help_en,
                ge=scale.min, le=scale.max,
            )
        fields[question.code] = (int | None, info)
    for choice in q.choices:
        fields[choice.code] = (str | None, input_field(
            choice.zh, choice.en, kind="ticks", group="body",
            levels=[(lv.value, lv.zh, lv.en) for lv in choice.options],
        ))
    for spec in q.footer:
        fields[spec.name] = _input(spec, "footer")
    for spec in q.signoff:
        fields[spec.name] = _input(spec, "signoff")
    name = "Q_" + re.sub(r"\W", "_", q.id)
    model = create_model(name, __base__=QuestionnaireModel, **fields)
    model.questionnaire = q
    model.__doc__ = f"{q.title_zh} {q.title_en} (questionnaire {q.id}, revision {q.revision})."
    return model
