"""Releasing a new revision of a form: one deliberate step that keeps a customised template.

`release` carries each of the workspace's templates of the form (every language, xlsx and
docx) over to the new revision: a byte-identical copy of the old file goes to
``templates/archive/``, then the template itself gets the new identity (revision and
fingerprint) and the current control block, and nothing else changes (fonts, fills, a logo,
moved rows). A template that would lose something on the way (a shape or picture the writer
cannot carry, a field no longer bound) is left as it was and the release is refused with the
reason. The release is recorded in the revision history (`qmsforms.revisions`): who, when,
what changed, which files; from then on `new` issues the new revision and a returned copy of
the old one is accepted until its grace period ends.
"""

from __future__ import annotations

import getpass
import logging
import re
import shutil
import zipfile
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

from .archive import ARCHIVE, built_hashes, file_sha, keep_copy, write_built
from .control import control_block
from .identity import Identity, identity_for
from .issues import QmsFormsError, UsageError
from .opc.xml import PARSER
from .revisions import HISTORY_NAME, History, Release

if TYPE_CHECKING:
    from .control import ControlBlock
    from .registry import FormDef
    from .workspace import Workspace

log = logging.getLogger(__name__)

_REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,9}$")
_NOT_BLOCKING = ("TEMPLATE_REVISION", "TEMPLATE_ALTERED", "OUTSIDE_PRINT_AREA", "PAGE_SETUP")
"""What `templates check` may say of a template that is still carried over (the release
mends the first two; the page is the engineer's to set)."""
_DRAWN = ("pic", "sp", "graphicFrame", "grpSp", "cxnSp")
_KINDS = {"pic": ("图片", "picture(s)"), "sp": ("形状/文本框", "shape(s) or text box(es)"),
          "graphicFrame": ("图表", "chart(s)"), "grpSp": ("组合图形", "grouped drawing(s)"),
          "cxnSp": ("连接线", "connector(s)"), "media": ("图片文件", "image file(s)"),
          "comments": ("批注", "comment part(s)")}
XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"


@dataclass(frozen=True)
class Carried:
    """One template carried over to the new revision, and where its old copy is kept."""

    path: Path
    backup: Path
    previous: str


def template_files(workspace: Workspace, form_id: str) -> list[Path]:
    """The workspace's templates of a form: every language, xlsx then docx."""
    names = [f"{form_id}{lang}{suffix}" for suffix in (".xlsx", ".docx")
             for lang in ("", ".zh", ".en")]
    return [workspace.templates_dir / n for n in names if (workspace.templates_dir / n).is_file()]


def drawn_parts(path: Path) -> Counter[str]:
    """Pictures, shapes, charts and comments in a workbook (what a re-save must keep)."""
    counts: Counter[str] = Counter()
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/media/"):
                counts["media"] += 1
            elif name.startswith("xl/comments"):
                counts["comments"] += 1
            elif name.startswith("xl/drawings/drawing") and name.endswith(".xml"):
                root = etree.fromstring(zf.read(name), PARSER)
                for node in root.iter(*(f"{{{XDR}}}{tag}" for tag in _DRAWN)):
                    counts[etree.QName(node).localname] += 1
    return counts


def _template_identity(path: Path) -> Identity | None:
    if path.suffix == ".docx":
        from .word.props import read_word_identity

        return read_word_identity(path)
    from .excel.identity import read_identity
    from .excel.workbook import load_quietly

    return read_identity(load_quietly(path))


def _restamp(path: Path, out: Path, form: FormDef, block: ControlBlock, lang: str,
             releases: list[Release]) -> None:
    """Write ``path`` to ``out`` with the identity of ``form`` and the control ``block``; a
    workbook also gets the revision-history sheet of ``releases``."""
    identity = identity_for(form, lang)
    if path.suffix == ".docx":
        import docx

        from .word.control import stamp_word_control
        from .word.props import write_word_identity

        doc = docx.Document(str(path))
        stamp_word_control(doc, block, lang)
        write_word_identity(doc, identity)
        doc.save(str(out))
        return
    from .excel.control import stamp_control
    from .excel.history_sheet import write_history_sheet
    from .excel.identity import write_identity
    from .excel.workbook import load_quietly

    wb = load_quietly(path)
    stamp_control(wb, block, lang)
    write_identity(wb, identity)
    write_history_sheet(wb, releases, lang)
    wb.save(out)
    lost = drawn_parts(path) - drawn_parts(out)
    if lost:
        out.unlink()
        what_zh = "、".join(f"{n} 个{_KINDS[k][0]}" for k, n in sorted(lost.items()))
        what = ", ".join(f"{n} {_KINDS[k][1]}" for k, n in sorted(lost.items()))
        raise QmsFormsError(
            f"{what} of {path.name} cannot be carried over to the new revision; the template "
            "is left as it was: replace them with pictures in Excel and release again",
            f"{path.name}: 模板中的 {what_zh} 无法带到新版本,模板保持不变;请在 Excel 中把它们换成"
            "图片后再发布。")


