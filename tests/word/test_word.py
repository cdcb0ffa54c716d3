"""Word forms: blanks with content controls, filling, reading back, validation, 8D and SLA rules.

Documents are built in code, filled programmatically (as a person would in Word), reopened and
read back; assertions are on issue codes, tags and positions, never on message text.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Callable
from copy import deepcopy
from pathlib import Path
from typing import Any

import docx
import pytest
from lxml import etree
from pydantic import ValidationError

from qmsforms.blanks import issue_blank
from qmsforms.forms.eightd import EightD
from qmsforms.identity import fingerprint
from qmsforms.issues import Report
from qmsforms.scoring.complaint import complaint_rules, eight_d_required
from qmsforms.word.annotate import BAD_FILL, annotate_word, locate
from qmsforms.word.blank import TABLE_ROWS, build_word_blank, table_bookmark
from qmsforms.word.fill import fill_word
from qmsforms.word.ooxml import ALL_PLACEHOLDERS, NS, W14_NS, w, xpath
from qmsforms.word.prefill import render_8d_from_complaint
from qmsforms.word.props import read_word_identity, word_properties, write_word_identity
from qmsforms.word.read import extract_word, read_word
from qmsforms.word.validate import validate_word, validate_word_file
from qmsforms.workspace import Workspace

from ..conftest import VALID

Convert = Callable[[Path, str], Path]
TEXT = "华东汽车 <select> A & B"
LONG = ("焊缝开裂 & <b>裂纹</b> " * 1200)[:19999] + "。"

COMPLAINT: dict[str, Any] = {
    "ticket_no": "TS-2026-001", "customer": TEXT, "customer_contact": "张三 13800000000",
    "channel": "email", "received_at": "2026-11-03 09:00", "filed_at": "2026-11-03 10:30",
    "urgent": True, "category": "quality", "quality_related": True, "part_name": "支架 Bracket",
    "part_no": "P-100 & co", "batch_no": "B-7", "qty_delivered": "1,000", "qty_complained": "12件",
    "qty_returned": "１２", "description": "焊缝开裂\n第二行 <select>",
    "containment": "隔离库存", "root_cause": "电流不稳", "corrective_action": "更换焊机",
    "responsible_dept": "生产部", "due_date": "2026/11/20", "closed_date": dt.date(2026, 11, 25),
    "customer_feedback": "满意 A & B", "handled_by": "李四", "verified_by": "王五",
    "approved_by": "赵六",
}
COMPLAINT_READ: dict[str, Any] = {
    **COMPLAINT, "received_at": "2026-11-03T09:00:00", "filed_at": "2026-11-03T10:30:00",
    "qty_delivered": 1000, "qty_complained": 12, "qty_returned": 12, "due_date": "2026-11-20",
    "closed_date": "2026-11-25",
}
"""COMPLAINT as validated data (``model_dump(mode="json")``)."""

EIGHT_D: dict[str, Any] = {
    "report_no": "8D-001", "complaint_no": "TS-2026-001", "customer": TEXT,
    "part_name": "支架", "part_no": "P-100", "batch_no": "B-7", "opened_date": "2026-11-03",
    "need_8d": True, "emergency_response": "隔离库存 & 通知客户",
    "team_leader": "张三", "team_members": "李四 QA, 王五 PE",
    "d1_owner": "张三", "d1_date": "2026-11-03", "d1_done": True,
    "description": LONG, "five_w_two_h": "What: crack <select>", "qty_complained": 12,
    "qty_delivered": 1000, "qty_returned": 12,
    "d2_owner": "李四", "d2_date": "2026-11-04", "d2_done": True,
    "d3_actions": [
        {"action": "全检库存 100%", "owner": "王五", "date": "2026-11-04", "effectiveness": "有效"},
        {"action": "Stop shipment <now>", "owner": "Li", "date": "2026-11-05",
         "effectiveness": None},
    ],
    "d3_owner": "王五", "d3_date": "2026-11-05", "d3_done": True,
    "occurrence_cause": "焊接电流不稳", "escape_cause": "检验未覆盖焊缝",
    "d4_owner": "张三", "d4_date": "2026-11-06", "d4_done": True,
    "permanent_actions": "更换焊机", "verification": "连续三批无缺陷",
    "d5_owner": "张三", "d5_date": "2026-11-08", "d5_done": True,
    "d6_actions": [{"action": "焊机更换", "owner": "赵六", "date": "2026-11-10", "result": "OK"}],
    "d6_owner": "赵六", "d6_date": "2026-11-10", "d6_done": True,
    "d7_actions": [
        {"action": "更新 PFMEA", "document": "fmea", "owner": "张三", "date": "2026-11-12"},
        {"action": "横向展开 A & B", "document": "similar_products", "owner": None,
         "date": None},
    ],
    "d7_owner": "张三", "d7_date": "2026-11-12", "d7_done": True,
    "closure_summary": "问题关闭", "recognition": "感谢团队",
    "d8_owner": "张三", "d8_date": "2026-11-15", "d8_done": True,
}
"""A complete, closed 8D, typed as the validated data reads back."""


def _issue(ws: Workspace, tmp_path: Path, form_id: str, data: dict[str, Any] | None = None,
           lang: str = "both", name: str | None = None) -> Path:
    path = issue_blank(ws, form_id, tmp_path / (name or f"{form_id}-{lang}.docx"),
                            lang=lang)
    if data is not None:
        fill_word(path, data, path)
    return path


def _xml(path: Path) -> Any:
    with zipfile.ZipFile(path) as zf:
        return etree.fromstring(zf.read("word/document.xml"))


def _validate(path: Path, ws: Workspace) -> Report:
    return validate_word_file(path, ws, today=dt.date(2026, 12, 1))


def _flat(report: Report) -> list[tuple[str, str | None]]:
    return [(i.code, i.field) for i in report.issues]


# -- the blank ------------------------------------------------------------------------------

@pytest.mark.parametrize("form_id", ["complaint", "8d-report", "corrective-action"])
def test_blank_carries_the_identity_as_custom_properties(ws: Workspace, tmp_path: Path,
                                                         form_id: str) -> None:
    path = _issue(ws, tmp_path, form_id)
    identity = read_word_identity(path)
    form = ws.registry.get(form_id)
    assert identity is not None
    assert (identity.form, identity.revision) == (form_id, form.revision)
    assert identity.fingerprint == fingerprint(form)
    uuid.UUID(identity.instance_id)
    assert "qmsforms.instance_id" in word_properties(path)
    other = _issue(ws, tmp_path, form_id, name="second.docx")
    assert read_word_identity(other).instance_id != identity.instance_id  # type: ignore[union-attr]


def test_blank_is_a4_with_control_block_and_page_footer(ws: Workspace, tmp_path: Path) -> None:
    path = _issue(ws, tmp_path, "8d-report")
    doc = docx.Document(str(path))
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    header = section.header._element
    text = "".join(t.text or "" for t in header.iter(w("w:t")))
    control = ws.config.control("8d-report")
    for expected in ("文件编号", "版本", "生效日期", "受控状态", "编制", "审核", "批准",
                     control.document_no, control.effective_date.isoformat(), "8D报告",
                     ws.config.company.name_zh):
        assert expected in text, expected
    footer = section.footer._element
    instructions = [t.text.strip() for t in footer.iter(w("w:instrText"))]
    assert instructions == ["PAGE", "NUMPAGES", "PAGE", "NUMPAGES"]
    footer_text = "".join(t.text or "" for t in footer.iter(w("w:t")))
    assert "第 " in footer_text and "Page " in footer_text


def test_blank_declares_w14_as_ignorable_and_uses_a_cjk_font(ws: Workspace,
                                                             tmp_path: Path) -> None:
    path = _issue(ws, tmp_path, "complaint")
    root = _xml(path)
    ignorable = root.get("{http://schemas.openxmlformats.org/markup-compatibility/2006}Ignorable")
    assert "w14" in ignorable.split()
    assert root.nsmap.get("w14") == W14_NS
    with zipfile.ZipFile(path) as zf:
        styles = etree.fromstring(zf.read("word/styles.xml"))
    fonts = styles.find(f"{w('w:docDefaults')}/{w('w:rPrDefault')}/{w('w:rPr')}/{w('w:rFonts')}")
    assert fonts.get(w("w:eastAsia"))


_KINDS = {"text": "w:text", "longtext": "w:text", "int": "w:text", "datetime": "w:text",
          "date": "w:date", "choice": "w:dropDownList", "bool": "w14:checkbox"}


@pytest.mark.parametrize("lang", ["both", "zh", "en"])
@pytest.mark.parametrize("form_id", ["complaint", "8d-report", "corrective-action"])
def test_every_input_is_a_tagged_bookmarked_control(ws: Workspace, tmp_path: Path, form_id: str,
                                                    lang: str) -> None:
    path = _issue(ws, tmp_path, form_id, lang=lang)
    root = _xml(path)
    sdts = root.xpath("//w:sdt", namespaces=NS)
    by_tag: dict[str, list[Any]] = {}
    for sdt in sdts:
        tag = sdt.xpath("string(w:sdtPr/w:tag/@w:val)", namespaces=NS)
        assert sdt.xpath("string(w:sdtPr/w:alias/@w:val)", namespaces=NS) == tag
        by_tag.setdefault(tag, []).append(sdt)
    bookmarks = set(root.xpath("//w:bookmarkStart/@w:name", namespaces=NS))
    for spec in ws.registry.get(form_id).fields:
        if spec.kind == "table":
            for column in spec.columns:
                cells = by_tag[f"{spec.name}.{column.name}"]
                assert len(cells) == TABLE_ROWS
                for row in range(1, TABLE_ROWS + 1):
                    assert table_bookmark(spec.name, row, column.name) in bookmarks
            continue
        assert len(by_tag[spec.name]) == 1, spec.name
        assert spec.name in bookmarks
        sdt = by_tag[spec.name][0]
        pr = sdt.find(w("w:sdtPr"))
        assert pr.find(w(_KINDS[spec.kind])) is not None, spec.name
        if spec.kind == "bool":
            assert pr.find(w("w:showingPlcHdr")) is None
            continue
        assert pr.find(w("w:showingPlcHdr")) is not None, spec.name
        if spec.kind == "longtext":
            assert pr.find(w("w:text")).get(w("w:multiLine")) == "1"
        if spec.kind == "date":
            assert pr.xpath("string(w:date/w:dateFormat/@w:val)", namespaces=NS) == "yyyy-MM-dd"
        if spec.kind == "choice":
            items = pr.xpath("w:dropDownList/w:listItem", namespaces=NS)
            values = [i.get(w("w:value")) for i in items if i.get(w("w:value"))]
            assert values == list(spec.choices)
            shown = [i.get(w("w:displayText")) for i in items[1:]]
            assert shown == spec.choice_labels(lang)


def test_blank_reads_back_empty(ws: Workspace, tmp_path: Path) -> None:
    path = _issue(ws, tmp_path, "8d-report")
    values, where, issues = extract_word(path, ws.registry.get("8d-report"))
    assert issues == []
    assert {k: v for k, v in values.items() if v not in (False, [])} == {}
    assert where[("complaint_no",)] == ("document", "table 1 row 1 column 4")


def test_required_fields_left_blank_are_located(ws: Workspace, tmp_path: Path) -> None:
    report = _validate(_issue(ws, tmp_path, "complaint"), ws)
    required = {(i.field, i.cell) for i in report.issues if i.code == "REQUIRED"}
    assert ("ticket_no", "table 1 row 1 column 2") in required
    assert {f for f, _ in required} == {"ticket_no", "customer", "received_at", "filed_at",
                                       "category", "description"}
    assert all(i.sheet == "document" for i in report.issues)


# -- filling and reading back ------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["both", "zh", "en"])
def test_complaint_round_trip_through_every_control_type(ws: Workspace, tmp_path: Path,
                                                         lang: str) -> None:
    path = _issue(ws, tmp_path, "complaint", COMPLAINT, lang=lang)
    report = _validate(path, ws)
    assert report.issues == []
    assert report.data == COMPLAINT_READ
    assert (report.form, report.revision) == ("complaint", "A")
    assert report.instance_id == read_word_identity(path).instance_id  # type: ignore[union-attr]


def test_8d_round_trip_with_tables_and_long_text(ws: Workspace, tmp_path: Path) -> None:
    path = _issue(ws, tmp_path, "8d-report", EIGHT_D)
    report = _validate(path, ws)
    assert report.issues == []
    assert report.data == EIGHT_D
    assert len(report.data["description"]) == 20000  # type: ignore[index]


def test_text_survives_escaping_and_line_breaks(ws: Workspace, tmp_path: Path) -> None:
    description = "第一行 <select> A & B\n第二行 \"quoted\" 'single'\n\tindented ]]> &amp;"
    path = _issue(ws, tmp_path, "complaint", {**COMPLAINT, "description": description})
    values, _, issues = extract_word(path, ws.registry.get("complaint"))
    assert issues == []
    assert values["description"] == description.strip()
    assert values["customer"] == TEXT


def test_control_characters_are_dropped_not_fatal(ws: Workspace, tmp_path: Path) -> None:
    path = _issue(ws, tmp_path, "complaint", {**COMPLAINT, "description": "A\x00B\x07C"})
    values, _, _ = extract_word(path, ws.registry.get("complaint"))
    assert values["description"] == "ABC"


def test_placeholder_text_counts_as_empty_even_without_the_flag(ws: Workspace,
                                                                tmp_path: Path) -> None:
    """LibreOffice drops ``showingPlcHdr`` and keeps the placeholder text."""
    path = _issue(ws, tmp_path, "complaint", {"customer": "C"})
    doc = docx.Document(str(path))
    for flag in doc.element.body.iter(w("w:showingPlcHdr")):
        flag.getparent().remove(flag)
    doc.save(str(path))
    values, _, issues = extract_word(path, ws.registry.get("complaint"))
    assert issues == []
    assert {k: v for k, v in values.items() if v is not False} == {"customer": "C"}


def test_dropdown_reads_the_choice_key_and_rejects_other_text(ws: Workspace,
                                                              tmp_path: Path) -> None:
    path = _issue(ws, tmp_path, "complaint", {**COMPLAINT, "channel": "邮件 E-mail",
                                              "category": "Something else"})
    report = _validate(path, ws)
    assert _flat(report) == [("NOT_A_CHOICE", "category")]
    assert report.issues[0].cell == "table 1 row 5 column 4"
    values, _, _ = extract_word(path, ws.registry.get("complaint"))
    assert values["channel"] == "email"


def test_bad_values_are_located_by_tag_and_position(ws: Workspace, tmp_path: Path) -> None:
    data = deepcopy(EIGHT_D)
    data["qty_complained"] = "twelve"
    data["d3_actions"][1]["date"] = "5/11/2026"
    data["d7_actions"][0]["action"] = "x" * 501
    report = _validate(_issue(ws, tmp_path, "8d-report", data), ws)
    assert report.flatten(["code", "field", "cell"]) == [
        ["NOT_A_NUMBER", "qty_complained", "table 4 row 3 column 2"],
        ["DATE_AMBIGUOUS", "d3_actions.date", "table 5 row 3 column 4"],
        ["TOO_LONG", "d7_actions.action", "table 11 row 2 column 2"],
    ]
    assert report.data is None


def test_blank_rows_are_ignored_and_extra_rows_are_read(ws: Workspace, tmp_path: Path) -> None:
    rows = [{"action": f"措施 {i}", "owner": "张三", "date": "2026-11-04"} for i in range(7)]
    path = _issue(ws, tmp_path, "8d-report", {"d3_actions": [rows[0]]})
    values, _, _ = extract_word(path, ws.registry.get("8d-report"))
    assert len(values["d3_actions"]) == 1
    path = _issue(ws, tmp_path, "8d-report", {"d3_actions": rows}, name="more.docx")
    values, where, _ = extract_word(path, ws.registry.get("8d-report"))
    assert [r["action"] for r in values["d3_actions"]] == [r["action"] for r in rows]
    assert where[("d3_actions", 6, "owner")] == ("document", "table 5 row 8 column 3")


def test_a_row_copied_in_word_is_read(ws: Workspace, tmp_path: Path) -> None:
    """Word's "insert row" copies the controls (tags included) but not the bookmarks."""
    path = _issue(ws, tmp_path, "8d-report", {"d6_actions": [{"action": "A1"}]})
    doc = docx.Document(str(path))
    tr = next(s for s in doc.element.body.iter(w("w:sdt"))
              if s.find(f"{w('w:sdtPr')}/{w('w:tag')}").get(w("w:val")) == "d6_actions.action"
              ).iterancestors(w("w:tr")).__next__()
    copy = deepcopy(tr)
    for mark in [*copy.iter(w("w:bookmarkStart")), *copy.iter(w("w:bookmarkEnd"))]:
        mark.getparent().remove(mark)
    copy.find(f".//{w('w:sdtContent')}//{w('w:t')}").text = "A2"
    tr.getparent()[-1].addnext(copy)
    doc.save(str(path))
    values, _, _ = extract_word(path, ws.registry.get("8d-report"))
    assert [r["action"] for r in values["d6_actions"]] == ["A1", "A2"]


