"""Controlled templates: build the defaults, issue blanks from them, check restyled ones.

A workspace's ``templates/`` holds one template per form and language (``<form>.xlsx`` is the
bilingual one, ``<form>.zh.xlsx`` and ``<form>.en.xlsx`` the single-language ones). A quality
engineer may restyle them in Excel; `check_template` tells whether one still binds every field.
`issue_blank` copies a template with a fresh instance id and optional pre-filled values.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.workbook import Workbook

from .. import normalize as nz
from ..identity import Identity, fingerprint, identity_for, read_identity, write_identity
from ..issues import Code, Issue, Report, UsageError
from ..registry import FormDef
from ..safe_text import set_text
from ..validate import open_workbook
from ..workspace import Workspace
from .binding import bind
from .blank import build_blank
from .book import Book
from .extract import NORMALISERS
from .fill import fill_workbook

if TYPE_CHECKING:
    from ..intake.ledger import Ledger

LANGS = ("both", "zh", "en")
BAD_FILL = PatternFill("solid", fgColor="FFC7CE")


def template_name(form_id: str, lang: str) -> str:
    """File name of a form's template in a language."""
    return f"{form_id}.xlsx" if lang == "both" else f"{form_id}.{lang}.xlsx"


def build_templates(workspace: Workspace, out_dir: Path | None = None) -> list[Path]:
    """Write the default template of every form in every language; returns the paths.

    Output is deterministic apart from the save timestamp in ``docProps/core.xml``, so a test
    can rebuild into a temporary folder and compare with the committed files.
    """
    target = out_dir or workspace.templates_dir
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for form in workspace.registry:
        for lang in LANGS:
            if form.issued_as("xlsx"):
                wb = build_blank(form, workspace.config, lang)
                created = workspace.config.control(form.id).effective_date
                wb.properties.created = datetime(created.year, created.month, created.day)
                written.append(_replace_if_changed(target / template_name(form.id, lang),
                                                   wb.save))
            if form.issued_as("docx"):
                from ..word.blank import build_word_blank

                doc = build_word_blank(form, workspace.config, lang)
                path = target / template_name(form.id, lang).replace(".xlsx", ".docx")
                written.append(_replace_if_changed(path, lambda p, d=doc: d.save(str(p))))
    return written


def _replace_if_changed(path: Path, save: Any) -> Path:
    """Save through ``save(path)`` unless only the save timestamp would change."""
    fresh = path.with_suffix(".new")
    save(fresh)
    if path.is_file() and same_content(fresh, path):
        fresh.unlink()
    else:
        fresh.replace(path)
    return path


def same_content(a: Path, b: Path) -> bool:
    """Whether two xlsx/docx files hold the same parts, ignoring the save timestamp."""
    import zipfile

    def parts(path: Path) -> dict[str, bytes]:
        with zipfile.ZipFile(path) as zf:
            return {n: zf.read(n) for n in zf.namelist() if n != "docProps/core.xml"}

    try:
        return parts(a) == parts(b)
    except zipfile.BadZipFile:
        return False


def _load(path: Path) -> Workbook:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_workbook(path)


def _parse_set(form: FormDef, values: Mapping[str, str]) -> dict[str, Any]:
    """Normalise ``--set field=value`` strings into the field's Python values."""
    parsed: dict[str, Any] = {}
    for name, raw in values.items():
        try:
            spec = form.field(name)
        except KeyError:
            raise UsageError(f"form {form.id} has no field {name!r}") from None
        if spec.kind in ("table", "ticks"):
            raise UsageError(f"--set cannot pre-fill {name} ({spec.kind})")
        try:
            parsed[name] = NORMALISERS[spec.kind](spec, raw, "")
        except nz.NormalizeError as exc:
            raise UsageError(f"--set {name}={raw!r}: {exc.code}") from None
    return parsed


def issue_blank(workspace: Workspace, form_id: str, out: str | os.PathLike[str] | None = None,
                *, lang: str | None = None, values: Mapping[str, str] | None = None,
                record: bool = False, ledger: Ledger | None = None) -> Path:
    """Issue one blank of ``form_id``: the workspace template with a fresh instance id.

    ``values`` pre-fills fields (``customer`` for a personalised survey). Without a workspace
    template the blank is built from the form definition. ``record`` remembers the instance
    id in the workspace ledger, so a returned copy is known to come from here; pass the
    ledger, opened with ``open_ledger(workspace, write=True)``, when issuing many (opening
    checks the whole ledger).
    """
    form = workspace.registry.get(form_id)
    lang = lang or workspace.config.defaults.language
    if lang not in LANGS:
        raise UsageError(f"language must be one of zh, en, both, not {lang!r}")
    template = workspace.template_path(form.id, lang)
    wb = _load(template) if template else build_blank(form, workspace.config, lang)
    identity = read_identity(wb) or identity_for(form, lang)
    write_identity(wb, identity.issued())
    if values:
        fill_workbook(wb, form, _parse_set(form, values), lang)
    path = Path(out) if out else Path(f"{form.id}-{read_identity(wb).instance_id[:8]}.xlsx")  # type: ignore[union-attr]
    if path.suffix.lower() != ".xlsx":
        raise UsageError(f"{path.name}: a blank of {form.id} is written as .xlsx")
    if not record:
        path.parent.mkdir(parents=True, exist_ok=True)
        wb.save(path)
        return path
    from contextlib import nullcontext

    from ..intake.ledger import open_ledger

    # the ledger first: a blank it cannot record is not written at all
    with nullcontext(ledger) if ledger else open_ledger(workspace, write=True) as led:
        path.parent.mkdir(parents=True, exist_ok=True)
        wb.save(path)
        _record_issued(led, form, read_identity(wb), path, values)
    return path


