"""发货单 shipping list [seed 000 §4.1–4.5]: header, dispatch details and the lines table."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import model_validator

from ..fields import REQUIRED, input_field
from .common import FormModel, check_order, form_error

SHIP_METHODS = {
    "own_delivery": ("跟车送货", "Own delivery"),
    "freight": ("托运", "Freight carrier"),
    "courier": ("邮寄/快递", "Courier"),
    "customer_pickup": ("客户自提", "Customer pick-up"),
}

AMOUNT_TOLERANCE = Decimal("0.01")
MAX_AMOUNT = Decimal(10) ** 15
"""A line's amount stays below a quadrillion: beyond it a figure is a typing error."""
_CENT = Decimal("0.01")
_SURELY_WITHIN = Decimal("0.005")  # |amount - exact| <= this is within tolerance of the rounded


class ShippingLine(FormModel):
    """One line of goods: what, which batch, how many, at what price."""

    part_name: str = input_field("产品名称", "Product", kind="text", default=REQUIRED,
                                 max_length=200)
    drawing_no: str | None = input_field("图号/料号", "Drawing / part no.", kind="text",
                                         max_length=100)
    batch_no: str = input_field("批号", "Batch no.", kind="text", default=REQUIRED,
                                max_length=100)
    quantity: int = input_field("数量", "Quantity", kind="int", default=REQUIRED, gt=0)
    unit: str | None = input_field("单位", "Unit", kind="text", max_length=20)
    unit_price: Decimal | None = input_field("单价", "Unit price", kind="decimal", ge=0)
    amount: Decimal | None = input_field("金额", "Amount", kind="decimal", ge=0,
                                         product=("quantity", "unit_price"))
    remarks: str | None = input_field("备注", "Remarks", kind="text", max_length=500)

    @model_validator(mode="after")
    def _amount_is_quantity_times_price(self) -> ShippingLine:
        """The amount is quantity × unit price: computed when left blank, checked when shown."""
        if self.unit_price is None:
            return self
        exact = self.unit_price * self.quantity
        if exact >= MAX_AMOUNT:  # also keeps the cent rounding below within decimal's precision
            raise form_error("OUT_OF_RANGE", "quantity x unit price is too large",
                             field="unit_price", value=str(self.unit_price),
                             detail=f"such that quantity × price < {MAX_AMOUNT:,}",
                             detail_zh=f"使数量 × 单价小于 {MAX_AMOUNT:,}")
        if self.amount == exact:  # shown exactly: nothing to round or compare
            return self
        expected = exact.quantize(_CENT)
        if self.amount is None:
            self.amount = expected
        elif abs(self.amount - exact) > _SURELY_WITHIN and (
                abs(self.amount - expected) > AMOUNT_TOLERANCE):
            raise form_error("AMOUNT_MISMATCH", "amount != quantity x unit price",
                             field="amount", detail=str(expected), value=str(self.amount))
        return self


class ShippingList(FormModel):
    """发货单: what left the warehouse for a customer, line by line with batch numbers."""

    doc_no: str = input_field("发货单号", "Shipping list no.", kind="text", default=REQUIRED,
                              max_length=50)
    customer: str = input_field("客户(收货单位)", "Customer (consignee)", kind="text",
                                default=REQUIRED, max_length=200, width=3)
    customer_code: str | None = input_field("客户编号", "Customer code", kind="text",
                                            max_length=50)
    order_no: str | None = input_field("订单号", "Order no.", kind="text", max_length=50)
    delivery_address: str | None = input_field("收货地址", "Delivery address", kind="text",
                                               max_length=300, width=3)
    contact: str | None = input_field("收货联系人/电话", "Consignee contact / phone",
                                      kind="text", max_length=100)
    ship_date: date = input_field("发货日期", "Ship date", kind="date", default=REQUIRED)
    planned_delivery_date: date | None = input_field("计划交货日期", "Planned delivery date",
                                                     kind="date")
    actual_delivery_date: date | None = input_field("实际交货日期", "Actual delivery date",
                                                    kind="date")
    ship_method: str | None = input_field("发货方式", "Shipping method", kind="choice",
                                          choices=SHIP_METHODS)
    carrier: str | None = input_field("承运单位/运单号", "Carrier / waybill no.", kind="text",
                                      max_length=100)
    certificates_enclosed: bool | None = input_field(
        "检验记录/材质单随货", "Inspection records / certificates enclosed", kind="bool")
    lines: list[ShippingLine] = input_field("发货明细", "Lines", kind="table", group="lines",
                                            default=REQUIRED, min_length=1)
    prepared_by: str | None = input_field("制单", "Prepared by", kind="text", group="signoff",
                                          max_length=50)
    approved_by: str | None = input_field("审批", "Approved by", kind="text", group="signoff",
                                          max_length=50)
    issued_by: str | None = input_field("仓库发货", "Issued by (warehouse)", kind="text",
                                        group="signoff", max_length=50)
    received_by: str | None = input_field("客户签收", "Received by (customer)", kind="text",
                                          group="signoff", max_length=50)

    @model_validator(mode="after")
    def _dates_in_order(self) -> ShippingList:
        for later in ("planned_delivery_date", "actual_delivery_date"):
            check_order(self, later, "ship_date", ("发货日期", "the ship date"))
        return self

    @property
    def total_quantity(self) -> int:
        """Sum of the line quantities."""
        return sum(line.quantity for line in self.lines)

    @property
    def total_amount(self) -> Decimal | None:
        """Sum of the line amounts, None when no line carries one."""
        amounts = [line.amount for line in self.lines if line.amount is not None]
        return sum(amounts, Decimal(0)) if amounts else None
