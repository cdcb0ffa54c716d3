"""纠正/预防措施处理单 corrective-action form [SPEC §8; seed 000 §7.1, 002 QP-14 4.3.3–4.6].

One corrective/preventive action from the problem to its closure: the header (number,
source, customer, problem) as issued for the action, then containment (临时措施), root cause
(原因分析), corrective action (长期措施), preventive action on similar products (横展),
verification of effectiveness (效果验证), feedback to the customer, approval by QC and the
general manager (总经理) and the closure tick (结案). Every field carries its part of the
form as its ``section``, so both builders give each part its own heading.

Validation is staged like the 8D report's, and every broken rule is reported:

- a verification before there is a corrective action is ``STAGE_ORDER``; a verification needs
  its who, when and result together (``STAGE_INCOMPLETE`` on the missing one);
- dates never go backwards: raised on ≤ containment ≤ corrective action ≤ verification, and the
  customer feedback and approvals are on or after all of them (``DATE_ORDER`` on the later);
- closing needs every stage, an effective verification, the customer feedback date and both
  approvals (``CLOSURE_INCOMPLETE``, one issue per missing field, on that field).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ValidationError, model_validator
from pydantic_core import InitErrorDetails

from ..fields import REQUIRED, input_field
from .common import FormModel, located_error

HEADER = ("纠正/预防措施", "Corrective / preventive action")
CONTAINMENT = ("临时措施", "Containment")
ROOT_CAUSE = ("原因分析", "Root cause analysis")
CORRECTIVE = ("长期措施", "Corrective action")
PREVENTIVE = ("横展", "Preventive action / similar products")
VERIFICATION = ("效果验证", "Verification of effectiveness")
FEEDBACK = ("客户反馈", "Customer feedback")
APPROVAL = ("批准", "Approval")
CLOSURE = ("结案", "Closure")

SOURCES = {
    "complaint": ("客户投诉", "Customer complaint"),
    "monitoring_streak": ("连续三个月扣分", "Deductions 3 months running"),
    "month_below_target": ("月度满意度未达标", "Monthly satisfaction below target"),
    "year_below_target": ("年度满意度未达标", "Annual satisfaction below target"),
    "survey_item": ("调查项目不满意", "Survey item dissatisfied"),
    "survey_below_target": ("调查得分未达标", "Survey score below target"),
    "suggestion": ("客户建议", "Customer suggestion"),
    "other": ("其他", "Other"),
}
"""Where an action comes from (the action register's sources, SPEC §8)."""

CAUSE_CATEGORIES = {
    "man": ("人", "Man"),
    "machine": ("机", "Machine"),
    "material": ("料", "Material"),
    "method": ("法", "Method"),
    "measurement": ("测", "Measurement"),
    "environment": ("环", "Environment"),
    "design": ("设计", "Design"),
    "other": ("其他", "Other"),
}
"""The cause categories of the root-cause analysis (人机料法测环, and design)."""

VERIFICATION_RESULTS = {
    "effective": ("有效", "Effective"),
    "not_effective": ("无效", "Not effective"),
}

VERIFICATION_FIELDS = ("verified_by", "verified_on", "verification_result")
"""A verification's who, when and result: given together or not at all."""

CLOSURE_NEEDS = ("containment", "root_cause", "corrective_action", "preventive_action",
                 "verified_by", "verified_on", "verification_result", "customer_feedback_on",
                 "qc_approved_by", "gm_approved_by")
"""What must be on the form before it may be closed (besides an effective verification)."""

STAGE_DATES = ("containment_date", "action_date", "verified_on")
"""The stage dates after the date raised, each on or after every one before it."""

LATER_DATES = ("customer_feedback_on", "qc_approved_on", "gm_approved_on")
"""Dates on or after the verification (and every stage before it)."""

DATE_NAMES = {
    "raised_on": ("提出日期", "the date raised"),
    "containment_date": ("临时措施完成日期", "the containment date"),
    "action_date": ("长期措施完成日期", "the corrective action date"),
    "verified_on": ("验证日期", "the verification date"),
}
"""How a ``DATE_ORDER`` issue names the earlier date a later one may not precede."""


def _text(zh: str, en: str, section: tuple[str, str], **extra: Any) -> Any:
    return input_field(zh, en, kind="text", group="body", section=section, max_length=50,
                       **extra)


def _date(zh: str, en: str, section: tuple[str, str]) -> Any:
    return input_field(zh, en, kind="date", group="body", section=section)


def _long(zh: str, en: str, section: tuple[str, str]) -> Any:
    return input_field(zh, en, kind="longtext", group="body", section=section,
                       max_length=20000)


class CorrectiveAction(FormModel):
    """纠正/预防措施处理单: one action from the problem to its closure, staged like the 8D."""

    action_no: str = input_field("处理单编号", "Action no.", kind="text", section=HEADER,
                                 default=REQUIRED, max_length=50)
    source: str | None = input_field("来源", "Source", kind="choice", section=HEADER,
                                     choices=SOURCES)
    source_ref: str | None = input_field("来源单号/记录", "Source ref. (record / ticket)",
                                         kind="text", section=HEADER, max_length=100)
    raised_on: dt.date | None = input_field("提出日期", "Raised on", kind="date",
                                            section=HEADER)
    customer: str | None = input_field("客户名称", "Customer", kind="text", section=HEADER,
                                       max_length=200, width=3)
    responsible_dept: str | None = input_field("责任部门", "Responsible department",
                                               kind="text", section=HEADER, max_length=100)
    due_date: dt.date | None = input_field("要求完成日期", "Due date", kind="date",
                                           section=HEADER)
    problem: str = input_field("问题描述", "Problem description", kind="longtext",
                               section=HEADER, default=REQUIRED, max_length=20000)

    containment: str | None = _long("临时措施(隔离/挑选/返工)",
                                    "Containment (isolate / sort / rework)", CONTAINMENT)
    containment_owner: str | None = _text("负责人", "Owner", CONTAINMENT)
    containment_date: dt.date | None = _date("完成日期", "Done on", CONTAINMENT)

    root_cause: str | None = _long("根本原因(发生/流出)", "Root cause (occurrence / escape)",
                                   ROOT_CAUSE)
    cause_category: str | None = input_field("原因类别", "Cause category", kind="choice",
                                             group="body", section=ROOT_CAUSE,
                                             choices=CAUSE_CATEGORIES)

    corrective_action: str | None = _long("长期措施(永久纠正)", "Permanent corrective action",
                                          CORRECTIVE)
    action_owner: str | None = _text("负责人", "Owner", CORRECTIVE)
    action_date: dt.date | None = _date("完成日期", "Done on", CORRECTIVE)

    preventive_action: str | None = _long("横向展开(类似产品/工序)",
                                          "Roll-out to similar products / processes",
                                          PREVENTIVE)

    verified_by: str | None = _text("验证人", "Verified by", VERIFICATION)
    verified_on: dt.date | None = _date("验证日期", "Verified on", VERIFICATION)
    verification_result: str | None = input_field(
        "验证结果", "Result", kind="choice", group="body", section=VERIFICATION,
        choices=VERIFICATION_RESULTS)
    verification_notes: str | None = input_field(
        "验证说明", "Verification notes", kind="text", group="body", section=VERIFICATION,
        max_length=2000, width=3)

    customer_feedback_on: dt.date | None = _date("反馈客户日期", "Fed back to customer on",
                                                 FEEDBACK)
    customer_feedback: str | None = input_field(
        "客户意见", "Customer's response", kind="text", group="body", section=FEEDBACK,
        max_length=2000, width=3)

    qc_approved_by: str | None = _text("品质部批准", "QC approved by", APPROVAL)
    qc_approved_on: dt.date | None = _date("日期", "Date", APPROVAL)
    gm_approved_by: str | None = _text("总经理批准", "General manager approved by", APPROVAL)
    gm_approved_on: dt.date | None = _date("日期", "Date", APPROVAL)

    closed: bool = input_field("结案", "Closed", kind="bool", group="body", section=CLOSURE,
                               default=False, help_zh="所有栏目完成且验证有效后勾选",
                               help_en="tick when every part is done and verified effective")

    @model_validator(mode="after")
    def _staged(self) -> CorrectiveAction:
        errors = [*self._stage_errors(), *self._date_errors()]
        errors += self._closure_errors({_field(e) for e in errors})
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self

    def _stage_errors(self) -> list[InitErrorDetails]:
        errors: list[InitErrorDetails] = []
        given = [name for name in VERIFICATION_FIELDS if not _blank(getattr(self, name))]
        if not given:
            return errors
        if _blank(self.corrective_action):
            name = given[-1]  # the result when given: it is what claims the action worked
            errors.append(located_error("STAGE_ORDER", name, getattr(self, name),
                                        detail="the corrective action", detail_zh="长期措施"))
        for name in VERIFICATION_FIELDS:
            if name not in given:
                errors.append(located_error("STAGE_INCOMPLETE", name, None,
                                            detail="the verification", detail_zh="效果验证"))
        return errors

    def _date_errors(self) -> list[InitErrorDetails]:
        errors: list[InitErrorDetails] = []
        latest: tuple[dt.date, str] | None = (
            (self.raised_on, "raised_on") if self.raised_on is not None else None)
        for name in (*STAGE_DATES, *LATER_DATES):
            when: dt.date | None = getattr(self, name)
            if when is None:
                continue
            if latest is not None and when < latest[0]:
                zh, en = DATE_NAMES[latest[1]]
                errors.append(located_error("DATE_ORDER", name, when.isoformat(), detail=en,
                                            detail_zh=zh))
            elif name in STAGE_DATES:
                latest = (when, name)
        return errors

    def _closure_errors(self, flagged: set[str]) -> list[InitErrorDetails]:
        if not self.closed:
            return []
        errors: list[InitErrorDetails] = []
        for name in CLOSURE_NEEDS:
            if _blank(getattr(self, name)) and name not in flagged:
                zh, en = SECTION_OF[name]
                errors.append(located_error("CLOSURE_INCOMPLETE", name, None,
                                            detail=en.lower(), detail_zh=zh))
        if self.verification_result == "not_effective":
            errors.append(located_error("CLOSURE_INCOMPLETE", "verification_result",
                                        self.verification_result,
                                        detail="an effective verification",
                                        detail_zh="有效的效果验证"))
        return errors


SECTION_OF = {name: section for section, names in (
    (CONTAINMENT, ("containment",)), (ROOT_CAUSE, ("root_cause",)),
    (CORRECTIVE, ("corrective_action",)), (PREVENTIVE, ("preventive_action",)),
    (VERIFICATION, VERIFICATION_FIELDS), (FEEDBACK, ("customer_feedback_on",)),
    (APPROVAL, ("qc_approved_by", "gm_approved_by"))) for name in names}
"""The part of the form each field that closing needs belongs to (named in the issue)."""


def _blank(value: object) -> bool:
    return value is None or value == ""


def _field(error: InitErrorDetails) -> str:
    context = getattr(error["type"], "context", None) or {}
    return str(context.get("field", ""))
