"""The ``qmsforms`` command: a thin click layer over the library.

Each command parses options, calls one library function and prints the result; library
exceptions become click errors only here. Exit codes: 0 success, 1 invalid input or failed
work, 2 usage error. ``--json`` prints exactly the data the library returns.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .config import ConfigError
from .issues import QmsFormsError, Report, UsageError
from .version import __version__
from .workspace import Workspace, init_workspace

if TYPE_CHECKING:
    from .intake import Ledger, Outcome
    from .scoring import YearSummary

F = TypeVar("F", bound=Callable[..., Any])


def json_option(fn: F) -> F:
    """The shared ``--json`` flag."""
    return click.option("--json", "as_json", is_flag=True,
                        help="Print the result as JSON (exactly the library's data).")(fn)


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _workspace(ctx: click.Context) -> Workspace:
    ws: Workspace = ctx.obj["workspace"]
    try:
        ws.config  # noqa: B018 - read now so a bad qmsforms.toml is reported cleanly
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    return ws


class _Group(click.Group):
    """Turns library errors into clean CLI errors instead of tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            raise click.UsageError(str(exc), ctx) from exc
        except (QmsFormsError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="qmsforms")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), envvar="QMSFORMS_ROOT",
              help="Workspace folder (default: current directory; env QMSFORMS_ROOT).")
@click.pass_context
def cli(ctx: click.Context, root: Path | None) -> None:
    """Controlled Excel forms for quality departments: issue, take back, validate.

    \b
    受控表单工具:发放空白表单、回收填写的表单、校验并评分。
    """
    ctx.ensure_object(dict)
    ctx.obj["workspace"] = Workspace(root)


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
def init(directory: Path) -> None:
    """Create a workspace in DIRECTORY (config, templates, schemas, inbox, outbox)."""
    ws = init_workspace(directory)
    click.echo(f"workspace ready: {ws.root}")
    for folder in ("templates", "schemas", "inbox", "outbox"):
        click.echo(f"  {folder}/")


@cli.command()
@json_option
@click.pass_context
def forms(ctx: click.Context, as_json: bool) -> None:
    """List the form ids, titles and current revisions."""
    registry = _workspace(ctx).registry
    rows = [{"id": f.id, "revision": f.revision, "title_zh": f.title_zh, "title_en": f.title_en,
             "natural_key": list(f.natural_key)} for f in registry]
    if as_json:
        _print_json(rows)
        return
    width = max(len(r["id"]) for r in rows)
    for r in rows:
        click.echo(f"{r['id']:<{width}}  rev {r['revision']:<3} {r['title_zh']}  {r['title_en']}")


@cli.command()
@click.argument("form")
@json_option
@click.pass_context
def schema(ctx: click.Context, form: str, as_json: bool) -> None:
    """Show the fields of FORM; with --json its JSON Schema (x-name, x-table)."""
    from .schema import json_schema

    definition = _workspace(ctx).registry.get(form)
    if as_json:
        _print_json(json_schema(definition))
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


def _parse_sets(values: tuple[str, ...]) -> dict[str, str]:
    parsed = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{item!r} is not field=value", param_hint="--set")
        parsed[name.strip()] = value
    return parsed


@cli.command()
@click.argument("form")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the blank; .docx picks Word (complaint, 8d-report).")
@click.option("--lang", type=click.Choice(["zh", "en", "both"]), default=None,
              help="Label language (default from qmsforms.toml, normally both).")
@click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE",
              help="Pre-fill a field, e.g. --set customer=ACME. Repeatable.")
