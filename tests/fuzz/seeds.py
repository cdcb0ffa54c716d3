"""The unmutated files: every issued form in every format, filled with realistic data.

A seed is issued from a workspace as staff would get it, filled programmatically (Chinese
text, multi-line text where the field allows it, dates typed as dates and as text, numbers,
ticks, several table lines), stamped with a fixed instance id and timestamps so that its bytes
depend only on the code, and validated. Its validated data is the oracle every mutant is
compared with. Workbooks are rewritten with a shared-strings table, as Excel saves them
(openpyxl writes inline strings), so the shared-string operators have something to work on.
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import docx
from openpyxl import load_workbook

from qmsforms.blanks import issue_blank
from qmsforms.excel.binding import workbook_names
from qmsforms.excel.fill import fill_workbook
from qmsforms.excel.identity import read_identity, write_identity
from qmsforms.registry import FormDef
from qmsforms.validate import validate_file
from qmsforms.word.fill import fill_document
from qmsforms.word.props import read_word_identity, write_word_identity
from qmsforms.workspace import Workspace

from . import package as pk

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
XML_NS = "http://www.w3.org/XML/1998/namespace"
SST_PART = "xl/sharedStrings.xml"
SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
SST_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
TODAY = dt.date(2026, 12, 1)
"""The day every file is validated on (revision grace periods depend on it)."""

_SHIPPING: dict[str, Any] = {
    "doc_no": "FH-2026-1103", "customer": "华东汽车零部件有限公司", "customer_code": "C-017",
    "order_no": "PO-88123", "delivery_address": "上海市嘉定区安亭镇墨玉路 18 号",
    "contact": "王工 138 0000 1111", "ship_date": dt.date(2026, 11, 3),
    "planned_delivery_date": dt.date(2026, 11, 5), "actual_delivery_date": "2026年11月5日",
    "ship_method": "freight", "carrier": "顺丰 SF1234567890", "certificates_enclosed": True,
    "lines": [
        {"part_name": "螺栓 M8×30", "drawing_no": "GB/T 5783", "batch_no": "B2026-1101",
         "quantity": 1200, "unit": "件", "unit_price": 0.35, "amount": 420},
        {"part_name": "支架 Bracket", "drawing_no": "P-100-02", "batch_no": "B2026-1102",
         "quantity": 50, "unit": "个", "unit_price": 12.5, "amount": 625,
         "remarks": "加急 urgent"},
        {"part_name": "垫片 φ8", "batch_no": "B2026-1099", "quantity": 3000, "unit": "片",
         "unit_price": 0.02, "amount": 60},
        {"part_name": "焊接总成", "drawing_no": "WA-330", "batch_no": "B2026-1103",
         "quantity": 8, "unit": "套", "unit_price": 256.75, "amount": 2054,
         "remarks": "第二批"},
    ],
    "prepared_by": "李明", "approved_by": "张华", "issued_by": "仓库 赵六",
    "received_by": "客户 钱七",
}

_COMPLAINT: dict[str, Any] = {
    "ticket_no": "TS-2026-047", "customer": "华东汽车", "customer_contact": "张三 021-5555 0101",
    "channel": "email", "received_at": dt.datetime(2026, 11, 3, 9, 15),
    "filed_at": "2026-11-03 10:30", "urgent": True, "category": "quality",
    "quality_related": True, "part_name": "支架 Bracket", "part_no": "P-100", "batch_no": "B-7",
    "qty_delivered": 1000, "qty_complained": 12, "qty_returned": "12件",
    "description": "焊缝开裂,长度约 3 mm。\n客户来料检验发现 12 件\n第三行 A & B <tag>",
    "containment": "隔离库存 200 件\n通知客户暂停使用", "root_cause": "焊接电流不稳",
    "corrective_action": "更换焊机\n增加首件检验", "responsible_dept": "生产部",
    "due_date": dt.date(2026, 11, 20), "closed_date": "2026/11/25", "customer_feedback": "满意",
    "handled_by": "李四", "verified_by": "王五", "approved_by": "赵六",
}

_SURVEY: dict[str, Any] = {
    "customer": "华东汽车", "customer_code": "C-017", "period": "2026-H2", "respondent": "王芳",
    "position": "采购部 经理", "phone": "021-5555 0101", "survey_date": dt.date(2026, 11, 20),
    "product_quality": 5, "delivery": 4, "packaging": 4, "appearance": 3, "service_attitude": 5,
    "response": 4, "complaint_handling": 3, "technical_support": 5, "price": 2,
    "suggestions": "希望缩短交期。\n包装需加强防潮。", "sales_rep": "刘强", "reviewed_by": "陈静",
}

_SERVICE: dict[str, Any] = {
    "customer": "华东汽车", "service_ref": "SV-2026-031", "service_date": dt.date(2026, 11, 12),
    "engineer": "周工", "evaluator": "吴经理", "response_speed": 9, "resolution": 8,
    "expertise": 10, "attitude": 7, "clarity": 9, "follow_up": 6, "improvement": 8,
    "impression_response": "fast", "impression_resolution": "slow",
    "impression_expertise": "thorough", "impression_attitude": "friendly",
    "impression_clarity": "clear", "impression_follow_up": "late",
    "impression_improvement": "mostly", "feedback": "响应及时\n但现场备件不足",
    "summary": "总体满意。",
}

_MONITORING: dict[str, Any] = {
    "customer": "华东汽车", "customer_address": "上海市嘉定区", "month": "2026-11",
    "assessor": "质量部 陈", "q_partial_return": 1, "q_concession": 2, "d_delay_notified": 1,
    "d_packaging": 3, "a_late_delivery": 1, "ppm_actual": 120.5, "ppm_target": 200,
    "a_batch_reject": 1, "performance_rate": 95, "remarks": "十一月:一次部分退货\n包装问题已整改",
}

_EIGHT_D: dict[str, Any] = {
    "report_no": "8D-2026-012", "complaint_no": "TS-2026-047", "customer": "华东汽车",
    "part_name": "支架", "part_no": "P-100", "batch_no": "B-7", "opened_date": "2026-11-03",
    "need_8d": True, "emergency_response": "隔离库存 & 通知客户\n派员现场挑选",
    "team_leader": "张三", "team_members": "李四 QA\n王五 PE\n赵六 生产",
    "d1_owner": "张三", "d1_date": "2026-11-03", "d1_done": True,
    "description": "焊缝开裂\n长度约 3 mm", "five_w_two_h": "What: 裂纹\nWhere: 焊缝 <A>",
    "qty_complained": 12, "qty_delivered": 1000, "qty_returned": 12,
    "d2_owner": "李四", "d2_date": "2026-11-04", "d2_done": True,
    "d3_actions": [
        {"action": "全检库存 100%", "owner": "王五", "date": "2026-11-04", "effectiveness": "有效"},
        {"action": "暂停发货", "owner": "Li", "date": "2026-11-05"},
    ],
    "d3_owner": "王五", "d3_date": "2026-11-05", "d3_done": True,
    "occurrence_cause": "焊接电流不稳\n电源老化", "escape_cause": "检验未覆盖焊缝",
    "d4_owner": "张三", "d4_date": "2026-11-06", "d4_done": True,
    "permanent_actions": "更换焊机", "verification": "连续三批无缺陷",
    "d5_owner": "张三", "d5_date": "2026-11-08", "d5_done": False,
    "d6_actions": [{"action": "焊机更换", "owner": "赵六", "date": "2026-11-10", "result": "OK"}],
    "d7_actions": [{"action": "更新 PFMEA", "document": "fmea", "owner": "张三",
                    "date": "2026-11-12"}],
    "closure_summary": "待 D5 验证后结案",
}

_CAPA: dict[str, Any] = {
    "action_no": "CA-2026-0012", "source": "monitoring_streak", "source_ref": "R-0042",
    "customer": "华东汽车", "raised_on": "2026-11-03", "responsible_dept": "质量部",
    "due_date": "2026-11-12", "problem": "连续三个月质量扣分 & 退货\n焊缝开裂 <B-7>",
    "containment": "隔离库存\n全检 100%", "containment_owner": "王五",
    "containment_date": "2026-11-04", "root_cause": "焊接电流不稳\n电源老化",
    "cause_category": "machine", "corrective_action": "更换焊机", "action_owner": "赵六",
    "action_date": "2026-11-10", "preventive_action": "同类支架同步更新 PFMEA",
    "verified_by": "张三", "verified_on": "2026-11-20", "verification_result": "effective",
    "verification_notes": "连续三批无缺陷", "customer_feedback_on": "2026-11-21",
}

FILLINGS: dict[tuple[str, str], dict[str, Any]] = {
    ("shipping-list", "xlsx"): _SHIPPING,
    ("complaint", "xlsx"): _COMPLAINT,
    ("complaint", "docx"): _COMPLAINT,
    ("8d-report", "docx"): _EIGHT_D,
    ("satisfaction-survey", "xlsx"): _SURVEY,
    ("service-evaluation", "xlsx"): _SERVICE,
    ("satisfaction-monitoring", "xlsx"): _MONITORING,
    ("corrective-action", "xlsx"): _CAPA,
    ("corrective-action", "docx"): _CAPA,
}
"""What is typed into each (form, format) seed."""

PERCENT_TYPED = {("satisfaction-monitoring", "scorecard_pct"): 0.875}
"""Percent cells typed as ``87.5%``: Excel stores 0.875 in a ``0.0%`` cell."""


class SeedError(Exception):
    """A seed did not validate VALID before any mutation: the fuzz cannot start from it."""


@dataclass(frozen=True)
class Seed:
    """One unmutated file and the data it validates to."""

    form: str
    fmt: str
    data: bytes
    oracle: dict[str, Any]
    kinds: dict[str, str] = field(default_factory=dict)
    """Field name -> kind (``text``, ``ticks``, ``table`` ...)."""
    misread: list[str] = field(default_factory=list)
    """Typed text fields the unmutated file already reads differently (``field: typed != read``)."""

    @property
    def name(self) -> str:
        """``form:fmt``, the first half of a repro key."""
        return f"{self.form}:{self.fmt}"


def fixed_instance_id(form: str, fmt: str) -> str:
    """The instance id every seed of (form, format) carries."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"qmsforms-fuzz/{form}/{fmt}"))


