"""How a form field is described once and then laid out, bound, normalised and documented.

A form is a pydantic model. Each field is declared with `input_field`, which stores the
bilingual label, the kind of input and the layout group in the field's JSON-schema extras. From
that single declaration qmsforms derives the blank workbook (labels, data validation, defined
names), the extraction (which normaliser to run) and the exported JSON Schema (``x-name``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from pydantic import BaseModel, Field
from pydantic.fields import FieldInfo

Kind = Literal[
    "text", "longtext", "int", "decimal", "percent", "date", "datetime", "month", "bool",
    "choice", "ticks", "score", "table",
]
"""How a value is typed by staff and read back.

``ticks`` is a survey row of tick boxes (one defined name over the row, one tick per row);
``score`` a typed whole-number rating with a fixed range; ``table`` a variable-length Excel table.
"""

Group = Literal["header", "body", "questions", "lines", "footer", "signoff"]


@dataclass(frozen=True)
class FieldSpec:
    """Everything qmsforms needs to know about one input field besides its pydantic type."""

    name: str
    label_zh: str
    label_en: str
    kind: Kind
    group: Group = "header"
    required: bool = False
    choices: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    max_length: int | None = None
    levels: tuple[tuple[int | str, str, str], ...] = ()
    help_zh: str = ""
    help_en: str = ""
    width: int = 1
    columns: tuple[FieldSpec, ...] = ()
    weight: float | None = None
    section: tuple[str, str] | None = None
    product: tuple[str, str] | None = None
    """A computed table column: the product of these two columns of the same line (the blank
    writes the formula; the reader recomputes it and checks what the cell shows)."""

    def label(self, lang: str) -> str:
        """The caption in ``zh``, ``en`` or ``both`` (Chinese over English)."""
        if lang == "zh":
            return self.label_zh
        if lang == "en":
            return self.label_en
        return f"{self.label_zh}\n{self.label_en}"

    def one_line_label(self, lang: str) -> str:
        """The caption on one line, e.g. for Excel table headers."""
        return self.label(lang).replace("\n", " ")

    @property
    def labels(self) -> tuple[str, str]:
        """(zh, en) pair, as `Issue.make` wants it."""
        return (self.label_zh, self.label_en)

    def choice_aliases(self) -> dict[str, list[str]]:
        """Code -> every label staff might pick or type for it."""
        return {
            code: [zh, en, f"{zh} {en}", f"{zh} / {en}"] for code, (zh, en) in self.choices.items()
        }

    def choice_labels(self, lang: str) -> list[str]:
        """The drop-down entries in the chosen language."""
        out = []
        for zh, en in self.choices.values():
            out.append(zh if lang == "zh" else en if lang == "en" else f"{zh} {en}")
        return out


def input_field(
    zh: str,
    en: str,
    *,
    kind: Kind,
    group: Group = "header",
    default: Any = None,
    choices: Mapping[str, tuple[str, str]] | None = None,
    help_zh: str = "",
    help_en: str = "",
    width: int = 1,
    levels: Sequence[tuple[int | str, str, str]] = (),
    weight: float | None = None,
    section: tuple[str, str] | None = None,
    product: tuple[str, str] | None = None,
    **constraints: Any,
) -> Any:
    """Declare a pydantic field that is also an input on the form.

    ``constraints`` are pydantic's (``gt``, ``ge``, ``le``, ``max_length``...). A field with no
    ``default`` argument is required (pass ``default=None`` explicitly for optional).
    """
    extra: dict[str, Any] = {
        "x-label-zh": zh,
        "x-label-en": en,
        "x-kind": kind,
        "x-group": group,
    }
    if choices:
        extra["x-choices"] = {code: list(pair) for code, pair in choices.items()}
    if help_zh or help_en:
        extra["x-help-zh"], extra["x-help-en"] = help_zh, help_en
    if width != 1:
        extra["x-width"] = width
    if levels:
        extra["x-levels"] = [list(level) for level in levels]
    if weight is not None:
        extra["x-weight"] = weight
    if section is not None:
        extra["x-section"] = list(section)
    if product is not None:
        extra["x-product"] = list(product)
    return Field(default, title=en, description=zh, json_schema_extra=extra, **constraints)


REQUIRED: Any = ...
"""Pass as ``default`` to `input_field` to make a field required."""


def _bound(info: FieldInfo, attr: str) -> tuple[float | None, bool]:
    for meta in info.metadata:
        if attr == "min":
            if getattr(meta, "gt", None) is not None:
                return float(meta.gt), True
            if getattr(meta, "ge", None) is not None:
                return float(meta.ge), False
        else:
            if getattr(meta, "lt", None) is not None:
                return float(meta.lt), True
            if getattr(meta, "le", None) is not None:
                return float(meta.le), False
    return None, False


def _max_length(info: FieldInfo) -> int | None:
    for meta in info.metadata:
        if getattr(meta, "max_length", None) is not None:
            return int(meta.max_length)
    return None


def spec_of(name: str, info: FieldInfo) -> FieldSpec:
    """Read the `FieldSpec` back from a pydantic field declared with `input_field`."""
    extra = info.json_schema_extra
    if not isinstance(extra, dict) or "x-kind" not in extra:
        raise TypeError(f"field {name!r} was not declared with input_field()")
    minimum, exclusive = _bound(info, "min")
    maximum, _ = _bound(info, "max")
    columns: tuple[FieldSpec, ...] = ()
    if extra["x-kind"] == "table":
        row_model = _row_model(info)
        columns = tuple(spec_of(n, i) for n, i in row_model.model_fields.items())
    # input_field wrote these JSON values; their shapes are its arguments'
    declared_choices = cast(dict[str, list[str]], extra.get("x-choices", {}))
    declared_levels = cast(list[tuple[int | str, str, str]], extra.get("x-levels", []))
    choices = {c: (p[0], p[1]) for c, p in dict(declared_choices).items()}
    levels = tuple((v, str(zh), str(en)) for v, zh, en in declared_levels)
    return FieldSpec(
        name=name,
        label_zh=str(extra["x-label-zh"]),
        label_en=str(extra["x-label-en"]),
        kind=extra["x-kind"],  # type: ignore[arg-type]
        group=extra["x-group"],  # type: ignore[arg-type]
        required=info.is_required(),
        choices=choices,
        minimum=minimum,
        maximum=maximum,
        exclusive_minimum=exclusive,
        max_length=_max_length(info),
        levels=levels,
        help_zh=str(extra.get("x-help-zh", "")),
        help_en=str(extra.get("x-help-en", "")),
        width=int(cast(int, extra.get("x-width", 1))),
        columns=columns,
        weight=extra.get("x-weight"),  # type: ignore[arg-type]
        section=tuple(extra["x-section"]) if "x-section" in extra else None,  # type: ignore[arg-type]
        product=tuple(extra["x-product"]) if "x-product" in extra else None,  # type: ignore[arg-type]
    )


def _row_model(info: FieldInfo) -> type[BaseModel]:
    """The row model of a ``list[Row]`` table field."""
    from typing import get_args

    for arg in get_args(info.annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    raise TypeError(f"table field has no row model: {info.annotation!r}")


def specs_of(model: type[BaseModel]) -> tuple[FieldSpec, ...]:
    """The input fields of a form model, in declaration order."""
    return tuple(spec_of(n, i) for n, i in model.model_fields.items())
