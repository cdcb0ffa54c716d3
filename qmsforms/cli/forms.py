"""``qmsforms forms``, ``schema``, ``new``, ``8d new`` and ``templates``: the forms and their
blanks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..issues import UsageError
from .options import json_option, lang_option, print_json, workspace_of
from .show import echo_report


@click.command()
@json_option
@click.pass_context
def forms(ctx: click.Context, as_json: bool) -> None:
    """List the form ids, titles and current revisions, and the forms whose definition file
    is broken (disabled until it is fixed; ``qmsforms doctor`` says where)."""
    registry = workspace_of(ctx).registry
    rows: list[dict[str, Any]] = [
        {"id": f.id, "revision": f.revision, "title_zh": f.title_zh, "title_en": f.title_en,
         "natural_key": list(f.natural_key)} for f in registry]
    rows += [{"id": form_id, "broken": True, "problems": [p.to_dict() for p in problems]}
             for form_id, problems in registry.broken.items()]
    if as_json:
        print_json(rows)
        return
    width = max(len(r["id"]) for r in rows)
    for r in rows:
        if r.get("broken"):
            where = ", ".join(f"{p['file']}:{p['line'] or '?'} {p['key']}".rstrip()
                              for p in r["problems"])
            click.echo(f"{r['id']:<{width}}  定义有误,已停用 BROKEN, disabled: {where}")
            continue
        click.echo(f"{r['id']:<{width}}  rev {r['revision']:<3} {r['title_zh']}  {r['title_en']}")


@click.command()
@click.argument("form")
@json_option
@click.pass_context
def schema(ctx: click.Context, form: str, as_json: bool) -> None:
    """Show the fields of FORM; with --json its JSON Schema (x-name, x-table)."""
    from ..schema import json_schema

    definition = workspace_of(ctx).registry.get(form)
    if as_json:
        print_json(json_schema(definition))
        return
    click.echo(f"{definition.id} rev {definition.revision}: {definition.title('both')}")
    for spec in definition.fields:
        mark = "*" if spec.required else " "
        click.echo(f" {mark} {spec.name:<28} {spec.kind:<9} {spec.label_zh} / {spec.label_en}")
        for column in spec.columns:
            cmark = "*" if column.required else " "
            click.echo(f"     {cmark} {column.name:<26} {column.kind:<9} "
                       f"{column.label_zh} / {column.label_en}")
    click.echo("(* required)")


def parse_sets(values: tuple[str, ...]) -> dict[str, str]:
    """``--set field=value`` options as a dict (the library normalises the values)."""
    parsed = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{item!r} is not field=value", param_hint="--set")
        parsed[name.strip()] = value
    return parsed


@click.command()
@click.argument("form")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the blank; .docx picks Word (complaint, 8d-report).")
@lang_option
@click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE",
              help="Pre-fill a field, e.g. --set customer=ACME. Repeatable.")
@click.pass_context
def new(ctx: click.Context, form: str, output: Path | None, lang: str | None,
        sets: tuple[str, ...]) -> None:
    """Issue a blank controlled FORM with a fresh instance id."""
    from ..blanks import blank_format, issue_blank

    ws = workspace_of(ctx)
    definition = ws.registry.get(form)
    fmt = blank_format(definition, output)
    if not definition.issued_as(fmt):
        kinds = " or ".join(f".{f}" for f in definition.formats)
        raise click.UsageError(f"form {form} is issued as {kinds}, not .{fmt}")
    path = issue_blank(ws, form, output, lang=lang, values=parse_sets(sets), record=True)
    click.echo(str(path))


@click.group("8d")
def eight_d() -> None:
    """8D reports in Word: one pre-filled from a complaint record.

    \b
    8D 报告(Word):由投诉记录预填。
    """


def default_8d_path(ticket: str, folder: Path | None = None) -> Path:
    """Where ``8d new`` writes without ``-o``: ``8D-<ticket>.docx`` in ``folder`` (default:
    the current folder, where ``qmsforms new`` writes its blanks), numbered ``-2``, ``-3`` …
    rather than overwrite an 8D already there."""
    base = (folder or Path.cwd()) / f"8D-{ticket}.docx"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.stem}-{n}.docx")
    return path


@eight_d.command("new")
@click.option("--from", "record_id", required=True, metavar="RECORD_ID",
              help="The complaint record to pre-fill from (`qmsforms records --form "
                   "complaint` lists them). 投诉记录号。")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the 8D (.docx). Default: 8D-<ticket>.docx in the current "
                   "folder, like the blanks of `qmsforms new`, never overwriting one there. "
                   "输出文件。")
@click.option("--lang", type=click.Choice(["zh", "en", "both"]), default=None,
              help="Language of the 8D's labels: zh, en or both (default: [defaults] language "
                   "in qmsforms.toml, normally both). 标签语言。")
@click.pass_context
def eight_d_new(ctx: click.Context, record_id: str, output: Path | None,
                lang: str | None) -> None:
    """Write an 8D report pre-filled from a complaint record.

    The header, D2 description and quantities come from the complaint, its containment goes
    into D3, and the 8D opens on the day the complaint was received. Prints the path written.

    \b
    由投诉记录预填 8D 报告:表头、D2 描述和数量取自投诉单,临时措施填入 D3,
    开始日期为接到投诉的日期。打印写出的文件路径。
    """
    from ..blanks import record_issued
    from ..intake import open_ledger
    from ..safe_text import safe_filename
    from ..site import site_id
    from ..word.prefill import render_8d_from_complaint
    from ..word.props import read_word_identity

    ws = workspace_of(ctx)
    with open_ledger(ws) as ledger:
        record = ledger.record(record_id)
    if record is None:
        raise UsageError(f"no record {record_id!r}; `qmsforms records --form complaint` lists "
                         "them", f"没有记录 {record_id!r};`qmsforms records --form complaint` "
                         "列出投诉记录")
    if record.form != "complaint":
        raise UsageError(f"{record_id} is a {record.form} record, not a complaint",
                         f"{record_id} 是 {record.form} 记录,不是投诉记录")
    ticket = safe_filename(str(record.data.get("ticket_no") or record_id))
    out = output or default_8d_path(ticket)
    with open_ledger(ws, write=True) as ledger:
        path = render_8d_from_complaint(ws, record.data, out, record_id=record_id, lang=lang)
        record_issued(ledger, read_word_identity(path), path, record.data.get("customer") or "",
                      site_id(ws))
    click.echo(str(path.resolve()))


@click.group()
def templates() -> None:
    """Build the default templates, check a customised one, release a new revision."""


@templates.command("build")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the templates (default: the workspace's templates/).")
@click.option("--force", is_flag=True,
              help="Rebuild customised templates too (each old file is kept in "
                   "templates/archive/).")
@click.pass_context
def templates_build(ctx: click.Context, out: Path | None, force: bool) -> None:
    """Rebuild every template and the exported JSON Schemas from the form definitions.

    A template that was customised (restyled, released) is not overwritten: the command
    names it and exits 1, unless --force.
    """
    from ..blanks import build_templates
    from ..schema import export_schemas

    ws = workspace_of(ctx)
    for path in build_templates(ws, out, force=force):
        click.echo(str(path))
    if out is None:
        for path in export_schemas(list(ws.registry), ws.schemas_dir / "json"):
            click.echo(str(path))


@templates.command("check")
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@json_option
@click.pass_context
def templates_check(ctx: click.Context, paths: tuple[Path, ...], as_json: bool) -> None:
    """Does each template (.xlsx, .docx) still bind every field, carry the current revision
    and print on A4 with every block inside the print area? (default: all in the workspace)."""
    from ..blanks import check_template_file

    ws = workspace_of(ctx)
    chosen = list(paths) or sorted([*ws.templates_dir.glob("*.xlsx"),
                                    *ws.templates_dir.glob("*.docx")])
    if not chosen:
        raise click.ClickException(f"模板目录中没有模板 / no templates in {ws.templates_dir}")
    reports = [check_template_file(p, ws) for p in chosen]
    if as_json:
        print_json([r.to_dict() for r in reports])
    else:
        for report in reports:
            echo_report(report)
    ctx.exit(0 if all(r.valid for r in reports) else 1)


@templates.command("release")
@click.argument("form")
@click.option("--revision", required=True, help="The new revision, e.g. B.")
@click.option("--effective", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Effective date, YYYY-MM-DD (default: today).")
@click.option("--by", "by", help="Who releases it (default: the login name).")
@click.option("--note", default="", help="What changed, for the revision history.")
@click.option("--grace-days", type=click.IntRange(min=0), default=90, show_default=True,
              help="Days a returned copy of the previous revision is still accepted.")
@json_option
@click.pass_context
def templates_release(ctx: click.Context, form: str, revision: str, effective: Any,
                      by: str | None, note: str, grace_days: int, as_json: bool) -> None:
    """Release a new revision of FORM: carry its templates over (old files kept in
    templates/archive/) and record who, when and what in templates/revisions.toml."""
    from ..release import release

    entry = release(workspace_of(ctx), form, revision,
                    effective=effective.date() if effective else None, by=by, note=note,
                    grace_days=grace_days)
    if as_json:
        print_json(entry.as_dict())
        return
    click.echo(f"{entry.form} rev {entry.previous or '-'} -> {entry.revision}, "
               f"生效 effective {entry.effective}, {entry.released_by} {entry.released_at}")
    for name, backup in zip(entry.templates, entry.backups, strict=True):
        click.echo(f"  {name}  (旧版 old copy: {backup})")


@templates.command("history")
@click.argument("form", required=False)
@json_option
@click.pass_context
def templates_history(ctx: click.Context, form: str | None, as_json: bool) -> None:
    """The revision history of every form, or of FORM: who released which revision, when,
    effective from when, and what changed (templates/revisions.toml)."""
    ws = workspace_of(ctx)
    if form is not None:
        ws.registry.get(form)  # an unknown form is a usage error
    releases = ws.history.of(form) if form else ws.history.releases
    if as_json:
        print_json([r.as_dict() for r in releases])
        return
    for r in releases:
        click.echo(f"{r.form:<24} rev {r.revision:<3} (was {r.previous or '-'})  "
                   f"生效 effective {r.effective or '-'}  {r.released_by} {r.released_at}  "
                   f"{r.note}".rstrip())
