"""The customer list workbook (客户一览表): Chinese or English headers, 万元, bad rows."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from qmsforms.campaign.customer_list import CustomerListError, read_customer_list

from .test_campaign import write_list


def test_customer_list_in_chinese_or_english(tmp_path: Path) -> None:
    zh = read_customer_list(write_list(tmp_path / "客户一览表.xlsx"))
    en = read_customer_list(write_list(tmp_path / "customers.xlsx", english=True))
    assert [(e.customer, e.code, e.order_value, e.automotive) for e in zh] == \
        [(e.customer, e.code, e.order_value, e.automotive) for e in en]
    assert zh[0].order_value == Decimal(1200000) and zh[0].automotive and zh[0].row == 3
    assert zh[-1].order_value == Decimal(5000)


def test_customer_list_problems_name_their_rows(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["Customer", "Order value", "Automotive"])
    ws.append(["Acme", "lots", None])
    ws.append(["Beta", 1000, "maybe"])
    ws.append(["acme", 10, None])
    wb.save(tmp_path / "bad.xlsx")
    with pytest.raises(CustomerListError) as caught:
        read_customer_list(tmp_path / "bad.xlsx")
    assert [(i.code, i.sheet, i.cell) for i in caught.value.issues] == [
        ("NOT_A_NUMBER", "Sheet", "B2"), ("NOT_A_BOOL", "Sheet", "C3"),
        ("CUSTOMER_CONFLICT", "Sheet", "A4")]
    assert "Sheet!B2" in str(caught.value)  # the message names the cells too, zh and en
    wb = Workbook()
    wb.active.append(["Name only"])
    wb.save(tmp_path / "nohead.xlsx")
    with pytest.raises(CustomerListError):
        read_customer_list(tmp_path / "nohead.xlsx")
