"""JSON Schema of a form, annotated with where each field lives in the file.

Every property carries ``x-name`` (the defined name or content-control tag); a table field
also carries ``x-table``, its column field names in order. The shipped copies under
``schemas/json/`` are rebuilt by ``qmsforms templates build`` and checked by the tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .identity import fingerprint
from .registry import FormDef


def json_schema(form: FormDef) -> dict[str, Any]:
    """The JSON Schema of a form's data with qmsforms' binding annotations."""
    schema = form.model.model_json_schema()
    schema["title"] = f"{form.title_zh} {form.title_en}"
    schema["$id"] = f"qmsforms:{form.id}:{form.revision}"
    schema["x-form"] = form.id
    schema["x-revision"] = form.revision
    schema["x-fingerprint"] = fingerprint(form)
    schema["x-natural-key"] = list(form.natural_key)
    properties = schema.get("properties", {})
    for spec in form.fields:
        prop = properties[spec.name]
        prop["x-name"] = spec.name
        if spec.kind == "table":
            prop["x-table"] = [column.name for column in spec.columns]
    return schema


_MEANINGFUL = frozenset({
    "type", "properties", "required", "items", "prefixItems", "anyOf", "oneOf", "allOf",
    "enum", "const", "format", "pattern", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "minLength", "maxLength", "minItems", "maxItems", "$ref", "$defs",
    "$id", "title", "description", "default", "additionalProperties",
})


def essentials(schema: Any) -> Any:
    """What a JSON Schema says about the data, without one pydantic release's spelling.

    Keeps the keywords that constrain or describe data, and every ``x-`` annotation; drops
    pydantic's own additions that vary between its releases, such as the ``pattern`` it puts
    on the string spelling of a decimal (a number *or* a numeric string). Two schemas with
    equal essentials accept the same documents and bind the same names.
    """
    if isinstance(schema, list):
        return [essentials(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    kept = {key: essentials(value) for key, value in schema.items()
            if key in _MEANINGFUL or key.startswith("x-")}
    alternatives = kept.get("anyOf")
    if isinstance(alternatives, list) and {"type": "number"} in alternatives:
        for alternative in alternatives:
            if isinstance(alternative, dict) and alternative.get("type") == "string":
                alternative.pop("pattern", None)
    return kept


def export_schemas(forms: list[FormDef], out_dir: Path) -> list[Path]:
    """Write ``<form>.schema.json`` for each form; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for form in forms:
        path = out_dir / f"{form.id}.schema.json"
        text = json.dumps(json_schema(form), ensure_ascii=False, indent=2) + "\n"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