def forms_and_formats(workspace: Workspace) -> list[tuple[str, str]]:
    """Every (form id, format) the workspace issues, in registry order."""
    return [(form.id, fmt) for form in workspace.registry for fmt in ("xlsx", "docx")
            if form.issued_as(fmt)]


def _xlsx_seed(workspace: Workspace, form: FormDef, values: dict[str, Any], tmp: Path) -> bytes:
    path = tmp / f"{form.id}.xlsx"
    issue_blank(workspace, form.id, path)
    wb = load_workbook(path)
    fill_workbook(wb, form, values)
    identity = read_identity(wb)
    assert identity is not None
    write_identity(wb, replace(identity, instance_id=fixed_instance_id(form.id, "xlsx")))
    names = workbook_names(wb)
    for (form_id, name), value in PERCENT_TYPED.items():
        if form_id == form.id:
            cells = names[name]
            cell = wb[cells.sheet].cell(row=cells.min_row, column=cells.min_col)
            cell.value, cell.number_format = value, "0.0%"
    buf = io.BytesIO()
    wb.save(buf)
    return pk.build(shared_strings(pk.read(buf.getvalue())))


def _docx_seed(workspace: Workspace, form: FormDef, values: dict[str, Any], tmp: Path) -> bytes:
    path = tmp / f"{form.id}.docx"
    issue_blank(workspace, form.id, path)
    doc = docx.Document(str(path))
    identity = read_word_identity(doc)
    assert identity is not None
    write_word_identity(doc, replace(identity, instance_id=fixed_instance_id(form.id, "docx")))
    fill_document(doc, values)
    buf = io.BytesIO()
    doc.save(buf)
    return pk.build(pk.read(buf.getvalue()))


