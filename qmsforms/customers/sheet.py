"""The customer master in and out of Excel: ``customers import`` and ``customers export``.

Import reads the customer list workbook (`qmsforms.campaign.customer_list.read_list`), checks
it as a whole (a code, name or alias naming two customers; an unknown policy) and, when nothing
is wrong, replaces ``customers.toml`` and says what changed. A customer is the same customer
across imports when its code is (or, without a code, its normalised name): a new name is a
rename, and the old name is kept as an alias so the forms already returned under it still match
(an alias missing from a later list is dropped, and said). Export writes the master back as a
workbook that imports unchanged.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..campaign.customer_list import LABELS, CustomerEntry, ListRead, read_list
from ..issues import Code, Issue
from .master import Customer, CustomerMaster, load_master, save_master

if TYPE_CHECKING:
    from ..workspace import Workspace

COLUMNS = ("code", "customer", "aliases", "automotive", "policy", "order_value")
"""The columns an export writes, in order."""


@dataclass
class ImportResult:
    """What ``customers import`` found and changed."""

    source: str
    customers: int = 0
    added: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    new_aliases: list[tuple[str, str]] = field(default_factory=list)
    dropped_aliases: list[tuple[str, str]] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    @property
    def changes(self) -> int:
        """How many changes the import made."""
        return (len(self.added) + len(self.renamed) + len(self.new_aliases)
                + len(self.dropped_aliases) + len(self.changed) + len(self.removed))

    @property
    def saved(self) -> bool:
        """Whether the master was replaced (nothing in the list is an error)."""
        return not any(i.severity == "error" for i in self.issues)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: what ``customers import --json`` prints."""
        return {"source": self.source, "saved": self.saved, "customers": self.customers,
                "added": self.added, "renamed": [list(r) for r in self.renamed],
                "new_aliases": [list(a) for a in self.new_aliases],
                "dropped_aliases": [list(a) for a in self.dropped_aliases],
                "changed": self.changed,
                "removed": self.removed, "issues": [i.to_dict() for i in self.issues]}


def _conflicts(read: ListRead, master: CustomerMaster) -> list[Issue]:
    """A code, name or alias (compared normalised) that names two rows' customers."""
    issues: list[Issue] = []
    owner: dict[tuple[str, str], tuple[int, str]] = {}
    for index, e in enumerate(read.entries):
        keys = [("code", "code", (e.code or "").casefold())] if e.code else []
        keys += [("name", "customer", master.fold(e.customer))]
        keys += [("name", "aliases", master.fold(a)) for a in e.aliases]
        for kind, column, key in keys:
            if not key:
                continue
            other = owner.setdefault((kind, key), (index, e.cells.get(column, "")))
            if other[0] != index:
                issues.append(Issue.make(
                    Code.CUSTOMER_CONFLICT, field=column, sheet=read.sheet,
                    cell=e.cells.get(column), value=e.code if kind == "code" else key,
                    label=LABELS[column], detail=f"{read.sheet}!{other[1]}"))
    return issues


def _policies(read: ListRead, workspace: Workspace) -> list[Issue]:
    policies = workspace.policies
    known = sorted(p for p in policies if policies.get(p).kind == "monitoring")
    return [Issue.make(Code.NOT_A_CHOICE, field="policy", sheet=read.sheet,
                       cell=e.cells.get("policy"), value=e.policy, label=LABELS["policy"],
                       detail=", ".join(known))
            for e in read.entries if e.policy and e.policy not in known]


def _customer(entry: CustomerEntry) -> Customer:
    return Customer(code=entry.code, name=entry.customer, aliases=entry.aliases,
                    automotive=entry.automotive, policy=entry.policy,
                    order_value=entry.order_value)


