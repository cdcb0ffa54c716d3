"""The customer list workbook (客户一览表) a survey campaign is planned from.

One row per customer: name, code, annual order value, automotive yes/no. The header row is
found among the first rows of the first sheet that has one, in Chinese or English
(``客户名称``, ``Customer``, ``年订单额(万元)`` …); values are normalised as on the forms
(``¥1,200,000``, ``120万``, ``是/否``, ``√``, surrounding spaces). A header in 万元 scales its
column by 10,000. Every bad row is reported at once, by sheet and row as Excel shows it.
"""

from __future__ import annotations

import os
import re
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..issues import QmsFormsError
from ..normalize import NormalizeError, to_bool, to_decimal, to_text


class CustomerListError(QmsFormsError, ValueError):
    """The customer list cannot be read or has rows that cannot be used."""


HEADERS: dict[str, tuple[str, ...]] = {
    "customer": ("客户名称", "客户全称", "顾客名称", "顾客全称", "客户", "顾客", "customername",
                 "customer", "name"),
    "code": ("客户编号", "客户代码", "顾客编号", "客户编码", "编号", "代码", "customercode",
             "code", "customerno"),
    "order_value": ("年订单额", "年度订单额", "年订单金额", "年度订单金额", "订单额", "订单金额",
                    "年销售额", "annualordervalue", "annualorders", "ordervalue", "orders"),
    "automotive": ("汽车客户", "是否汽车客户", "汽车行业", "汽车", "automotivecustomer",
                   "automotive"),
}
"""Accepted header spellings, compared with spaces, punctuation and case removed."""
HEADER_ROWS = 10
"""Rows searched for the header at the top of the sheet."""
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
_TEN_THOUSAND = re.compile(r"万")


@dataclass(frozen=True)
class CustomerEntry:
    """One row of the customer list."""

    customer: str
    order_value: Decimal
    automotive: bool = False
    code: str | None = None
    row: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"customer": self.customer, "code": self.code,
                "order_value": float(self.order_value), "automotive": self.automotive,
                "row": self.row}


