"""An 8D report pre-filled from a complaint record (``qmsforms 8d new --from RECORD_ID``).

The 8D blank is built as usual, then the controls to pre-fill get Jinja placeholders and the
document is rendered with docxtpl, ``autoescape=True`` (SPEC §3.2): complaint text such as
``<select>`` or ``A & B`` is escaped once by Jinja and reads back exactly, and line breaks in
the description become Word line breaks. Everything else stays an empty content control.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from docx.document import Document as DocxDocument
from docxtpl import DocxTemplate  # type: ignore[import-untyped]

from ..identity import identity_for
from ..issues import UsageError
from ..scoring.complaint import eight_d_required
from ..workspace import Workspace
from .blank import LANGS, build_word_blank
from .fill import display_text, set_control
from .ooxml import control_kind, iter_sdts, prop, run_props, text_runs, w, xml_safe
from .props import write_word_identity

EIGHT_D = "8d-report"

FROM_COMPLAINT = {
    "complaint_no": "ticket_no",
    "customer": "customer",
    "part_name": "part_name",
    "part_no": "part_no",
    "batch_no": "batch_no",
    "description": "description",
    "qty_complained": "qty_complained",
    "qty_delivered": "qty_delivered",
    "qty_returned": "qty_returned",
}
"""8D field <- complaint field."""


def eight_d_values(complaint: Mapping[str, Any], opened: date | None = None) -> dict[str, Any]:
    """The 8D fields a complaint's data pre-fills (blank complaint fields are left out)."""
    values: dict[str, Any] = {}
    for target, source in FROM_COMPLAINT.items():
        value = complaint.get(source)
        if value is not None and value != "":
            values[target] = value
    values["opened_date"] = opened or date.today()
    values["need_8d"] = eight_d_required(complaint)
    return values


_JINJA_MARKS = (("{{", "{_{"), ("}}", "}_}"), ("{%", "{_%"), ("%}", "%_}"), ("{#", "{\u200b#"))
"""docxtpl renders the whole document (body, header, footer) as a Jinja template: any of these
in the blank's own text (a company name from the config, say) is neutralised first. docxtpl
turns the first four back after rendering; ``{#`` keeps an invisible zero-width space."""


def _neutralise_jinja(doc: DocxDocument) -> None:
    parts = [doc.element.body]
    for section in doc.sections:
        parts += [section.header._element, section.footer._element]
    for part in parts:
        for node in part.iter(w("w:t"), w("w:instrText")):
            text = node.text or ""
            for mark, safe in _JINJA_MARKS:
                text = text.replace(mark, safe)
            node.text = text


def _template_control(sdt: Any, variable: str) -> None:
    """Make a control show ``{{ variable }}`` (and hold it as its date, for a date picker)."""
    pr = sdt.find(w("w:sdtPr"))
    for flag in pr.findall(w("w:showingPlcHdr")):
        pr.remove(flag)
    if control_kind(sdt) == "date":
        pr.find(w("w:date")).set(w("w:fullDate"), f"{{{{ {variable} }}}}T00:00:00Z")
    content = sdt.find(w("w:sdtContent"))
    for child in list(content):
        content.remove(child)
    rpr = pr.find(w("w:rPr"))
    for run in text_runs(f"{{{{ {variable} }}}}", rpr if rpr is not None else run_props(9)):
        content.append(run)


def _record(complaint: Mapping[str, Any], record_id: str | None,
            ) -> tuple[Mapping[str, Any], str | None]:
    """Accept a record (``{"record_id", "data", ...}``) or the bare complaint data."""
    data = complaint.get("data")
    if isinstance(data, Mapping) and "form" in complaint:
        if complaint.get("form") not in (None, "complaint"):
            raise UsageError(f"record {complaint.get('record_id')} is a {complaint['form']}, "
                             "not a complaint")
        return data, record_id or complaint.get("record_id")
    return complaint, record_id


def render_8d_from_complaint(workspace: Workspace, complaint_data: Mapping[str, Any],
                             out: str | os.PathLike[str], record_id: str | None = None, *,
                             lang: str | None = None, opened: date | None = None) -> Path:
    """Write an 8D .docx pre-filled from a complaint; returns the path.

    ``complaint_data`` is the complaint's validated data or its whole record. The header
    (complaint no. = ticket no., customer, part, batch), the D2 description and quantities are
    filled, *8D needed* is ticked when the complaint requires one, the opening date is
    ``opened`` (default today). The file gets a fresh instance id and remembers the complaint
    record it came from (custom property ``qmsforms.source_record``).
    """
    data, record_id = _record(complaint_data, record_id)
    form = workspace.registry.get(EIGHT_D)
    lang = lang or workspace.config.defaults.language
    if lang not in LANGS:
        raise UsageError(f"language must be one of zh, en, both, not {lang!r}")
    path = Path(out)
    if path.suffix.lower() != ".docx":
        raise UsageError(f"{path.name}: an 8D report is written as .docx")
    identity = identity_for(form, lang).issued()
    doc = build_word_blank(form, workspace.config, lang, identity=identity)
    write_word_identity(doc, identity, source_form="complaint", source_record=record_id or "")
    _neutralise_jinja(doc)
    values = eight_d_values(data, opened)
    controls = {prop(s, "w:tag"): s for s in iter_sdts(doc.element.body)}
    context: dict[str, str] = {}
    for name, value in values.items():
        sdt = controls[name]
        if control_kind(sdt) == "checkbox":
            set_control(sdt, value)  # a state, not text: nothing to escape
            continue
        variable = f"v_{name}"
        text = value.isoformat() if isinstance(value, date) else display_text(value)
        context[variable] = xml_safe(text.replace("\r\n", "\n").replace("\r", "\n"))
        _template_control(sdt, variable)
    buffer = io.BytesIO()
    doc.save(buffer)
    buffer.seek(0)
    template = DocxTemplate(buffer)
    template.render(context, autoescape=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    template.save(str(path))
    return path


__all__ = ["FROM_COMPLAINT", "eight_d_values", "render_8d_from_complaint"]
