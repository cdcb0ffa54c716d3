"""The document-control block a blank carries, as the workspace says it now (SPEC §3.1, §9).

Company, document number, revision, effective date, controlled status and the prepared /
reviewed / approved names come from ``qmsforms.toml`` and the revision history at the moment a
blank is issued, so a changed configuration shows on the next blank, whether it is built from
the form definition or copied from a template a quality engineer restyled.

The effective date is the later of ``[forms.<id>] effective_date`` and the effective date of
the form's current release, so releasing a revision moves it without editing the
configuration, and a configured later date still wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from .config import Config, DocumentControl
from .identity import fingerprint
from .issues import Code, Issue, QmsFormsError, Report

if TYPE_CHECKING:
    from .identity import Identity
    from .registry import FormDef
    from .workspace import Workspace

STATUS_EN = {"受控": "Controlled", "非受控": "Uncontrolled", "作废": "Obsolete"}

KEYS = ("company", "document_no", "revision", "effective_date", "status", "prepared_by",
        "reviewed_by", "approved_by")
"""The values of the block, in the order the blanks lay them out (the form id follows)."""

LABELS: dict[str, tuple[str, str]] = {
    "document_no": ("文件编号", "Doc. no."),
    "revision": ("版本", "Revision"),
    "effective_date": ("生效日期", "Effective"),
    "status": ("受控状态", "Status"),
    "prepared_by": ("编制", "Prepared"),
    "reviewed_by": ("审核", "Reviewed"),
    "approved_by": ("批准", "Approved"),
}
"""The caption beside each labelled value (the company has none: it heads the page)."""


def name_of(key: str) -> str:
    """The defined name (xlsx) over the cell that shows ``key`` of the block."""
    return f"_qmsforms_{key}"


@dataclass(frozen=True)
class ControlBlock:
    """The values one blank's control block shows."""

    form: str
    company_zh: str
    company_en: str
    document_no: str
    revision: str
    effective_date: date
    status: str
    prepared_by: str
    reviewed_by: str
    approved_by: str

    def shown(self, lang: str) -> dict[str, str]:
        """Each value of `KEYS` as the blank prints it in ``lang`` (zh, en or both)."""
        def pair(zh: str, en: str, sep: str) -> str:
            return zh if lang == "zh" else en if lang == "en" else f"{zh}{sep}{en}"

        return {
            "company": pair(self.company_zh, self.company_en, " "),
            "document_no": self.document_no,
            "revision": self.revision,
            "effective_date": self.effective_date.isoformat(),
            "status": pair(self.status, STATUS_EN.get(self.status, ""), " ").strip(),
            "prepared_by": self.prepared_by,
            "reviewed_by": self.reviewed_by,
            "approved_by": self.approved_by,
        }

    def footer(self) -> str:
        """The left part of the print footer: document number and revision."""
        return f"{self.document_no}  Rev. {self.revision}"


def current_control(workspace: Workspace, form: FormDef) -> DocumentControl:
    """The form's ``[forms.<id>]`` settings with the effective date of its current release."""
    control = workspace.config.control(form.id)
    release = workspace.history.current(form.id)
    if (release is not None and release.revision == form.revision and release.effective
            and release.effective > control.effective_date):
        control = control.model_copy(update={"effective_date": release.effective})
    return control


def control_config(workspace: Workspace, form: FormDef) -> Config:
    """The workspace configuration with `current_control` as the form's document control.

    What the layouts of both wings read (`Config.control`) when they build a blank.
    """
    config = workspace.config
    forms = {**config.forms, form.id: current_control(workspace, form)}
    return config.model_copy(update={"forms": forms})


def block_of(config: Config, form: FormDef) -> ControlBlock:
    """The control block of ``form`` as ``config`` sets it (see `control_config`)."""
    control = config.control(form.id)
    company = config.company
    return ControlBlock(form.id, company.name_zh, company.name_en, control.document_no,
                        form.revision, control.effective_date, control.status,
                        control.prepared_by, control.reviewed_by, control.approved_by)


def control_block(workspace: Workspace, form: FormDef) -> ControlBlock:
    """What the control block of a blank of ``form`` issued now shows."""
    return block_of(control_config(workspace, form), form)


def stale_template(identity: Identity | None, form: FormDef, path: Path) -> None:
    """Refuse to issue from a template of another revision than the form's current one."""
    if identity is None or identity.form != form.id or identity.revision == form.revision:
        return
    raise QmsFormsError(
        f"{path.name}: the template is revision {identity.revision} but the current revision "
        f"is {form.revision}; release it first: qmsforms templates release {form.id} "
        f"--revision {form.revision}",
        f"{path.name}: 模板是版本 {identity.revision},现行版本是 {form.revision};请先发布:"
        f"qmsforms templates release {form.id} --revision {form.revision}")


def template_form(identity: Identity | None, workspace: Workspace,
                  report: Report) -> FormDef | None:
    """Check a template's identity into ``report`` (`templates check`, both wings).

    A template identifies a known form (``NO_IDENTITY``, ``UNKNOWN_FORM``), is of its current
    revision (``TEMPLATE_REVISION``) and has that revision's fingerprint
    (``TEMPLATE_ALTERED``). Returns the form when it is known, for the checks that follow.
    """
    if identity is None:
        report.add(Issue.make(Code.NO_IDENTITY))
        return None
    report.form, report.revision = identity.form, identity.revision
    if identity.form not in workspace.registry:
        report.add(Issue.make(Code.UNKNOWN_FORM, value=identity.form))
        return None
    form = workspace.registry.get(identity.form)
    if identity.revision != form.revision:
        report.add(Issue.make(Code.TEMPLATE_REVISION, value=identity.revision, form=form.id,
                              current=form.revision))
    if identity.fingerprint != fingerprint(form, identity.revision):
        report.add(Issue.make(Code.TEMPLATE_ALTERED, value=identity.fingerprint))
    return form