def test_bookmarks_alone_bind_the_fields(ws: Workspace, tmp_path: Path) -> None:
    """With every tag and alias gone (as after a LibreOffice re-save) values still read."""
    path = _issue(ws, tmp_path, "8d-report", EIGHT_D)
    doc = docx.Document(str(path))
    for node in [*doc.element.body.iter(w("w:tag")), *doc.element.body.iter(w("w:alias"))]:
        node.getparent().remove(node)
    doc.save(str(path))
    report = _validate(path, ws)
    assert report.issues == []
    assert report.data == EIGHT_D


def test_a_deleted_control_is_not_bound(ws: Workspace, tmp_path: Path) -> None:
    path = _issue(ws, tmp_path, "complaint", COMPLAINT)
    doc = docx.Document(str(path))
    body = doc.element.body
    for sdt in list(body.iter(w("w:sdt"))):
        if sdt.find(f"{w('w:sdtPr')}/{w('w:tag')}").get(w("w:val")) == "part_no":
            sdt.getparent().remove(sdt)
    for mark in list(body.iter(w("w:bookmarkStart"))):
        if mark.get(w("w:name")) == "part_no":
            mark.getparent().remove(mark)
    doc.save(str(path))
    report = _validate(path, ws)
    assert _flat(report) == [("FIELD_NOT_BOUND", "part_no"), ("TEMPLATE_ALTERED", None)]


def test_fill_word_refuses_unknown_fields(ws: Workspace, tmp_path: Path) -> None:
    from qmsforms.issues import UsageError

    path = _issue(ws, tmp_path, "complaint")
    with pytest.raises(UsageError):
        fill_word(path, {"no_such_field": 1})
    with pytest.raises(UsageError):
        fill_word(path, {"urgent": "maybe"})


