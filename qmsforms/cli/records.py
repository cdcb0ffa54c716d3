"""``qmsforms records`` and ``ledger rebuild | migrate | check``: what the ledger holds."""

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
    """The ledger: rebuild a lost one from the outbox, move it into PostgreSQL, check it
    against the outbox.

    \b
    台账:丢失或为空时从发件箱重建;迁入 PostgreSQL;与发件箱核对。
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


@ledger_group.command("migrate")
@click.option("--to", "url", required=True, metavar="URL",
              help="The PostgreSQL ledger to copy into (postgresql://…; password from "
                   "pgpass or a service file).")
@click.option("--site", default=None, help="Stamp this site id on copied rows without one.")
@click.option("--dry-run", is_flag=True, help="Say what would be copied; write nothing.")
@json_option
@click.pass_context
def ledger_migrate(ctx: click.Context, url: str, site: str | None, dry_run: bool,
                   as_json: bool) -> None:
    """Copy this workspace's SQLite ledger into the PostgreSQL ledger at URL (run once per
    plant; the same copy again changes nothing). Counts and sha256 sums are compared after
    copying: exit 1, with nothing written, when they differ.

    \b
    把本工作区的 SQLite 台账迁入 PostgreSQL 台账(每个工厂运行一次;重复运行不会再改动)。
    """
    from ..intake.ledger.migrate import MigrationMismatch, migrate_ledger
    from ..site import site_problem

    ws = workspace_of(ctx)
    if site is not None and site_problem(site) is not None:
        raise click.BadParameter(str(site_problem(site)), param_hint="--site")
    try:
        result = migrate_ledger(ws, url, site=site, dry_run=dry_run)
    except MigrationMismatch as exc:
        result = exc.migration
    if as_json:
        print_json(result.to_dict())
    else:
        _show_migration(result)
    ctx.exit(1 if result.problems else 0)


def _show_migration(result: Any) -> None:
    head = "演习(未写入)DRY RUN, nothing written: " if result.dry_run else ""
    click.echo(f"{head}{result.source} -> {result.target}")
    for table, n in result.tables.items():
        found = "" if n["found"] is None else f", found {n['found']}"
        click.echo(f"  {table:<9} source {n['source']}, copied {n['copied']}, already "
                   f"{n['already']}, expected {n['expected']}{found}")
    for m in result.merged:
        click.echo(f"  同一内容 same content: {m['record_id']} kept (from {m['kept_from']}), "
                   f"{m['duplicate']} is a duplicate")
    for m in result.relinked:
        click.echo(f"  修订链 relinked {m['record_id']}: supersedes {m['supersedes']}"
                   + (", latest" if m["latest"] else ""))
    for m in result.renumbered:
        click.echo(f"  重新编号 renumbered {m['from']} -> {m['to']} ({m['cause_key']})")
    for p in result.problems:
        click.echo(f"ERROR {p['code']} {p['table']}: expected {p['expected']}, found "
                   f"{p['found']}")
    click.echo("已核对 checked: counts and sha256 sums match" if not result.problems
               else "核对不符,已撤销 / mismatch: rolled back, nothing written")


@ledger_group.command("check")
@click.option("--repair", is_flag=True,
              help="Write missing or differing record JSON, void files and action journals "
                   "again from the ledger.")
@click.option("--site", default=None, metavar="ID",
              help="Check this site's rows (default: the workspace's [site] id; every row "
                   "when it has none).")
@json_option
@click.pass_context
def ledger_check(ctx: click.Context, repair: bool, site: str | None, as_json: bool) -> None:
    """Check the ledger against the outbox: record JSON, archived originals, action
    journals. Exit 0 when they agree, 1 when anything was found (repaired or not).

    \b
    核对台账与发件箱:记录 JSON、归档原件、纠正措施日志;--repair 从台账重写可重建的文件。
    """
    from ..intake.ledger.check import check_ledger

    report = check_ledger(workspace_of(ctx), repair=repair, site=site)
    if as_json:
        print_json(report.to_dict())
    else:
        for f in report.findings:
            state = "REPAIRED" if f.repaired else "FOUND"
            click.echo(f"{state} {f.code} outbox/{f.path} {f.record_id or f.action_id or ''}"
                       f"  {f.message_zh} / {f.message_en}")
        click.echo(f"{report.records} records, {report.actions} actions checked: "
                   + ("台账与发件箱一致 ledger and outbox agree" if report.valid else
                      f"{len(report.findings)} found, {len(report.not_repaired)} not repaired"))
    ctx.exit(0 if report.valid else 1)


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
