"""8D报告 8D report [SPEC §4.5; seed 000 §5.3b, 002 ULMT 5.2.5].

The report is laid out discipline by discipline: every field carries its discipline as the
``section`` (D0 … D8, with the header before them), so the Word builder can give each one its
own block. Each discipline D1–D8 ends with an owner, a date and a *done* box (group
``signoff``).

Validation is staged, and every broken rule is reported (not just the first):

- a discipline marked done needs every discipline before it done (``STAGE_ORDER``); closing
  the report (D8 done) with open disciplines is ``CLOSURE_INCOMPLETE``;
- a discipline marked done needs its content, owner and date (``STAGE_INCOMPLETE``, on the
  missing field) — D4 in particular needs both the root cause of occurrence and the escape
  point (why it was not detected);
- discipline dates never go backwards: each one is on or after the opening date and every
  earlier discipline's date (``DATE_ORDER``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ValidationError, model_validator
from pydantic_core import InitErrorDetails

from ..fields import REQUIRED, input_field
from .common import FormModel
from .common import located_error as _error

HEADER = ("报告信息", "Report")
D0 = ("D0 紧急响应", "D0 Emergency response")
D1 = ("D1 成立小组", "D1 Team")
D2 = ("D2 问题描述", "D2 Problem description")
D3 = ("D3 临时遏制措施", "D3 Containment actions")
D4 = ("D4 根本原因分析", "D4 Root cause analysis")
D5 = ("D5 永久纠正措施", "D5 Permanent corrective actions")
D6 = ("D6 实施与效果确认", "D6 Implementation and validation")
D7 = ("D7 预防再发生", "D7 Prevent recurrence")
D8 = ("D8 结案与表彰", "D8 Closure and recognition")

DISCIPLINES = (1, 2, 3, 4, 5, 6, 7, 8)
"""The disciplines that carry an owner, a date and a done box (D0 has none)."""

CONTENT: dict[int, tuple[str, ...]] = {
    1: ("team_leader", "team_members"),
    2: ("description",),
    3: ("d3_actions",),
    4: ("occurrence_cause", "escape_cause"),
    5: ("permanent_actions", "verification"),
    6: ("d6_actions",),
    7: ("d7_actions",),
    8: ("closure_summary",),
}
"""What each discipline must hold before it may be marked done (besides owner and date)."""

PREVENTION_DOCS = {
    "fmea": ("FMEA", "FMEA"),
    "control_plan": ("控制计划", "Control plan"),
    "work_instruction": ("作业指导书", "Work instruction"),
    "similar_products": ("类似产品横向展开", "Similar products"),
    "training": ("培训", "Training"),
    "other": ("其他", "Other"),
}


def _owner(n: int, section: tuple[str, str]) -> Any:
    return input_field(f"D{n} 负责人", f"D{n} owner", kind="text", group="signoff",
                       section=section, max_length=50)


def _date(n: int, section: tuple[str, str]) -> Any:
    return input_field(f"D{n} 完成日期", f"D{n} date", kind="date", group="signoff",
                       section=section)


def _done(n: int, section: tuple[str, str]) -> Any:
    return input_field(f"D{n} 已完成", f"D{n} done", kind="bool", group="signoff",
                       section=section, default=False)


class ContainmentAction(FormModel):
    """D3: one containment action (sorting, stopping shipments, replacing stock ...)."""

    action: str = input_field("临时措施", "Containment action", kind="text", default=REQUIRED,
                              max_length=500)
    owner: str | None = input_field("负责人", "Owner", kind="text", max_length=50)
    date: dt.date | None = input_field("日期", "Date", kind="date")
    effectiveness: str | None = input_field("有效性", "Effectiveness", kind="text",
                                            max_length=200)


class ImplementationAction(FormModel):
    """D6: one permanent action as implemented, and what validating it showed."""

    action: str = input_field("实施措施", "Action implemented", kind="text", default=REQUIRED,
                              max_length=500)
    owner: str | None = input_field("负责人", "Owner", kind="text", max_length=50)
    date: dt.date | None = input_field("日期", "Date", kind="date")
    result: str | None = input_field("确认结果", "Validation result", kind="text",
                                     max_length=500)


class PreventionAction(FormModel):
    """D7: one action that keeps the problem from coming back, here or on similar products."""

    action: str = input_field("预防措施", "Preventive action", kind="text", default=REQUIRED,
                              max_length=500)
    document: str | None = input_field("更新文件", "Document updated", kind="choice",
                                       choices=PREVENTION_DOCS)
    owner: str | None = input_field("负责人", "Owner", kind="text", max_length=50)
    date: dt.date | None = input_field("日期", "Date", kind="date")


class EightD(FormModel):
    """8D报告: one complaint's problem solving, D0 to D8, with staged completion."""

    report_no: str | None = input_field("8D 报告编号", "8D report no.", kind="text",
                                        section=HEADER, max_length=50)
    complaint_no: str = input_field("投诉单号", "Complaint no.", kind="text", section=HEADER,
                                    default=REQUIRED, max_length=50)
    customer: str = input_field("客户名称", "Customer", kind="text", section=HEADER,
                                default=REQUIRED, max_length=200, width=3)
    part_name: str | None = input_field("产品名称", "Product", kind="text", section=HEADER,
                                        max_length=200)
    part_no: str | None = input_field("图号/料号", "Drawing / part no.", kind="text",
                                      section=HEADER, max_length=100)
    batch_no: str | None = input_field("批号", "Batch no.", kind="text", section=HEADER,
                                       max_length=100)
    opened_date: dt.date = input_field("开始日期", "Opened on", kind="date", section=HEADER,
                                    default=REQUIRED)

    need_8d: bool | None = input_field("需要 8D", "8D needed", kind="bool", group="body",
                                       section=D0, default=False)
    emergency_response: str | None = input_field(
        "紧急响应措施", "Emergency response", kind="longtext", group="body", section=D0,
        max_length=5000)

    team_leader: str | None = input_field("组长", "Team leader", kind="text", group="body",
                                          section=D1, max_length=50)
    team_members: str | None = input_field("小组成员(姓名/部门)", "Members (name / dept.)",
                                           kind="longtext", group="body", section=D1,
                                           max_length=2000)
    d1_owner: str | None = _owner(1, D1)
    d1_date: dt.date | None = _date(1, D1)
    d1_done: bool = _done(1, D1)

    description: str | None = input_field("问题描述", "Problem description", kind="longtext",
                                          group="body", section=D2, max_length=20000)
    five_w_two_h: str | None = input_field(
        "5W2H / 是与不是", "5W2H / Is - is not", kind="longtext", group="body", section=D2,
        max_length=20000)
    qty_complained: int | None = input_field("投诉数量", "Quantity complained", kind="int",
                                             group="body", section=D2, ge=0)
    qty_delivered: int | None = input_field("交付数量", "Quantity delivered", kind="int",
                                            group="body", section=D2, ge=0)
    qty_returned: int | None = input_field("退货数量", "Quantity returned", kind="int",
                                           group="body", section=D2, ge=0)
    d2_owner: str | None = _owner(2, D2)
    d2_date: dt.date | None = _date(2, D2)
    d2_done: bool = _done(2, D2)

    d3_actions: list[ContainmentAction] = input_field(
        "临时遏制措施", "Containment actions", kind="table", group="lines", section=D3,
        default=[])
    d3_owner: str | None = _owner(3, D3)
    d3_date: dt.date | None = _date(3, D3)
    d3_done: bool = _done(3, D3)

    occurrence_cause: str | None = input_field(
        "发生原因", "Root cause of occurrence", kind="longtext", group="body", section=D4,
        max_length=20000)
    escape_cause: str | None = input_field(
        "流出原因(未检出)", "Escape point: root cause of non-detection", kind="longtext",
        group="body", section=D4, max_length=20000)
    d4_owner: str | None = _owner(4, D4)
    d4_date: dt.date | None = _date(4, D4)
    d4_done: bool = _done(4, D4)

    permanent_actions: str | None = input_field(
        "选定的永久纠正措施", "Chosen permanent corrective actions", kind="longtext",
        group="body", section=D5, max_length=20000)
    verification: str | None = input_field("措施验证", "Verification", kind="longtext",
                                           group="body", section=D5, max_length=20000)
    d5_owner: str | None = _owner(5, D5)
    d5_date: dt.date | None = _date(5, D5)
    d5_done: bool = _done(5, D5)

    d6_actions: list[ImplementationAction] = input_field(
        "实施与确认", "Implementation and validation", kind="table", group="lines",
        section=D6, default=[])
    d6_owner: str | None = _owner(6, D6)
    d6_date: dt.date | None = _date(6, D6)
    d6_done: bool = _done(6, D6)

    d7_actions: list[PreventionAction] = input_field(
        "预防措施", "Preventive actions", kind="table", group="lines", section=D7,
        default=[])
    d7_owner: str | None = _owner(7, D7)
    d7_date: dt.date | None = _date(7, D7)
    d7_done: bool = _done(7, D7)

    closure_summary: str | None = input_field("结案总结", "Closure summary", kind="longtext",
                                              group="body", section=D8, max_length=20000)
    recognition: str | None = input_field("团队表彰", "Team recognition", kind="longtext",
                                          group="body", section=D8, max_length=5000)
    d8_owner: str | None = _owner(8, D8)
    d8_date: dt.date | None = _date(8, D8)
    d8_done: bool = _done(8, D8)

    @model_validator(mode="after")
    def _staged(self) -> EightD:
        errors = [*self._stage_errors(), *self._date_errors()]
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self

    def done(self, n: int) -> bool:
        """Whether discipline ``n`` (1–8) is marked done."""
        return bool(getattr(self, f"d{n}_done"))

    def _stage_errors(self) -> list[InitErrorDetails]:
        errors: list[InitErrorDetails] = []
        for n in DISCIPLINES:
            if not self.done(n):
                continue
            name = f"d{n}_done"
            open_before = [f"D{k}" for k in DISCIPLINES if k < n and not self.done(k)]
            if open_before and n == 8:
                errors.append(_error("CLOSURE_INCOMPLETE", name, True,
                                     detail=", ".join(open_before),
                                     detail_zh="、".join(open_before)))
            elif open_before:
                errors.append(_error("STAGE_ORDER", name, True, detail=", ".join(open_before),
                                     detail_zh="、".join(open_before)))
            for needed in (*CONTENT[n], f"d{n}_owner", f"d{n}_date"):
                if _blank(getattr(self, needed)):
                    errors.append(_error("STAGE_INCOMPLETE", needed, None, detail=f"D{n}",
                                         detail_zh=f" D{n} "))
        return errors

    def _date_errors(self) -> list[InitErrorDetails]:
        errors: list[InitErrorDetails] = []
        latest: tuple[dt.date, str, str] = (self.opened_date, "the opening date", "开始日期")
        for n in DISCIPLINES:
            when = getattr(self, f"d{n}_date")
            if when is None:
                continue
            if when < latest[0]:
                errors.append(_error("DATE_ORDER", f"d{n}_date", when.isoformat(),
                                     detail=latest[1], detail_zh=latest[2]))
            else:
                latest = (when, f"the D{n} date", f"D{n} 完成日期")
        return errors


def _blank(value: object) -> bool:
    return value is None or value == "" or value == []