def test_build_word_blank_prefills_values(ws: Workspace) -> None:
    form = ws.registry.get("complaint")
    doc = build_word_blank(form, ws.config, "zh", values={"customer": "华东", "urgent": True})
    values, _, _ = extract_word(doc, form)
    assert (values["customer"], values["urgent"]) == ("华东", True)


def test_issue_word_blank_normalises_set_values(ws: Workspace, tmp_path: Path) -> None:
    path = issue_blank(ws, "complaint", tmp_path / "c.docx",
                            values={"received_at": "2026年11月3日 9:05", "category": "交付"})
    values, _, _ = extract_word(path, ws.registry.get("complaint"))
    assert values["received_at"] == dt.datetime(2026, 11, 3, 9, 5)
    assert values["category"] == "delivery"


def test_workspace_docx_template_is_used(ws: Workspace, tmp_path: Path) -> None:
    template = ws.templates_dir / "complaint.docx"
    doc = build_word_blank(ws.registry.get("complaint"), ws.config)
    doc.add_paragraph("本公司专用 LOGO")
    doc.save(str(template))
    path = issue_blank(ws, "complaint", tmp_path / "c.docx")
    text = "".join(_xml(path).itertext())
    assert "本公司专用 LOGO" in text
    assert read_word_identity(path).instance_id  # type: ignore[union-attr]


# -- identity and hostile input --------------------------------------------------------------