def _header_key(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = re.sub(r"[((][^))]*[))]", "", folded)  # units in brackets: (元), (万元)
    return _NOISE.sub("", folded)


def _header_field(text: Any) -> tuple[str, int] | None:
    """The field a header cell names and how well (length of the alias matched), or None.

    A header matches an alias it equals, starts or ends with (``客户名称 Customer``,
    ``年订单额(万元)``); the longest matching alias decides, so ``客户编号`` is the code.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    key = _header_key(text)
    best: tuple[str, int] | None = None
    for name, aliases in HEADERS.items():
        for alias in aliases:
            hit = key == alias or key.startswith(alias) or key.endswith(alias)
            if hit and (best is None or len(alias) > best[1]):
                best = (name, len(alias) + (100 if key == alias else 0))
    return best


def _order_value(value: Any, scale: int) -> Decimal | None:
    if isinstance(value, str) and _TEN_THOUSAND.search(value):
        number = to_decimal(_TEN_THOUSAND.sub("", value).replace("元", "").strip())
        return None if number is None else number * 10000
    number = to_decimal(value)
    return None if number is None else number * scale


def _collapse(text: str) -> str:
    return " ".join(text.split())


def read_customer_list(path: str | os.PathLike[str]) -> list[CustomerEntry]:
    """Read the customer list workbook: the first sheet with recognisable headers.

    Raises `CustomerListError` naming every bad row (sheet, row as Excel shows it, column).
    """
    from openpyxl import load_workbook

    source = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:
        raise CustomerListError(f"{source.name}: cannot open the customer list: {exc}",
                                f"{source.name}:客户一览表打不开:{exc}") from exc
    try:
        for ws in wb.worksheets:
            rows = list(ws.iter_rows(values_only=True))
            found = _find_header(rows)
            if found is not None:
                header_index, columns, scale = found
                return _entries(source.name, ws.title, rows, header_index, columns, scale)
    finally:
        wb.close()
    raise CustomerListError(
        f"{source.name}: no header row with a customer and an annual order value column "
        "(客户名称 / Customer, 年订单额 / Annual order value) in the first "
        f"{HEADER_ROWS} rows of any sheet",
        f"{source.name}:没有一个工作表在前 {HEADER_ROWS} 行内有含“客户名称”和“年订单额”两列的"
        "表头行")


def _find_header(rows: Sequence[Sequence[Any]]) -> tuple[int, dict[str, int], int] | None:
    for index, row in enumerate(rows[:HEADER_ROWS]):
        best: dict[str, tuple[int, int]] = {}
        for col, cell in enumerate(row):
            found = _header_field(cell)
            if found and (found[0] not in best or found[1] > best[found[0]][0]):
                best[found[0]] = (found[1], col)
        columns = {name: col for name, (_, col) in best.items()}
        if "customer" in columns and "order_value" in columns:
            scale = 10000 if "万" in str(row[columns["order_value"]]) else 1
            return index, columns, scale
    return None


def _entries(name: str, sheet: str, rows: Sequence[Sequence[Any]], header_index: int,
             columns: dict[str, int], scale: int) -> list[CustomerEntry]:
    def get(row: Sequence[Any], key: str) -> Any:
        col = columns.get(key)
        return row[col] if col is not None and col < len(row) else None

    entries: list[CustomerEntry] = []
    problems: list[tuple[str, str]] = []  # (en, zh)
    seen: dict[str, int] = {}
    for index in range(header_index + 1, len(rows)):
        row, excel_row = rows[index], index + 1
        try:
            customer = to_text(get(row, "customer"))
        except NormalizeError:
            customer = None
        if not customer:
            if any(v not in (None, "") for v in row):
                problems.append((f"{sheet}!row {excel_row}: no customer name",
                                 f"{sheet}!第 {excel_row} 行:没有客户名称"))
            continue
        customer = _collapse(customer)
        key = customer.casefold()
        if key in seen:
            problems.append((f"{sheet}!row {excel_row}: {customer} is listed twice "
                             f"(also row {seen[key]})",
                             f"{sheet}!第 {excel_row} 行:{customer} 重复列出"
                             f"(第 {seen[key]} 行已有)"))
            continue
        seen[key] = excel_row
        try:
            value = _order_value(get(row, "order_value"), scale)
        except NormalizeError:
            value = None
        if value is None or value < 0:
            shown = get(row, "order_value")
            problems.append((f"{sheet}!row {excel_row}: {customer}: the annual order value "
                             f"{'(blank)' if shown is None else repr(shown)} is not an amount",
                             f"{sheet}!第 {excel_row} 行:{customer}:年订单额"
                             f"{'为空' if shown is None else f' {shown!r} 不是金额'},"
                             "请填写金额(元,或表头注明万元)"))
            continue
        try:
            automotive = bool(to_bool(get(row, "automotive")))
        except NormalizeError:
            problems.append((f"{sheet}!row {excel_row}: {customer}: automotive must be yes/no "
                             f"(是/否), not {get(row, 'automotive')!r}",
                             f"{sheet}!第 {excel_row} 行:{customer}:汽车客户只能填 是/否,"
                             f"不能是 {get(row, 'automotive')!r}"))
            continue
        code = to_text(get(row, "code")) if "code" in columns else None
        entries.append(CustomerEntry(customer, value, automotive, code, excel_row))
    if problems:
        raise CustomerListError(
            f"{name}: {len(problems)} row(s) cannot be used:\n  "
            + "\n  ".join(en for en, _ in problems),
            f"{name}:有 {len(problems)} 行不能使用:\n  " + "\n  ".join(zh for _, zh in problems))
    if not entries:
        raise CustomerListError(f"{name}: the customer list names no customers",
                                f"{name}:客户一览表中没有客户")
    return entries
