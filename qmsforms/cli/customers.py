"""``qmsforms customers``: the customer master (客户主数据), the click layer over
`qmsforms.customers`.

``customers`` lists the master, ``customers import LIST.xlsx`` replaces it from the customer
list workbook (and says what changed; bad rows are issues at their cells, exit 1, nothing
saved), ``customers export -o LIST.xlsx`` writes it back for editing in Excel.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..issues import UsageError
from .options import json_option, pad, print_json, workspace_of


@click.group(invoke_without_command=True)
@json_option
@click.pass_context
def customers(ctx: click.Context, as_json: bool) -> None:
    """客户主数据 The customer master: list it, import it from Excel, export it.

    \b
    Forms are matched to it by exact name, customer code, alias, then normalised name
    (全角/半角, spaces, 有限公司 / Co., Ltd. …); reports group by master customer.
    """
    if ctx.invoked_subcommand is not None:
        return
    from ..customers import current_master, master_path

    ws = workspace_of(ctx)
    master = current_master(ws)
    if as_json:
        print_json(master.to_dict())
        return
    if not master:
        click.echo(f"没有客户主数据 / no customer master yet ({master_path(ws).name}): run "
                   "qmsforms customers import LIST.xlsx")
        return
    for c in master.customers:
        flags = "汽车 automotive" if c.automotive else ""
        policy = c.policy or (master.settings.automotive_policy if c.automotive else "")
        aliases = f"  aka {', '.join(c.aliases)}" if c.aliases else ""
        click.echo(f"{pad(c.code or '-', 10)} {pad(c.name, 36)} {pad(flags, 16)} "
                   f"{policy}{aliases}")
    click.echo(f"{len(master)} customers (from {master.source}, {master.imported_at})")


@customers.command("import")
@click.argument("customer_list", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@click.pass_context
def import_command(ctx: click.Context, customer_list: Path, as_json: bool) -> None:
    """Replace the master with the customer list workbook (客户一览表) and say what changed.

    \b
    Columns (Chinese or English headers, first sheet that has them):
      客户编号 Customer code, 客户名称 Customer (required), 别名 Aliases (separated by ; or 、),
      汽车客户 Automotive (是/否), 评价政策 Policy (a monitoring policy id),
      年订单额 Annual order value (for survey plan).
    """
    from ..customers.sheet import import_master

    result = import_master(workspace_of(ctx), customer_list)
    if as_json:
        print_json(result.to_dict())
    else:
        for issue in result.issues:
            where = "!".join(p for p in (issue.sheet, issue.cell) if p) or "-"
            click.echo(f"    {issue.severity:<7} {issue.code:<18} {where:<14} "
                       f"{issue.message_zh}")
            click.echo(f"    {'':<7} {'':<18} {'':<14} {issue.message_en}")
        if result.saved:
            for name in result.added:
                click.echo(f"  新增 added      {name}")
            for old, new in result.renamed:
                click.echo(f"  改名 renamed    {old} -> {new}")
            for name, alias in result.new_aliases:
                click.echo(f"  别名 alias      {name} += {alias}")
            for name, alias in result.dropped_aliases:
                click.echo(f"  别名删除 alias dropped  {name} -= {alias}")
            for name in result.changed:
                click.echo(f"  变更 changed    {name} (automotive / policy)")
            for name in result.removed:
                click.echo(f"  删除 removed    {name}")
            if not result.changes:
                click.echo("  无变化 no changes")
            click.echo(f"客户主数据已更新 customer master saved: {result.customers} customers")
        else:
            click.echo("客户主数据未更改 customer master NOT changed: correct the cells above "
                       "and import again")
    if not result.saved:
        ctx.exit(1)


@customers.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The workbook to write (.xlsx).")
@click.pass_context
def export_command(ctx: click.Context, output: Path) -> None:
    """Write the master as a customer list workbook (A4, bilingual headers) to edit in Excel
    and import again."""
    from ..customers.sheet import export_master

    if output.suffix.lower() != ".xlsx":
        raise UsageError(f"{output.name}: 客户一览表写成 .xlsx / the customer list is written "
                         "as .xlsx")
    click.echo(f"written: {export_master(workspace_of(ctx), output)}")
