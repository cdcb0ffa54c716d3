"""Which plant and which machine a process works for (SPEC §10).

A company with several plants runs one watcher per plant, all writing one PostgreSQL ledger.
The plant is the site: ``[site] id`` in ``qmsforms.toml`` (``QMSFORMS_SITE`` overrides it), kept
on every file, record and action the watcher writes, and the way listings and reports are
narrowed (``--site``). Left unset, a workspace is one site and nothing is stamped.

The host names the machine. It is put in the names of the part files a writer leaves in a
shared folder and on the claims it holds, so a watcher on another machine never mistakes a
live writer's file for an abandoned one. ``QMSFORMS_HOST`` overrides the machine's own name
(two containers with one host name, or a test running several "machines" on one).
"""

from __future__ import annotations

import os
import re
import socket
from typing import TYPE_CHECKING, Any

from .config import LINKED_FORMS, SITE_ID, ConfigError, site_problem

__all__ = ["HOST_ENV", "LINKED_FORMS", "SITE_ENV", "SITE_ID", "SITE_KEY", "host_id", "key_scope",
           "natural_key", "site_id", "site_problem"]
if TYPE_CHECKING:
    from .registry import FormDef
    from .workspace import Workspace

SITE_ENV = "QMSFORMS_SITE"
HOST_ENV = "QMSFORMS_HOST"

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def host_id() -> str:
    """This machine's name as written into part files and claims: ``QMSFORMS_HOST`` or the
    host name, reduced to letters, digits, ``.``, ``_`` and ``-`` (at most 40), never empty."""
    raw = os.environ.get(HOST_ENV) or socket.gethostname()
    return _UNSAFE.sub("-", raw).strip("-.")[:40] or "host"


def site_id(ws: Workspace) -> str | None:
    """The site a workspace's watcher writes for: ``QMSFORMS_SITE``, else ``[site] id``, else
    None (one site, nothing stamped). Raises `ConfigError` for a malformed id in the
    environment (the file's own is checked when it is read)."""
    found = os.environ.get(SITE_ENV)
    if found:
        problem = site_problem(found)
        if problem is not None:
            raise ConfigError(f"{SITE_ENV}: {problem}")
        return found
    return ws.config.site.id


SITE_KEY = "@site"
"""The entry a per-site natural key carries beside the form's own fields."""

def key_scope(ws: Workspace, form: FormDef) -> str:
    """``company`` or ``site``: ``[site] key_scope`` for the form, else the form's own."""
    if form.id in LINKED_FORMS:
        return "company"
    return ws.config.site.key_scope.get(form.id, form.key_scope)


def natural_key(ws: Workspace, form: FormDef, data: dict[str, Any],
                site: str | None) -> dict[str, Any]:
    """The natural key a record of ``form`` is filed under: the form's key fields, and the
    site (`SITE_KEY`) when the key is per site and a site is set."""
    key = {k: data.get(k) for k in form.natural_key}
    if site is not None and key_scope(ws, form) == "site":
        key[SITE_KEY] = site
    return key
