"""Issuing blank forms in either format: the front door of both wings.

`build_templates` writes the default template of every form in each format it is issued in.

`issue_blank` picks the format (``.docx`` asks for Word, otherwise the form's first format),
has the wing build the blank with a fresh instance id and any pre-filled values, and records
the instance id in the ledger before the file is written, so a blank is never out in the world
unrecorded.
"""

from __future__ import annotations

import logging
import os
import zipfile
from collections.abc import Mapping
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import normalize as nz
from .archive import built_hashes, file_sha, keep_copy, write_built
from .control import control_config
from .extraction import NORMALISERS
from .issues import QmsFormsError, UsageError

if TYPE_CHECKING:
    from .identity import Identity
    from .intake.ledger import LedgerStore
    from .issues import Report
    from .registry import FormDef
    from .workspace import Workspace

LANGS = ("both", "zh", "en")
log = logging.getLogger(__name__)


def parse_values(form: FormDef, values: Mapping[str, Any]) -> dict[str, Any]:
    """Normalise pre-fill values (``--set field=value`` strings) into the field's Python values.

    A string is read as if typed into the field; a table or tick field cannot be given as a
    string. Values that are not strings (a script's dates, a table's rows) pass unchanged.
    """
    parsed: dict[str, Any] = {}
    for name, raw in values.items():
        try:
            spec = form.field(name)
        except KeyError:
            raise UsageError(f"form {form.id} has no field {name!r}") from None
        if not isinstance(raw, str):
            parsed[name] = raw
            continue
        if spec.kind in ("table", "ticks"):
            raise UsageError(f"--set cannot pre-fill {name} ({spec.kind})")
        try:
            parsed[name] = NORMALISERS[spec.kind](spec, raw, "")
        except nz.NormalizeError as exc:
            raise UsageError(f"--set {name}={raw!r}: {exc.code}") from None
    return parsed


def record_issued(ledger: LedgerStore[Any], identity: Identity | None, path: Path,
                  customer: str | None = None, site: str | None = None) -> None:
    """Remember an issued blank's instance id, so a returned copy is known to come from here
    (issued at ``site``: `qmsforms.site.site_id`)."""
    if identity is None or not identity.instance_id:
        return
    ledger.add_issued(identity.instance_id, identity.form, identity.revision,
                      datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), customer,
                      str(path), site)


def template_name(form_id: str, lang: str) -> str:
    """File name of a form's template in a language."""
    return f"{form_id}.xlsx" if lang == "both" else f"{form_id}.{lang}.xlsx"


def build_templates(workspace: Workspace, out_dir: Path | None = None, *,
                    force: bool = False) -> list[Path]:
    """Write the default template of every form in every language; returns the paths.

    Output is deterministic apart from the save timestamp in ``docProps/core.xml``, so a test
    can rebuild into a temporary folder and compare with the committed files. A customised
    template (one that is neither what this build writes nor a file qmsforms wrote before,
    see `qmsforms.archive.BUILT`) is never overwritten silently: `QmsFormsError` names them
    all and nothing is written, unless ``force``; even then a byte-identical copy of each goes
    to ``templates/archive/`` first.
    """
    target = out_dir or workspace.templates_dir
    target.mkdir(parents=True, exist_ok=True)
    built = built_hashes(target)
    fresh: list[tuple[Path, Path]] = []
    try:
        for form in workspace.registry:
            config = control_config(workspace, form)
            for lang in LANGS:
                if form.issued_as("xlsx"):
                    from .excel.blank import build_blank

                    wb = build_blank(form, config, lang)
                    created = config.control(form.id).effective_date
                    wb.properties.created = datetime(created.year, created.month, created.day)
                    path = target / template_name(form.id, lang)
                    fresh.append((path, _save_new(path, wb.save)))
                if form.issued_as("docx"):
                    from .word.blank import build_word_blank

                    doc = build_word_blank(form, config, lang)
                    path = target / template_name(form.id, lang).replace(".xlsx", ".docx")
                    fresh.append((path, _save_new(path, lambda p, d=doc: d.save(str(p)))))
        customised = [path for path, new in fresh if path.is_file()
                      and not same_content(new, path) and built.get(path.name) != file_sha(path)]
        if customised and not force:
            names = ", ".join(p.name for p in customised)
            raise QmsFormsError(
                f"customised templates not overwritten: {names}. Release a new revision with "
                "qmsforms templates release; to rebuild them anyway add --force (the old files "
                "are kept in templates/archive/)",
                f"这些模板经过修改,未覆盖:{names}。新版本请用 qmsforms templates release 发布;"
                "确需重建请加 --force(旧文件备份到 templates/archive/)。")
    except BaseException:
        for _path, new in fresh:
            new.unlink(missing_ok=True)
        raise
    stamp = datetime.now(timezone.utc).strftime("before-build-%Y%m%dT%H%M%S")
    for path in customised:
        log.warning("%s is customised; kept as %s", path.name, keep_copy(path, stamp))
    for path, new in fresh:
        if path.is_file() and same_content(new, path):
            new.unlink()
        else:
            new.replace(path)
        built[path.name] = file_sha(path)
    write_built(target, built)
    return [path for path, _new in fresh]


