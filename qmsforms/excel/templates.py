"""Controlled templates: build the defaults, issue blanks from them, check restyled ones.

A workspace's ``templates/`` holds one template per form and language (``<form>.xlsx`` is the
bilingual one, ``<form>.zh.xlsx`` and ``<form>.en.xlsx`` the single-language ones). A quality
engineer may restyle them in Excel; `check_template` tells whether one still binds every field.
`issue_workbook` copies a template with a fresh instance id and optional pre-filled values
(`qmsforms.blanks.issue_blank` records and saves it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl.workbook.workbook import Workbook

from ..identity import Identity, fingerprint, identity_for
from ..issues import Code, Issue, Report
from ..registry import FormDef
from ..workspace import Workspace
from .binding import bind
from .blank import build_blank
from .book import Book
from .fill import fill_workbook
from .identity import read_identity, write_identity
from .validate import open_workbook
from .workbook import load_quietly

LANGS = ("both", "zh", "en")


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


def issue_workbook(workspace: Workspace, form: FormDef, lang: str,
                   values: Mapping[str, Any]) -> tuple[Workbook, Identity]:
    """A blank workbook of ``form`` with a fresh instance id and ``values`` filled in, and its
    identity; `qmsforms.blanks.issue_blank` records and saves it.

    The workspace template is used when there is one, otherwise the blank is built from the
    form definition.
    """
    template = workspace.template_path(form.id, lang)
    wb = load_quietly(template) if template else build_blank(form, workspace.config, lang)
    identity = (read_identity(wb) or identity_for(form, lang)).issued()
    write_identity(wb, identity)
    if values:
        fill_workbook(wb, form, dict(values), lang)
    return wb, identity


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
