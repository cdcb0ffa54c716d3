"""``qmsforms validate``, ``score``, ``process``, ``watch`` and ``status``: returned forms."""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path
from typing import Any

import click

from .logs import BANNER_LOGGER, OUTCOME_LOGGER, log_to_stderr, watch_logging
from .options import (
    interactive,
    json_option,
    print_json,
    settle_option,
    site_option,
    workspace_of,
)
from .show import echo_outcome, echo_report, echo_scores, echo_year, outcome_line


@click.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))
@json_option
@click.option("--annotate", "annotate_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write an annotated copy of each invalid workbook into this folder.")
@click.pass_context
def validate(ctx: click.Context, files: tuple[Path, ...], as_json: bool,
             annotate_dir: Path | None) -> None:
    """Validate filled FILES; exit 0 when all are valid, 1 otherwise."""
    from ..intake.reader import validate_isolated

    reports = validate_isolated(files, workspace_of(ctx), annotate_dir=annotate_dir,
                                with_data=as_json)
    if as_json:
        print_json([r.to_dict() for r in reports])
    else:
        for report in reports:
            echo_report(report)
        bad = sum(not r.valid for r in reports)
        click.echo(f"{len(reports) - bad} valid, {bad} invalid")
    ctx.exit(0 if all(r.valid for r in reports) else 1)


@click.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@click.option("--year", type=int, default=None,
              help="Also sum up this year: annual score per customer, company months, alerts.")
@click.pass_context
def score(ctx: click.Context, files: tuple[Path, ...], as_json: bool, year: int | None) -> None:
    """Validate and score filled FILES; exit 1 when any is invalid."""
    from ..intake.reader import validate_isolated
    from ..scoring import split_results, year_summary

    ws = workspace_of(ctx)
    reports = validate_isolated(files, ws)
    summary = None
    if year is not None:
        monthly, surveys = split_results(
            (r.form or "", r.data or {}, r.scores) for r in reports if r.valid)
        summary = year_summary(monthly, surveys, year, ws.policies)
    if as_json:
        out: dict[str, Any] = {"files": [
            {"path": r.path, "form": r.form, "valid": r.valid, "scores": r.scores,
             "issues": [i.to_dict() for i in r.issues]} for r in reports]}
        if summary is not None:
            out["year"] = summary.to_dict()
        print_json(out)
    else:
        for report in reports:
            echo_report(report)
            echo_scores(report)
        if summary is not None:
            echo_year(summary)
    ctx.exit(0 if all(r.valid for r in reports) else 1)


@click.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@settle_option
@click.pass_context
def process(ctx: click.Context, files: tuple[Path, ...], as_json: bool, settle: float) -> None:
    """One pass over the inbox (or FILES): each file becomes a record or a rejection.

    Exit 0 when every file became a record (or a duplicate of one) or waits for a good
    reason (open in an editor, still being copied); 1 when any was rejected, could not be
    finished, or waits on a stale lock file (a person must remove it).
    """
    from ..intake import Intake, candidates
    from ..intake.waiting import waiting_reasons

    ws = workspace_of(ctx)
    log_to_stderr(timestamps=False)
    with Intake(ws, settle=settle, quiet=settle) as intake:
        paths = list(files) or candidates(ws.inbox)
        if interactive() and not as_json and paths:
            with click.progressbar(length=len(paths), label="processing",
                                   show_pos=True) as bar:
                result = intake.process(paths, progress=lambda _o: bar.update(1))
        else:
            result = intake.process(paths)
    why = waiting_reasons(result.waiting, ws.config.intake.stale_lock_minutes * 60, ws.inbox)
    stale = any(w.needs_person for w in why.values())
    if as_json:
        print_json({**result.to_dict(),
                    "waiting_why": {name: w.to_dict() for name, w in why.items()}})
    else:
        for outcome in result.outcomes:
            echo_outcome(outcome)
        for name, wait in why.items():
            click.echo(f"WAIT {name} ({wait.detail})")
        for name, left in result.left.items():
            click.echo(f"LEFT {name} (left alone: {left})")
        for claim_id, error in result.failed.items():
            click.echo(f"KEPT {claim_id} (could not be finished, kept for the next pass: "
                       f"{error})")
        if result.blocked:
            click.echo(f"BLOCKED 已暂停,文件保留原处 / stopped, files stay where they are: "
                       f"{result.blocked}")
        click.echo(f"{result.count('record')} records, {result.count('rejected')} rejected, "
                   f"{result.count('duplicate')} duplicates; outbox: {ws.outbox}")
    trouble = (result.count("rejected") or result.blocked or result.failed or result.left
               or stale)
    ctx.exit(1 if trouble else 0)


@click.command()
@click.option("--poll", type=click.FloatRange(0.1, 3600), default=None, metavar="SECONDS",
              help="Poll the inbox every SECONDS instead of native file events (SMB/NFS "
                   "shares deliver none).")
@settle_option
@click.option("--rescan", type=click.FloatRange(1, 86400), default=300, show_default=True,
              help="Seconds between full rescans of the inbox (events can be lost).")
@click.option("--quiet", "-q", is_flag=True,
              help="On the terminal only the start banner, warnings, errors and the daily "
                   "summary; the log file .qmsforms/logs/watch.log still gets every line.")