def test_docx_without_identity_is_rejected(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "plain.docx"
    document = docx.Document()
    document.add_paragraph("客户投诉")
    document.save(str(path))
    assert _validate(path, ws).codes() == ["NO_IDENTITY"]


def test_unknown_form_and_revision_and_altered_template(ws: Workspace, tmp_path: Path) -> None:
    from qmsforms.identity import Identity

    cases = {
        "unknown-form": (Identity("no-such-form", "A", "x", "i"), ["UNKNOWN_FORM"]),
        "unknown-revision": (Identity("complaint", "Z", "x", "i"), ["UNKNOWN_REVISION"]),
        "altered": (Identity("complaint", "A", "0" * 16, "i"), ["TEMPLATE_ALTERED"]),
    }
    for name, (identity, codes) in cases.items():
        path = _issue(ws, tmp_path, "complaint", COMPLAINT, name=f"{name}.docx")
        doc = docx.Document(str(path))
        write_word_identity(doc, identity)
        doc.save(str(path))
        assert _validate(path, ws).codes() == codes, name


def _rewrite(path: Path, member: str, edit: Callable[[bytes], bytes]) -> None:
    """Replace one part of a .docx by ``edit`` of it, keeping every other part as it was."""
    with zipfile.ZipFile(path) as src:
        parts = {info.filename: src.read(info.filename) for info in src.infolist()}
    parts[member] = edit(parts[member])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(name, data)


@pytest.mark.parametrize("inserted", [
    b"<!-- edited by hand -->", b"<?editor keep?>", b"\n    <!-- a -->\n    ",
    b'<x:note xmlns:x="urn:example">other</x:note>',
])
def test_what_an_editor_puts_inside_a_custom_property_is_skipped(ws: Workspace, tmp_path: Path,
                                                                 inserted: bytes) -> None:
    """A property's value is its vt: element, not whatever comes first inside it."""
    path = _issue(ws, tmp_path, "complaint", COMPLAINT)
    identity = read_word_identity(path)

    def edit(xml: bytes) -> bytes:
        xml = re.sub(rb"(<property [^>]*>)", lambda m: m.group(1) + inserted, xml)
        return xml.replace(b">complaint<", b">comp<!-- x -->laint<")

    _rewrite(path, "docProps/custom.xml", edit)
    assert read_word_identity(path) == identity
    report = _validate(path, ws)
    assert report.issues == [] and report.data == COMPLAINT_READ


@pytest.mark.parametrize(("writer", "code"), [
    ("write_text_as_docx", "NOT_AN_OFFICE_FILE"),
    ("write_xxe_docx", "UNSAFE_XML"),
    ("write_truncated_docx", "CORRUPT_FILE"),
    ("write_empty", "EMPTY_FILE"),
])
def test_hostile_files_are_refused_before_parsing(ws: Workspace, tmp_path: Path, writer: str,
                                                  code: str) -> None:
    blank = _issue(ws, tmp_path, "complaint", COMPLAINT)
    target = tmp_path / "hostile.docx"
    if writer == "write_text_as_docx":
        target.write_text("not a document", encoding="utf-8")
    elif writer == "write_empty":
        target.write_bytes(b"")
    elif writer == "write_truncated_docx":
        target.write_bytes(blank.read_bytes()[:2000])
    else:
        with zipfile.ZipFile(blank) as src, zipfile.ZipFile(target, "w") as dst:
            for item in src.infolist():
                data = src.read(item)
                if item.filename == "word/document.xml":
                    data = data.replace(
                        b"?>", b'?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>', 1)
                dst.writestr(item, data)
    assert _validate(target, ws).codes() == [code]


def test_validate_word_fills_a_given_report(ws: Workspace, tmp_path: Path) -> None:
    path = _issue(ws, tmp_path, "complaint", COMPLAINT)
    report = Report(path=str(path))
    form = validate_word(path, ws, report)
    assert form is not None and form.id == "complaint"
    assert report.valid and report.data == COMPLAINT_READ


def test_extract_word_finds_the_form_from_the_identity(ws: Workspace, tmp_path: Path) -> None:
    path = _issue(ws, tmp_path, "complaint", COMPLAINT)
    values, _, issues = extract_word(path, workspace=ws)
    assert issues == [] and values["ticket_no"] == "TS-2026-001"


def test_annotated_copy_shades_and_comments_every_bad_input(ws: Workspace,
                                                            tmp_path: Path) -> None:
    data = {**EIGHT_D, "qty_complained": "abc", "d4_done": True, "escape_cause": None}
    path = _issue(ws, tmp_path, "8d-report", data)
    report = _validate(path, ws)
    assert _flat(report) == [("NOT_A_NUMBER", "qty_complained"),
                             ("STAGE_INCOMPLETE", "escape_cause")]
    out = annotate_word(path, report, tmp_path / "annotated.docx")
    assert out is not None
    doc = docx.Document(str(out))
    assert len(list(doc.comments)) == 2
    for issue in report.issues:
        (cell,) = locate(doc, issue.cell or "")
        assert xpath(cell, "string(w:tcPr/w:shd/@w:fill)") == BAD_FILL
    assert _validate(out, ws).codes() == report.codes()  # still reads the same


# -- complaint rules (SPEC §4.4) -------------------------------------------------------------

@pytest.mark.parametrize(("urgent", "minutes", "met"), [
    (None, 0, True), (None, 120, True), (None, 121, False), (False, 120, True),
    (True, 60, True), (True, 61, False), ("是", 61, False),
])
def test_sla_boundaries(urgent: Any, minutes: int, met: bool) -> None:
    received = dt.datetime(2026, 11, 3, 9, 0)
    data = {"received_at": received, "filed_at": received + dt.timedelta(minutes=minutes),
            "urgent": urgent, "category": "delivery"}
    rules = complaint_rules(data)
    assert rules["sla_met"] is met
    assert rules["sla_hours"] == (1 if urgent in (True, "是") else 2)
    assert rules["filing_minutes"] == minutes


def test_sla_from_record_json_and_missing_times() -> None:
    rules = complaint_rules({"received_at": "2026-11-03T09:00:00",
                             "filed_at": "2026-11-03T11:00:00"})
    assert rules["sla_met"] is True
    assert complaint_rules({"received_at": "2026-11-03T09:00:00"})["sla_met"] is None


@pytest.mark.parametrize(("quality_related", "category", "required"), [
    (True, "delivery", True), (False, "quality", False), (None, "quality", True),
    (None, "delivery", False), ("是", "service", True),
])
def test_eight_d_required(quality_related: Any, category: str, required: bool) -> None:
    data = {"quality_related": quality_related, "category": category}
    assert eight_d_required(data) is required
    assert complaint_rules(data)["eight_d_required"] is required


# -- staged 8D validation (SPEC §4.5) -----------------------------------------------------------

def _errors(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as info:
        EightD.model_validate(data)
    return [(e["type"], e["ctx"]["field"]) for e in info.value.errors()]


def test_complete_8d_is_valid_and_a_fresh_one_too() -> None:
    EightD.model_validate(EIGHT_D)
    EightD.model_validate({"complaint_no": "1", "customer": "C", "opened_date": "2026-11-03"})


def test_a_discipline_needs_the_ones_before_it_done() -> None:
    errors = _errors({**EIGHT_D, "d2_done": False, "d8_done": False})
    assert errors == [("STAGE_ORDER", f"d{n}_done") for n in range(3, 8)]


def test_closure_needs_every_discipline() -> None:
    assert _errors({**EIGHT_D, "d5_done": False}) == [
        ("STAGE_ORDER", "d6_done"), ("STAGE_ORDER", "d7_done"),
        ("CLOSURE_INCOMPLETE", "d8_done")]


def test_d4_done_needs_occurrence_and_escape_cause() -> None:
    assert _errors({**EIGHT_D, "occurrence_cause": None, "escape_cause": ""}) == [
        ("STAGE_INCOMPLETE", "occurrence_cause"), ("STAGE_INCOMPLETE", "escape_cause")]


def test_done_needs_content_owner_and_date() -> None:
    assert _errors({**EIGHT_D, "d3_actions": [], "d6_owner": None, "d8_date": None}) == [
        ("STAGE_INCOMPLETE", "d3_actions"), ("STAGE_INCOMPLETE", "d6_owner"),
        ("STAGE_INCOMPLETE", "d8_date")]


def test_discipline_dates_never_go_backwards() -> None:
    assert _errors({**EIGHT_D, "d1_date": "2026-11-02", "d3_date": "2026-11-03"}) == [
        ("DATE_ORDER", "d1_date"), ("DATE_ORDER", "d3_date")]
    # an open discipline without a date does not break the chain
    EightD.model_validate({**EIGHT_D, "d8_done": False, "d8_date": None,
                           "d7_date": "2026-11-12"})


def test_staged_errors_are_located_in_the_word_file(ws: Workspace, tmp_path: Path) -> None:
    data = {**EIGHT_D, "d2_done": False, "d4_date": "2026-11-01", "d8_done": True}
    report = _validate(_issue(ws, tmp_path, "8d-report", data), ws)
    assert report.flatten(["code", "field", "cell"]) == [
        ["STAGE_ORDER", "d3_done", "table 6 row 1 column 6"],
        ["STAGE_ORDER", "d4_done", "table 7 row 3 column 6"],
        ["STAGE_ORDER", "d5_done", "table 8 row 3 column 6"],
        ["STAGE_ORDER", "d6_done", "table 10 row 1 column 6"],
        ["STAGE_ORDER", "d7_done", "table 12 row 1 column 6"],
        ["CLOSURE_INCOMPLETE", "d8_done", "table 13 row 3 column 6"],
        ["DATE_ORDER", "d4_date", "table 7 row 3 column 4"],
    ]


# -- 8D from a complaint ---------------------------------------------------------------------

def test_8d_from_complaint_carries_the_complaint(ws: Workspace, tmp_path: Path) -> None:
    complaint = {**COMPLAINT_READ, "description": LONG[:19000] + "\n第二行 <select> A & B"}
    record = {"record_id": "R-42", "form": "complaint", "revision": "A", "data": complaint}
    path = render_8d_from_complaint(ws, record, tmp_path / "8d.docx",
                                    opened=dt.date(2026, 11, 4))
    values, _, issues = extract_word(path, ws.registry.get("8d-report"))
    assert issues == []
    assert {k: v for k, v in values.items() if v not in (False, [])} == {
        "complaint_no": "TS-2026-001", "customer": TEXT, "part_name": "支架 Bracket",
        "part_no": "P-100 & co", "batch_no": "B-7", "opened_date": dt.date(2026, 11, 4),
        "need_8d": True, "description": complaint["description"], "qty_complained": 12,
        "qty_delivered": 1000, "qty_returned": 12, "d3_actions": [{"action": "隔离库存"}],
    }
    props = word_properties(path)
    assert props["qmsforms.source_record"] == "R-42"
    assert props["qmsforms.form"] == "8d-report"
    uuid.UUID(props["qmsforms.instance_id"])
    root = _xml(path)
    leader = root.xpath("//w:sdt[w:sdtPr/w:tag/@w:val='team_leader']", namespaces=NS)[0]
    assert leader.find(f"{w('w:sdtPr')}/{w('w:showingPlcHdr')}") is not None
    report = _validate(path, ws)
    assert report.valid, report.codes()


def test_8d_from_bare_complaint_data_without_quality(ws: Workspace, tmp_path: Path) -> None:
    data = {**VALID["complaint"], "category": "delivery", "customer": "A & B <c>"}
    path = render_8d_from_complaint(ws, data, tmp_path / "8d.docx")
    values, _, _ = extract_word(path, ws.registry.get("8d-report"))
    assert values["need_8d"] is False
    assert values["customer"] == "A & B <c>"
    assert values["opened_date"] == dt.date(2026, 11, 3)  # the day it was received
    assert word_properties(path)["qmsforms.source_record"] == "-"


def test_8d_from_complaint_carries_the_containment_into_d3(ws: Workspace,
                                                            tmp_path: Path) -> None:
    lines = ["隔离库存 <select> A & B", "全检 100%", "x" * 480]
    data = {**COMPLAINT_READ, "containment": "\r\n".join([lines[0], "", *lines[1:]]) + "\n"}
    path = render_8d_from_complaint(ws, data, tmp_path / "8d.docx")
    values, _, issues = extract_word(path, ws.registry.get("8d-report"))
    assert issues == []
    assert values["d3_actions"] == [{"action": line} for line in lines]
    assert values["opened_date"] == dt.date(2026, 11, 3)
    assert _validate(path, ws).valid


def test_8d_without_a_readable_received_date_opens_today(ws: Workspace, tmp_path: Path) -> None:
    from qmsforms.word.prefill import eight_d_values, received_on

    assert received_on({"received_at": "not a date"}) is None
    assert received_on({"received_at": dt.datetime(2026, 11, 3, 23, 59)}) == dt.date(2026, 11, 3)
    assert eight_d_values({"received_at": None})["opened_date"] == dt.date.today()
    assert eight_d_values({"received_at": "2026-11-03T09:00:00"},
                          opened=dt.date(2026, 11, 5))["opened_date"] == dt.date(2026, 11, 5)


def test_8d_from_a_record_of_another_form_is_refused(ws: Workspace, tmp_path: Path) -> None:
    from qmsforms.issues import UsageError

    with pytest.raises(UsageError):
        render_8d_from_complaint(ws, {"form": "shipping-list", "data": {}}, tmp_path / "x.docx")


# -- LibreOffice ----------------------------------------------------------------------------

LO_8D = {**EIGHT_D, "description": ("焊缝开裂 <select> A & B " * 50).strip(),
         "five_w_two_h": "What 什么: crack; Where 哪里: weld"}
"""EIGHT_D without line breaks: LibreOffice 7.4 keeps everything else of a filled 8D."""


@pytest.mark.libreoffice
def test_libreoffice_resave_keeps_a_filled_8d(ws: Workspace, tmp_path: Path,
                                              soffice: Convert) -> None:
    path = _issue(ws, tmp_path, "8d-report", LO_8D)
    resaved = soffice(path, "docx")
    root = _xml(resaved)
    assert not root.xpath("//w:sdtPr/w:tag", namespaces=NS)  # what makes the fallback needed
    report = _validate(resaved, ws)
    assert report.issues == []
    assert report.data == LO_8D
    assert report.instance_id == read_word_identity(path).instance_id  # type: ignore[union-attr]
    assert read_word(resaved, ws.registry.get("8d-report")).producer.startswith("LibreOffice")


@pytest.mark.libreoffice
def test_libreoffice_resave_keeps_a_filled_complaint(ws: Workspace, tmp_path: Path,
                                                     soffice: Convert) -> None:
    data = {**COMPLAINT, "description": "焊缝开裂 A & B <select>"}
    resaved = soffice(_issue(ws, tmp_path, "complaint", data, lang="zh"), "docx")
    report = _validate(resaved, ws)
    assert report.issues == []
    assert report.data == {**COMPLAINT_READ, "description": data["description"]}


@pytest.mark.libreoffice
def test_libreoffice_resaved_blank_still_reads_empty(ws: Workspace, tmp_path: Path,
                                                     soffice: Convert) -> None:
    blank = _issue(ws, tmp_path, "complaint", lang="en")
    before = _validate(blank, ws).flatten(["code", "field", "cell"])
    resaved = soffice(blank, "docx")
    assert _validate(resaved, ws).flatten(["code", "field", "cell"]) == before


@pytest.mark.libreoffice
def test_libreoffice_loses_line_breaks_and_says_so(ws: Workspace, tmp_path: Path,
                                                   soffice: Convert) -> None:
    data = {**LO_8D, "emergency_response": "隔离库存\n通知客户"}
    resaved = soffice(_issue(ws, tmp_path, "8d-report", data), "docx")
    report = _validate(resaved, ws)
    assert _flat(report) == [("LINE_BREAKS_LOST", "emergency_response")]
    assert report.valid
    assert report.data["emergency_response"] == "隔离库存通知客户"  # type: ignore[index]


@pytest.mark.libreoffice
def test_word_forms_print_on_a4_with_page_numbers(ws: Workspace, tmp_path: Path,
                                                  soffice: Convert) -> None:
    from ..test_print import is_a4_portrait, page_text, pdf_pages

    for form_id, data in (("complaint", COMPLAINT), ("8d-report", EIGHT_D)):
        pdf = soffice(_issue(ws, tmp_path, form_id, data), "pdf")
        pages = pdf_pages(pdf)
        assert all(is_a4_portrait(page) for page in pages), form_id
        count = len(pages)
        for number in range(1, count + 1):
            text = page_text(pdf, number)
            assert f"第 {number} 页 共 {count} 页" in text
            assert f"Page {number} of {count}" in text
            assert ws.config.control(form_id).document_no in text


def test_reading_a_python_docx_document_directly(ws: Workspace) -> None:
    form = ws.registry.get("8d-report")
    doc = build_word_blank(form, ws.config)
    fill_word(doc, {"complaint_no": "X", "customer": "C", "opened_date": dt.date(2026, 1, 2)})
    buffer = io.BytesIO()
    doc.save(buffer)
    for source in (doc, buffer.getvalue()):
        values, _, _ = extract_word(source, form)
        assert values["opened_date"] == dt.date(2026, 1, 2)
    assert not any(text in ALL_PLACEHOLDERS for text in ("C", "X"))


_TYPE_MACRO = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1"
 script:language="StarBasic">
Sub TypeInto(inPath As String, outPath As String, names As String, values As String)
  Dim args(0) As New com.sun.star.beans.PropertyValue
  args(0).Name = &quot;Hidden&quot;
  args(0).Value = True
  doc = StarDesktop.loadComponentFromURL(ConvertToURL(inPath), &quot;_blank&quot;, 0, args())
  n = Split(names, &quot;|&quot;)
  v = Split(values, &quot;|&quot;)
  For i = 0 To UBound(n)
    doc.getBookmarks().getByName(n(i)).getAnchor().setString(v(i))
  Next i
  Dim sargs(0) As New com.sun.star.beans.PropertyValue
  sargs(0).Name = &quot;FilterName&quot;
  sargs(0).Value = &quot;MS Word 2007 XML&quot;
  doc.storeToURL(ConvertToURL(outPath), sargs())
  doc.close(True)
End Sub
</script:module>
"""

TypeFn = Callable[[Path, dict[str, str]], Path]


@pytest.fixture(scope="module")
def lo_type(tmp_path_factory: pytest.TempPathFactory, soffice: Convert) -> TypeFn:
    """Type text into a document's bookmarked fields *in LibreOffice* and save it as .docx.

    Runs a Basic macro (LibreOffice's own API, as a user's typing would) from a private
    profile of this module; ``soffice`` is only requested so the test skips without
    LibreOffice.
    """
    import shutil
    import subprocess

    binary = shutil.which("soffice") or shutil.which("libreoffice")
    assert binary is not None
    root = tmp_path_factory.mktemp("lo-type")
    profile = root / "profile"
    seed = root / "seed.docx"
    docx.Document().save(str(seed))
    subprocess.run([binary, f"-env:UserInstallation={profile.as_uri()}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(root / "seed-out"), str(seed)],
                   capture_output=True, timeout=180, check=False)
    module = profile / "user" / "basic" / "Standard" / "Module1.xba"
    if not module.is_file():
        pytest.fail("the LibreOffice profile was not initialised")
    module.write_text(_TYPE_MACRO, encoding="utf-8")

    def type_into(path: Path, values: dict[str, str]) -> Path:
        out = root / f"typed-{uuid.uuid4().hex[:8]}.docx"
        args = ",".join(f'"{x}"' for x in (path, out, "|".join(values), "|".join(values.values())))
        subprocess.run([binary, f"-env:UserInstallation={profile.as_uri()}", "--headless",
                        f"macro:///Standard.Module1.TypeInto({args})"],
                       capture_output=True, timeout=180, check=False)
        if not out.is_file():
            raise AssertionError("LibreOffice produced nothing")
        return out

    return type_into


@pytest.mark.libreoffice
def test_text_typed_in_libreoffice_reads_back(ws: Workspace, tmp_path: Path,
                                              lo_type: TypeFn) -> None:
    blank = _issue(ws, tmp_path, "complaint")
    typed = {"ticket_no": "TS-9", "customer": TEXT, "received_at": "2026-11-03 09:00",
             "filed_at": "2026-11-03 10:00", "qty_complained": "12件",
             "description": "焊缝开裂 crack 第二段 A & B"}
    filled = lo_type(blank, typed)
    report = _validate(filled, ws)
    assert _flat(report) == [("REQUIRED", "category")]
    values, _, _ = extract_word(filled, ws.registry.get("complaint"))
    assert {k: v for k, v in values.items() if v is not False} == {
        "ticket_no": "TS-9", "customer": TEXT, "received_at": dt.datetime(2026, 11, 3, 9, 0),
        "filed_at": dt.datetime(2026, 11, 3, 10, 0), "qty_complained": 12,
        "description": "焊缝开裂 crack 第二段 A & B"}


@pytest.mark.parametrize("form_id", sorted(VALID))
def test_every_form_can_be_issued_filled_and_read_in_word(ws: Workspace, tmp_path: Path,
                                                          form_id: str) -> None:
    """Word is not only for complaints and 8Ds: any form lays out and reads back."""
    path = _issue(ws, tmp_path, form_id, VALID[form_id])
    report = _validate(path, ws)
    assert report.issues == []
    assert report.valid and report.data is not None


def test_block_and_cell_level_controls_are_read(ws: Workspace, tmp_path: Path) -> None:
    """Word lets users (and other tools) wrap whole paragraphs or cells in a control."""
    path = _issue(ws, tmp_path, "complaint", COMPLAINT)
    doc = docx.Document(str(path))
    body = doc.element.body

    def control(tag: str) -> Any:
        return next(s for s in body.iter(w("w:sdt"))
                    if s.find(f"{w('w:sdtPr')}/{w('w:tag')}").get(w("w:val")) == tag)

    def wrap(node: Any, tag: str) -> None:
        outer = etree.SubElement(node.getparent(), w("w:sdt"))
        node.addprevious(outer)
        pr = etree.SubElement(outer, w("w:sdtPr"))
        etree.SubElement(pr, w("w:tag")).set(w("w:val"), tag)
        etree.SubElement(outer, w("w:sdtContent")).append(node)

    # block level: the cell's paragraph, now two paragraphs, inside a control
    old = control("containment")
    paragraph = next(old.iterancestors(w("w:p")))
    old.getparent().replace(old, deepcopy(old.find(w("w:sdtContent"))[0]))
    second = deepcopy(paragraph)
    second.find(f".//{w('w:t')}").text = "第二段"
    paragraph.addnext(second)
    wrap(paragraph, "containment")
    paragraph.getparent().getparent().find(w("w:sdtContent")).append(second)
    # cell level: the whole value cell inside a control
    old = control("root_cause")
    cell = next(old.iterancestors(w("w:tc")))
    old.getparent().replace(old, deepcopy(old.find(w("w:sdtContent"))[0]))
    wrap(cell, "root_cause")
    doc.save(str(path))
    values, where, issues = extract_word(path, ws.registry.get("complaint"))
    assert issues == []
    assert values["containment"] == "隔离库存\n第二段"
    assert values["root_cause"] == "电流不稳"
    assert where[("root_cause",)] == ("document", "table 2 row 3 column 2")


def test_8d_from_complaint_with_template_syntax_in_config_and_data(ws: Workspace,
                                                                   tmp_path: Path) -> None:
    """docxtpl renders the whole document: braces in the blank's text or the data are text."""
    config = ws.config.model_copy(deep=True)
    config.company.name_zh = "{{ 公司 }} {% if x %} {#"
    ws.__dict__["config"] = config
    data = {**VALID["complaint"], "description": "{{ 7*7 }} {% raw %} {# c #} }}"}
    path = render_8d_from_complaint(ws, data, tmp_path / "8d.docx")
    values, _, _ = extract_word(path, ws.registry.get("8d-report"))
    assert values["description"] == data["description"]
    header = docx.Document(str(path)).sections[0].header._element
    text = "".join(t.text or "" for t in header.iter(w("w:t")))
    assert "{{ 公司 }} {% if x %}" in text


# -- multi-line text as LibreOffice 7.4 writes it ----------------------------------------------

MULTI_LINE = "焊缝开裂 crack\n第二行 A & B <x>\nthird 三"
MULTI_LINE_PORTIONS = ["焊缝开裂 ", "crack\n", "第二行 ", "A & B <x>\nthird ", "三"]
"""MULTI_LINE cut where LibreOffice cuts it into pieces (script runs), as measured."""


def _as_libreoffice_writes(sdt: Any, value: str, portions: list[str] | None) -> None:
    """Replace a control by what LibreOffice 7.4 saves for ``value`` typed in Writer.

    As measured (tests/word/test_clients_writer.py types it for real): no tag and no placeholder
    flag; a piece holding the value alone, one piece per portion showing it (line breaks as
    ``w:br``) followed by the value, and the value alone again; the value is one ``w:t`` per
    line with nothing between them. Text in one script (``portions`` None) is one piece.
    """
    pr = sdt.find(w("w:sdtPr"))
    for node in [*pr.findall(w("w:tag")), *pr.findall(w("w:showingPlcHdr"))]:
        pr.remove(node)

    def piece(shown: str) -> Any:
        new = deepcopy(sdt)
        content = new.find(w("w:sdtContent"))
        for child in list(content):
            content.remove(child)
        run = etree.SubElement(content, w("w:r"))
        for i, part in enumerate(shown.split("\n") if shown else []):
            if i:
                etree.SubElement(run, w("w:br"))
            if part:
                etree.SubElement(run, w("w:t")).text = part
        for line in value.split("\n"):
            etree.SubElement(run, w("w:t")).text = line
        return new

    shown = [] if portions is None else ["", *portions, ""]
    pieces = [piece(p) for p in shown] if shown else [piece("")]
    for new in reversed(pieces):
        sdt.addnext(new)
    sdt.getparent().remove(sdt)


def _control(doc: Any, tag: str, index: int = 0) -> Any:
    return [s for s in doc.element.body.iter(w("w:sdt"))
            if s.find(f"{w('w:sdtPr')}/{w('w:tag')}") is not None
            and s.find(f"{w('w:sdtPr')}/{w('w:tag')}").get(w("w:val")) == tag][index]


def test_every_line_libreoffice_writes_is_read(ws: Workspace, tmp_path: Path) -> None:
    path = _issue(ws, tmp_path, "complaint", COMPLAINT)
    doc = docx.Document(str(path))
    _as_libreoffice_writes(_control(doc, "description"), MULTI_LINE, MULTI_LINE_PORTIONS)
    _as_libreoffice_writes(_control(doc, "containment"), "abc\ndef\n  ghi\tx", None)
    _as_libreoffice_writes(_control(doc, "root_cause"), "电流不稳\n第二行",
                           ["电流不稳", "\n", "第二行"])
    _as_libreoffice_writes(_control(doc, "customer"), TEXT, ["华东汽车 ", "<select> A & B"])
    doc.save(str(path))
    report = _validate(path, ws)
    assert report.issues == []
    assert report.data == {**COMPLAINT_READ, "description": MULTI_LINE,
                           "containment": "abc\ndef\n  ghi\tx", "root_cause": "电流不稳\n第二行"}


def test_every_line_of_a_libreoffice_table_cell_is_read(ws: Workspace, tmp_path: Path) -> None:
    path = _issue(ws, tmp_path, "8d-report", {"d3_actions": [{"action": "x", "owner": "王五"}]})
    doc = docx.Document(str(path))
    _as_libreoffice_writes(_control(doc, "d3_actions.action"), "全检\n隔离", ["全检", "\n", "隔离"])
    _as_libreoffice_writes(_control(doc, "team_members"), MULTI_LINE, MULTI_LINE_PORTIONS)
    for tag in list(doc.element.body.iter(w("w:tag"))):  # LibreOffice drops every tag
        tag.getparent().remove(tag)
    doc.save(str(path))
    values, where, issues = extract_word(path, ws.registry.get("8d-report"))
    assert issues == []
    assert values["d3_actions"] == [{"action": "全检\n隔离", "owner": "王五"}]
    assert values["team_members"] == MULTI_LINE
    assert where[("d3_actions", 0, "action")] == ("document", "table 5 row 2 column 2")


def test_multi_line_text_reads_the_same_from_every_client(ws: Workspace, tmp_path: Path,
                                                          make_filled: Callable[..., Path]
                                                          ) -> None:
    """Excel keeps the lines of a cell with ``\\n``; Word, a script and Writer must agree."""
    from qmsforms.validate import validate_file

    data = {**VALID["complaint"], "description": MULTI_LINE}
    excel = validate_file(make_filled("complaint", data), ws)
    word = _validate(_issue(ws, tmp_path, "complaint", data), ws)
    path = _issue(ws, tmp_path, "complaint", data, name="writer.docx")
    doc = docx.Document(str(path))
    _as_libreoffice_writes(_control(doc, "description"), MULTI_LINE, MULTI_LINE_PORTIONS)
    doc.save(str(path))
    writer = _validate(path, ws)
    assert excel.valid and word.valid and writer.valid
    assert excel.data["description"] == MULTI_LINE  # type: ignore[index]
    assert word.data == writer.data
    assert word.data["description"] == MULTI_LINE  # type: ignore[index]


# -- a script that leaves the placeholder flag on ----------------------------------------------

def _script_fill(path: Path, data: dict[str, Any]) -> None:
    """Fill controls the way a python-docx script does: find the control by tag, replace the
    text of its run(s), tick a check box; ``w:showingPlcHdr`` is left where it was."""
    from docx.text.run import Run

    doc = docx.Document(str(path))
    for name, value in data.items():
        rows = value if isinstance(value, list) else [{None: value}]
        for index, row in enumerate(rows):
            for column, cell in row.items():
                if cell is None:
                    continue
                sdt = _control(doc, name if column is None else f"{name}.{column}", index)
                checkbox = sdt.find(f"{w('w:sdtPr')}/{w('w14:checkbox')}/{w('w14:checked')}")
                if checkbox is not None:
                    checkbox.set(w("w14:val"), "1" if cell else "0")
                    cell = "\u2612" if cell else "\u2610"
                runs = sdt.find(w("w:sdtContent")).findall(w("w:r"))
                Run(runs[0], None).text = str(cell)
                for run in runs[1:]:
                    run.getparent().remove(run)
    doc.save(str(path))


def _flags(path: Path) -> int:
    return len(_xml(path).xpath("//w:sdtPr/w:showingPlcHdr", namespaces=NS))


def test_a_script_leaving_the_placeholder_flag_on_is_read(ws: Workspace, tmp_path: Path) -> None:
    path = _issue(ws, tmp_path, "complaint")
    flags = _flags(path)
    data = {**COMPLAINT, "channel": "邮件 E-mail", "category": "产品质量 Product quality",
            "closed_date": "2026-11-25"}
    _script_fill(path, data)
    assert _flags(path) == flags  # every flag still on
    report = _validate(path, ws)
    assert report.issues == []
    assert report.data == COMPLAINT_READ


def test_a_script_leaving_the_flag_on_in_an_8d_is_read(ws: Workspace, tmp_path: Path) -> None:
    data = deepcopy(EIGHT_D)
    data["team_members"] = "李四 QA\n王五 PE"
    data["d7_actions"][0]["document"] = "FMEA FMEA"
    data["d7_actions"][1]["document"] = "类似产品横向展开 Similar products"
    path = _issue(ws, tmp_path, "8d-report")
    _script_fill(path, data)
    report = _validate(path, ws)
    assert report.issues == []
    assert report.data == {**EIGHT_D, "team_members": "李四 QA\n王五 PE"}


@pytest.mark.parametrize("lang", ["both", "zh", "en"])
def test_placeholder_text_with_the_flag_on_is_empty(ws: Workspace, tmp_path: Path,
                                                    lang: str) -> None:
    """What a script writes back unchanged, in any language's placeholder, stays empty."""
    path = _issue(ws, tmp_path, "complaint", lang=lang)
    _script_fill(path, {"ticket_no": "TS-1", "customer": "点击填写 / Enter",
                        "description": " Enter ", "received_at": "yyyy-mm-dd hh:mm",
                        "category": "请选择", "due_date": "Pick a date"})
    report = _validate(path, ws)
    assert report.flatten(["code", "field", "cell"]) == [
        ["REQUIRED", "customer", "table 1 row 2 column 2"],
        ["REQUIRED", "received_at", "table 1 row 4 column 2"],
        ["REQUIRED", "filed_at", "table 1 row 4 column 4"],
        ["REQUIRED", "category", "table 1 row 5 column 4"],
        ["REQUIRED", "description", "table 2 row 1 column 2"],
    ]


GLOSSARY_XML = (
    '<w:glossaryDocument xmlns:w="{ns}"><w:docParts><w:docPart><w:docPartPr>'
    '<w:name w:val="CustomerHint"/></w:docPartPr><w:docPartBody><w:p><w:r>'
    '<w:t>请输入客户全称</w:t></w:r></w:p></w:docPartBody></w:docPart></w:docParts>'
    '</w:glossaryDocument>').format(ns=NS["w"])


def test_a_placeholder_edited_in_word_is_empty_and_other_text_a_value(ws: Workspace,
                                                                      tmp_path: Path) -> None:
    """Word keeps a placeholder a template author edited in its glossary document."""
    from docx.opc.constants import CONTENT_TYPE as CT
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part

    form = ws.registry.get("complaint")
    doc = build_word_blank(form, ws.config)
    glossary = Part(PackURI("/word/glossary/document.xml"), CT.WML_DOCUMENT_GLOSSARY,
                    GLOSSARY_XML.encode(), doc.part.package)
    doc.part.relate_to(glossary, RT.GLOSSARY_DOCUMENT)
    for tag in ("customer", "customer_contact"):
        sdt = _control(doc, tag)
        pr = sdt.find(w("w:sdtPr"))
        etree.SubElement(etree.SubElement(pr, w("w:placeholder")),
                         w("w:docPart")).set(w("w:val"), "CustomerHint")
        sdt.find(f".//{w('w:t')}").text = "请输入客户全称"
    _control(doc, "customer_contact").find(f".//{w('w:t')}").text = "张三"
    path = tmp_path / "edited.docx"
    doc.save(str(path))
    for source in (path, doc):
        values, _, _ = extract_word(source, form)
        assert "customer" not in values
        assert values["customer_contact"] == "张三"


# -- one input, several controls ----------------------------------------------------------------

def _set_tag(sdt: Any, value: str | None) -> None:
    """Give a control another tag (None: no tag), as Word's Properties dialog does."""
    node = sdt.find(f"{w('w:sdtPr')}/{w('w:tag')}")
    if value is None:
        node.getparent().remove(node)
    else:
        node.set(w("w:val"), value)


def _set_text(sdt: Any, text: str) -> None:
    texts = sdt.find(w("w:sdtContent")).findall(f".//{w('w:t')}")
    texts[0].text = text
    for extra in texts[1:]:
        extra.getparent().remove(extra)


def _paragraph_with(doc: Any, sdt: Any, first: bool) -> int:
    """Put ``sdt`` in a new paragraph at the start or the end of the body; its number."""
    body = doc.element.body
    paragraph = etree.Element(w("w:p"))
    paragraph.append(sdt)
    if first:
        body.insert(0, paragraph)
    else:
        body.find(w("w:sectPr")).addprevious(paragraph)
    return list(body.iterchildren(w("w:p"))).index(paragraph) + 1


@pytest.mark.parametrize("where", ["same cell", "before", "after"])
def test_a_copied_control_showing_other_text_is_refused_at_both(ws: Workspace, tmp_path: Path,
                                                                where: str) -> None:
    """A user copies the ticket number control and changes the copy: which one is meant?"""
    path = _issue(ws, tmp_path, "complaint", COMPLAINT)
    doc = docx.Document(str(path))
    original = _control(doc, "ticket_no")
    copy = deepcopy(original)
    _set_text(copy, "副本 TS-2026-047")
    if where == "same cell":
        original.addnext(copy)
        elsewhere = "table 1 row 1 column 2"
    else:
        elsewhere = f"paragraph {_paragraph_with(doc, copy, where == 'before')}"
    doc.save(str(path))
    report = _validate(path, ws)
    located = sorted(report.flatten(["code", "field", "cell", "value"]), key=lambda i: i[3])
    assert located == [["FIELD_AMBIGUOUS", "ticket_no", "table 1 row 1 column 2", "TS-2026-001"],
                       ["FIELD_AMBIGUOUS", "ticket_no", elsewhere, "副本 TS-2026-047"]]
    assert report.data is None
    values, _, _ = extract_word(path, ws.registry.get("complaint"))
    assert "ticket_no" not in values


def test_a_copied_control_showing_the_same_text_is_that_value(ws: Workspace,
                                                              tmp_path: Path) -> None:
    path = _issue(ws, tmp_path, "complaint", COMPLAINT)
    doc = docx.Document(str(path))
    _paragraph_with(doc, deepcopy(_control(doc, "ticket_no")), first=True)
    blank_copy = deepcopy(_control(doc, "customer"))
    _set_text(blank_copy, "点击填写 / Enter")  # a copy left showing the placeholder
    _paragraph_with(doc, blank_copy, first=False)
    doc.save(str(path))
    report = _validate(path, ws)
    assert report.issues == []
    assert report.data == COMPLAINT_READ


@pytest.mark.parametrize("swap", [False, True])
def test_a_control_given_another_controls_tag_is_refused(ws: Workspace, tmp_path: Path,
                                                         swap: bool) -> None:
    """The contact's control tagged ``customer`` (and, swapped, the customer's ``contact``)."""
    path = _issue(ws, tmp_path, "complaint", COMPLAINT)
    doc = docx.Document(str(path))
    customer, contact = _control(doc, "customer"), _control(doc, "customer_contact")
    _set_tag(contact, "customer")
    if swap:
        _set_tag(customer, "customer_contact")
    doc.save(str(path))
    report = _validate(path, ws)
    customer_at, contact_at = "table 1 row 2 column 2", "table 1 row 3 column 2"
    expected = [["FIELD_AMBIGUOUS", "customer", customer_at],
                ["FIELD_AMBIGUOUS", "customer", contact_at]]
    if swap:
        expected += [["FIELD_AMBIGUOUS", "customer_contact", customer_at],
                     ["FIELD_AMBIGUOUS", "customer_contact", contact_at]]
    assert sorted(report.flatten(["code", "field", "cell"])) == expected
    values, _, _ = extract_word(path, ws.registry.get("complaint"))
    assert "customer" not in values
    assert values.get("customer_contact") == (None if swap else COMPLAINT["customer_contact"])


def test_a_copied_libreoffice_input_is_refused_and_its_pieces_are_not(ws: Workspace,
                                                                      tmp_path: Path) -> None:
    """LibreOffice keeps no tags: one control is several pieces with its alias, side by side;
    a copy of it elsewhere, with other text, is a second control."""
    path = _issue(ws, tmp_path, "complaint", COMPLAINT)
    doc = docx.Document(str(path))
    _as_libreoffice_writes(_control(doc, "customer"), TEXT, ["华东汽车 ", "<select> A & B"])
    for tag in list(doc.element.body.iter(w("w:tag"))):
        tag.getparent().remove(tag)
    doc.save(str(path))
    assert _validate(path, ws).issues == []
    pieces = [s for s in doc.element.body.iter(w("w:sdt"))
              if s.find(f"{w('w:sdtPr')}/{w('w:alias')}").get(w("w:val")) == "customer"]
    assert len(pieces) == 4
    copy = deepcopy(pieces[0])
    _set_text(copy, "华南汽车")
    number = _paragraph_with(doc, copy, first=False)
    doc.save(str(path))
    report = _validate(path, ws)
    assert sorted(report.flatten(["code", "field", "cell"])) == [
        ["FIELD_AMBIGUOUS", "customer", f"paragraph {number}"],
        ["FIELD_AMBIGUOUS", "customer", "table 1 row 2 column 2"]]


def test_two_controls_in_one_table_cell_showing_different_text_are_refused(
        ws: Workspace, tmp_path: Path) -> None:
    path = _issue(ws, tmp_path, "8d-report", EIGHT_D)
    doc = docx.Document(str(path))
    owner = _control(doc, "d3_actions.owner", 1)
    copy = deepcopy(owner)
    _set_text(copy, "赵六")
    owner.addnext(copy)
    doc.save(str(path))
    report = _validate(path, ws)
    assert report.flatten(["code", "field", "cell", "value"]) == [
        ["FIELD_AMBIGUOUS", "d3_actions.owner", "table 5 row 3 column 3", "Li"],
        ["FIELD_AMBIGUOUS", "d3_actions.owner", "table 5 row 3 column 3", "赵六"]]


# -- table cells, whatever became of their tags ---------------------------------------------------

@pytest.mark.parametrize("tag", ["", "D6_ACTIONS.RESULT", "d7_actions.date",
                                 "D7_ACTIONS.DOCUMENT", None])
def test_a_table_cell_with_a_renamed_tag_is_still_read(ws: Workspace, tmp_path: Path,
                                                       tag: str | None) -> None:
    path = _issue(ws, tmp_path, "8d-report", EIGHT_D)
    doc = docx.Document(str(path))
    _set_tag(_control(doc, "d6_actions.result"), tag)
    doc.save(str(path))
    report = _validate(path, ws)
    assert report.issues == []
    assert report.data == EIGHT_D
    _, where, _ = extract_word(path, ws.registry.get("8d-report"))
    assert where[("d6_actions", 0, "result")] == ("document", "table 9 row 2 column 5")


@pytest.mark.parametrize(("control", "tag"), [
    ("d7_actions.date", ""), ("d7_actions.date", "D7_ACTIONS.DOCUMENT"),
    ("customer", "d3_actions.owner"), ("d1_owner", "d6_actions.result"),
])
def test_a_control_tagged_as_another_tables_column_is_read_where_it_is(
        ws: Workspace, tmp_path: Path, control: str, tag: str) -> None:
    """A table is the repeating table most of its controls name; a single field's control
    tagged as a column does not make the grid it sits in a repeating table."""
    path = _issue(ws, tmp_path, "8d-report", EIGHT_D)
    doc = docx.Document(str(path))
    _set_tag(_control(doc, control), tag)
    doc.save(str(path))
    report = _validate(path, ws)
    assert report.issues == []
    assert report.data == EIGHT_D


def test_a_table_control_tagged_as_another_column_of_its_row_is_refused(
        ws: Workspace, tmp_path: Path) -> None:
    """The date control of D7's first row tagged ``d7_actions.document``: its bookmark still
    reads it as the date, and the document column of that row now shows two things."""
    path = _issue(ws, tmp_path, "8d-report", EIGHT_D)
    doc = docx.Document(str(path))
    _set_tag(_control(doc, "d7_actions.date"), "d7_actions.document")
    doc.save(str(path))
    report = _validate(path, ws)
    assert report.flatten(["code", "field", "cell", "value"]) == [
        ["FIELD_AMBIGUOUS", "d7_actions.document", "table 11 row 2 column 3", "fmea"],
        ["FIELD_AMBIGUOUS", "d7_actions.document", "table 11 row 2 column 5", "2026-11-12"]]


def _strip(doc: Any, tag: str, what: tuple[str, ...]) -> None:
    """Take tags, aliases and/or bookmarks off every control of a table column."""
    table, _, column = tag.partition(".")
    for sdt in [s for s in doc.element.body.iter(w("w:sdt"))
                if s.find(f"{w('w:sdtPr')}/{w('w:tag')}").get(w("w:val")) == tag]:
        pr = sdt.find(w("w:sdtPr"))
        if "tags" in what:
            pr.remove(pr.find(w("w:tag")))
        if "aliases" in what:
            pr.remove(pr.find(w("w:alias")))
    if "bookmarks" in what:
        for mark in list(doc.element.body.iter(w("w:bookmarkStart"))):
            name = mark.get(w("w:name"))
            if name.startswith(f"{table}_") and name.endswith(f"_{column}"):
                ident = mark.get(w("w:id"))
                mark.getparent().remove(mark)
                for end in list(doc.element.body.iter(w("w:bookmarkEnd"))):
                    if end.get(w("w:id")) == ident:
                        end.getparent().remove(end)


ROWS = [{"action": f"措施 {i}", "owner": f"员工 {i}", "date": f"2026-11-0{i + 1}",
         "effectiveness": "有效" if i % 2 else None} for i in range(6)]
"""Six lines of D3: rows 5 and 6 are copies of row 4 (no bookmarks), as Word adds rows."""


@pytest.mark.parametrize("what", [("tags",), ("tags", "aliases"),
                                  ("tags", "aliases", "bookmarks")])
def test_a_column_left_without_tags_is_read(ws: Workspace, tmp_path: Path,
                                            what: tuple[str, ...]) -> None:
    """A partly tagged table: the owner column lost its tags (then aliases, then bookmarks);
    its cells are found by bookmark, and by their place in the row."""
    path = _issue(ws, tmp_path, "8d-report", {"d3_actions": ROWS})
    doc = docx.Document(str(path))
    _strip(doc, "d3_actions.owner", what)
    doc.save(str(path))
    values, where, issues = extract_word(path, ws.registry.get("8d-report"))
    assert issues == []
    assert values["d3_actions"] == [{k: v for k, v in row.items() if v is not None}
                                    | {"date": dt.date.fromisoformat(row["date"])}
                                    for row in ROWS]
    assert where[("d3_actions", 5, "owner")] == ("document", "table 5 row 7 column 3")


def test_a_cell_named_by_nothing_is_read_by_its_place(ws: Workspace, tmp_path: Path) -> None:
    """On a row a user added (no bookmarks) the owner control's tag and alias were changed."""
    path = _issue(ws, tmp_path, "8d-report", {"d3_actions": ROWS})
    doc = docx.Document(str(path))
    sdt = _control(doc, "d3_actions.owner", 5)
    _set_tag(sdt, "负责人")
    sdt.find(f"{w('w:sdtPr')}/{w('w:alias')}").set(w("w:val"), "负责人")
    doc.save(str(path))
    values, _, issues = extract_word(path, ws.registry.get("8d-report"))
    assert issues == []
    assert [row["owner"] for row in values["d3_actions"]] == [row["owner"] for row in ROWS]


def test_a_column_found_nowhere_is_not_bound(ws: Workspace, tmp_path: Path) -> None:
    """Every control of the owner column deleted, bookmarks and all: the table is altered."""
    path = _issue(ws, tmp_path, "8d-report", {**EIGHT_D, "d3_actions": ROWS})
    doc = docx.Document(str(path))
    _strip(doc, "d3_actions.owner", ("bookmarks",))
    for sdt in list(doc.element.body.iter(w("w:sdt"))):
        if sdt.find(f"{w('w:sdtPr')}/{w('w:tag')}").get(w("w:val")) == "d3_actions.owner":
            sdt.getparent().remove(sdt)
    doc.save(str(path))
    report = _validate(path, ws)
    assert _flat(report) == [("FIELD_NOT_BOUND", "d3_actions.owner"), ("TEMPLATE_ALTERED", None)]


@pytest.mark.parametrize("tagged", [False, True])
def test_a_control_in_a_cell_no_column_has_is_refused(ws: Workspace, tmp_path: Path,
                                                      tagged: bool) -> None:
    """A user adds a cell to a row with a copy of the result control and types into it."""
    path = _issue(ws, tmp_path, "8d-report", EIGHT_D)
    doc = docx.Document(str(path))
    result = _control(doc, "d6_actions.result")
    cell = deepcopy(next(result.iterancestors(w("w:tc"))))
    copy = cell.find(f".//{w('w:sdt')}")
    _set_text(copy, "NG 复检")
    if not tagged:
        pr = copy.find(w("w:sdtPr"))
        for node in [pr.find(w("w:tag")), pr.find(w("w:alias"))]:
            pr.remove(node)
    next(result.iterancestors(w("w:tr"))).append(cell)
    doc.save(str(path))
    report = _validate(path, ws)
    if tagged:  # its tag binds it to the result of that row, which now says two things
        assert report.flatten(["code", "field", "cell", "value"]) == [
            ["FIELD_AMBIGUOUS", "d6_actions.result", "table 9 row 2 column 5", "OK"],
            ["FIELD_AMBIGUOUS", "d6_actions.result", "table 9 row 2 column 6", "NG 复检"]]
    else:
        assert report.flatten(["code", "field", "cell", "value"]) == [
            ["UNKNOWN_INPUT", "d6_actions", "table 9 row 2 column 6", "NG 复检"]]
    assert report.data is None


# -- an input typed over from outside -----------------------------------------------------------

def _typed_over(sdt: Any, inside: str, outside: str) -> None:
    """Replace a control as LibreOffice saves an Input field selected from outside and typed
    over (measured, see tests/word/test_clients_writer.py): plain runs, the bookmark holding the
    first of them only."""
    end = sdt.getnext()
    assert end.tag == w("w:bookmarkEnd")
    run = etree.Element(w("w:r"))
    etree.SubElement(run, w("w:t")).text = inside
    sdt.getparent().replace(sdt, run)
    for text in outside.split("|") if outside else []:
        after = etree.Element(w("w:r"))
        t = etree.SubElement(after, w("w:t"))
        t.text = text
        t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        end.addnext(after)
        end = after


def test_an_input_typed_over_from_outside_is_refused(ws: Workspace, tmp_path: Path) -> None:
    path = _issue(ws, tmp_path, "complaint", COMPLAINT)
    doc = docx.Document(str(path))
    _typed_over(_control(doc, "root_cause"), "root", " cause |电流不稳")
    _typed_over(_control(doc, "containment"), "隔离库存", "")
    doc.save(str(path))
    report = _validate(path, ws)
    assert report.flatten(["code", "field", "cell", "value"]) == [
        ["INPUT_REPLACED", "root_cause", "table 2 row 3 column 2", "root"]]
    values, _, _ = extract_word(path, ws.registry.get("complaint"))
    assert "root_cause" not in values
    assert values["containment"] == "隔离库存"  # all of it inside the bookmark: read


@pytest.mark.parametrize("broken", ["w:tr", "w:tbl"])
def test_a_table_cell_outside_a_row_or_table_is_a_corrupt_file(
        ws: Workspace, tmp_path: Path, broken: str) -> None:
    """Word calls such a file damaged; the reader refuses it instead of failing."""
    path = _issue(ws, tmp_path, "complaint", COMPLAINT)
    tag = broken.encode()

    def unwrap(xml: bytes) -> bytes:
        xml = re.sub(rb"<" + tag + rb"\b([^>]*)>", rb"<w:customXml\1>", xml, count=1)
        return xml.replace(b"</" + tag + b">", b"</w:customXml>", 1)

    _rewrite(path, "word/document.xml", unwrap)
    assert [i.code for i in _validate(path, ws).issues] == ["CORRUPT_FILE"]


def _drop_content(tag: str | None) -> Callable[[bytes], bytes]:
    """Remove the ``w:sdtContent`` of the control tagged ``tag`` (of every control: None)."""
    def edit(xml: bytes) -> bytes:
        root = etree.fromstring(xml)
        for sdt in root.iter(w("w:sdt")):
            found = sdt.find(f"{w('w:sdtPr')}/{w('w:tag')}")
            content = sdt.find(w("w:sdtContent"))
            if content is not None and (tag is None or (
                    found is not None and found.get(w("w:val")) == tag)):
                sdt.remove(content)
        return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))

    return edit