def import_master(workspace: Workspace, path: str | os.PathLike[str]) -> ImportResult:
    """Read the customer list at ``path`` into the workspace's master (see the module doc).

    Problems are issues at their cells; when one is an error the master is left unchanged.
    """
    source = Path(path)
    read = read_list(source)
    old = load_master(workspace)
    probe = CustomerMaster(settings=old.settings)
    result = ImportResult(source.name, len(read.entries))
    result.issues = [*read.issues, *_conflicts(read, probe), *_policies(read, workspace)]
    if not result.saved:
        return result
    new: list[Customer] = []
    seen: set[int] = set()
    for entry in read.entries:
        customer = _customer(entry)
        before = (old.by_key(customer.code) if customer.code else None) or next(
            (c for c in old.customers if not c.code and not customer.code
             and old.fold(c.name) == old.fold(customer.name)), None)
        if before is None:
            result.added.append(customer.name)
            new.append(customer)
            continue
        seen.add(id(before))
        aliases = list(customer.aliases)
        if before.name != customer.name:
            result.renamed.append((before.name, customer.name))
            if probe.fold(before.name) != probe.fold(customer.name):
                aliases.append(before.name)
        result.new_aliases += [(customer.name, a) for a in aliases if a not in before.aliases]
        result.dropped_aliases += [(customer.name, a) for a in before.aliases
                                   if a not in aliases and a != customer.name]
        if (before.automotive, before.policy) != (customer.automotive, customer.policy):
            result.changed.append(customer.name)
        new.append(customer.model_copy(update={"aliases": tuple(dict.fromkeys(aliases))}))
    result.removed = [c.name for c in old.customers if id(c) not in seen]
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    save_master(workspace, new, f"{source.name} sha256:{digest}", stamp)
    return result


HEADINGS = {key: f"{zh}\n{en}" for key, (zh, en) in LABELS.items()}
HEADINGS["order_value"] = "年订单额(元)\nAnnual order value"


def export_master(workspace: Workspace, path: str | os.PathLike[str]) -> Path:
    """Write the master as a customer list workbook (A4, bilingual headers) that imports
    back unchanged; returns its path."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import Cell
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from ..excel.style import (
        BORDER,
        CENTER,
        FORM_MARGINS,
        HEAD_FILL,
        LEFT,
        a4_page,
        escape,
        first_sheet,
        font,
        page_texts,
    )
    from ..safe_text import set_text

    master = load_master(workspace)
    target = Path(path)
    wb = Workbook()
    ws = first_sheet(wb)
    ws.title = "客户一览表"
    for col, key in enumerate(COLUMNS, start=1):
        cell = ws.cell(1, col)
        assert isinstance(cell, Cell)
        set_text(cell, HEADINGS[key])
        cell.font, cell.fill, cell.alignment, cell.border = font(10, True), HEAD_FILL, CENTER, \
            BORDER
    ws.row_dimensions[1].height = 32
    for row, c in enumerate(master.customers, start=2):
        values = (c.code, c.name, "; ".join(c.aliases), "是" if c.automotive else "否",
                  c.policy, None if c.order_value is None else float(c.order_value))
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row, col)
            assert isinstance(cell, Cell)
            set_text(cell, value)
            cell.font, cell.alignment, cell.border = font(10), LEFT, BORDER
        ws.cell(row, 6).number_format = "#,##0"
    last = max(len(master.customers) + 1, 2)
    for col, width in enumerate((15, 34, 30, 13, 16, 20), start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    yes_no = DataValidation(type="list", formula1='"是,否"', allow_blank=True)
    yes_no.add(f"D2:D{last + 200}")
    policies = workspace.policies
    known = [p for p in policies if policies.get(p).kind == "monitoring"]
    choice = DataValidation(type="list", formula1='"' + ",".join(known) + '"', allow_blank=True)
    choice.add(f"E2:E{last + 200}")
    ws.add_data_validation(yes_no)
    ws.add_data_validation(choice)
    ws.freeze_panes = "A2"
    a4_page(ws, orientation="portrait", last_col=len(COLUMNS), last_row=last,
            margins=FORM_MARGINS, title_rows=(1, 1))
    company = workspace.config.company
    page_texts(ws, footer_left="qmsforms customers export",
               header=((escape(f"{company.name_zh} {company.name_en}"), 8),
                       ("客户一览表(客户主数据) Customer list (customer master)", 10),
                       ("&A", 8)))
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)
    return target
