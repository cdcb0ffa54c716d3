"""A workspace: ``qmsforms.toml`` plus ``templates/``, ``schemas/``, ``inbox/``, ``outbox/``.

The repository root is itself a workspace. Defaults for every file a workspace holds ship with
the package, so `init` can create a new one anywhere and a workspace may leave out what it
does not customise (a missing questionnaire or template falls back to the shipped one).
"""

from __future__ import annotations

import os
import shutil
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from .config import CONFIG_NAME, Config, load_config, package_defaults

if TYPE_CHECKING:
    from .registry import FormRegistry
    from .revisions import History
    from .scoring.policy import PolicySet

FOLDERS = ("templates", "schemas", "inbox", "outbox")


class Workspace:
    """A folder qmsforms works in. Cheap to create; files are read on first use."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        chosen = root if root is not None else os.environ.get("QMSFORMS_ROOT") or "."
        self.root = Path(chosen).resolve()

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    @cached_property
    def config(self) -> Config:
        """The workspace configuration (defaults when there is no ``qmsforms.toml``)."""
        return load_config(self.root / CONFIG_NAME)

    @property
    def templates_dir(self) -> Path:
        """Controlled templates of this workspace."""
        return self.root / "templates"

    @property
    def schemas_dir(self) -> Path:
        """Questionnaires, policies and exported JSON Schema of this workspace."""
        return self.root / "schemas"

    @property
    def inbox(self) -> Path:
        """Where filled forms are dropped (``[paths] inbox``, default ``inbox/``)."""
        return self.root / os.path.expanduser(self.config.paths.inbox)

    @property
    def outbox(self) -> Path:
        """Where records, archived originals and rejections are written (``[paths] outbox``,
        default ``outbox/``)."""
        return self.root / os.path.expanduser(self.config.paths.outbox)

    @property
    def state_dir(self) -> Path:
        """Private state (ledger, work folder); keep it on a local disk."""
        return self.root / ".qmsforms"

    @cached_property
    def history(self) -> History:
        """The revision history: the shipped one, replaced form by form by this workspace's."""
        from .revisions import HISTORY_NAME, merged_history

        return merged_history([package_defaults() / "templates" / HISTORY_NAME,
                               self.templates_dir / HISTORY_NAME])

    @cached_property
    def registry(self) -> FormRegistry:
        """The forms known in this workspace (built-in plus its questionnaires), each at its
        current revision."""
        from .registry import FormRegistry  # the form models load when first asked for

        return FormRegistry([package_defaults() / "schemas" / "questionnaires",
                             self.schemas_dir / "questionnaires"], self.history.revisions())

    @cached_property
    def policies(self) -> PolicySet:
        """The scoring policies of this workspace (shipped, own files, config overrides)."""
        from .customers.records import master_policy
        from .scoring.policy import PolicySet  # scoring loads when first needed

        policies = PolicySet.load([package_defaults() / "schemas" / "policies",
                                   self.schemas_dir / "policies"], self.config,
                                  self.root / CONFIG_NAME)
        policies.master = lambda customer: master_policy(self, customer)
        return policies

    def template_path(self, form_id: str, lang: str, suffix: str = ".xlsx") -> Path | None:
        """The workspace's template for a form and language, or None to build from definition."""
        name = f"{form_id}{suffix}" if lang == "both" else f"{form_id}.{lang}{suffix}"
        path = self.templates_dir / name
        return path if path.is_file() else None


def init_workspace(target: str | os.PathLike[str]) -> Workspace:
    """Create a workspace at ``target`` with the default config, schemas and templates.

    The ``qmsforms.toml`` it writes shows every setting, those left at their default commented
    out; ``templates/`` gets the shipped revision history (``revisions.toml``) and the record
    of what qmsforms built there (``.built.json``). Existing files are kept (never
    overwritten), so running it on a workspace only fills gaps.
    """
    root = Path(target)
    root.mkdir(parents=True, exist_ok=True)
    source = package_defaults()
    for folder in FOLDERS:
        (root / folder).mkdir(exist_ok=True)
    for folder in ("templates", "schemas"):
        src = source / folder
        if src.is_dir():
            shutil.copytree(src, root / folder, dirs_exist_ok=True,
                            copy_function=_copy_if_absent)
    config = root / CONFIG_NAME
    if not config.exists() and (source / CONFIG_NAME).is_file():
        shutil.copyfile(source / CONFIG_NAME, config)
    for folder in ("inbox", "outbox"):
        (root / folder / ".gitkeep").touch()
    return Workspace(root)


def _copy_if_absent(src: str, dst: str) -> str:
    if not os.path.exists(dst):
        shutil.copy2(src, dst)
    return dst


def is_workspace(root: str | os.PathLike[str]) -> bool:
    """Whether ``root`` is a workspace: it holds ``qmsforms.toml`` or the state folder
    ``.qmsforms/`` (a workspace that lost its configuration still has its ledger there).

    Every command but ``init`` and ``demo`` refuses a folder that is not one, so a mistyped
    ``--root`` never looks like an empty workspace.
    """
    folder = Path(root)
    return (folder / CONFIG_NAME).is_file() or (folder / ".qmsforms").is_dir()