def test_a_control_without_content_is_read_as_empty(ws: Workspace, tmp_path: Path) -> None:
    path = _issue(ws, tmp_path, "complaint", COMPLAINT)
    _rewrite(path, "word/document.xml", _drop_content("customer"))
    assert _flat(_validate(path, ws)) == [("REQUIRED", "customer")]
    _rewrite(path, "word/document.xml", _drop_content(None))  # ticks, dates, lists too
    assert {code for code, _ in _flat(_validate(path, ws))} == {"REQUIRED"}


def test_an_encoding_name_past_the_gates_look_ahead_is_refused(ws: Workspace,
                                                               tmp_path: Path) -> None:
    """It was a LookupError from the sheet scan, or whatever lxml made of it."""
    path = _issue(ws, tmp_path, "complaint", COMPLAINT)
    _rewrite(path, "word/document.xml", lambda xml: re.sub(
        rb"^<\?xml[^>]*\?>", b'<?xml version="1.0" encoding="' + b"x" * 5000 + b'"?>', xml))
    assert _validate(path, ws).codes() == ["UNSAFE_XML"]


@pytest.mark.parametrize("encoding", ["GBK", "GB2312"])
def test_parts_in_a_chinese_encoding_read_the_same(ws: Workspace, tmp_path: Path,
                                                   encoding: str) -> None:
    path = _issue(ws, tmp_path, "complaint", COMPLAINT)
    expected = _validate(path, ws)
    assert expected.valid

    def declared(xml: bytes) -> bytes:
        text = re.sub(r"^<\?xml[^>]*\?>", "", xml.decode())
        return (f'<?xml version="1.0" encoding="{encoding}"?>' + text).encode(
            encoding, "xmlcharrefreplace")

    for member in ("word/document.xml", "docProps/custom.xml"):
        _rewrite(path, member, declared)
    report = _validate(path, ws)
    assert report.issues == [] and report.data == expected.data


