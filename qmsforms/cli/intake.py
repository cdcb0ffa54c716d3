"""``qmsforms validate``, ``score``, ``process``, ``watch`` and ``status``: returned forms."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click

from .options import interactive, json_option, print_json, settle_option, workspace_of
from .show import echo_outcome, echo_report, echo_scores, echo_year


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

    Exit 0 when every file became a record (or a duplicate of one), 1 when any was rejected.
    """
    from ..intake import Intake, candidates

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
    if as_json:
        print_json(result.to_dict())
    else:
        for outcome in result.outcomes:
            echo_outcome(outcome)
        for path in result.waiting:
            click.echo(f"WAIT {path.name} (still changing or open in an editor)")
        for name, why in result.left.items():
            click.echo(f"LEFT {name} (left alone: {why})")
        for claim_id, error in result.failed.items():
            click.echo(f"KEPT {claim_id} (could not be finished, kept for the next pass: "
                       f"{error})")
        if result.blocked:
            click.echo(f"BLOCKED 已暂停,文件保留原处 / stopped, files stay where they are: "
                       f"{result.blocked}")
        click.echo(f"{result.count('record')} records, {result.count('rejected')} rejected, "
                   f"{result.count('duplicate')} duplicates; outbox: {ws.outbox}")
    trouble = result.count("rejected") or result.blocked or result.failed or result.left
    ctx.exit(1 if trouble else 0)


def log_to_stderr(timestamps: bool) -> None:
    """Show the library's log on stderr (``watch``: with timestamps)."""
    handler = logging.StreamHandler(sys.stderr)
    fmt = "%(asctime)s %(levelname)s %(message)s" if timestamps else "%(levelname)s %(message)s"
    handler.setFormatter(logging.Formatter(fmt, "%Y-%m-%d %H:%M:%S"))
    root = logging.getLogger("qmsforms")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if timestamps else logging.WARNING)


@click.command()
@click.option("--poll", type=click.FloatRange(0.1, 3600), default=None, metavar="SECONDS",
              help="Poll the inbox every SECONDS instead of native file events (SMB/NFS "
                   "shares deliver none).")
@settle_option
@click.option("--rescan", type=click.FloatRange(1, 86400), default=300, show_default=True,
              help="Seconds between full rescans of the inbox (events can be lost).")
@click.pass_context
def watch(ctx: click.Context, poll: float | None, settle: float, rescan: float) -> None:
    """Watch the inbox until stopped (Ctrl-C or SIGTERM stop after the file in hand)."""
    from ..intake.watch import Watcher

    ws = workspace_of(ctx)
    log_to_stderr(timestamps=True)
    log = logging.getLogger("qmsforms.watch")
    watcher = Watcher(ws, poll=poll, settle=settle, rescan=rescan,
                      on_outcome=echo_outcome)
    mode = f"polling every {poll:g} s" if poll else "native file events"
    log.info("watching %s (%s); Ctrl-C to stop", ws.inbox, mode)
    watcher.run()
    log.info("stopped; %d files processed", watcher.processed)


_STATE_LABEL = {
    "waiting": "待处理 waiting", "open": "编辑中 open", "unreadable": "无法读取 unreadable",
    "link": "链接 link", "pipe": "管道 pipe", "in_progress": "处理中 in progress",
    "outputs_pending": "待写出 outputs pending", "failing": "读取失败 failing",
    "claimed": "已认领 claimed", "stray": "不明文件 stray",
    "record_json_missing": "缺记录文件 JSON missing",
}


@click.command()
@json_option
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """What the intake is doing and what needs a person.

    Exit 0 when nothing needs a person, 1 otherwise (for a scheduler or monitoring).
    """
    from ..intake.status import intake_status

    ws = workspace_of(ctx)
    found = intake_status(ws)
    if as_json:
        print_json(found.to_dict())
        ctx.exit(1 if found.needs_person else 0)
    click.echo(f"台账 Ledger: {found.ledger}; "
               + ", ".join(f"{k} {v}" for k, v in found.counts.items())
               + (f"; 最近记录 last record {found.last_record}" if found.last_record else ""))
    for title, entries in (("收件箱 Inbox", found.inbox), ("认领 Claims", found.claims),
                           ("发件箱 Outbox", found.outbox),
                           ("定义文件 Definitions", found.definitions)):
        click.echo(f"{title}: {len(entries) or '-'}")
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
