"""``qmsforms.toml``: the models of its sections, loading it, and where the shipped defaults are."""

from __future__ import annotations

import re
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .issues import QmsFormsError
from .normalize import TICKED_MARKS, UNTICKED_MARKS, TickMarks
from .safety import EXCEL_COLS, EXCEL_ROWS, Limits

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_NAME = "qmsforms.toml"


class ConfigError(QmsFormsError, ValueError):
    """``qmsforms.toml`` cannot be read or holds invalid values."""


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Superseded(_Config):
    """When a revision stopped being current, and how long returned copies are still taken."""

    on: date
    grace_days: int = Field(90, ge=0)


class DocumentControl(_Config):
    """The document-control block of one form (文件编号, 生效日期, 编制/审核/批准 ...)."""

    document_no: str = ""
    effective_date: date = date(2026, 1, 1)
    status: str = "受控"
    prepared_by: str = ""
    reviewed_by: str = ""
    approved_by: str = ""
    superseded: dict[str, Superseded] = Field(default_factory=dict)


class Company(_Config):
    """The company name printed at the top of every form."""

    name_zh: str = "公司名称"
    name_en: str = "Company name"


class Defaults(_Config):
    """Workspace-wide defaults."""

    language: Literal["zh", "en", "both"] = "both"


class Scoring(_Config):
    """Which monitoring policy scores which customer (policies live in ``schemas/policies``)."""

    monitoring: str = "monitoring-000"
    customers: dict[str, str] = Field(default_factory=dict)


_READ = Limits()