@click.pass_context
def new(ctx: click.Context, form: str, output: Path | None, lang: str | None,
        sets: tuple[str, ...]) -> None:
    """Issue a blank controlled FORM with a fresh instance id."""
    from .excel.templates import issue_blank

    ws = _workspace(ctx)
    definition = ws.registry.get(form)
    fmt = "docx" if output is not None and output.suffix.lower() == ".docx" else None
    fmt = fmt or definition.formats[0]
    if not definition.issued_as(fmt):
        kinds = " or ".join(f".{f}" for f in definition.formats)
        raise click.UsageError(f"form {form} is issued as {kinds}, not .{fmt}")
    if fmt == "docx":
        from .intake import open_ledger
        from .word.blank import issue_word_blank

        with open_ledger(ws, write=True) as ledger:  # first: a blank never goes unrecorded
            path = issue_word_blank(ws, form, output, lang=lang, values=_parse_sets(sets))
            _record_word_blank(ledger, path, _parse_sets(sets))
    else:
        path = issue_blank(ws, form, output, lang=lang, values=_parse_sets(sets), record=True)
    click.echo(str(path))


def _record_word_blank(ledger: Ledger, path: Path, values: dict[str, str]) -> None:
    from datetime import datetime, timezone

    from .word.props import read_word_identity

    identity = read_word_identity(path)
    if identity is None or not identity.instance_id:
        return
    ledger.add_issued(identity.instance_id, identity.form, identity.revision,
                      datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                      values.get("customer"), str(path))


@cli.group("8d")
def eight_d() -> None:
    """8D reports in Word."""


@eight_d.command("new")
@click.option("--from", "record_id", required=True, metavar="RECORD_ID",
              help="The complaint record to pre-fill from (see `qmsforms records`).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the 8D (.docx; default 8D-<ticket>.docx).")
@click.option("--lang", type=click.Choice(["zh", "en", "both"]), default=None)
@click.pass_context
def eight_d_new(ctx: click.Context, record_id: str, output: Path | None,
                lang: str | None) -> None:
    """Write an 8D report pre-filled from a complaint record."""
    from .intake import open_ledger
    from .safe_text import safe_filename
    from .word.prefill import render_8d_from_complaint

    ws = _workspace(ctx)
    with open_ledger(ws) as ledger:
        record = ledger.record(record_id)
    if record is None:
        raise click.UsageError(f"no record {record_id!r}; `qmsforms records --form complaint` "
                               "lists them")
    if record.form != "complaint":
        raise click.UsageError(f"{record_id} is a {record.form} record, not a complaint")
    ticket = safe_filename(str(record.data.get("ticket_no") or record_id))
    out = output or Path(f"8D-{ticket}.docx")
    with open_ledger(ws, write=True) as ledger:
        path = render_8d_from_complaint(ws, record.data, out, record_id=record_id, lang=lang)
        _record_word_blank(ledger, path, {"customer": record.data.get("customer") or ""})
    click.echo(str(path))


def _echo_report(report: Report) -> None:
    mark = "OK " if report.valid else "BAD"
    form = f"{report.form} rev {report.revision}" if report.form else "unidentified"
    click.echo(f"{mark} {report.path}  [{form}]")
    for issue in report.issues:
        where = "!".join(p for p in (issue.sheet, issue.cell) if p) or "-"
        click.echo(f"    {issue.severity:<7} {issue.code:<20} {where:<18} {issue.message_zh}")
        click.echo(f"    {'':<7} {'':<20} {'':<18} {issue.message_en}")


@cli.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))
@json_option
@click.option("--annotate", "annotate_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write an annotated copy of each invalid workbook into this folder.")
@click.pass_context
def validate(ctx: click.Context, files: tuple[Path, ...], as_json: bool,
             annotate_dir: Path | None) -> None:
    """Validate filled FILES; exit 0 when all are valid, 1 otherwise."""
    from .intake.reader import validate_isolated

    reports = validate_isolated(files, _workspace(ctx), annotate_dir=annotate_dir)
    if as_json:
        _print_json([r.to_dict() for r in reports])
    else:
        for report in reports:
            _echo_report(report)
        bad = sum(not r.valid for r in reports)
        click.echo(f"{len(reports) - bad} valid, {bad} invalid")
    ctx.exit(0 if all(r.valid for r in reports) else 1)


