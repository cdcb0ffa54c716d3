"""The forms a workspace knows: built-in models and the questionnaires in its ``schemas/``."""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from .definitions import DefinitionBroken, DefinitionProblem
from .fields import FieldSpec, specs_of
from .issues import UsageError

if TYPE_CHECKING:
    from .forms.questionnaire import Questionnaire

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FormDef:
    """One form: its id, titles, current revision, model and natural key.

    ``formats`` are the file kinds the form is issued as (``xlsx``, ``docx``); the first is the
    default. ``key_scope`` says whether the natural key is ``company``-wide or per ``site``
    (`qmsforms.site.natural_key`).
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
    key_scope: str = "site"

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


@dataclass(frozen=True)
class _Builtin:
    """A built-in form, its model named by module and class (imported when the form is used)."""

    id: str
    title_zh: str
    title_en: str
    model: str
    """``module:Class`` under `qmsforms.forms`."""
    natural_key: tuple[str, ...]
    formats: tuple[str, ...] = ("xlsx",)
    key_scope: str = "site"

    @functools.cache  # noqa: B019 - nine entries at most, for the life of the process
    def model_class(self) -> type[BaseModel]:
        """The form's model, its module imported on first use (one per process)."""
        module, name = self.model.split(":")
        model: type[BaseModel] = getattr(
            importlib.import_module(f"{__package__}.forms.{module}"), name)
        return model

    def form(self, revision: str) -> FormDef:
        """The form definition at its current ``revision`` (from the revision history)."""
        return FormDef(self.id, self.title_zh, self.title_en, revision, self.model_class(),
                       self.natural_key, formats=self.formats, key_scope=self.key_scope)


BUILTIN = (
    _Builtin("shipping-list", "发货单", "Shipping List", "shipping:ShippingList",
             ("doc_no",)),
    _Builtin("complaint", "客户反馈投诉处理单", "Customer Complaint Ticket",
             "complaint:Complaint", ("ticket_no",), formats=("xlsx", "docx"),
             key_scope="company"),
    _Builtin("8d-report", "8D报告", "8D Report", "eightd:EightD", ("complaint_no",),
             formats=("docx",), key_scope="company"),
    _Builtin("satisfaction-monitoring", "顾客满意度监测评价表",
             "Customer Satisfaction Monitoring Sheet",
             "monitoring:SatisfactionMonitoring", ("customer", "month")),
    _Builtin("corrective-action", "纠正/预防措施处理单", "Corrective and Preventive Action",
             "capa:CorrectiveAction", ("action_no",), formats=("xlsx", "docx"),
             key_scope="company"),
)
"""The forms qmsforms ships as code; a questionnaire file may replace one by its id.

Complaints, 8D reports and corrective actions are numbered company-wide (an 8D names its
complaint's ticket, a CAPA its action number), so their keys are company-wide; a shipping list
or a monitoring sheet is a plant's own, so its key is per site.

Their revisions are data: the revision history (`qmsforms.revisions`, ``templates/revisions.toml``)
names the current revision of each."""


class FormRegistry:
    """Lookup of form definitions: the built-in forms and the questionnaires in ``folders``.

    A questionnaire in a later folder replaces one of the same id in an earlier folder (a
    workspace's own file replaces the shipped one). The questionnaire files are read on first
    use; a form's model is built (its module imported) only when that form is asked for.
    """

    def __init__(self, folders: Sequence[Path],
                 revisions: Mapping[str, str] | None = None) -> None:
        self.folders = list(folders)
        if revisions is None:  # a registry outside a workspace: the shipped history
            from .config import package_defaults
            from .revisions import HISTORY_NAME, merged_history

            revisions = merged_history(
                [package_defaults() / "templates" / HISTORY_NAME]).revisions()
        self.revisions = dict(revisions)
        """The current revision of each released form (the revision history's last entries);
        a questionnaire never released keeps its own ``revision``."""
        self._built: dict[str, FormDef] = {}

    @cached_property
    def _loaded(self) -> tuple[dict[str, Questionnaire], dict[str, tuple[DefinitionProblem, ...]]]:
        """The questionnaires that read, and the problems of those that did not, by form id.

        A broken file disables its own form only (and replaces a shipped one of the same
        name: the workspace meant its own definition, so the shipped one is not used instead).
        """
        found = {}
        for folder in self.folders:
            if folder.is_dir():
                for path in sorted(folder.glob("*.toml")):
                    found[path.stem] = path
        if not found:
            return {}, {}
        from .forms.questionnaire import read_questionnaire

        out: dict[str, Questionnaire] = {}
        broken: dict[str, tuple[DefinitionProblem, ...]] = {}
        for path in found.values():
            q = read_questionnaire(path)
            if isinstance(q, list):
                target = q[0].target
                broken[target] = broken.get(target, ()) + tuple(q)
                out.pop(target, None)
                log.info("%s", DefinitionBroken(target, q))
            else:
                out[q.id] = q
                broken.pop(q.id, None)
        return out, broken

    @property
    def _questionnaires(self) -> dict[str, Questionnaire]:
        return self._loaded[0]

    @property
    def broken(self) -> dict[str, tuple[DefinitionProblem, ...]]:
        """Form id -> the problems of its broken definition file (the form is disabled)."""
        return self._loaded[1]

    @cached_property
    def _order(self) -> list[str]:
        """Every form id in registry order (a replaced built-in keeps its place)."""
        ids = dict.fromkeys(b.id for b in BUILTIN)
        ids.update(dict.fromkeys(self._questionnaires))
        return [form_id for form_id in ids if form_id not in self.broken]

    def _form(self, form_id: str) -> FormDef:
        form = self._built.get(form_id)
        if form is None:
            q = self._questionnaires.get(form_id)
            if q is not None:
                from .forms.questionnaire import questionnaire_model

                form = FormDef(q.id, q.title_zh, q.title_en,
                               self.revisions.get(q.id, q.revision),
                               questionnaire_model(q), q.natural_key, questionnaire=q,
                               key_scope=q.key_scope)
            else:
                revision = self.revisions.get(form_id)
                if revision is None:
                    raise UsageError(f"form {form_id} has no revision in the revision history "
                                     "(templates/revisions.toml)",
                                     f"修订历史(templates/revisions.toml)中没有表单 "
                                     f"{form_id} 的版本。")
                form = next(b for b in BUILTIN if b.id == form_id).form(revision)
            self._built[form_id] = form
        return form

    def __iter__(self) -> Iterator[FormDef]:
        return iter([self._form(form_id) for form_id in self._order])

    def __contains__(self, form_id: object) -> bool:
        return form_id in self._order

    def ids(self) -> list[str]:
        """Every form id, in registry order."""
        return list(self._order)

    def get(self, form_id: str) -> FormDef:
        """The form with this id; `DefinitionBroken` when its definition file is broken,
        `UsageError` listing the known ids otherwise."""
        if form_id in self.broken:
            raise DefinitionBroken(form_id, self.broken[form_id])
        if form_id not in self._order:
            known = ", ".join(self._order)
            raise UsageError(f"unknown form {form_id!r}; known forms: {known}",
                             f"没有表单 {form_id!r};已有的表单:{known}")
        return self._form(form_id)