class LimitSettings(_Config):
    """Bounds on reading one returned file (``[limits]``); the defaults are safe.

    A sheet is read as one rectangle from A1 to its last row and column, about 50 bytes a
    cell however few cells hold a value: a sheet using more rows, columns or cells than
    these is refused (``SHEET_TOO_LARGE``, at its farthest cell) before its values are read;
    a Word form whose main part is larger than ``max_document_mb`` is refused (``ZIP_BOMB``)
    before it is parsed.
    """

    max_rows: int = Field(_READ.max_rows, ge=1, le=EXCEL_ROWS)
    """The last row a sheet may use (Excel's own last row by default)."""
    max_cols: int = Field(_READ.max_cols, ge=1, le=EXCEL_COLS)
    """The last column a sheet may use (16,384, column ``XFD``, by default)."""
    max_cells: int = Field(_READ.max_cells, ge=1)
    """Rows × columns a sheet may use: 2,000,000 by default, 250,000 lines of eight columns
    (a 50,000-line shipping list uses 400,000)."""
    max_document_mb: int = Field(_READ.max_document_bytes // 2**20, ge=1, le=64)
    """The main part of a returned Word form, in MB once inflated: reading it takes about
    36 times that in memory (a filled form's is well under 1 MB)."""
    read_timeout_seconds: float = Field(120.0, gt=0)
    """Seconds the intake's reader process may take over one file before the file is
    rejected (a 50,000-line shipping list takes about two)."""
    read_memory_mb: int = Field(2048, ge=256)
    """Address space, in MB, of the intake's reader process: a file whose reading needs more
    is rejected instead of stopping the intake. Address space is more than resident memory
    (a reader validating a 50,000-line shipping list has about 700 MB of it for 200 MB
    resident)."""

    read_attempts: int = Field(2, ge=1, le=10)
    """Reads of one file that may fail (the reader crashed, ran out of memory or time)
    before the file is rejected; a crash of the whole intake while reading counts too."""

    def reader_limits(self) -> Limits:
        """These bounds as the `Limits` of the safety gate and the workbook reader."""
        return replace(_READ, max_rows=self.max_rows, max_cols=self.max_cols,
                       max_cells=self.max_cells, max_document_bytes=self.max_document_mb * 2**20)


class IntakeSettings(_Config):
    """How the intake reports files that wait, and the watcher's log (``[intake]``)."""

    stale_lock_minutes: float = Field(30.0, gt=0)
    """An editor's lock file (``~$name.xlsx``, ``.~lock.name.xlsx#``) older than this is
    stale: its file waits, and ``status``, ``process`` and the watch log say so."""
    log_max_mb: float = Field(10.0, gt=0)
    """Size at which ``.qmsforms/logs/watch.log`` is rotated."""
    log_backups: int = Field(5, ge=0, le=100)
    """Rotated watch logs kept (``watch.log.1`` …)."""


LEDGER_SCHEMES = ("postgresql", "postgres")
"""The URL schemes of a ledger kept elsewhere than the workspace's SQLite file."""


def ledger_url_problem(url: str) -> str | None:
    """What is wrong with a ledger URL (in Chinese and English), or None when it can be used.

    A URL must be ``postgresql://`` (or ``postgres://``) and must not hold a password: the
    password belongs in libpq's password file (``~/.pgpass``, ``PGPASSFILE``) or service file
    (``~/.pg_service.conf``, ``PGSERVICEFILE``; then ``postgresql:///?service=NAME``), which
    only their owner can read, never in ``qmsforms.toml`` or an environment variable.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in LEDGER_SCHEMES:
        return ("台账 URL 须以 postgresql:// 开头(不设置则使用工作区中的 SQLite 台账)"
                " / a ledger URL starts with postgresql:// (leave it unset for the "
                "workspace's SQLite ledger)")
    if parts.password is not None or "password" in parse_qs(parts.query):
        return ("台账 URL 中不能含密码:请把密码写入 libpq 的密码文件 ~/.pgpass(或 PGPASSFILE"
                " 指定的文件,权限 0600),或写入服务文件 ~/.pg_service.conf 并使用"
                " postgresql:///?service=名称 / a ledger URL must not hold a password: put it "
                "in libpq's password file ~/.pgpass (or the file PGPASSFILE names, mode 0600), "
                "or in a service file ~/.pg_service.conf and use postgresql:///?service=NAME")
    return None


class LedgerSettings(_Config):
    """Where the ledger is kept (``[ledger]``): the workspace's SQLite file by default, or a
    PostgreSQL database shared by several watchers (``url``; ``QMSFORMS_LEDGER`` overrides
    it). The password never goes here: see `ledger_url_problem`."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    url: str | None = None
    """``postgresql://user@host:5432/qmsforms`` (no password), or None for SQLite."""

    @model_validator(mode="after")
    def _no_password(self) -> LedgerSettings:
        if self.url:
            problem = ledger_url_problem(self.url)
            if problem is not None:
                raise ValueError(problem)
        return self


SITE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
"""A site id (`qmsforms.site`): a letter or digit, then up to 31 letters, digits, ``_``
or ``-``."""

LINKED_FORMS = ("complaint", "8d-report", "corrective-action")
"""Forms other records point at by number (an 8D at its complaint, a CAPA at its action):
their keys are company-wide whatever ``[site] key_scope`` says."""


def site_problem(site: str) -> str | None:
    """What is wrong with a site id (Chinese and English), or None when it can be used."""
    if SITE_ID.match(site):
        return None
    return ("站点编号只能由字母、数字、_ 和 - 组成,以字母或数字开头,最多 32 个字符"
            f"(现为 {site!r}) / a site id is letters, digits, _ and -, starting with a letter or "
            f"digit, at most 32 characters (not {site!r})")


class SiteSettings(_Config):
    """Which plant this workspace's watcher works for (``[site]``, SPEC §10).

    ``id`` is stored on every file, record and action (``QMSFORMS_SITE`` overrides it); None
    is a company of one site. ``key_scope`` names, per form, whether its natural key is
    ``company``-wide or per ``site``: two plants monitoring one customer keep two monthly
    series unless the form's key is company-wide (`qmsforms.site`, `FormDef.key_scope`).
    """

    id: str | None = None
    key_scope: dict[str, Literal["company", "site"]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _valid_id(self) -> SiteSettings:
        if self.id is not None:
            problem = site_problem(self.id)
            if problem is not None:
                raise ValueError(problem)
        linked = sorted(f for f, scope in self.key_scope.items()
                        if f in LINKED_FORMS and scope == "site")
        if linked:
            raise ValueError(f"{', '.join(linked)} 按编号关联,编号全公司唯一,不能按站点 / "
                             f"{', '.join(linked)} are linked by number, company-wide: their "
                             "key_scope cannot be site")
        return self


class PathSettings(_Config):
    """Where the inbox and outbox are (``[paths]``): relative to the workspace, or absolute (a
    plant's mounted share for the inbox, a central outbox). Default ``inbox`` and ``outbox``."""

    inbox: str = "inbox"
    outbox: str = "outbox"


class TickSettings(_Config):
    """What a tick box or a yes/no cell may hold (``[ticks]``): one list of marks that mean
    ticked, one of marks that mean not ticked. Marks are compared after NFKC and casefolding
    (``X`` = ``x``, ``ＯＫ`` = ``ok``); a blank cell is not ticked; any other mark is refused
    at its cell with a message, never guessed. A mark may not be in both lists."""

    yes: list[str] = Field(default_factory=lambda: list(TICKED_MARKS))
    """Marks that mean ticked / yes (default: √ ✓ ✔ ☑ ☒ ✅ ● ■ ○ 〇 x × v 1 是 对 yes y ok
    true)."""
    no: list[str] = Field(default_factory=lambda: list(UNTICKED_MARKS))
    """Marks that mean not ticked / no (default: ☐ □ 否 错 0 no n false)."""

    @model_validator(mode="after")
    def _one_meaning(self) -> TickSettings:
        self.marks()
        return self

    def marks(self) -> TickMarks:
        """These lists as the normaliser's vocabulary (`normalize.ticks_in_use`)."""
        return TickMarks.of(self.yes, self.no)


class Config(_Config):
    """The parsed ``qmsforms.toml``."""

    company: Company = Field(default_factory=Company)
    defaults: Defaults = Field(default_factory=Defaults)
    forms: dict[str, DocumentControl] = Field(default_factory=dict)
    scoring: Scoring = Field(default_factory=Scoring)
    policies: dict[str, dict[str, object]] = Field(default_factory=dict)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    intake: IntakeSettings = Field(default_factory=IntakeSettings)
    ticks: TickSettings = Field(default_factory=TickSettings)
    ledger: LedgerSettings = Field(default_factory=LedgerSettings)
    site: SiteSettings = Field(default_factory=SiteSettings)
    paths: PathSettings = Field(default_factory=PathSettings)

    def control(self, form_id: str) -> DocumentControl:
        """The document control of a form, with a generated number when none is configured."""
        found = self.forms.get(form_id)
        if found is not None:
            return found
        return DocumentControl(document_no=f"QR-{form_id.upper()}")


def load_config(path: Path) -> Config:
    """Read ``qmsforms.toml``; a missing file gives the defaults."""
    if not path.exists():
        return Config()
    try:
        with path.open("rb") as fh:
            return Config.model_validate(tomllib.load(fh))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        from .definitions import problems_of  # the line and key of each problem

        problems = problems_of("config", path.name, path, exc)
        raise ConfigError("; ".join(f"{p.where}: {p.message_en}" for p in problems),
                          ";".join(f"{p.where}:{p.message_zh}" for p in problems)) from exc


def package_defaults() -> Path:
    """Where the shipped default schemas, templates and config live.

    In an installed wheel they are packaged under ``qmsforms/_defaults``; in a source checkout
    (editable install, tests) they are the repository's own folders.
    """
    here = Path(__file__).resolve().parent
    packaged = here / "_defaults"
    return packaged if packaged.is_dir() else here.parent