@click.pass_context
def watch(ctx: click.Context, poll: float | None, settle: float, rescan: float,
          quiet: bool) -> None:
    """Watch the inbox until stopped (Ctrl-C or SIGTERM stop after the file in hand).

    Every line carries its local time; one line per file on stdout (REC, REJ, DUP), the
    rest on stderr, all of it also in the rotating log .qmsforms/logs/watch.log. A summary
    of the day's records, duplicates and rejections is logged after midnight and at stop.
    """
    from ..intake.ledger import ledger_location
    from ..intake.watch import Watcher, watcher_heartbeat, when_reachable
    from ..version import __version__

    # a stop asked for while the watcher starts (its reader, logs, banner) is kept, not fatal
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    ws = workspace_of(ctx)
    log_file = watch_logging(ws, quiet=quiet)
    outcomes = logging.getLogger(OUTCOME_LOGGER)
    heartbeat = watcher_heartbeat(ws, poll)  # status shows a watcher waiting for its ledger
    watcher = when_reachable(lambda: Watcher(
        ws, poll=poll, settle=settle, rescan=rescan, stopping=stopping, heartbeat=heartbeat,
        on_outcome=lambda outcome: outcomes.info(outcome_line(outcome))), stopping,
        heartbeat=heartbeat)
    banner = logging.getLogger(BANNER_LOGGER)
    if watcher is None:
        banner.info("停止 / stopped before the ledger could be reached; nothing was claimed")
        return
    mode = (f"polling every {poll:g} s (for SMB/NFS shares)" if poll
            else "native file events")
    stale = ws.config.intake.stale_lock_minutes
    for line in (f"qmsforms {__version__} watch 启动 / started: pid {os.getpid()}",
                 f"  workspace {ws.root}", f"  inbox     {ws.inbox}",
                 f"  mode      {mode}; full rescan every {rescan:g} s",
                 f"  ledger    {ledger_location(ws)}", f"  claims    {watcher.intake.claims.what}",
                 f"  log       {log_file or '-'}",
                 f"  a lock file older than {stale:g} min is reported as stale; Ctrl-C or "
                 "SIGTERM stops after the file in hand"):
        banner.info("%s", line)
    watcher.run()
    banner.info("%s", watcher.summary(final=True))
    banner.info("停止 / stopped; %d files processed", watcher.processed)


_STATE_LABEL = {
    "waiting": "待处理 waiting", "open": "编辑中 open", "stale_lock": "锁文件过期 stale lock",
    "copying": "复制中 copying", "incomplete": "不完整 incomplete",
    "unreadable": "无法读取 unreadable", "gone": "已停止 gone", "link": "链接 link",
    "pipe": "管道 pipe", "socket": "套接字 socket", "device": "设备 device",
    "in_progress": "处理中 in progress", "outputs_pending": "待写出 outputs pending",
    "failing": "读取失败 failing", "retrying": "重试 retrying", "claimed": "已认领 claimed",
    "stray": "不明文件 stray", "record_json_missing": "缺记录文件 JSON missing",
    "running": "运行中 running", "elsewhere": "他机运行 elsewhere",
    "not_responding": "无响应 not responding", "blocked": "已暂停 blocked",
    "waiting_for_ledger": "等待台账 waiting for the ledger",
    "not_resent": "待重发 not re-sent",
    "low_disk": "空间不足 low disk", "not_writable": "不可写 not writable",
    "unreachable": "无法访问 unreachable", "overdue": "逾期 overdue",
}

_SECTION_TITLE = {
    "watchers": "监视进程 Watchers", "inbox": "收件箱 Inbox", "claims": "认领 Claims",
    "rejections": "待重新提交的拒收 Rejections not sent again", "outbox": "发件箱 Outbox",
    "customers": "待跟进的客户 Customers to follow up",
    "actions": "逾期的纠正/预防措施 Overdue corrective actions",
    "definitions": "定义文件 Definitions",
}


@click.command()
@site_option
@json_option
@click.pass_context
def status(ctx: click.Context, site: str | None, as_json: bool) -> None:
    """What the intake is doing and what needs a person.

    Exit 0 when nothing needs a person, 1 otherwise (for a scheduler or monitoring); the
    lines that need a person are marked "!".
    """
    from ..intake.status import intake_status

    ws = workspace_of(ctx)
    found = intake_status(ws, site=site)
    if as_json:
        print_json(found.to_dict())
        ctx.exit(1 if found.needs_person else 0)
    last = found.last_record
    click.echo(f"台账 Ledger: {found.ledger}; "
               + ", ".join(f"{k} {v}" for k, v in found.counts.items())
               + (f"; 最近记录 last record {last['record_id']} {last['name']} "
                  f"({last['processed_at']})" if last else ""))
    if not found.watchers:
        click.echo("监视进程 Watchers: - (没有运行中的 watch / no watcher runs on this "
                   "workspace)")
    for section, entries in found.sections.items():
        if section == "watchers" and not entries:
            continue
        click.echo(f"{_SECTION_TITLE.get(section, section)}: {len(entries) or '-'}")
        for entry in entries:
            mark = "!" if entry.person else " "
            since = f" (since {entry.since})" if entry.since else ""
            click.echo(f" {mark} {_STATE_LABEL.get(entry.state, entry.state)}  {entry.name}  "
                       f"{entry.detail}{since}")
    if found.needs_person:
        click.echo("需要处理 Needs a person: the lines marked !")
    else:
        click.echo("正常 All well: nothing needs a person.")
    ctx.exit(1 if found.needs_person else 0)