def _pad(text: str, width: int) -> str:
    """Left-align ``text`` in ``width`` terminal columns (CJK characters take two)."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - used)


def _echo_scores(report: Report) -> None:
    scores = report.scores
    if scores is None:
        return
    band = scores.get("band") or {}
    if scores["kind"] == "survey":
        if scores["score"] is None:
            click.echo(f"    survey incomplete: {scores['answered']} of {scores['questions']} "
                       f"answered (needs {scores['min_answered']})")
            return
        click.echo(f"    score {scores['score']:>5}  {band.get('zh')} {band.get('en')}  "
                   f"answered {scores['answered']}/{scores['questions']}  "
                   f"CSAT top-2-box {scores['csat_pct']} %")
        for item in scores["items"]:
            if item["answer"] is None:
                continue
            mark = "!" if item["complaint"] else "*" if item["flagged"] else " "
            label = _pad(f"{item['zh']} {item['en']}", 40)
            click.echo(f"    {mark} {label} {item['pct']:>6} %  "
                       f"weight {item['weight']:g}")
        return
    click.echo(f"    total {scores['total']:>5}  {band.get('zh')} {band.get('en')}  "
               f"[{scores['policy']['id']}]" + ("  (customer's own value)"
                                                if scores["source"] == "customer" else ""))
    for cat in scores["categories"]:
        label = _pad(f"{cat['zh']} {cat['en']}", 50)
        click.echo(f"      {label} {cat['score']:>5} / {cat['points']:g}")


def _echo_year(summary: YearSummary) -> None:
    click.echo(f"Year {summary.year}")
    for a in summary.annual:
        state = "complete" if a.complete else f"incomplete ({len(a.months)}/{a.months_expected})"
        survey = "-" if a.survey_score is None else a.survey_score
        mean = "-" if a.monthly_mean is None else a.monthly_mean
        click.echo(f"  {a.customer}: annual {a.score} {a.band.zh} {a.band.en}  monthly mean "
                   f"{mean}  survey {survey}  [{a.policy.id}, {state}]")
    if summary.company:
        click.echo("  company: " + "  ".join(f"{m} {v}" for m, v in summary.company.items()))
    for alert in summary.alerts:
        click.echo(f"  ALERT {alert.message_zh}")
        click.echo(f"        {alert.message_en}")


@cli.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@click.option("--year", type=int, default=None,
              help="Also sum up this year: annual score per customer, company months, alerts.")
@click.pass_context
def score(ctx: click.Context, files: tuple[Path, ...], as_json: bool, year: int | None) -> None:
    """Validate and score filled FILES; exit 1 when any is invalid."""
    from .intake.reader import validate_isolated
    from .scoring import split_results, year_summary

    ws = _workspace(ctx)
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
        _print_json(out)
    else:
        for report in reports:
            _echo_report(report)
            _echo_scores(report)
        if summary is not None:
            _echo_year(summary)
    ctx.exit(0 if all(r.valid for r in reports) else 1)


def _echo_outcome(outcome: Outcome) -> None:
    click.echo(_outcome_line(outcome))


def _outcome_line(outcome: Outcome) -> str:
    mark = {"record": "REC", "rejected": "REJ", "duplicate": "DUP"}[outcome.outcome]
    extra = ""
    if outcome.supersedes:
        extra = f"  (revision of {outcome.supersedes})"
    elif outcome.codes:
        extra = "  " + " ".join(outcome.codes)
    if outcome.notes:
        extra += "  [" + ", ".join(outcome.notes) + "]"
    return f"{mark} {outcome.name} -> outbox/{outcome.location}{extra}"


def _interactive() -> bool:
    return sys.stdout.isatty() and not os.environ.get("CI")


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@click.option("--settle", type=click.FloatRange(0.05, 60), default=0.5, show_default=True,
              help="Seconds between the two looks that decide a file is complete.")
@click.pass_context
def process(ctx: click.Context, files: tuple[Path, ...], as_json: bool, settle: float) -> None:
    """One pass over the inbox (or FILES): each file becomes a record or a rejection.

    Exit 0 when every file became a record (or a duplicate of one), 1 when any was rejected.
    """
    from .intake import Intake, candidates

    ws = _workspace(ctx)
    _log_to_stderr(timestamps=False)
    with Intake(ws, settle=settle, quiet=settle) as intake:
        paths = list(files) or candidates(ws.inbox)
        if _interactive() and not as_json and paths:
            with click.progressbar(length=len(paths), label="processing",
                                   show_pos=True) as bar:
                result = intake.process(paths, progress=lambda _o: bar.update(1))
        else:
            result = intake.process(paths)
    if as_json:
        _print_json(result.to_dict())
    else:
        for outcome in result.outcomes:
            _echo_outcome(outcome)
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


def _log_to_stderr(timestamps: bool) -> None:
    """Show the library's log on stderr (``watch``: with timestamps)."""
    handler = logging.StreamHandler(sys.stderr)
    fmt = "%(asctime)s %(levelname)s %(message)s" if timestamps else "%(levelname)s %(message)s"
    handler.setFormatter(logging.Formatter(fmt, "%Y-%m-%d %H:%M:%S"))
    root = logging.getLogger("qmsforms")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if timestamps else logging.WARNING)


