"""``qmsforms records`` and ``ledger rebuild``: what the ledger holds."""

from __future__ import annotations

from typing import Any

import click

from ..site import SITE_KEY
from .options import json_option, pad, print_json, site_option, workspace_of


@click.group(invoke_without_command=True)
@click.option("--form", "form_id", default=None, help="Only records of this form.")
@click.option("--customer", default=None, help="Only records whose customer contains this.")
@click.option("--all", "all_revisions", is_flag=True,
              help="Include superseded revisions and voided records (default: the latest "
                   "revision of each, none voided).")
@click.option("--voided", is_flag=True, help="Include voided records (marked VOID).")
@site_option
@json_option
@click.pass_context
def records(ctx: click.Context, form_id: str | None, customer: str | None,
            all_revisions: bool, voided: bool, site: str | None, as_json: bool) -> None:
    """List the records in the ledger; ``records void`` voids one.

    \b
    台账中的记录;作废的记录默认不列出(--voided 或 --all 列出)。
    """
    if ctx.invoked_subcommand is not None:
        return
    from ..intake import open_ledger

    ws = workspace_of(ctx)
    if form_id is not None and form_id not in ws.registry.broken:  # its records still list
        ws.registry.get(form_id)
    with open_ledger(ws, site=site) as ledger:
        rows = ledger.records(form_id, customer, latest_only=not all_revisions,
                              voided=voided or all_revisions)
        links = [ledger.links(r) for r in rows]
    if as_json:
        print_json([{**r.to_dict(), "links": link} for r, link in zip(rows, links,
                                                                        strict=True)])
        return
    for r, link in zip(rows, links, strict=True):
        key = " ".join(str(v) for k, v in r.natural_key.items() if k != SITE_KEY)
        key += f"  @{r.site}" if r.site else ""
        void = (f"  VOID 已作废 {r.voided['at']} {r.voided['by']}: {r.voided['reason']}"
                if r.voided else "")
        click.echo(f"{r.record_id}  {r.form:<24} {pad(key, 36)}{_status(r.scores, link)}"
                   + (f"  supersedes {r.supersedes}" if r.supersedes else "") + void)
    click.echo(f"{len(rows)} records")


@records.command("void")
@click.argument("record_id")
@click.option("--reason", required=True, help="Why the record does not count (kept with it).")
@click.option("--by", "by", default=None,
              help="Who voids it (default: the user running the command).")
@json_option
@click.pass_context
def records_void(ctx: click.Context, record_id: str, reason: str, by: str | None,
                 as_json: bool) -> None:
    """Void RECORD_ID: it stays in the ledger with who, when and why, its outbox files stay,
    and every report leaves it out. A later file with its natural key is recorded normally.

    \b
    作废一条记录:记录连同作废人、时间和原因保留在台账中,发件箱文件保留,所有报表不再计入。
    """
    from ..intake.voids import void_record

    if not reason.strip():
        raise click.UsageError("作废需要写明原因 / --reason must say why", ctx)
    row = void_record(workspace_of(ctx), record_id, reason.strip(), by or _user())
    if as_json:
        print_json(row.to_dict())
        return
    assert row.voided is not None
    click.echo(f"已作废 VOIDED {row.record_id} ({row.form}) {row.voided['at']} "
               f"by {row.voided['by']}: {row.voided['reason']}")


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (a service account without a passwd entry)
        return "unknown"


@click.group("ledger")
def ledger_group() -> None:
    """The ledger (.qmsforms/ledger.sqlite): rebuild a lost one from the outbox.

    \b
    台账:丢失或为空时从发件箱重建。
    """


@ledger_group.command("rebuild")
@click.option("--force", is_flag=True,
              help="Rebuild even when a ledger with content exists: it is moved aside "
                   "(ledger.sqlite.bak-<time>, with its -wal and -shm), never deleted.")
@json_option
@click.pass_context
def ledger_rebuild(ctx: click.Context, force: bool, as_json: bool) -> None:
    """Re-create a missing or empty ledger from the record JSON in the outbox.

    Exit 0 when every record JSON was rebuilt, 1 when some were skipped (listed).
    """
    from ..intake.rebuild import rebuild_ledger

    result = rebuild_ledger(workspace_of(ctx), force=force)
    if as_json:
        print_json(result)
    else:
        n, latest, old = result["records"], result["latest"], result["superseded"]
        click.echo(f"已从发件箱重建台账:{n} 条记录(最新版本 {latest} 条,已被修订取代 {old} 条)")
        click.echo(f"rebuilt the ledger from the outbox: {n} records ({latest} latest, "
                   f"{old} superseded by a revision)")
        for form, count in sorted(result["forms"].items()):
            click.echo(f"  {form}: {count}")
        click.echo(f"  纠正/预防措施 corrective actions: {result['actions']}")
        for item in result["skipped"]:
            click.echo(f"SKIP outbox/{item['path']}  {item['reason']}")
        for item in result["adjusted"]:
            click.echo(f"NOTE {item['path']}  {item['reason']} {item['record_id']}")
        for moved in result["moved_aside"]:
            click.echo(f"原台账文件已移至 / previous ledger file moved to: {moved}")
        click.echo("发件箱中没有的不会重建:拒收与重复文件的登记、已发放空白表单的登记"
                   "(此后回收的表单会注明 not_issued_here)。")
        click.echo("Not in the outbox, so not rebuilt: the rows of rejections and duplicates "
                   "and the register of issued blanks (forms returned from now on are noted "
                   "not_issued_here).")
    ctx.exit(1 if result["skipped"] else 0)


def _status(scores: dict[str, Any] | None, link: dict[str, Any]) -> str:
    """The one-line status of a record: its score, SLA and 8D, as applies."""
    scores = scores or {}
    parts = []
    value = scores.get("total", scores.get("score"))
    if value is not None:
        parts.append(f"score {value}")
    if scores.get("kind") == "complaint":
        parts.append("SLA met" if scores.get("sla_met") else "SLA missed")
        if scores.get("eight_d_required"):
            report = link.get("eight_d")
            parts.append("8D missing" if report is None else
                         "8D closed" if report["closed"] else
                         f"8D at {report['reached'] or 'D0'} ({report['record_id']})")
    if scores.get("kind") == "8d":
        parts.append("closed" if scores.get("closed") else f"at {scores.get('reached') or 'D0'}")
    return ("  " + ", ".join(parts)) if parts else ""