def _check(workspace: Workspace, path: Path) -> None:
    from .blanks import check_template_file

    report = check_template_file(path, workspace)
    broken = [i for i in report.issues if i.severity == "error" and i.code not in _NOT_BLOCKING]
    if broken:
        codes = ", ".join(sorted({i.code for i in broken}))
        raise QmsFormsError(
            f"{path.name}: the template fails its check ({codes}) and was not released; mend "
            "it first (qmsforms templates check)",
            f"{path.name}: 模板未通过检查({codes}),未发布;请先修正(qmsforms templates check)。")


def release(workspace: Workspace, form_id: str, revision: str, *,
            effective: date | None = None, by: str | None = None, note: str = "",
            grace_days: int = 90, now: datetime | None = None) -> Release:
    """Release ``revision`` of ``form_id`` in ``workspace``; returns the recorded release.

    `UsageError` for a revision that is not new; `QmsFormsError` (nothing changed) when a
    template cannot be carried over.
    """
    form = workspace.registry.get(form_id)
    if not _REVISION.match(revision):
        raise UsageError(f"{revision!r} is not a revision (letters and digits, at most 10 "
                         "characters)", f"版本号 {revision!r} 无效(字母数字,最多 10 个字符)。")
    released = [r.revision for r in workspace.history.of(form_id)]
    files = template_files(workspace, form_id)
    olds = {p: _template_identity(p) for p in files}
    stale = [p for p, i in olds.items() if i is None or i.revision != revision]
    if revision in released or (revision == form.revision and not stale):
        raise UsageError(f"form {form_id} already has revision {revision} (current "
                         f"{form.revision}); a release needs a new revision",
                         f"表单 {form_id} 已有版本 {revision}(现行 {form.revision}),新版本须用新的"
                         "版本号。")
    previous = next((i.revision for i in olds.values() if i and i.revision != revision),
                    form.revision if form.revision != revision else "")
    for path in files:
        _check(workspace, path)
    moment = now or datetime.now(timezone.utc)
    effective = effective or moment.date()
    entry = Release(form=form_id, revision=revision, previous=previous, effective=effective,
                    grace_days=grace_days, released_by=by or _user(),
                    released_at=moment.strftime("%Y-%m-%dT%H:%M:%SZ"), note=note)
    rows = [*workspace.history.of(form_id), entry]
    new_form = replace(form, revision=revision)
    block = control_block(workspace, new_form)
    block = replace(block, effective_date=max(block.effective_date, effective))
    carried: list[Carried] = []
    for path in files:
        old = olds[path]
        fresh = path.with_name(f"{path.stem}.release{path.suffix}")
        try:
            _restamp(path, fresh, new_form, block, old.lang if old else "both", rows)
            backup = keep_copy(path, f"rev-{old.revision if old else 'unknown'}")
            carried.append(Carried(path, backup, old.revision if old else ""))
            fresh.replace(path)
        except Exception:
            fresh.unlink(missing_ok=True)
            for done in carried:  # put back the templates already carried over
                shutil.copy2(done.backup, done.path)
                done.backup.unlink()
            raise
    entry = replace(entry, templates=tuple(c.path.name for c in carried),
                    backups=tuple(f"{ARCHIVE}/{c.backup.name}" for c in carried))
    built = built_hashes(workspace.templates_dir)
    for done in carried:  # a template qmsforms wrote stays one: build may replace it later
        if built.get(done.path.name) == file_sha(done.backup):
            built[done.path.name] = file_sha(done.path)
    if carried:
        write_built(workspace.templates_dir, built)
    history = History([*workspace.history.releases, entry])
    workspace.templates_dir.mkdir(parents=True, exist_ok=True)
    target = workspace.templates_dir / HISTORY_NAME
    written = target.with_name(f"{HISTORY_NAME}.new")
    written.write_text(history.text(), encoding="utf-8")
    written.replace(target)
    for cached in ("history", "registry"):
        workspace.__dict__.pop(cached, None)
    log.info("released %s revision %s (was %s), %d template(s) carried over", form_id,
             revision, previous or "-", len(carried))
    return entry


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