@cli.command()
@click.option("--poll", type=click.FloatRange(0.1, 3600), default=None, metavar="SECONDS",
              help="Poll the inbox every SECONDS instead of native file events (SMB/NFS "
                   "shares deliver none).")
@click.option("--settle", type=click.FloatRange(0.05, 60), default=0.5, show_default=True,
              help="Seconds between the two looks that decide a file is complete.")
@click.option("--rescan", type=click.FloatRange(1, 86400), default=300, show_default=True,
              help="Seconds between full rescans of the inbox (events can be lost).")
@click.pass_context
def watch(ctx: click.Context, poll: float | None, settle: float, rescan: float) -> None:
    """Watch the inbox until stopped (Ctrl-C or SIGTERM stop after the file in hand)."""
    from .intake.watch import Watcher

    ws = _workspace(ctx)
    _log_to_stderr(timestamps=True)
    log = logging.getLogger("qmsforms.watch")
    watcher = Watcher(ws, poll=poll, settle=settle, rescan=rescan,
                      on_outcome=_echo_outcome)
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


@cli.command()
@json_option
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """What the intake is doing and what needs a person.

    Exit 0 when nothing needs a person, 1 otherwise (for a scheduler or monitoring).
    """
    from .intake.status import intake_status

    ws = _workspace(ctx)
    found = intake_status(ws)
    if as_json:
        _print_json(found.to_dict())
        ctx.exit(1 if found.needs_person else 0)
    click.echo(f"台账 Ledger: {found.ledger}; "
               + ", ".join(f"{k} {v}" for k, v in found.counts.items())
               + (f"; 最近记录 last record {found.last_record}" if found.last_record else ""))
    for title, entries in (("收件箱 Inbox", found.inbox), ("认领 Claims", found.claims),
                           ("发件箱 Outbox", found.outbox)):
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


@cli.command()
@click.option("--form", "form_id", default=None, help="Only records of this form.")
@click.option("--customer", default=None, help="Only records whose customer contains this.")
@click.option("--all", "all_revisions", is_flag=True,
              help="Include superseded revisions (default: the latest revision of each).")
