"""The customer list workbook (客户一览表): the survey campaign's list and the customer master.

One row per customer: name, code, annual order value, automotive yes/no, and for the customer
master (`qmsforms.customers`) the other names it goes by and its monitoring policy. The header
row is found among the first rows of the first sheet that has one, in Chinese or English
(``客户名称``, ``Customer``, ``年订单额(万元)`` …); values are normalised as on the forms
(``¥1,200,000``, ``120万``, ``是/否``, ``√``, surrounding spaces). A header in 万元 scales its
column by 10,000. Every bad row is an `Issue` at its cell (sheet and cell as Excel shows
them), all of them at once.
"""

from __future__ import annotations

import os
import re
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..issues import Code, Issue, QmsFormsError
from ..normalize import NormalizeError, to_bool, to_decimal, to_text


class CustomerListError(QmsFormsError, ValueError):
    """The customer list cannot be read or has rows that cannot be used."""

    def __init__(self, message: str, issues: Sequence[Issue] = (), zh: str | None = None) -> None:
        super().__init__(message, zh)
        self.issues = tuple(issues)


HEADERS: dict[str, tuple[str, ...]] = {
    "customer": ("客户名称", "客户全称", "顾客名称", "顾客全称", "客户", "顾客", "customername",
                 "customer", "name"),
    "code": ("客户编号", "客户代码", "顾客编号", "客户编码", "编号", "代码", "customercode",
             "code", "customerno"),
    "order_value": ("年订单额", "年度订单额", "年订单金额", "年度订单金额", "订单额", "订单金额",
                    "年销售额", "annualordervalue", "annualorders", "ordervalue", "orders"),
    "automotive": ("汽车客户", "是否汽车客户", "汽车行业", "汽车", "automotivecustomer",
                   "automotive"),
    "aliases": ("别名", "其他名称", "客户简称", "简称", "曾用名", "aliases", "alias",
                "othernames"),
    "policy": ("评价政策", "监测政策", "评分政策", "满意度政策", "policy", "scoringpolicy",
               "monitoringpolicy"),
}
"""Accepted header spellings, compared with spaces, punctuation and case removed."""
LABELS: dict[str, tuple[str, str]] = {
    "customer": ("客户名称", "Customer"), "code": ("客户编号", "Customer code"),
    "order_value": ("年订单额", "Annual order value"), "automotive": ("汽车客户", "Automotive"),
    "aliases": ("别名", "Aliases"), "policy": ("评价政策", "Policy"),
}
"""The (zh, en) caption of each column, as issues name it and the export writes it."""
HEADER_ROWS = 10
"""Rows searched for the header at the top of the sheet."""
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
_TEN_THOUSAND = re.compile(r"万")
_ALIAS_SPLIT = re.compile(r"[;;,,、/\n]+")