def _save_new(path: Path, save: Any) -> Path:
    """Save through ``save`` beside ``path`` (``.new``); returns the new file."""
    fresh = path.with_name(path.name + ".new")
    save(fresh)
    return fresh


def check_template_file(path: str | os.PathLike[str], workspace: Workspace) -> Report:
    """`templates check` of one template, xlsx or docx."""
    if Path(path).suffix.lower() == ".docx":
        from .word.templates import check_word_template

        return check_word_template(path, workspace)
    from .excel.templates import check_template

    return check_template(path, workspace)


def same_content(a: Path, b: Path) -> bool:
    """Whether two xlsx/docx files hold the same parts, ignoring the save timestamp."""
    def parts(path: Path) -> dict[str, bytes]:
        with zipfile.ZipFile(path) as zf:
            return {n: zf.read(n) for n in zf.namelist() if n != "docProps/core.xml"}

    try:
        return parts(a) == parts(b)
    except zipfile.BadZipFile:
        return False


def blank_format(form: FormDef, out: str | os.PathLike[str] | None) -> str:
    """The format a blank written to ``out`` is issued in: ``docx`` for a ``.docx`` path,
    ``xlsx`` for any other path, and the form's first format when no path is given."""
    if out is None:
        return form.formats[0]
    return "docx" if Path(out).suffix.lower() == ".docx" else "xlsx"


def issue_blank(workspace: Workspace, form_id: str, out: str | os.PathLike[str] | None = None,
                *, lang: str | None = None, values: Mapping[str, Any] | None = None,
                record: bool = False, ledger: LedgerStore[Any] | None = None) -> Path:
    """Issue one blank of ``form_id`` with a fresh instance id; returns the path written.

    The workspace's template is used when it has one (``templates/<form>[.<lang>].xlsx`` or
    ``.docx``), otherwise the blank is built from the form definition. ``out`` ending in
    ``.docx`` picks Word (any form can be laid out in Word; `FormDef.formats` says which
    formats a form is controlled in, and ``qmsforms new`` issues only those). ``values``
    pre-fill fields (``customer`` for a personalised survey; strings are read as if typed).
    ``record`` remembers the instance id in the workspace ledger; pass the ledger, opened with
    ``open_ledger(workspace, write=True)``, when issuing many (opening checks the whole ledger).
    """
    form = workspace.registry.get(form_id)
    lang = lang or workspace.config.defaults.language
    if lang not in LANGS:
        raise UsageError(f"language must be one of zh, en, both, not {lang!r}")
    fmt = blank_format(form, out)
    parsed = parse_values(form, values) if values else {}
    document: Any
    if fmt == "docx":
        from .word.blank import issue_document

        document, identity = issue_document(workspace, form, lang, parsed)
    else:
        from .excel.templates import issue_workbook

        document, identity = issue_workbook(workspace, form, lang, parsed)
    path = Path(out) if out else Path(f"{form.id}-{identity.instance_id[:8]}.{fmt}")
    if path.suffix.lower() != f".{fmt}":
        raise UsageError(f"{path.name}: a blank of {form.id} is written as .{fmt}")
    if not record:
        _save(document, path)
        return path
    from .intake.ledger import open_ledger
    from .site import site_id

    # the ledger first: a blank it cannot record is not written at all
    with nullcontext(ledger) if ledger else open_ledger(workspace, write=True) as led:
        _save(document, path)
        record_issued(led, identity, path, (values or {}).get("customer"), site_id(workspace))
    return path


def _save(document: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
