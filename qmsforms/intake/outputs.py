"""What the intake writes to the outbox, always atomically.

Every file is written under a hidden ``.~part-`` name in its destination folder, flushed to disk
and renamed into place, so the outbox never shows a partial file; a crash leaves at most a
hidden part file, which the next run removes. A part file's name carries its writer's host and
process id (``.~part-<host>-<pid>-<rand8>-<name>``), so a run starting beside a live one (a
second watcher, ``process`` while ``watch`` runs) leaves that one's part files alone: a part of
this host is abandoned when its process is gone, one of another host (a watcher on another
machine writing the same shared outbox) only when it is hours old, since no process there can be
asked after. A name without a host (written by an older qmsforms) is judged as this host's.
Names built from field values go through `safe_filename`; text written into cells goes through
`set_text`, so nothing a customer typed becomes a formula.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
import uuid
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.workbook.workbook import Workbook

from ..issues import Report
from ..safe_text import set_text
from ..site import host_id

log = logging.getLogger(__name__)

PART_PREFIX = ".~part-"
_PART_OWNER = re.compile(r"^\.~part-(?:(?P<host>[A-Za-z0-9_.-]+?)-)?(?P<pid>\d+)-[0-9a-f]{8}-")
_PART_STALE = 3600.0  # seconds; no writer takes this long over one file
RECORD_SHEET = "记录 Record"


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_dirs(folders: set[Path]) -> None:
    """`fsync_dir` each of ``folders`` once (after all the files a step wrote into them)."""
    for folder in sorted(folders):
        fsync_dir(folder)


def atomic_write(target: Path, write: Callable[[Path], object],
                 dirs: set[Path] | None = None) -> Path:
    """Call ``write(tmp)`` for a hidden part file beside ``target``, then rename it into place.

    The file is fsynced before the rename; its folder right after, or, when ``dirs`` is given,
    added to ``dirs`` for the caller to fsync once after all its files (`fsync_dirs`).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tail = target.name.encode("utf-8", "surrogateescape")[-160:].decode("utf-8", "ignore")
    tmp = target.with_name(part_name(tail))
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    if dirs is None:
        fsync_dir(target.parent)
    else:
        dirs.add(target.parent)
    return target


def part_name(tail: str) -> str:
    """A hidden part file's name for a file named ``tail``: ``.~part-<host>-<pid>-<rand8>-``
    then ``tail``, so `remove_parts` on any machine can tell whose it is."""
    return f"{PART_PREFIX}{host_id()}-{os.getpid()}-{uuid.uuid4().hex[:8]}-{tail}"


def write_bytes(target: Path, data: bytes, dirs: set[Path] | None = None) -> Path:
    """Atomically write ``data`` to ``target`` (``dirs`` as for `atomic_write`)."""
    return atomic_write(target, lambda tmp: tmp.write_bytes(data), dirs)


def write_json(target: Path, data: Any, dirs: set[Path] | None = None) -> Path:
    """Atomically write ``data`` as indented UTF-8 JSON (``dirs`` as for `atomic_write`)."""
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"
    return write_bytes(target, text.encode("utf-8"), dirs)


def copy_file(source: Path, target: Path, dirs: set[Path] | None = None) -> Path:
    """Atomically copy ``source`` byte for byte (``dirs`` as for `atomic_write`)."""
    return atomic_write(target, lambda tmp: shutil.copyfile(source, tmp), dirs)


def save_workbook(wb: Workbook, target: Path, dirs: set[Path] | None = None) -> Path:
    """Atomically save an openpyxl workbook (``dirs`` as for `atomic_write`)."""
    return atomic_write(target, lambda tmp: wb.save(tmp), dirs)


def _writer_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name == "nt":  # pragma: no cover - os.kill(pid, 0) would terminate it; age decides
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, under another user
        return True
    return True


def _abandoned(path: Path, host: str) -> bool:
    """Whether a part file's writer is gone: hours old, or (written on ``host``, this one)
    its process is dead. A part of another host is never judged by a process id here."""
    owner = _PART_OWNER.match(path.name)
    if owner is None:
        return True
    try:
        if time.time() - path.stat().st_mtime > _PART_STALE:
            return True
    except OSError:
        return False
    if owner["host"] not in (None, host):
        return False  # another machine's writer: only its age tells
    return not _writer_alive(int(owner["pid"]))


