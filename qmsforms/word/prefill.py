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
from datetime import date, datetime
from pathlib import Path
from typing import Any

from docx.document import Document as DocxDocument
from docxtpl import DocxTemplate  # type: ignore[import-untyped]

from .. import normalize as nz
from ..identity import identity_for
from ..issues import UsageError
from ..scoring.complaint import eight_d_required
from ..workspace import Workspace
from .blank import LANGS, build_word_blank
from .fill import display_text, set_control, table_rows
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

CONTAINMENT = "d3_actions"
"""The D3 table: each line of the complaint's containment (临时措施) becomes one action."""


def received_on(complaint: Mapping[str, Any]) -> date | None:
    """The day a complaint was received (its ``received_at``), None when it cannot be read."""
    value = complaint.get("received_at")
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        when = nz.to_datetime(value)
    except nz.NormalizeError:
        return None
    return when.date() if when is not None else None


def containment_actions(complaint: Mapping[str, Any]) -> list[dict[str, str]]:
    """The D3 actions a complaint's containment text pre-fills: one per non-blank line."""
    text = complaint.get("containment")
    if not isinstance(text, str):
        return []
    return [{"action": line.strip()} for line in text.splitlines() if line.strip()]


def eight_d_values(complaint: Mapping[str, Any], opened: date | None = None) -> dict[str, Any]:
    """The 8D fields a complaint's data pre-fills (blank complaint fields are left out).

    The opening date is ``opened``, else the day the complaint was received (the 8D starts
    with the complaint: D1–D8 dates on or after it are in order), else today. The complaint's
    containment goes into the D3 table, a line an action.
    """
    values: dict[str, Any] = {}
    for target, source in FROM_COMPLAINT.items():
        value = complaint.get(source)
        if value is not None and value != "":
            values[target] = value
    values["opened_date"] = opened or received_on(complaint) or date.today()
    values["need_8d"] = eight_d_required(complaint)
    if actions := containment_actions(complaint):
        values[CONTAINMENT] = actions
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
                             "not a complaint", f"记录 {complaint.get('record_id')} 是 "
                             f"{complaint['form']} 记录,不是投诉记录")
        return data, record_id or complaint.get("record_id")
    return complaint, record_id


def render_8d_from_complaint(workspace: Workspace, complaint_data: Mapping[str, Any],
                             out: str | os.PathLike[str], record_id: str | None = None, *,
                             lang: str | None = None, opened: date | None = None) -> Path:
    """Write an 8D .docx pre-filled from a complaint; returns the path.

    ``complaint_data`` is the complaint's validated data or its whole record. The header
    (complaint no. = ticket no., customer, part, batch), the D2 description and quantities are
    filled, *8D needed* is ticked when the complaint requires one, the containment is carried
    into D3 and the opening date is ``opened`` (default: the day the complaint was received,
    see `eight_d_values`). The file gets a fresh instance id and remembers the complaint
    record it came from (custom property ``qmsforms.source_record``).
    """
    data, record_id = _record(complaint_data, record_id)
    form = workspace.registry.get(EIGHT_D)
    lang = lang or workspace.config.defaults.language
    if lang not in LANGS:
        raise UsageError(f"language must be one of zh, en, both, not {lang!r}",
                         f"语言只能是 zh、en 或 both,不能是 {lang!r}")
    path = Path(out)
    if path.suffix.lower() != ".docx":
        raise UsageError(f"{path.name}: an 8D report is written as .docx",
                         f"{path.name}:8D 报告只能写成 .docx 文件")
    identity = identity_for(form, lang).issued()
    doc = build_word_blank(form, workspace.config, lang, identity=identity)
    write_word_identity(doc, identity, source_form="complaint", source_record=record_id or "")
    _neutralise_jinja(doc)
    values = eight_d_values(data, opened)
    controls = {prop(s, "w:tag"): s for s in iter_sdts(doc.element.body)}
    context: dict[str, str] = {}
    placed = [(controls[name], f"v_{name}", value) for name, value in values.items()
              if name != CONTAINMENT]
    rows = table_rows(doc.element.body, CONTAINMENT, len(values.get(CONTAINMENT, [])))
    for n, (row, line) in enumerate(zip(rows, values.get(CONTAINMENT, []), strict=True)):
        placed += [(row[column], f"v_{CONTAINMENT}_{n}_{column}", value)
                   for column, value in line.items()]
    for sdt, variable, value in placed:
        if control_kind(sdt) == "checkbox":
            set_control(sdt, value)  # a state, not text: nothing to escape
            continue
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


__all__ = ["FROM_COMPLAINT", "containment_actions", "eight_d_values", "received_on",
           "render_8d_from_complaint"]
