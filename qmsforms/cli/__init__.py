"""The ``qmsforms`` command: a thin click layer over the library.

Each command parses options, calls one library function and prints the result. Library
errors (`qmsforms.issues.QmsFormsError`) become click errors only at this edge (`errors`),
shown in Chinese and English; anything else is a bug and shows its traceback. Exit codes:
0 success, 1 invalid input or failed work, 2 usage error. ``--json`` prints exactly the data
the library returns.

One module per group of commands: `workspace` (init, demo), `forms` (forms, schema, new, 8d,
templates), `intake` (validate, score, process, watch, status), `records` (records, ledger),
`reports` (report, survey, monitoring); `options` and `show` hold what they share, `errors`
how what stops a command is shown.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from ..issues import QmsFormsError, UsageError
from ..version import __version__
from ..workspace import Workspace
from . import actions, customers, doctor, forms, intake, records, reports, workspace
from .errors import BilingualError, BilingualUsageError, ErrorContext, bilingual_usage, texts


class _Group(click.Group):
    """The top-level group: library errors become clean bilingual CLI errors instead of
    tracebacks, and click's own usage errors get their Chinese."""

    context_class = ErrorContext

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            raise bilingual_usage(exc) from exc

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise bilingual_usage(exc) from exc
        except UsageError as exc:
            raise BilingualUsageError(*texts(exc), ctx) from exc
        except QmsFormsError as exc:
            raise BilingualError(*texts(exc)) from exc

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        """Add ``cmd``; it and every command below it show errors as `ErrorContext` does."""
        _error_contexts(cmd)
        super().add_command(cmd, name)


def _error_contexts(command: click.Command) -> None:
    command.context_class = ErrorContext
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _error_contexts(sub)


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


for _command in (workspace.init, forms.forms, forms.schema, forms.new, forms.eight_d,
                 intake.validate, intake.score, intake.process, intake.watch, intake.status,
                 records.records, records.ledger_group, forms.templates, workspace.demo,
                 reports.report, reports.survey, reports.monitoring, customers.customers,
                 doctor.doctor, actions.actions):
    cli.add_command(_command)


def main() -> None:
    """Console-script entry point.

    The command is one-shot: once it has printed its result and closed its files, the process
    exits without the interpreter's teardown (freeing every object a large read left behind
    takes longer than the exit itself).
    """
    try:
        cli(prog_name="qmsforms")
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 0 if done.code is None else 1
        if not isinstance(done.code, (int, type(None))):
            print(done.code, file=sys.stderr)
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