@json_option
@click.pass_context
def records(ctx: click.Context, form_id: str | None, customer: str | None,
            all_revisions: bool, as_json: bool) -> None:
    """List the records in the ledger."""
    from .intake import open_ledger

    ws = _workspace(ctx)
    if form_id is not None:
        ws.registry.get(form_id)
    with open_ledger(ws) as ledger:
        rows = ledger.records(form_id, customer, latest_only=not all_revisions)
        links = [ledger.links(r) for r in rows]
    if as_json:
        _print_json([{**r.to_dict(), "links": link} for r, link in zip(rows, links,
                                                                        strict=True)])
        return
    for r, link in zip(rows, links, strict=True):
        key = " ".join(str(v) for v in r.natural_key.values())
        click.echo(f"{r.record_id}  {r.form:<24} {_pad(key, 36)}{_status(r.scores, link)}"
                   + (f"  supersedes {r.supersedes}" if r.supersedes else ""))
    click.echo(f"{len(rows)} records")


@cli.group("ledger")
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
    from .intake.rebuild import rebuild_ledger

    result = rebuild_ledger(_workspace(ctx), force=force)
    if as_json:
        _print_json(result)
    else:
        n, latest, old = result["records"], result["latest"], result["superseded"]
        click.echo(f"已从发件箱重建台账:{n} 条记录(最新版本 {latest} 条,已被修订取代 {old} 条)")
        click.echo(f"rebuilt the ledger from the outbox: {n} records ({latest} latest, "
                   f"{old} superseded by a revision)")
        for form, count in sorted(result["forms"].items()):
            click.echo(f"  {form}: {count}")
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


@cli.group()
def templates() -> None:
    """Build the default templates or check a customised one."""


@templates.command("build")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the templates (default: the workspace's templates/).")
@click.pass_context
def templates_build(ctx: click.Context, out: Path | None) -> None:
    """Rebuild every template and the exported JSON Schemas from the form definitions."""
    from .excel.templates import build_templates
    from .schema import export_schemas

    ws = _workspace(ctx)
    for path in build_templates(ws, out):
        click.echo(str(path))
    if out is None:
        for path in export_schemas(list(ws.registry), ws.schemas_dir / "json"):
            click.echo(str(path))


@templates.command("check")
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@json_option
@click.pass_context
def templates_check(ctx: click.Context, paths: tuple[Path, ...], as_json: bool) -> None:
    """Does each template still bind every field? (default: all in the workspace)."""
    from .excel.templates import check_template

    ws = _workspace(ctx)
    chosen = list(paths) or sorted(ws.templates_dir.glob("*.xlsx"))
    if not chosen:
        raise click.ClickException(f"no templates in {ws.templates_dir}")
    reports = [check_template(p, ws) for p in chosen]
    if as_json:
        _print_json([r.to_dict() for r in reports])
    else:
        for report in reports:
            _echo_report(report)
    ctx.exit(0 if all(r.valid for r in reports) else 1)


@cli.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="Workspace to create for the demo (default: a new qmsforms-demo-* folder).")
def demo(directory: Path | None) -> None:
    """A complete run on generated sample data, in a fresh workspace."""
    from .demo import run_demo

    result = run_demo(directory)
    root = result.root
    click.echo(f"workspace: {root}")
    click.echo(f"issued {len(result.blanks)} blank forms into {root / 'blanks'}; filled copies "
               f"dropped into {root / 'inbox'} and processed:")
    for outcome in result.outcomes:
        _echo_outcome(outcome)
    if result.year is not None:
        _echo_year(result.year)
    click.echo(f"{result.count('record')} records, {result.count('rejected')} rejected "
               f"(deliberate mistakes), {result.count('duplicate')} duplicate")
    click.echo(f"look at: {root / 'outbox' / 'records'}  (record JSON + workbook with scores)")
    click.echo(f"         {root / 'outbox' / 'rejected'}  (report and annotated copy)")
    click.echo(f"         {root / 'outbox' / 'archive'}  (originals, byte for byte)")
    click.echo(f"         qmsforms --root {root} records")
    for path in result.reports:
        click.echo(f"report:  {path}")


# The report, survey and monitoring groups live in their own module (this one stays readable).
from .cli_reports import monitoring, report, survey  # noqa: E402

cli.add_command(report)
cli.add_command(survey)
cli.add_command(monitoring)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="qmsforms")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
