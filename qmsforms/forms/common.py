"""Shared pieces of the form models: the base class and the custom-error helper."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic_core import InitErrorDetails, PydanticCustomError


class FormModel(BaseModel):
    """Base of every form model: no unknown fields, strings stripped, validated on assignment."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def form_error(code: str, message: str, **context: Any) -> PydanticCustomError:
    """A validation error whose ``type`` is a qmsforms issue code (see `qmsforms.issues.Code`).

    The validation layer maps the type straight to the code and passes ``context`` on to the
    message templates, so validators never write user-facing prose themselves.
    """
    return PydanticCustomError(code, message, context)


def located_error(code: str, field: str, value: object, **context: Any) -> InitErrorDetails:
    """One error of a validator that reports every broken rule, located on ``field``.

    Collect them and raise ``ValidationError.from_exception_data`` once (the staged forms: the
    8D report, the corrective action).
    """
    return InitErrorDetails(type=form_error(code, f"{field}: {code}", field=field, **context),
                            loc=(), input=value)


def check_order(
    model: BaseModel, later: str, earlier: str, earlier_label: tuple[str, str]
) -> None:
    """Raise DATE_ORDER when field ``later`` holds a value before field ``earlier``."""
    a, b = getattr(model, later), getattr(model, earlier)
    if a is not None and b is not None and a < b:
        raise form_error(
            "DATE_ORDER",
            f"{later} is before {earlier}",
            field=later,
            detail=earlier_label[1],
            detail_zh=earlier_label[0],
        )
