"""The customer master: who the customers are, the names they go by, how they are scored.

Kept in the workspace as ``customers.toml`` (written by ``qmsforms customers import`` from
the customer list workbook, 客户一览表). A text file beside ``qmsforms.toml`` rather than a
ledger table: it is the workspace's reference data, diffable and kept in version control with
the configuration, and it survives a ledger rebuild from the outbox unchanged.

A name is matched in this order: the exact name, the customer code, an exact alias, then the
normalised name (`fold`: full-width to half-width, case, spaces and punctuation removed, the
company endings of ``schemas/customer-master.toml`` dropped) against the normalised names and
aliases of every customer.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from ..config import Config, package_defaults
from ..issues import QmsFormsError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

MASTER_NAME = "customers.toml"
SETTINGS_NAME = "customer-master.toml"
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


class Workspace(Protocol):
    """What the master needs of a workspace (`qmsforms.workspace.Workspace` is one; the
    workspace asks the master for policies, so this package does not import it)."""

    root: Path

    @property
    def schemas_dir(self) -> Path:
        """The workspace's ``schemas/``."""

    @property
    def config(self) -> Config:
        """Its ``qmsforms.toml``."""


class CustomerMasterError(QmsFormsError, ValueError):
    """``customers.toml`` or ``customer-master.toml`` cannot be read or holds invalid values."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Customer(_Strict):
    """One customer of the master."""

    code: str | None = None
    name: str
    aliases: tuple[str, ...] = ()
    automotive: bool = False
    policy: str | None = None
    """Its monitoring policy; None: the automotive policy when automotive, else the config's."""
    order_value: Decimal | None = None

    @property
    def key(self) -> str:
        """What records store to name it: its code, or its name when it has none."""
        return self.code or self.name

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"code": self.code, "name": self.name, "aliases": list(self.aliases),
                "automotive": self.automotive, "policy": self.policy,
                "order_value": None if self.order_value is None else float(self.order_value)}


class MatchSettings(_Strict):
    """``schemas/customer-master.toml``: how names are compared, the automotive policy."""

    automotive_policy: str = "automotive-qdo"
    suffixes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    """A name matched to a master customer, and how (``name``, ``code``, ``alias``,
    ``normalised``)."""

    customer: Customer
    by: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"code": self.customer.code, "name": self.customer.name, "by": self.by}


def _fold(text: str, suffixes: Sequence[str]) -> str:
    folded = _PUNCT.sub("", unicodedata.normalize("NFKC", text).casefold())
    changed = True
    while changed and folded:
        changed = False
        for suffix in suffixes:
            if folded.endswith(suffix) and len(folded) > len(suffix):
                folded, changed = folded[: -len(suffix)], True
                break
    return folded


