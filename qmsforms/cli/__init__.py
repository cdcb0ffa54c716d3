"""The ``qmsforms`` command: a thin click layer over the library.

Each command parses options, calls one library function and prints the result. Library
errors (`qmsforms.issues.QmsFormsError`) become click errors only here, at the edge; anything
else is a bug and shows its traceback. Exit codes: 0 success, 1 invalid input or failed work,
2 usage error. ``--json`` prints exactly the data the library returns.

One module per group of commands: `workspace` (init, demo), `forms` (forms, schema, new, 8d,
templates), `intake` (validate, score, process, watch, status), `records` (records, ledger),
`reports` (report, survey, monitoring); `options` and `show` hold what they share.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import IO, Any

import click

from ..issues import QmsFormsError, UsageError
from ..version import __version__
from ..workspace import Workspace
from . import forms, intake, records, reports, workspace


def _both(zh: str, en: str) -> str:
    """An error as people read it: the Chinese lines, then the English ones."""
    return f"错误:{zh}\nError: {en}"


class BilingualUsageError(click.UsageError):
    """A usage error shown in Chinese and English under the usage line of the command that
    was given (``qmsforms survey plan``, not the top-level one). Exit code 2."""

    def __init__(self, en: str, zh: str, ctx: click.Context | None = None) -> None:
        super().__init__(en, ctx)
        self.message_zh = zh

    def show(self, file: IO[Any] | None = None) -> None:
        """Usage line, where to get help, then the message in both languages."""
        if self.ctx is not None:
            click.echo(f"{self.ctx.get_usage()}\n"
                       f"Try '{self.ctx.command_path} --help' for help. "
                       f"用 --help 查看用法。\n", file=file, err=file is None)
        click.echo(_both(self.message_zh, self.format_message()), file=file, err=file is None)


class BilingualError(click.ClickException):
    """Work that could not be done, shown in Chinese and English. Exit code 1."""

    def __init__(self, en: str, zh: str) -> None:
        super().__init__(en)
        self.message_zh = zh

    def show(self, file: IO[Any] | None = None) -> None:
        """The message in both languages."""
        click.echo(_both(self.message_zh, self.format_message()), file=file, err=file is None)


_CLICK_ZH: tuple[tuple[type[click.UsageError], str], ...] = (
    (click.MissingParameter, "缺少必需的参数或选项{hint}。"),
    (click.NoSuchOption, "没有这个选项{hint}。"),
    (click.BadParameter, "参数或选项{hint} 的值无效。"),
    (click.UsageError, "命令用法有误。"),
)
"""Chinese for click's own usage errors (its English message follows it)."""


def bilingual_usage(exc: click.UsageError) -> BilingualUsageError:
    """A click usage error (a bad option value, a missing argument) in both languages."""
    if isinstance(exc, BilingualUsageError):
        return exc
    hint = ""
    if isinstance(exc, click.BadParameter) and exc.param is not None:
        hint = f" {exc.param.get_error_hint(exc.ctx)}" if exc.ctx else f" {exc.param.name}"
    elif isinstance(exc, click.NoSuchOption):
        hint = f" {exc.option_name}"
    zh = next(text for kind, text in _CLICK_ZH if isinstance(exc, kind))
    converted = BilingualUsageError(exc.format_message(), zh.format(hint=hint), exc.ctx)
    converted.__cause__ = exc
    return converted


def _texts(exc: QmsFormsError) -> tuple[str, str]:
    """The English and the Chinese of a library error, behind its code when it has one; one
    raised with English alone says so in Chinese."""
    en = exc.message_en
    zh = exc.message_zh or f"操作未能完成(原因见下方英文说明):{en}"
    code = getattr(exc, "code", None)
    if isinstance(code, str) and code:
        en, zh = f"{code}: {en}", f"{code}: {zh}"
    return en, zh


class _Context(click.Context):
    """Turns the library's errors into click errors where they happen, so that a usage error
    shows the usage line of the command given."""

    def invoke(self, callback: Any, /, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().invoke(callback, *args, **kwargs)
        except UsageError as exc:
            raise BilingualUsageError(*_texts(exc), self) from exc
        except QmsFormsError as exc:
            raise BilingualError(*_texts(exc)) from exc


class _Group(click.Group):
    """The top-level group: library errors become clean bilingual CLI errors instead of
    tracebacks, and click's own usage errors get their Chinese."""

    context_class = _Context

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
            raise BilingualUsageError(*_texts(exc), ctx) from exc
        except QmsFormsError as exc:
            raise BilingualError(*_texts(exc)) from exc


def _contexts_everywhere(group: click.Group) -> None:
    """Every command below ``group`` makes `_Context` contexts."""
    for command in group.commands.values():
        command.context_class = _Context
        if isinstance(command, click.Group):
            _contexts_everywhere(command)


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
                 reports.report, reports.survey, reports.monitoring):
    cli.add_command(_command)
_contexts_everywhere(cli)


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