def _record_issued(ledger: Ledger, form: FormDef, identity: Identity | None, path: Path,
                   values: Mapping[str, str] | None) -> None:
    from datetime import timezone

    if identity is None or not identity.instance_id:
        return
    ledger.add_issued(identity.instance_id, form.id, identity.revision,
                      datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                      (values or {}).get("customer"), str(path))


def check_template(path: str | os.PathLike[str], workspace: Workspace) -> Report:
    """Does a (possibly restyled) template still identify itself and bind every field?"""
    report = Report(path=str(path))
    book, issues = open_workbook(Path(path))
    report.add(issues)
    if book is None:
        return report
    with book:
        return _check_book(book, workspace, report)


def _check_book(book: Book, workspace: Workspace, report: Report) -> Report:
    identity = read_identity(book)
    if identity is None:
        report.add(Issue.make(Code.NO_IDENTITY))
        return report
    report.form, report.revision = identity.form, identity.revision
    if identity.form not in workspace.registry:
        report.add(Issue.make(Code.UNKNOWN_FORM, value=identity.form))
        return report
    form: FormDef = workspace.registry.get(identity.form)
    if identity.fingerprint != fingerprint(form, identity.revision):
        report.add(Issue.make(Code.TEMPLATE_ALTERED, value=identity.fingerprint))
    report.add(bind(book, form, table_part=True)[1])
    return report


_TOO_LARGE = frozenset({Code.ZIP_BOMB.name, Code.ABSURD_DIMENSIONS.name,
                        Code.CELL_OUT_OF_RANGE.name, Code.SHEET_TOO_LARGE.name})
"""Refusals of a file too large to read: no annotated copy (openpyxl would read it all)."""


def annotate(path: str | os.PathLike[str], report: Report,
             out: str | os.PathLike[str]) -> Path | None:
    """Write a copy of an invalid workbook with each bad cell highlighted and commented.

    Returns None when the file cannot be opened at all (then only the report can be given),
    and for a file refused for its size: it is not opened again to be annotated.
    """
    if any(i.code in _TOO_LARGE for i in report.issues):
        return None
    try:
        wb = _load(Path(path))
    except Exception:
        return None
    notes: dict[tuple[str, str], list[Issue]] = {}
    for issue in report.issues:
        if issue.sheet in wb.sheetnames and issue.cell:
            notes.setdefault((issue.sheet, issue.cell), []).append(issue)
    for (sheet, ref), issues in notes.items():
        ws = wb[sheet]
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        for row in range(min_row, max_row + 1):  # type: ignore[arg-type,operator]
            for col in range(min_col, max_col + 1):  # type: ignore[arg-type,operator]
                cell = ws.cell(row=row, column=col)
                if cell.__class__.__name__ != "MergedCell":
                    cell.fill = BAD_FILL
        text = "\n\n".join(f"[{i.code}] {i.message_zh}\n{i.message_en}" for i in issues)
        anchor = ws.cell(row=min_row, column=min_col)  # type: ignore[arg-type]
        comment = Comment(text, "qmsforms")
        comment.width, comment.height = 320, 60 + 40 * len(issues)
        anchor.comment = comment
    _issue_sheet(wb, report)
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)
    return target


def _issue_sheet(wb: Workbook, report: Report) -> None:
    """A first sheet listing every issue, for the person reviewing the rejection."""
    ws = wb.create_sheet("问题 Issues", 0)
    ws.append(["代码 Code", "字段 Field", "工作表 Sheet", "单元格 Cell", "填写值 Value",
               "说明", "Message"])
    for row, issue in enumerate(report.issues, start=2):
        values = (issue.code, issue.field, issue.sheet, issue.cell, issue.value,
                  issue.message_zh, issue.message_en)
        for col, value in enumerate(values, start=1):
            set_text(ws.cell(row=row, column=col), value)
    for letter, width in zip("ABCDEFG", (20, 18, 14, 12, 20, 50, 60), strict=True):
        ws.column_dimensions[letter].width = width
    wb.active = 0