@dataclass
class CustomerMaster:
    """The customers of a workspace and the index that matches names to them."""

    customers: tuple[Customer, ...] = ()
    settings: MatchSettings = field(default_factory=MatchSettings)
    source: str | None = None
    imported_at: str | None = None

    def __post_init__(self) -> None:
        suffixes = sorted({_PUNCT.sub("", unicodedata.normalize("NFKC", s).casefold())
                           for s in self.settings.suffixes} - {""}, key=len, reverse=True)
        self._suffixes = tuple(suffixes)
        self._names: dict[str, Customer] = {}
        self._codes: dict[str, Customer] = {}
        self._aliases: dict[str, Customer] = {}
        self._folded: dict[str, Customer] = {}
        for c in self.customers:
            self._names.setdefault(" ".join(c.name.split()), c)
            if c.code:
                self._codes.setdefault(c.code.strip().casefold(), c)
            for alias in c.aliases:
                self._aliases.setdefault(" ".join(alias.split()), c)
            for text in (c.name, *c.aliases):
                self._folded.setdefault(self.fold(text), c)

    def __bool__(self) -> bool:
        return bool(self.customers)

    def __len__(self) -> int:
        return len(self.customers)

    def fold(self, name: str) -> str:
        """``name`` normalised for comparison (see the module docstring)."""
        return _fold(name, self._suffixes)

    def match(self, name: str | None, code: str | None = None) -> Match | None:
        """The master customer a form's customer name (and code, if the form has one) is."""
        text = " ".join((name or "").split())
        if text in self._names:
            return Match(self._names[text], "name")
        if code and code.strip().casefold() in self._codes:
            return Match(self._codes[code.strip().casefold()], "code")
        if text in self._aliases:
            return Match(self._aliases[text], "alias")
        folded = self.fold(text) if text else ""
        if folded and folded in self._folded:
            return Match(self._folded[folded], "normalised")
        return None

    def by_key(self, key: str | None) -> Customer | None:
        """The customer a record's stored key (code, or name) names."""
        if not key:
            return None
        return self._codes.get(key.strip().casefold()) or self._names.get(key)

    def policy_of(self, name: str) -> str | None:
        """The monitoring policy the master gives ``name``: its own, or the automotive
        policy when it is automotive; None when the master says nothing."""
        found = self.match(name)
        if found is None:
            return None
        customer = found.customer
        return customer.policy or (self.settings.automotive_policy if customer.automotive
                                   else None)

    def canonical(self, name: str | None, key: str | None = None) -> str | None:
        """The master's name for a record's customer (stored key first), else ``name``."""
        customer = self.by_key(key)
        if customer is None:
            found = self.match(name)
            customer = found.customer if found else None
        return customer.name if customer else name

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: what ``qmsforms customers --json`` prints."""
        return {"source": self.source, "imported_at": self.imported_at,
                "automotive_policy": self.settings.automotive_policy,
                "customers": [c.to_dict() for c in self.customers]}


def master_path(workspace: Workspace) -> Path:
    """Where the workspace keeps its customer master."""
    return workspace.root / MASTER_NAME


def _toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise CustomerMasterError(f"{path.name}: 不是有效的 TOML / not valid TOML: {exc}") from exc


def match_settings(workspace: Workspace) -> MatchSettings:
    """The workspace's ``schemas/customer-master.toml``, else the shipped one."""
    for path in (workspace.schemas_dir / SETTINGS_NAME,
                 package_defaults() / "schemas" / SETTINGS_NAME):
        if path.is_file():
            try:
                return MatchSettings.model_validate(_toml(path))
            except ValidationError as exc:
                raise CustomerMasterError(f"{path.name}: {_first_error(exc)}") from exc
    return MatchSettings()


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}"


def load_master(workspace: Workspace) -> CustomerMaster:
    """The workspace's customer master; an empty one when there is no ``customers.toml``."""
    path = master_path(workspace)
    settings = match_settings(workspace)
    if not path.is_file():
        return CustomerMaster(settings=settings)
    raw = _toml(path)
    rows = raw.get("customer", [])
    try:
        customers = tuple(Customer.model_validate(r) for r in rows)
    except ValidationError as exc:
        raise CustomerMasterError(f"{path.name}: 客户主数据有误 / invalid customer: "
                                  f"{_first_error(exc)}") from exc
    return CustomerMaster(customers, settings, raw.get("source"), raw.get("imported_at"))


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a TOML basic string


def master_text(customers: Iterable[Customer], source: str | None,
                imported_at: str | None) -> str:
    """``customers.toml`` as text."""
    lines = ["# 客户主数据 customer master: written by `qmsforms customers import LIST.xlsx`.",
             "# Edit it in Excel: `qmsforms customers export -o LIST.xlsx`, then import again.",
             ""]
    for key, value in (("source", source), ("imported_at", imported_at)):
        if value:
            lines.append(f"{key} = {_value(value)}")
    for c in customers:
        lines += ["", "[[customer]]"]
        for key, value in c.model_dump().items():
            if value not in (None, (), []):
                lines.append(f"{key} = {_value(value)}")
    return "\n".join(lines) + "\n"


def save_master(workspace: Workspace, customers: Iterable[Customer], source: str | None,
                imported_at: str | None) -> Path:
    """Write ``customers.toml`` atomically; returns its path."""
    import os

    path = master_path(workspace)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(master_text(customers, source, imported_at), encoding="utf-8")
    os.replace(tmp, path)
    return path
