"""The sheet a blank is being laid out on: merged, styled blocks and the names bound so far.

`qmsforms.excel.blank` lays out every form through it: each block is merged, styled as a
label, a heading or an input, and an input block becomes a workbook-scoped defined name with
the data validation of its field.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ..fields import FieldSpec
from .inputs import data_validation
from .style import BORDER, CENTER, HEAD_FILL, LABEL_FILL, TOP_LEFT, UNLOCKED, WRAP, font


@dataclass
class LayoutSheet:
    """The sheet being laid out, the next free row and what has been bound so far."""

    ws: Worksheet
    lang: str
    row: int = 1
    names: dict[str, str] = field(default_factory=dict)
    validations: dict[str, DataValidation] = field(default_factory=dict)

    def text(self, lang_pair: tuple[str, str], sep: str = "\n") -> str:
        zh, en = lang_pair
        return zh if self.lang == "zh" else en if self.lang == "en" else f"{zh}{sep}{en}"

    def block(self, first_col: int, last_col: int, value: str | int | None = None, *, rows: int = 1,
              style: str = "label", merge: bool = True) -> str:
        """Merge a block, write a value into its top-left cell, style every cell of it."""
        top = self.row
        bottom = top + rows - 1
        ref = f"{get_column_letter(first_col)}{top}:{get_column_letter(last_col)}{bottom}"
        if merge and (first_col != last_col or rows > 1):
            self.ws.merge_cells(ref)
        cell = self.ws.cell(row=top, column=first_col)
        if value is not None:
            cell.value = value
        for r in range(top, bottom + 1):
            for c in range(first_col, last_col + 1):
                target = self.ws.cell(row=r, column=c)
                target.border = BORDER
                if style == "label":
                    target.fill, target.font, target.alignment = LABEL_FILL, font(9), WRAP
                elif style == "head":
                    target.fill, target.font, target.alignment = HEAD_FILL, font(9, True), CENTER
                elif style == "input":
                    target.protection, target.font = UNLOCKED, font(10)
                    target.alignment = TOP_LEFT if rows > 1 else WRAP
        return ref

    def bind(self, name: str, ref: str) -> None:
        """Make ``name`` a workbook-scoped defined name over ``ref`` on this sheet."""
        first, _, last = ref.partition(":")
        absolute = "$" + "$".join(_split(first))
        if last and last != first:
            absolute += ":$" + "$".join(_split(last))
        self.names[name] = f"{quote_sheetname(self.ws.title)}!{absolute}"

    def validate(self, spec: FieldSpec, ref: str) -> None:
        """Attach the data validation derived from the field's kind and constraints."""
        dv = data_validation(spec, self.lang)
        if dv is None:
            return
        key = repr((dv.type, dv.operator, dv.formula1, dv.formula2, dv.prompt, dv.errorStyle))
        existing = self.validations.get(key)
        if existing is None:
            self.validations[key] = dv
            self.ws.add_data_validation(dv)
            existing = dv
        existing.add(ref)


def _split(a1: str) -> tuple[str, str]:
    letters = "".join(ch for ch in a1 if ch.isalpha())
    return letters, a1[len(letters):]
