"""What the input cells of a blank accept and show: number formats and data validation.

Both are derived from the field's kind and constraints in the schema, so Excel, WPS and
LibreOffice warn a clerk while typing about what the validator would refuse later; the tick
mark and the yes/no words are the ones the reader takes back.
"""

from __future__ import annotations

from typing import Literal

from openpyxl.worksheet.datavalidation import DataValidation

from ..fields import FieldSpec

TICK = "√"
"""What a clerk types in a tick cell."""

NUMBER_FORMATS = {
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
    "decimal": "#,##0.00",
    "percent": "General",  # "95%" typed then shows as 95%, "95" as 95; both read as 95
    "int": "0",
    "score": "0",
    "month": "@",
    "text": "@",
    "longtext": "@",
}

YES_NO = {"zh": ("是", "否"), "en": ("Yes", "No"), "both": ("是 Yes", "否 No")}
"""The words of a yes/no field per language."""


_Check = Literal["whole", "decimal", "list", "date", "textLength"]
_Operator = Literal["between", "greaterThan", "lessThanOrEqual"]


def data_validation(spec: FieldSpec, lang: str) -> DataValidation | None:
    """The data validation of an input cell of ``spec`` in ``lang``, None where none applies.

    Numbers stay within the schema's bounds, dates within 2000–2100, texts within their
    length; a choice or a tick offers its words (a warning, so a clerk may still type
    another). The field's help is the input prompt.
    """
    def make(kind: _Check, operator: _Operator | None = None, formula1: str | None = None,
             formula2: str | None = None) -> DataValidation:
        dv = DataValidation(type=kind, operator=operator, formula1=formula1, formula2=formula2,
                            allow_blank=True, showErrorMessage=True,
                            showInputMessage=bool(prompt))
        dv.error = f"{spec.label_zh}: 输入无效。\n{spec.label_en}: invalid entry."
        dv.errorTitle = "qmsforms"
        if prompt:
            dv.prompt, dv.promptTitle = prompt[:255], spec.label_en[:32]
        return dv

    prompt = " / ".join(p for p in (spec.help_zh, spec.help_en) if p)
    lo = spec.minimum
    if lo is not None and spec.exclusive_minimum:
        lo = lo + 1 if spec.kind in ("int", "score") else lo
    if spec.kind in ("int", "score"):
        return make("whole", operator="between", formula1=str(int(lo if lo is not None else 0)),
                    formula2=str(int(spec.maximum if spec.maximum is not None else 999999999)))
    if spec.kind in ("decimal", "percent"):
        if spec.exclusive_minimum and lo is not None and spec.maximum is None:
            return make("decimal", operator="greaterThan", formula1=_number(lo))
        hi = spec.maximum if spec.maximum is not None else 999999999
        return make("decimal", operator="between", formula1=_number(lo or 0),
                    formula2=_number(hi))
    if spec.kind == "date":
        return make("date", operator="between", formula1="DATE(2000,1,1)",
                    formula2="DATE(2100,12,31)")
    if spec.kind in ("choice", "bool"):
        options = spec.choice_labels(lang) if spec.kind == "choice" else list(YES_NO[lang])
        dv = make("list", formula1='"' + ",".join(options) + '"')
        dv.errorStyle = "warning"
        return dv
    if spec.kind == "ticks":
        dv = make("list", formula1=f'"{TICK}"')
        dv.errorStyle = "warning"
        return dv
    if spec.kind in ("text", "longtext") and spec.max_length:
        return make("textLength", operator="lessThanOrEqual", formula1=str(spec.max_length))
    return None


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