def remove_parts(folder: Path) -> int:
    """Delete part files a crash left anywhere under ``folder``; returns how many.

    Part files of a live writer (another watcher working now, on this machine or another)
    are left alone.
    """
    removed = 0
    host = host_id()
    if folder.is_dir():
        for path in folder.rglob(f"{PART_PREFIX}*"):
            if not _abandoned(path, host):
                continue
            try:
                path.unlink()
                removed += 1
            except OSError:
                pass
    return removed


_HEAD = Font(bold=True, color="FFFFFF")
_HEAD_FILL = PatternFill("solid", fgColor="305496")
_LABEL = Font(bold=True)
_TOP = Alignment(horizontal="left", vertical="top", wrap_text=True)


def _score_rows(scores: dict[str, Any] | None) -> list[tuple[str, Any]]:
    if not scores:
        return []
    if scores.get("kind") == "complaint":
        return _complaint_rows(scores)
    if scores.get("kind") == "8d":
        done = ", ".join(f"D{n}" for n in scores.get("done", []))
        return [("已完成 Disciplines done", done or "-"),
                ("已到 Reached", scores.get("reached") or "-"),
                ("已结案 Closed", _yes_no(scores.get("closed")))]
    band = scores.get("band") or {}
    policy = scores.get("policy") or {}
    rows: list[tuple[str, Any]] = [
        ("评分政策 Policy", f"{policy.get('id')} v{policy.get('version')} "
                          f"({policy.get('digest')})"),
    ]
    if scores.get("kind") == "survey":
        rows += [("调查得分 Survey score", scores.get("score")),
                 ("等级 Band", f"{band.get('zh', '')} {band.get('en', '')}".strip()),
                 ("已答题数 Answered", f"{scores.get('answered')} / {scores.get('questions')}"),
                 ("CSAT top-2-box (%)", scores.get("csat_pct"))]
        rows += [(f"{i['zh']} {i['en']} (%)", i["pct"]) for i in scores.get("items", [])]
        if scores.get("flagged"):
            rows.append(("需跟进 Follow up", ", ".join(scores["flagged"])))
        if scores.get("complaints"):
            rows.append(("按投诉处理 Handle as complaint", ", ".join(scores["complaints"])))
        return rows
    rows += [("月度得分 Monthly total", scores.get("total")),
             ("等级 Band", f"{band.get('zh', '')} {band.get('en', '')}".strip()),
             ("来源 Source", scores.get("source"))]
    rows += [(f"{c['zh']} {c['en']} (/{c['points']:g})", c["score"])
             for c in scores.get("categories", [])]
    return rows


def _yes_no(value: Any) -> str:
    return "-" if value is None else "是 Yes" if value else "否 No"


def _complaint_rows(scores: dict[str, Any]) -> list[tuple[str, Any]]:
    """A complaint's computed fields: whether it was filed in time and needs an 8D."""
    minutes = scores.get("filing_minutes")
    return [
        ("需要 8D 报告 8D required", _yes_no(scores.get("eight_d_required"))),
        ("填单时限 Filing limit", f"{scores.get('sla_hours'):g} h"
         + (" (紧急 urgent)" if scores.get("urgent") else "")),
        ("填单用时 Filed after", "-" if minutes is None else f"{minutes:g} min"),
        ("按时填单 Filed in time (SLA)", _yes_no(scores.get("sla_met"))),
    ]


RECORD_TITLE = "qmsforms 记录 Record"


def record_rows(record: dict[str, Any]) -> list[tuple[str, Any]]:
    """The label/value rows of the record sheet: id, source, notes and the scores."""
    source = record.get("source", {})
    rows: list[tuple[str, Any]] = [
        ("记录号 Record id", record["record_id"]),
        ("表单 Form", f"{record['form']} rev {record['revision']}"),
        ("实例号 Instance id", record.get("instance_id")),
        ("原文件 Source file", source.get("name")),
        ("SHA-256", source.get("sha256")),
        ("接收时间 Received", source.get("received_at")),
        ("处理时间 Processed", record.get("processed_at")),
    ]
    if record.get("site"):
        rows.append(("站点 Site", record["site"]))
    if record.get("supersedes"):
        rows.append(("替代记录 Supersedes", record["supersedes"]))
    if record.get("notes"):
        rows.append(("备注 Notes", ", ".join(record["notes"])))
    return rows + _score_rows(record.get("scores"))