@dataclass(frozen=True)
class CustomerEntry:
    """One row of the customer list (``order_value`` None: the column or the cell is empty)."""

    customer: str
    order_value: Decimal | None
    automotive: bool = False
    code: str | None = None
    row: int | None = None
    aliases: tuple[str, ...] = ()
    policy: str | None = None
    cells: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    """Where each value was read (field -> ``Sheet!B5``), for issues found later."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"customer": self.customer, "code": self.code,
                "order_value": None if self.order_value is None else float(self.order_value),
                "automotive": self.automotive, "aliases": list(self.aliases),
                "policy": self.policy, "row": self.row}


@dataclass(frozen=True)
class ListRead:
    """What a customer list holds: its rows, the sheet they came from, every problem found."""

    entries: tuple[CustomerEntry, ...]
    sheet: str
    columns: tuple[str, ...]
    issues: tuple[Issue, ...]


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
            score = len(alias) + (100 if key == alias else 0)
            if hit and (best is None or score > best[1]):
                best = (name, score)
    return best


def _order_value(value: Any, scale: int) -> Decimal | None:
    if isinstance(value, str) and _TEN_THOUSAND.search(value):
        number = to_decimal(_TEN_THOUSAND.sub("", value).replace("元", "").strip())
        return None if number is None else number * 10000
    number = to_decimal(value)
    return None if number is None else number * scale


def _collapse(text: str) -> str:
    return " ".join(text.split())


def read_list(path: str | os.PathLike[str]) -> ListRead:
    """Read the customer list workbook: the first sheet with recognisable headers.

    Problems in rows are issues at their cells; a workbook that cannot be opened or has no
    header row with a customer column raises `CustomerListError`.
    """
    from openpyxl import load_workbook

    source = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:
        raise CustomerListError(f"{source.name}: cannot open the customer list: {exc}",
                                zh=f"{source.name}:无法打开客户一览表:{exc}") from exc
    try:
        for ws in wb.worksheets:
            rows = list(ws.iter_rows(values_only=True))
            found = _find_header(rows)
            if found is not None:
                header_index, columns, scale = found
                return _entries(ws.title, rows, header_index, columns, scale)
    finally:
        wb.close()
    raise CustomerListError(
        f"{source.name}: no header row with a customer column (客户名称 / Customer) in the "
        f"first {HEADER_ROWS} rows of any sheet",
        zh=f"{source.name}:各工作表前 {HEADER_ROWS} 行中都没有含“客户名称”列的表头")


def read_customer_list(path: str | os.PathLike[str]) -> list[CustomerEntry]:
    """Read the list a survey campaign is planned from: every row needs an order value.

    Raises `CustomerListError` naming every bad cell (its ``issues`` hold them as data).
    """
    read = read_list(path)
    name = Path(path).name
    issues = list(read.issues)
    if "order_value" not in read.columns:
        raise CustomerListError(f"{name}: no annual order value column (年订单额 / Annual "
                                "order value)", zh=f"{name}:没有“年订单额”列")
    for entry in read.entries:
        if entry.order_value is None:
            issues.append(Issue.make(Code.REQUIRED, field="order_value", sheet=read.sheet,
                                     cell=entry.cells.get("order_value"),
                                     label=LABELS["order_value"]))
    if issues:
        raise CustomerListError(
            f"{name}: {len(issues)} problem(s):\n  " + "\n  ".join(
                f"{i.sheet}!{i.cell}: {i.message_en}" for i in issues), issues,
            f"{name}:有 {len(issues)} 处问题:\n  " + "\n  ".join(
                f"{i.sheet}!{i.cell}:{i.message_zh}" for i in issues))
    if not read.entries:
        raise CustomerListError(f"{name}: the customer list names no customers",
                                zh=f"{name}:客户一览表中没有客户")
    return list(read.entries)


def _find_header(rows: Sequence[Sequence[Any]]) -> tuple[int, dict[str, int], int] | None:
    """The header: of the first rows naming a customer column, the one naming the most
    columns (a title such as ``客户一览表 Customer list`` above it names only one)."""
    header: tuple[int, dict[str, int]] | None = None
    for index, row in enumerate(rows[:HEADER_ROWS]):
        best: dict[str, tuple[int, int]] = {}
        for col, cell in enumerate(row):
            found = _header_field(cell)
            if found and (found[0] not in best or found[1] > best[found[0]][0]):
                best[found[0]] = (found[1], col)
        columns = {name: col for name, (_, col) in best.items()}
        if "customer" in columns and (header is None or len(columns) > len(header[1])):
            header = index, columns
    if header is None:
        return None
    index, columns = header
    row = rows[index]
    scale = 10000 if "order_value" in columns and "万" in str(row[columns["order_value"]]) else 1
    return index, columns, scale


def _entries(sheet: str, rows: Sequence[Sequence[Any]], header_index: int,
             columns: dict[str, int], scale: int) -> ListRead:
    from openpyxl.utils import get_column_letter

    def get(row: Sequence[Any], key: str) -> Any:
        col = columns.get(key)
        return row[col] if col is not None and col < len(row) else None

    entries: list[CustomerEntry] = []
    issues: list[Issue] = []
    seen: dict[str, str] = {}
    for index in range(header_index + 1, len(rows)):
        row, excel_row = rows[index], index + 1
        cells = {k: f"{get_column_letter(c + 1)}{excel_row}" for k, c in columns.items()}

        def problem(code: Code, key: str, value: Any = None, *,
                    where: dict[str, str] = cells, **context: Any) -> None:
            issues.append(Issue.make(code, field=key, sheet=sheet, cell=where[key],
                                     value=value, label=LABELS[key], **context))

        try:
            customer = to_text(get(row, "customer"))
        except NormalizeError:
            customer = None
        if not customer:
            if any(v not in (None, "") for v in row):
                problem(Code.REQUIRED, "customer")
            continue
        customer = _collapse(customer)
        key = customer.casefold()
        if key in seen:
            problem(Code.CUSTOMER_CONFLICT, "customer", customer, detail=f"{sheet}!{seen[key]}")
            continue
        seen[key] = cells["customer"]
        bad = len(issues)
        value = None
        if "order_value" in columns:
            raw = get(row, "order_value")
            try:
                value = _order_value(raw, scale)
            except NormalizeError:
                value = Decimal(-1)
            if value is not None and value < 0:
                problem(Code.NOT_A_NUMBER, "order_value", raw)
        try:
            automotive = bool(to_bool(get(row, "automotive")))
        except NormalizeError:
            problem(Code.NOT_A_BOOL, "automotive", get(row, "automotive"))
        code = _collapse(to_text(get(row, "code")) or "") or None
        policy = (to_text(get(row, "policy")) or "").strip() or None
        aliases = tuple(dict.fromkeys(
            a for a in (_collapse(p) for p in _ALIAS_SPLIT.split(str(get(row, "aliases") or "")))
            if a and a.casefold() != key))
        if len(issues) == bad:
            entries.append(CustomerEntry(customer, value, automotive, code, excel_row,
                                         aliases, policy, cells))
    return ListRead(tuple(entries), sheet, tuple(columns), tuple(issues))