def shared_strings(members: pk.Package) -> pk.Package:
    """The workbook with every inline string moved into a shared-strings table, as Excel
    saves it; also pins the timestamps in ``docProps/core.xml``."""
    strings: dict[str, int] = {}
    out: pk.Package = []
    for member in members:
        data = member.data
        if member.name.startswith("xl/worksheets/") and member.name.endswith(".xml"):
            root = pk.parse(data)
            for cell in root.iter(f"{{{MAIN}}}c"):
                if cell.get("t") != "inlineStr":
                    continue
                inline = cell.find(f"{{{MAIN}}}is")
                text = "".join(t.text or "" for t in inline.iter(f"{{{MAIN}}}t"))
                cell.remove(inline)
                cell.set("t", "s")
                value = pk.etree.SubElement(cell, f"{{{MAIN}}}v")
                value.text = str(strings.setdefault(text, len(strings)))
            data = pk.dump(root)
        elif member.name == "docProps/core.xml":
            data = pk.fixed_core_times(data)
        out.append(replace(member, data=data))
    sst = pk.etree.Element(f"{{{MAIN}}}sst", nsmap={None: MAIN})
    sst.set("count", str(len(strings)))
    sst.set("uniqueCount", str(len(strings)))
    for text in strings:
        t = pk.etree.SubElement(pk.etree.SubElement(sst, f"{{{MAIN}}}si"), f"{{{MAIN}}}t")
        t.text = text
        if text != text.strip() or "\n" in text:
            t.set(f"{{{XML_NS}}}space", "preserve")
    out.append(pk.Member(SST_PART, pk.dump(sst)))
    types = pk.parse(pk.get(out, "[Content_Types].xml") or b"")
    pk.etree.SubElement(types, f"{{{pk.CT_NS}}}Override", PartName="/" + SST_PART,
                        ContentType=SST_TYPE)
    out = pk.put(out, "[Content_Types].xml", pk.dump(types))
    rels_name = pk.rels_name("xl/workbook.xml")
    rels = pk.parse(pk.get(out, rels_name) or b"")
    pk.etree.SubElement(rels, f"{{{pk.PKG_REL}}}Relationship", Id="rIdSst", Type=SST_REL,
                        Target="sharedStrings.xml")
    return pk.put(out, rels_name, pk.dump(rels))


