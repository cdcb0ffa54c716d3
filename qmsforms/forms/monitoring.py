"""顾客满意度监测评价表 monthly satisfaction monitoring sheet [seed 000 §7.1, seed 002 5.7].

One sheet per customer per month: event counts for the quality and delivery deductions, the
customer-required performance rate and the customer's scorecard; for automotive customers also
the inputs of the QDO policy (late deliveries, engineering PPM against its target, batch
rejects and the "other" occurrences). The points each event costs live in the scoring policy
(``schemas/policies``), not here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import model_validator

from ..fields import REQUIRED, input_field
from .common import FormModel, form_error

QUALITY_EVENTS = {
    "q_partial_return": ("因质量或法规不符合引起部分退/换货", "Partial return / exchange "
                         "(quality or regulatory nonconformity)"),
    "q_full_return": ("全部退货", "Full return"),
    "q_concession": ("因我方责任引起的顾客特许", "Customer concession caused by us"),
    "q_handling_delay": ("投诉/保修处置拖延引起客户再次告知",
                         "Complaint / warranty handling delay, repeat notice"),
    "q_disruption_hold": ("顾客干扰:整车待检、停止出货", "Disruption: vehicles held / "
                          "shipment stopped"),
    "q_disruption_line_stop": ("顾客生产中断", "Customer production interrupted"),
    "q_notice_rectify": ("顾客正式通知:整改类", "Formal notice: rectification"),
    "q_notice_suspend": ("顾客正式通知:暂停供货类", "Formal notice: supply suspended"),
    "q_excess_freight": ("质量退赔超额运费超出月度标准", "Quality excess freight over the "
                         "monthly standard"),
}

DELIVERY_EVENTS = {
    "d_delay_notified": ("提前告知客户延期交付", "Delay, customer told in advance"),
    "d_delay_unnotified": ("未提前告知且未按期交付", "Not told and not delivered on time"),
    "d_delay_complaint": ("交付不及时导致客户投诉(加扣)", "Late delivery led to a complaint "
                          "(added)"),
    "d_delay_line_stop": ("交付不及时造成顾客生产或销售中断(加扣)",
                          "Late delivery interrupted production or sales (added)"),
    "d_packaging": ("包装/标识/附件不符合要求", "Packaging / labelling / attachments "
                    "nonconforming"),
    "d_notice_rectify": ("顾客正式通知:整改类", "Formal notice: rectification"),
    "d_notice_suspend": ("顾客正式通知:暂停供货类", "Formal notice: supply suspended"),
    "d_excess_freight": ("保交付超额运费超出月度标准", "Delivery excess freight over the "
                         "monthly standard"),
}

AUTOMOTIVE_EVENTS = {
    "a_late_delivery": ("交期延误次数", "Late deliveries (D)"),
    "ppm_actual": ("工程PPM(客户使用中的不良率)", "Engineering PPM (defect rate in customer use)"),
    "ppm_target": ("PPM 目标值", "PPM target"),
    "a_batch_reject": ("批退次数", "Batch rejects"),
    "o_concession": ("特采次数", "Concessions (special release)"),
    "o_fine": ("罚款次数(与质量交付有关的制裁性处罚)", "Fines (quality or delivery penalties)"),
    "o_late_reply": ("延期递交整改(改善报告未回复、未及时回复)",
                     "Late 8D / corrective-action replies"),
    "o_excess_freight": ("超额运费发生次数", "Excess freight occurrences"),
    "o_recall": ("造成客户端产品召回", "Recalls at the customer"),
    "o_other": ("其它突发的异常", "Other incidents"),
}
"""Inputs of the automotive QDO policy [seed 002 5.7.1]: counts, and the PPM with its target."""

QUALITY_SECTION = ("质量表现(30 分)— 发生次数", "Quality performance (30 points) — number of events")
DELIVERY_SECTION = ("交付表现(30 分)— 发生次数", "Delivery performance (30 points) — number of events")
AUTOMOTIVE_SECTION = ("汽车客户 QDO 评价(仅适用 automotive-qdo 政策)",
                      "Automotive QDO (automotive-qdo policy only)")


def _count(label: tuple[str, str], section: tuple[str, str]) -> Any:
    return input_field(*label, kind="int", group="body", default=0, ge=0, le=999,
                       section=section)


def _q(key: str) -> Any:
    return _count(QUALITY_EVENTS[key], QUALITY_SECTION)


def _d(key: str) -> Any:
    return _count(DELIVERY_EVENTS[key], DELIVERY_SECTION)


def _a(key: str) -> Any:
    return _count(AUTOMOTIVE_EVENTS[key], AUTOMOTIVE_SECTION)


class SatisfactionMonitoring(FormModel):
    """Monthly monitoring of one customer: counts of events and the two rates."""

    customer: str = input_field("顾客全称", "Customer (full name)", kind="text",
                                default=REQUIRED, max_length=200, width=3)
    customer_address: str | None = input_field("顾客地址", "Customer address", kind="text",
                                               max_length=300, width=3)
    month: str = input_field("考核月份", "Month assessed", kind="month", default=REQUIRED,
                             help_zh="如 2026-11", help_en="e.g. 2026-11")
    assessor: str | None = input_field("考核人", "Assessed by", kind="text", max_length=50)

    q_partial_return: int = _q("q_partial_return")
    q_full_return: int = _q("q_full_return")
    q_concession: int = _q("q_concession")
    q_handling_delay: int = _q("q_handling_delay")
    q_disruption_hold: int = _q("q_disruption_hold")
    q_disruption_line_stop: int = _q("q_disruption_line_stop")
    q_notice_rectify: int = _q("q_notice_rectify")
    q_notice_suspend: int = _q("q_notice_suspend")
    q_excess_freight: int = _q("q_excess_freight")

    d_delay_notified: int = _d("d_delay_notified")
    d_delay_unnotified: int = _d("d_delay_unnotified")
    d_delay_complaint: int = _d("d_delay_complaint")
    d_delay_line_stop: int = _d("d_delay_line_stop")
    d_packaging: int = _d("d_packaging")
    d_notice_rectify: int = _d("d_notice_rectify")
    d_notice_suspend: int = _d("d_notice_suspend")
    d_excess_freight: int = _d("d_excess_freight")

    a_late_delivery: int = _a("a_late_delivery")
    ppm_actual: Decimal | None = input_field(
        *AUTOMOTIVE_EVENTS["ppm_actual"], kind="decimal", group="body", ge=0,
        section=AUTOMOTIVE_SECTION)
    ppm_target: Decimal | None = input_field(
        *AUTOMOTIVE_EVENTS["ppm_target"], kind="decimal", group="body", gt=0,
        section=AUTOMOTIVE_SECTION)
    a_batch_reject: int = _a("a_batch_reject")
    o_concession: int = _a("o_concession")
    o_fine: int = _a("o_fine")
    o_late_reply: int = _a("o_late_reply")
    o_excess_freight: int = _a("o_excess_freight")
    o_recall: int = _a("o_recall")
    o_other: int = _a("o_other")

    # required by the monitoring-000 policy, unused by automotive-qdo: the policy checks it
    performance_rate: Decimal | None = input_field(
        "顾客要求的绩效达标率 (%)", "Customer-required performance met (%)", kind="percent",
        group="footer", ge=0, le=100,
        help_zh="产品法规符合率、关键过程能力、退赔率、售后PPM、响应及时性等;填 95 或 95%",
        help_en="regulatory conformity, key process capability, returns, field PPM, "
                "responsiveness; type 95 or 95%")
    scorecard_pct: Decimal | None = input_field(
        "顾客积分卡得分 (%)", "Customer scorecard (%)", kind="percent", group="footer",
        ge=0, le=100, help_zh="填 88 或 88%;客户不打分时留空(计满分)",
        help_en="type 88 or 88%; leave blank when the customer gives no score (full marks)")
    remarks: str | None = input_field("说明", "Remarks", kind="longtext", group="footer",
                                      max_length=2000)

    @model_validator(mode="after")
    def _ppm_has_a_target(self) -> SatisfactionMonitoring:
        if self.ppm_actual is not None and self.ppm_target is None:
            raise form_error("REQUIRED", "ppm_target is required when ppm_actual is given",
                             field="ppm_target")
        return self
