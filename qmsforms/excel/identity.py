"""The identity of a workbook: written into a blank, read back from a returned file.

Two copies, as `qmsforms.identity` describes: custom document properties and the very hidden
sheet `IDENTITY_SHEET`. A blank being issued is an openpyxl workbook; a returned file is read
as a `Book`, without openpyxl.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from ..identity import IDENTITY_SHEET, KEYS, PROPERTY_PREFIX, Identity, identity_of
from .book import Book
from .cells import plain

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook


def write_identity(wb: Workbook, identity: Identity) -> None:
    """Store the identity as custom properties and on the very hidden sheet (replacing both)."""
    from openpyxl.packaging.custom import StringProperty

    values = asdict(identity)
    props = wb.custom_doc_props  # type: ignore[attr-defined]  # missing from types-openpyxl
    for key in KEYS:
        name = PROPERTY_PREFIX + key
        for existing in [p for p in props.props if p.name == name]:
            props.props.remove(existing)
        props.append(StringProperty(name=name, value=values[key] or "-"))
    if IDENTITY_SHEET in wb.sheetnames:
        ws = wb[IDENTITY_SHEET]
    else:
        ws = wb.create_sheet(IDENTITY_SHEET)
        ws.sheet_state = "veryHidden"
        ws.protection.sheet = True
    for row, key in enumerate(KEYS, start=1):
        ws.cell(row=row, column=1, value=key)
        ws.cell(row=row, column=2, value=values[key])


def read_identity(wb: Workbook | Book) -> Identity | None:
    """The identity found in a workbook, preferring the hidden sheet; None when absent.

    ``wb`` is an openpyxl workbook (a blank being issued) or a `Book` (a returned file).
    """
    rows: list[tuple[Any, ...]] = []
    props: dict[str, Any]
    if isinstance(wb, Book):
        if IDENTITY_SHEET in wb.sheetnames:
            rows = [tuple(plain(v) for v in row[:2]) for row in wb.rows(IDENTITY_SHEET)[:20]]
        props = wb.custom_properties
    else:
        if IDENTITY_SHEET in wb.sheetnames:
            rows = list(wb[IDENTITY_SHEET].iter_rows(min_row=1, max_row=20, max_col=2,
                                                     values_only=True))
        custom = wb.custom_doc_props  # type: ignore[attr-defined]  # missing from types-openpyxl
        props = {p.name: p.value for p in getattr(custom, "props", [])}
    return identity_of(rows, props)
