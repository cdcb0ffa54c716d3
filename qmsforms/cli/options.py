"""What the commands share: the ``--json`` and ``--lang`` options, the workspace of a command,
printing JSON, and text that lines up in a terminal."""

from __future__ import annotations

import json
import os
import sys
import unicodedata
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..workspace import Workspace, is_workspace

F = TypeVar("F", bound=Callable[..., Any])


def json_option(fn: F) -> F:
    """The shared ``--json`` flag."""
    return click.option("--json", "as_json", is_flag=True,
                        help="Print the result as JSON (exactly the library's data).")(fn)


def lang_option(fn: F) -> F:
    """The shared ``--lang`` option of the commands that issue forms."""
    return click.option("--lang", type=click.Choice(["zh", "en", "both"]), default=None,
                        help="Label language (default from qmsforms.toml, normally both).")(fn)


def settle_option(fn: F) -> F:
    """The shared ``--settle`` option of the commands that take files from the inbox."""
    return click.option("--settle", type=click.FloatRange(0.05, 60), default=0.5,
                        show_default=True,
                        help="Seconds between the two looks that decide a file is complete.")(fn)


def year_option(fn: F) -> F:
    """The shared ``--year`` option of the reports."""
    return click.option("--year", type=click.IntRange(2000, 2100), required=True,
                        help="The year.")(fn)


def _site(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from ..site import site_problem

    problem = None if value is None else site_problem(value)
    if problem is not None:
        raise click.BadParameter(problem, ctx, param)
    return value


def site_option(fn: F) -> F:
    """The shared ``--site`` option of the listings and reports (default: every site)."""
    return click.option("--site", default=None, metavar="ID", callback=_site,
                        help="Only this site's files, records and actions ([site] id of the "
                             "plant's watcher; default: every site). 只看该站点。")(fn)


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON (Chinese as it is, dates as text)."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


class NotAWorkspace(click.ClickException):
    """``--root`` (or the current folder) is not a workspace: exit 2, a usage error."""

    exit_code = 2

    def __init__(self, root: object) -> None:
        super().__init__(
            f"不是 qmsforms 工作区:{root}(其中没有 qmsforms.toml,也没有 .qmsforms/)。请用 "
            f"--root(或环境变量 QMSFORMS_ROOT)指定工作区,或运行 `qmsforms init {root}` 新建。\n"
            f"{root} is not a qmsforms workspace (it holds neither qmsforms.toml nor "
            f".qmsforms/): point --root (or QMSFORMS_ROOT) at one, or create one with "
            f"`qmsforms init {root}`.")


def workspace_of(ctx: click.Context) -> Workspace:
    """The workspace of this command.

    A folder that is not a workspace is refused (`NotAWorkspace`, exit 2) before anything is
    read or created in it; a bad ``qmsforms.toml`` is reported, not raised.
    """
    ws: Workspace = ctx.obj["workspace"]
    if not is_workspace(ws.root):
        raise NotAWorkspace(ws.root)
    ws.config  # noqa: B018 - read now: a bad qmsforms.toml (ConfigError) stops the command
    return ws


def pad(text: str, width: int) -> str:
    """Left-align ``text`` in ``width`` terminal columns (CJK characters take two)."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - used)


def interactive() -> bool:
    """Is a person watching (a terminal, not CI)? Then progress bars are shown."""
    return sys.stdout.isatty() and not os.environ.get("CI")
