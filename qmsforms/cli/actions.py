"""``qmsforms actions``: the corrective/preventive actions raised, ``issue`` and ``show``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..excel.text_width import display_width
from ..issues import UsageError
from .options import json_option, lang_option, pad, print_json, site_option, workspace_of

_LABEL = 30  # terminal columns of the labels of `actions show`
_STATUS = {"open": "未开始 open", "in_progress": "进行中 in progress",
           "verified": "已验证 verified", "closed": "已结案 closed"}


def _views(ctx: click.Context, site: str | None = None) -> list[Any]:
    from ..actions import action_views
    from ..intake import open_ledger

    ws = workspace_of(ctx)
    with open_ledger(ws, site=site) as ledger:
        return action_views(ws, ledger)


@click.group(invoke_without_command=True)
@click.option("--open", "open_only", is_flag=True, help="Only actions open or in progress.")
@click.option("--overdue", is_flag=True, help="Only actions past their due date.")
@click.option("--customer", default=None, help="Only actions whose customer contains this.")
@site_option
@json_option
@click.pass_context
def actions(ctx: click.Context, open_only: bool, overdue: bool, customer: str | None,
            site: str | None, as_json: bool) -> None:
    """List the corrective/preventive actions; ``issue`` and ``show`` one.

    \b
    纠正/预防措施一览:编号、来源、客户、责任部门、要求完成日期、状态。
    """
    if ctx.invoked_subcommand is not None:
        return
    from ..actions import select

    found = select(_views(ctx, site), open_only=open_only, overdue=overdue, customer=customer)
    if as_json:
        print_json([v.to_dict() for v in found])
        return
    customer_width = 2 + max((display_width(v.to_dict()["customer"] or "-") for v in found),
                             default=0)
    for v in found:
        d = v.to_dict()
        late = " ! 逾期 OVERDUE" if v.overdue else ""
        removed = f"  原因已消除 cause removed by {d['cause_removed_by']}" \
            if d["cause_removed_by"] else ""
        click.echo(f"{d['action_id']}  {pad(d['source'], 20)}"
                   f"{pad(d['customer'] or '-', customer_width)}"
                   f"{pad(d['department_zh'], 16)}{d['due'] or '-':<11} "
                   f"{_STATUS[d['status']]}{late}{removed}")
    click.echo(f"{len(found)} 项措施 actions")


@actions.command("show")
@click.argument("action_id")
@json_option
@click.pass_context
def show(ctx: click.Context, action_id: str, as_json: bool) -> None:
    """Show one action: its cause, problem, department, due date, status and link.

    \b
    显示一项措施的详情。
    """
    found = [v for v in _views(ctx) if v.action_id == action_id]
    if not found:
        raise UsageError(f"no action {action_id!r}; `qmsforms actions` lists them",
                         f"没有措施 {action_id!r};`qmsforms actions` 列出全部措施")
    d = found[0].to_dict()
    if as_json:
        print_json(d)
        return
    link = d["link"] or {}
    lines = [
        ("编号 Action", d["action_id"]), ("来源 Source", f"{d['source']} ({d['cause_key']})"),
        ("来源记录 Raised by", d["source_record"]), ("客户 Customer", d["customer"] or "-"),
        ("问题 Problem", f"{d['problem_zh']}\n{'':{_LABEL}}{d['problem_en']}"),
        ("责任部门 Department", f"{d['department_zh']} / {d['department_en']}"),
        ("提出日期 Raised on", f"{d['raised_on']} ({d['age_days']} 天 days)"),
        ("要求完成 Due", (d["due"] or "-") + ("  逾期 OVERDUE" if d["overdue"] else "")),
        ("状态 Status", _STATUS[d["status"]]),
        ("处理单 Answered by", f"{link['form']} {link['record_id']}" if link else "-"),
        ("有效 Effective", "-" if d["effective"] is None else str(d["effective"]).lower()),
        ("原因已消除 Cause removed by", d["cause_removed_by"] or "-"),
    ]
    for label, value in lines:
        click.echo(f"{pad(label, _LABEL)}{value}")


@actions.command("issue")
@click.argument("action_id")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the form (.xlsx, or .docx for Word). Default: "
                   "<ACTION_ID>.xlsx in the current folder, never overwriting one there.")
@lang_option
@click.pass_context
def issue(ctx: click.Context, action_id: str, output: Path | None, lang: str | None) -> None:
    """Issue the corrective-action form of an action, pre-filled; prints the path.

    A complaint's action is answered by its 8D report: use ``qmsforms 8d new --from RECORD``.

    \b
    发放预填的纠正/预防措施处理单(投诉的措施请用 8D 报告)。
    """
    from ..actions.issue import issue_action

    path = issue_action(workspace_of(ctx), action_id, output, lang=lang)
    click.echo(str(path.resolve()))