def test_noted_sources_tell_what_same_source_tells(ws: Workspace, tmp_path: Path) -> None:
    """`Sources` answers `same_source` against many values at once (for tables of thousands
    of rows): the same answers, for controls, the cells holding them and their pieces."""
    from qmsforms.word.body import Body, Sources, control_value, same_source

    path = _issue(ws, tmp_path, "8d-report", EIGHT_D)
    doc = Body(_xml(path))
    found = [control_value(doc, doc.pieces(sdt), "tag") for sdt in doc.sdts]
    found += [f for tc in list(doc.body.iter(w("w:tc")))[::3]
              for f in doc.cell_values(tc, "position")]
    for i, value in enumerate(found):
        others = found[:i] + found[i + 1:i + 40]
        assert Sources(others).overlaps(value) == any(same_source(value, o) for o in others)


_READ_APART = """
import sys, datetime
from qmsforms.word.validate import validate_word_file
from qmsforms.workspace import Workspace
report = validate_word_file(sys.argv[1], Workspace(sys.argv[2]), today=datetime.date(2026, 12, 1))
print(" ".join(report.codes()))
"""


@pytest.mark.parametrize("copies", ["rows", "controls"])
def test_thousands_of_rows_or_controls_are_read_in_one_pass(ws: Workspace, tmp_path: Path,
                                                            copies: str) -> None:
    """Each value was compared with every other (minutes for a few thousand rows); the
    timeout only guards against a hang."""
    path = _issue(ws, tmp_path, "8d-report", EIGHT_D)

    def copy(xml: bytes) -> bytes:
        root = etree.fromstring(xml)
        if copies == "rows":
            row = root.findall(f".//{w('w:tbl')}")[-1].findall(w("w:tr"))[-1]
            for _ in range(5000):
                row.addnext(deepcopy(row))
        else:
            sdt = next(root.iter(w("w:sdt")))
            for _ in range(15_000):
                sdt.addnext(deepcopy(sdt))
        return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))

    _rewrite(path, "word/document.xml", copy)
    done = subprocess.run([sys.executable, "-c", _READ_APART, str(path), str(ws.root)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
