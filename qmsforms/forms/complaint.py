"""客户反馈投诉处理单 complaint ticket [seed 000 §5.3, 001 §4.5, 003]."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import model_validator

from ..fields import REQUIRED, input_field
from .common import FormModel, check_order, form_error

CHANNELS = {
    "phone": ("电话", "Phone"),
    "email": ("邮件", "E-mail"),
    "fax": ("传真", "Fax"),
    "visit": ("来访/现场", "Visit / on site"),
    "letter": ("书面函件", "Letter"),
    "other": ("其他", "Other"),
}

CATEGORIES = {
    "quality": ("产品质量", "Product quality"),
    "delivery": ("交付", "Delivery"),
    "packaging": ("包装标识", "Packaging / labelling"),
    "documentation": ("单据资料", "Documents"),
    "service": ("服务", "Service"),
    "other": ("其他", "Other"),
}


class Complaint(FormModel):
    """A customer complaint as logged by QC: what, when received, when filed, how handled."""

    ticket_no: str = input_field("投诉单号", "Ticket no.", kind="text", default=REQUIRED,
                                 max_length=50)
    customer: str = input_field("客户名称", "Customer", kind="text", default=REQUIRED,
                                max_length=200, width=3)
    customer_contact: str | None = input_field("客户联系人/电话", "Customer contact / phone",
                                               kind="text", max_length=100)
    channel: str | None = input_field("反馈方式", "Channel", kind="choice", choices=CHANNELS)
    received_at: datetime = input_field("接到投诉时间", "Received at", kind="datetime",
                                        default=REQUIRED)
    filed_at: datetime = input_field("填单时间", "Ticket filed at", kind="datetime",
                                     default=REQUIRED)
    urgent: bool | None = input_field("紧急", "Urgent", kind="bool")
    category: str = input_field("投诉类别", "Category", kind="choice", choices=CATEGORIES,
                                default=REQUIRED)
    quality_related: bool | None = input_field("属产品质量问题", "Quality-related", kind="bool",
                                               help_zh="是:需 8D 报告",
                                               help_en="yes: an 8D report is required")
    part_name: str | None = input_field("产品名称", "Product", kind="text", max_length=200)
    part_no: str | None = input_field("图号/料号", "Drawing / part no.", kind="text",
                                      max_length=100)
    batch_no: str | None = input_field("批号", "Batch no.", kind="text", max_length=100)
    qty_delivered: int | None = input_field("交付数量", "Quantity delivered", kind="int", ge=0)
    qty_complained: int | None = input_field("投诉数量", "Quantity complained", kind="int", ge=0)
    qty_returned: int | None = input_field("退货数量", "Quantity returned", kind="int", ge=0)
    description: str = input_field("投诉内容", "Complaint description", kind="longtext",
                                   group="body", default=REQUIRED, max_length=20000)
    containment: str | None = input_field("临时措施", "Containment", kind="longtext",
                                          group="body", max_length=20000)
    root_cause: str | None = input_field("原因分析", "Root cause", kind="longtext",
                                         group="body", max_length=20000)
    corrective_action: str | None = input_field("纠正预防措施", "Corrective / preventive action",
                                                kind="longtext", group="body",
                                                max_length=20000)
    responsible_dept: str | None = input_field("责任部门", "Responsible department",
                                               kind="text", group="footer", max_length=100)
    due_date: date | None = input_field("要求完成日期", "Due date", kind="date", group="footer")
    closed_date: date | None = input_field("结案日期", "Closed on", kind="date", group="footer")
    customer_feedback: str | None = input_field("客户意见", "Customer feedback", kind="text",
                                                group="footer", max_length=2000, width=3)
    handled_by: str | None = input_field("处理人", "Handled by", kind="text", group="signoff",
                                         max_length=50)
    verified_by: str | None = input_field("验证人", "Verified by", kind="text",
                                          group="signoff", max_length=50)
    approved_by: str | None = input_field("批准", "Approved by", kind="text", group="signoff",
                                          max_length=50)

    @model_validator(mode="after")
    def _times_in_order(self) -> Complaint:
        check_order(self, "filed_at", "received_at", ("接到投诉时间", "the time received"))
        if self.closed_date is not None and self.closed_date < self.received_at.date():
            raise form_error("DATE_ORDER", "closed before received", field="closed_date",
                             detail="the time received", detail_zh="接到投诉时间")
        return self