def validate_bytes(data: bytes, fmt: str, workspace: Workspace, folder: Path) -> Any:
    """Validate ``data`` written as ``folder/mutant.<fmt>``; returns the `Report`."""
    path = folder / f"mutant.{fmt}"
    path.write_bytes(data)
    try:
        return validate_file(path, workspace, today=TODAY)
    finally:
        path.unlink(missing_ok=True)


def _misread(form: FormDef, typed: dict[str, Any], read: dict[str, Any]) -> list[str]:
    """Text fields (and text columns) whose read value is not the typed text."""
    out = []
    for name, value in typed.items():
        spec = form.field(name)
        if spec.kind == "table":
            kinds = {c.name: c.kind for c in spec.columns}
            for i, (row, got) in enumerate(zip(value, read.get(name) or [], strict=False)):
                for column, cell in row.items():
                    if kinds[column] in ("text", "longtext") and isinstance(cell, str) \
                            and got.get(column) != cell.strip():
                        out.append(f"{name}[{i}].{column}: {cell!r} != {got.get(column)!r}")
        elif spec.kind in ("text", "longtext") and isinstance(value, str) \
                and read.get(name) != value.strip():
            out.append(f"{name}: {value!r} != {read.get(name)!r}")
    return out


def build_seeds(workspace: Workspace, only: set[str] | None = None) -> list[Seed]:
    """Issue, fill and validate every seed (``only``: ``form:fmt`` names to build).

    Raises `SeedError` when an unmutated file is not VALID.
    """
    seeds = []
    with tempfile.TemporaryDirectory(prefix="qmsforms-fuzz-seeds-") as tmp:
        folder = Path(tmp)
        for form_id, fmt in forms_and_formats(workspace):
            if only is not None and f"{form_id}:{fmt}" not in only:
                continue
            form = workspace.registry.get(form_id)
            values = FILLINGS[(form_id, fmt)]
            make = _xlsx_seed if fmt == "xlsx" else _docx_seed
            data = make(workspace, form, values, folder)
            report = validate_bytes(data, fmt, workspace, folder)
            if not report.valid or report.data is None:
                raise SeedError(f"{form_id}:{fmt} does not validate: {report.codes()}")
            kinds = {spec.name: spec.kind for spec in form.fields}
            seeds.append(Seed(form_id, fmt, data, report.data, kinds,
                              _misread(form, values, report.data)))
    return seeds
