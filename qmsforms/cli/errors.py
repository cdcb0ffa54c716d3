"""How the command shows what stops it: in Chinese and English, under the usage line of the
command that was given.

The library raises `qmsforms.issues.UsageError` / `QmsFormsError` with an English and a
Chinese message (`QmsFormsError.message_en`, ``message_zh``); `ErrorContext`, the context of
every command, turns them into click errors where the command runs, so a usage error shows
that command's own usage line (``qmsforms survey plan``, not ``qmsforms``). Click's own usage
errors (a bad option value, a missing argument, an unknown option) get a Chinese line above
click's English. Exit codes: 2 for usage errors, 1 for work that could not be done.
"""

from __future__ import annotations

from typing import IO, Any

import click

from ..issues import QmsFormsError, UsageError


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


def texts(exc: QmsFormsError) -> tuple[str, str]:
    """The English and the Chinese of a library error, behind its code when it has one; one
    raised with English alone says so in Chinese."""
    en = exc.message_en
    zh = exc.message_zh or f"操作未能完成(原因见下方英文说明):{en}"
    code = getattr(exc, "code", None)
    if isinstance(code, str) and code:
        en, zh = f"{code}: {en}", f"{code}: {zh}"
    return en, zh


class ErrorContext(click.Context):
    """Turns the library's errors into click errors where they happen, so that a usage error
    shows the usage line of the command given."""

    def invoke(self, callback: Any, /, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().invoke(callback, *args, **kwargs)
        except UsageError as exc:
            raise BilingualUsageError(*texts(exc), self) from exc
        except QmsFormsError as exc:
            raise BilingualError(*texts(exc)) from exc
