"""The forms a workspace knows: built-in models and the questionnaires in its ``schemas/``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel

from .fields import FieldSpec, specs_of
from .forms.complaint import Complaint
from .forms.eightd import EightD
from .forms.monitoring import SatisfactionMonitoring
from .forms.questionnaire import Questionnaire, load_questionnaire, questionnaire_model
from .forms.shipping import ShippingList
from .issues import UsageError


@dataclass(frozen=True)
class FormDef:
    """One form: its id, titles, current revision, model and natural key.

    ``formats`` are the file kinds the form is issued as (``xlsx``, ``docx``); the first is the
    default.
    """

    id: str
    title_zh: str
    title_en: str
    revision: str
    model: type[BaseModel]
    natural_key: tuple[str, ...]
    orientation: str = "portrait"
    formats: tuple[str, ...] = ("xlsx",)
    questionnaire: Questionnaire | None = field(default=None, compare=False)

    @cached_property
    def fields(self) -> tuple[FieldSpec, ...]:
        """The input fields in layout order."""
        return specs_of(self.model)

    def field(self, name: str) -> FieldSpec:
        """One input field by name (KeyError if absent)."""
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def issued_as(self, fmt: str) -> bool:
        """Whether blanks of this form are issued as ``fmt`` (``xlsx`` or ``docx``)."""
        return fmt in self.formats

    def title(self, lang: str) -> str:
        """The form title in ``zh``, ``en`` or ``both``."""
        if lang == "zh":
            return self.title_zh
        if lang == "en":
            return self.title_en
        return f"{self.title_zh} {self.title_en}"


BUILTIN = (
    FormDef("shipping-list", "发货单", "Shipping List", "A", ShippingList, ("doc_no",)),
    FormDef("complaint", "客户反馈投诉处理单", "Customer Complaint Ticket", "A", Complaint,
            ("ticket_no",), formats=("xlsx", "docx")),
    FormDef("8d-report", "8D报告", "8D Report", "A", EightD, ("complaint_no",),
            formats=("docx",)),
    FormDef("satisfaction-monitoring", "顾客满意度监测评价表",
            "Customer Satisfaction Monitoring Sheet", "A", SatisfactionMonitoring,
            ("customer", "month")),
)


class FormRegistry:
    """Lookup of form definitions: the built-in forms and the questionnaires in ``folders``.

    A questionnaire in a later folder replaces one of the same id in an earlier folder (a
    workspace's own file replaces the shipped one).
    """

    def __init__(self, folders: Sequence[Path]) -> None:
        self.folders = list(folders)

    @cached_property
    def _forms(self) -> dict[str, FormDef]:
        forms = {f.id: f for f in BUILTIN}
        found = {}
        for folder in self.folders:
            if folder.is_dir():
                for path in sorted(folder.glob("*.toml")):
                    found[path.stem] = path
        for path in found.values():
            q = load_questionnaire(path)
            forms[q.id] = FormDef(q.id, q.title_zh, q.title_en, q.revision,
                                  questionnaire_model(q), q.natural_key, questionnaire=q)
        return forms

    def __iter__(self) -> Iterator[FormDef]:
        return iter(self._forms.values())

    def __contains__(self, form_id: object) -> bool:
        return form_id in self._forms

    def ids(self) -> list[str]:
        """Every form id, in registry order."""
        return list(self._forms)

    def get(self, form_id: str) -> FormDef:
        """The form with this id; `UsageError` listing the known ids otherwise."""
        try:
            return self._forms[form_id]
        except KeyError:
            known = ", ".join(self._forms)
            raise UsageError(f"unknown form {form_id!r}; known forms: {known}") from None