def add_record_sheet(wb: Workbook, record: dict[str, Any]) -> None:
    """Put a first sheet "记录 Record" into the filled workbook: id, source and the scores."""
    if RECORD_SHEET in wb.sheetnames:
        del wb[RECORD_SHEET]
    from ..excel.text_width import LINE_HEIGHT, wrapped_lines
    from .record_copy import LABEL_WIDTH, VALUE_WIDTH

    ws = wb.create_sheet(RECORD_SHEET, 0)
    ws.column_dimensions["A"].width = LABEL_WIDTH
    ws.column_dimensions["B"].width = VALUE_WIDTH
    ws.append([RECORD_TITLE, None])
    for cell in ws[1]:
        cell.font, cell.fill = _HEAD, _HEAD_FILL
    for r, (label, value) in enumerate(record_rows(record), start=2):
        ws.cell(row=r, column=1, value=label).font = _LABEL
        ws.cell(row=r, column=1).alignment = _TOP
        set_text(ws.cell(row=r, column=2), value)
        ws.cell(row=r, column=2).alignment = _TOP
        lines = max(wrapped_lines(label, LABEL_WIDTH), wrapped_lines(value, VALUE_WIDTH))
        if lines > 1:
            ws.row_dimensions[r].height = LINE_HEIGHT * lines
    ws.sheet_properties.tabColor = "305496"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_PORTRAIT
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    wb.active = 0
    for sheet in wb.worksheets:
        sheet.sheet_view.tabSelected = sheet is ws


def report_text(report: Report, name: str) -> str:
    """The rejection report people read: every problem with its cell, in Chinese and English."""
    lines = [f"文件 File: {name}"]
    if report.form:
        lines.append(f"表单 Form: {report.form} rev {report.revision}")
    errors = report.errors
    lines += ["", f"已退回:发现 {len(errors)} 个错误,请按下列说明修改后重新放入收件箱。",
              f"Rejected: {len(errors)} error(s). Correct them as described below and drop "
              "the file into the inbox again.", ""]
    for n, issue in enumerate(report.issues, start=1):
        where = "!".join(p for p in (issue.sheet, issue.cell) if p) or "-"
        lines.append(f"{n}. [{issue.severity} {issue.code}] {where}")
        lines.append(f"   {issue.message_zh}")
        lines.append(f"   {issue.message_en}")
    return "\n".join(lines) + "\n"


def write_record_sheet_copy(source: Path, target: Path, record: dict[str, Any],
                            dirs: set[Path] | None = None) -> None:
    """The record copy: a filled workbook with its record sheet first (added to the package
    directly, or by openpyxl for a package shape that needs it), a Word form with the record
    block after it; the file as it came if neither can be written (``dirs`` as for
    `atomic_write`)."""
    from .record_copy import Unsupported, write_record_copy

    if target.suffix.lower() == ".docx":
        from .word_record_copy import write_word_record_copy

        try:
            atomic_write(target, lambda tmp: write_word_record_copy(
                source, tmp, record_rows(record), RECORD_TITLE), dirs)
        except (Unsupported, zipfile.BadZipFile, KeyError, ValueError) as exc:
            log.warning("%s: no record block, the file is kept as it came (%s: %s)",
                        source.name, type(exc).__name__, exc)
            copy_file(source, target, dirs)
        return
    try:
        atomic_write(target, lambda tmp: write_record_copy(
            source, tmp, record_rows(record), RECORD_SHEET, RECORD_TITLE), dirs)
        return
    except (Unsupported, zipfile.BadZipFile, KeyError, ValueError) as exc:
        log.debug("%s: record sheet added by openpyxl (%s: %s)", source.name,
                  type(exc).__name__, exc)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = load_workbook(source)
    except Exception as exc:  # whatever openpyxl fails on, the record keeps the file itself
        log.warning("%s: no record sheet, the file is kept as it came (%s: %s)", source.name,
                    type(exc).__name__, exc)
        copy_file(source, target, dirs)
        return
    add_record_sheet(wb, record)
    save_workbook(wb, target, dirs)
