"""``qmsforms doctor``: the definition files that are broken and what they disable."""

from __future__ import annotations

import click

from .options import json_option, print_json, workspace_of


@click.command()
@json_option
@click.pass_context
def doctor(ctx: click.Context, as_json: bool) -> None:
    """Check every questionnaire and policy file of the workspace.

    A broken file disables only the forms that depend on it; each problem names the file,
    the line and the key. Exit 0 when every definition reads, 1 otherwise.

    \b
    检查问卷与评分策略定义文件:有误的文件只停用依赖它的表单;每个问题列出文件、行号和键。
    """
    from ..doctor import check_definitions

    report = check_definitions(workspace_of(ctx))
    if as_json:
        print_json(report.to_dict())
    else:
        for problem in report.problems:
            click.echo(f"BROKEN {problem.where}")
            click.echo(f"  {problem.message_zh}")
            click.echo(f"  {problem.message_en}")
        for form_id, files in report.disabled.items():
            click.echo(f"DISABLED {form_id}  ({', '.join(dict.fromkeys(files))})")
        if report.ok:
            click.echo("所有定义文件均可用 / every definition file reads")
        else:
            click.echo(f"{len(report.problems)} 个问题,修正后重新运行 / {len(report.problems)} "
                       "problem(s); fix them and run qmsforms doctor again")
    ctx.exit(0 if report.ok else 1)
