"""Word forms typed into by a person in LibreOffice Writer (driven through UNO), read back.

The blanks are the ones qmsforms issues; the typing is LibreOffice's own (`office` fixture,
`tests.clients.uno_office`): the input is clicked, the text it shows selected and the lines
typed, Enter or Shift+Enter between them. Assertions are on the values read, codes and
locations.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from qmsforms.blanks import issue_blank
from qmsforms.word.ooxml import NS
from qmsforms.word.read import extract_word
from qmsforms.word.validate import validate_word_file
from qmsforms.workspace import Workspace, init_workspace

from ..conftest import OfficeFn

pytestmark = pytest.mark.libreoffice

NEWLINES = ("enter", "shift+enter")
CUSTOMER = "华东汽车 <select> A & B"
DESCRIPTION = ["焊缝开裂 crack", "第二行 A & B <x>", "third 三"]
CONTAINMENT = ["isolate stock", "notify customer", "  sort 100%\tall"]
ROOT_CAUSE = ["电流不稳", "焊工未培训"]
COMPLAINT_STEPS: list[dict[str, Any]] = [
    {"control": "ticket_no", "lines": ["TS-9"]},
    {"control": "customer", "lines": [CUSTOMER]},
    {"control": "received_at", "lines": ["2026-11-03 09:00"]},
    {"control": "filed_at", "lines": ["2026-11-03 10:00"]},
    {"control": "description", "lines": DESCRIPTION},
    {"control": "containment", "lines": CONTAINMENT},
    {"control": "root_cause", "lines": ROOT_CAUSE},
]
TEAM = ["李四 QA", "王五 PE", "赵六"]
EIGHT_D_STEPS: list[dict[str, Any]] = [
    {"control": "team_members", "lines": TEAM},
    {"control": "description", "lines": DESCRIPTION},
    {"control": "d3_actions_1_action", "lines": ["全检库存", "隔离 100%"]},
    {"control": "d3_actions_1_owner", "lines": ["王五"]},
]
TYPED_OVER_STEPS: list[dict[str, Any]] = [
    {"control": "ticket_no", "lines": ["TS-9"]},
    {"control": "root_cause", "lines": ["root cause 电流不稳"], "select": "around"},
    {"control": "containment", "lines": ["隔离库存"], "select": "around"},
    {"control": "description", "lines": ["焊缝开裂", "第二行"], "select": "around"},
]
"""Inputs selected from outside and typed over: the Input field becomes plain text."""
CAPA_ISSUED = {"action_no": "CA-2026-0007", "source": "complaint", "customer": CUSTOMER,
               "raised_on": "2026-11-03", "problem": "\n".join(DESCRIPTION)}
CAPA_STEPS: list[dict[str, Any]] = [
    {"control": "containment", "lines": CONTAINMENT},
    {"control": "root_cause", "lines": ROOT_CAUSE},
    {"control": "action_owner", "lines": ["李工"]},
]
"""A corrective action issued pre-filled for its action, then worked on in Writer."""


@pytest.fixture(scope="module")
def typed(tmp_path_factory: pytest.TempPathFactory, office: OfficeFn,
          ) -> tuple[Workspace, dict[str, Path]]:
    """One Writer session: the complaint typed with each newline key, an 8D, and a complaint
    whose inputs were typed over from outside."""
    root = tmp_path_factory.mktemp("writer")
    ws = init_workspace(root / "ws")
    jobs, names = [], []
    for newline in NEWLINES:
        blank = issue_blank(ws, "complaint", root / f"complaint-{newline}.docx")
        steps = [{**step, "newline": newline} for step in COMPLAINT_STEPS]
        jobs.append({"open": blank, "save": root / f"typed-complaint-{newline}.docx",
                     "steps": steps})
        names.append(f"complaint {newline}")
    blank = issue_blank(ws, "8d-report", root / "8d.docx")
    jobs.append({"open": blank, "save": root / "typed-8d.docx", "steps": EIGHT_D_STEPS})
    names.append("8d-report")
    blank = issue_blank(ws, "complaint", root / "complaint-over.docx")
    jobs.append({"open": blank, "save": root / "typed-over.docx", "steps": TYPED_OVER_STEPS})
    names.append("complaint typed over")
    blank = issue_blank(ws, "corrective-action", root / "capa.docx", values=CAPA_ISSUED)
    jobs.append({"open": blank, "save": root / "typed-capa.docx", "steps": CAPA_STEPS})
    names.append("corrective-action")
    return ws, dict(zip(names, office(jobs), strict=True))


@pytest.mark.parametrize("newline", NEWLINES)
def test_every_line_typed_in_writer_is_read(typed: tuple[Workspace, dict[str, Path]],
                                            newline: str) -> None:
    ws, files = typed
    path = files[f"complaint {newline}"]
    report = validate_word_file(path, ws, today=dt.date(2026, 12, 1))
    assert report.flatten(["code", "field", "cell"]) == [
        ["REQUIRED", "category", "table 1 row 5 column 4"]]  # a drop-down, not typed into
    values, where, _ = extract_word(path, ws.registry.get("complaint"))
    assert {k: v for k, v in values.items() if v is not False} == {
        "ticket_no": "TS-9", "customer": CUSTOMER,
        "received_at": dt.datetime(2026, 11, 3, 9, 0),
        "filed_at": dt.datetime(2026, 11, 3, 10, 0),
        "description": "\n".join(DESCRIPTION), "containment": "\n".join(CONTAINMENT),
        "root_cause": "\n".join(ROOT_CAUSE)}
    assert where[("description",)] == ("document", "table 2 row 1 column 2")


def _pieces(path: Path, alias: str) -> list[list[str | None]]:
    """The ``w:t`` texts (None for a break, a tab for ``w:tab``) of each piece of a control."""
    with zipfile.ZipFile(path) as zf:
        root = etree.fromstring(zf.read("word/document.xml"))
    shown = {"t": None, "br": None, "tab": "\t"}
    return [[t.text if t.tag.endswith("}t") else shown[etree.QName(t).localname]
             for t in sdt.xpath("w:sdtContent//w:t|w:sdtContent//w:br|w:sdtContent//w:tab",
                                namespaces=NS)]
            for sdt in root.xpath(f"//w:sdt[w:sdtPr/w:alias/@w:val='{alias}']",
                                  namespaces=NS)]


def test_enter_and_shift_enter_are_saved_alike(typed: tuple[Workspace, dict[str, Path]],
                                               ) -> None:
    """Inside an input both keys put a line feed in the field; Writer saves it as below."""
    _, files = typed
    enter, shift = (_pieces(files[f"complaint {key}"], "description") for key in NEWLINES)
    assert enter == shift
    assert enter[0] == DESCRIPTION  # the value, one w:t per line, nothing between
    assert all(piece[-len(DESCRIPTION):] == DESCRIPTION for piece in enter)
    assert len(enter) > 1 and None in {t for piece in enter for t in piece}
    # text in one script is one piece; a tab is kept as w:tab
    assert _pieces(files["complaint enter"], "containment") == [
        ["isolate stock", "notify customer", "  sort 100%", "\t", "all"]]


def test_lines_typed_into_an_8d_are_read(typed: tuple[Workspace, dict[str, Path]]) -> None:
    ws, files = typed
    values, where, issues = extract_word(files["8d-report"], ws.registry.get("8d-report"))
    assert issues == []
    assert values["team_members"] == "\n".join(TEAM)
    assert values["description"] == "\n".join(DESCRIPTION)
    assert values["d3_actions"] == [{"action": "全检库存\n隔离 100%", "owner": "王五"}]
    assert where[("d3_actions", 0, "action")] == ("document", "table 5 row 2 column 2")


def test_an_input_typed_over_from_outside_is_read_or_refused(
        typed: tuple[Workspace, dict[str, Path]]) -> None:
    """Writer replaces the selected Input field by plain text and its bookmark keeps only the
    first word (or paragraph) of it: the text is read when all of it is inside the bookmark,
    and refused at the input when some runs beyond."""
    ws, files = typed
    path = files["complaint typed over"]
    report = validate_word_file(path, ws, today=dt.date(2026, 12, 1))
    assert [i for i in report.flatten(["code", "field", "cell"]) if i[0] != "REQUIRED"] == [
        ["INPUT_REPLACED", "description", "table 2 row 1 column 2"],
        ["INPUT_REPLACED", "root_cause", "table 2 row 3 column 2"]]
    values, _, _ = extract_word(path, ws.registry.get("complaint"))
    assert {k: v for k, v in values.items() if v is not False} == {
        "ticket_no": "TS-9", "containment": "隔离库存"}


def test_a_prefilled_corrective_action_typed_into_is_read(
        typed: tuple[Workspace, dict[str, Path]]) -> None:
    ws, files = typed
    form = ws.registry.get("corrective-action")
    values, _, issues = extract_word(files["corrective-action"], form)
    # Writer keeps the lines typed, but saves a pre-filled multi-line input as one line
    assert [(i.code, i.field) for i in issues] == [("LINE_BREAKS_LOST", "problem")]
    assert {k: v for k, v in values.items() if v is not False} == {
        **CAPA_ISSUED, "raised_on": dt.date(2026, 11, 3), "problem": "".join(DESCRIPTION),
        "containment": "\n".join(CONTAINMENT), "root_cause": "\n".join(ROOT_CAUSE),
        "action_owner": "李工"}
    report = validate_word_file(files["corrective-action"], ws, today=dt.date(2026, 12, 1))
    assert report.valid and report.scores is not None
    assert report.scores["status"] == "in_progress"
