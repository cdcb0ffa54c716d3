"""``qmsforms init`` and ``demo``: a workspace to work in."""

from __future__ import annotations

from pathlib import Path

import click

from ..workspace import init_workspace
from .show import echo_outcome, echo_year


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
def init(directory: Path) -> None:
    """Create a workspace in DIRECTORY (config, templates, schemas, inbox, outbox)."""
    ws = init_workspace(directory)
    click.echo(f"workspace ready: {ws.root}")
    for folder in ("templates", "schemas", "inbox", "outbox"):
        click.echo(f"  {folder}/")


@click.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="A new (or empty) folder for the demo's workspace (default: a new "
                   "qmsforms-demo-* folder); an existing workspace is refused.")
def demo(directory: Path | None) -> None:
    """A complete run on generated sample data, in a fresh workspace.

    The demo never writes into an existing folder or workspace: --dir must be new or empty
    (exit 2 otherwise).
    """
    from ..demo import run_demo

    result = run_demo(directory)
    root = result.root
    click.echo(f"workspace: {root}")
    click.echo(f"issued {len(result.blanks)} blank forms into {root / 'blanks'}; filled copies "
               f"dropped into {root / 'inbox'} and processed:")
    for outcome in result.outcomes:
        echo_outcome(outcome)
    if result.year is not None:
        echo_year(result.year)
    click.echo(f"{result.count('record')} records, {result.count('rejected')} rejected "
               f"(deliberate mistakes), {result.count('duplicate')} duplicate")
    click.echo(f"{len(result.actions)} 项纠正/预防措施 corrective actions raised:")
    for action in result.actions:
        click.echo(f"  {action['action_id']}  {action['department_zh']}  {action['problem_zh']}")
    click.echo(f"look at: {root / 'outbox' / 'records'}  (record JSON + workbook with scores)")
    click.echo(f"         {root / 'outbox' / 'rejected'}  (report and annotated copy)")
    click.echo(f"         {root / 'outbox' / 'archive'}  (originals, byte for byte)")
    click.echo(f"         qmsforms --root {root} records")
    click.echo(f"         qmsforms --root {root} actions")
    for path in result.reports:
        click.echo(f"report:  {path}")
