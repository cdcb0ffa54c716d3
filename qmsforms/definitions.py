"""Broken definition files as data: which file, which line, which key, and why (SPEC §9).

A questionnaire or policy TOML with a typo must disable only what depends on it, and say where
the typo is. `problems_of` turns the error that reading one file raised (TOML syntax or the
pydantic model's errors) into `DefinitionProblem` rows with the line of the offending key,
found in the file's text (`line_of`), and a message in Chinese and English.
"""

from __future__ import annotations

import copy
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .issues import Code, Issue, QmsFormsError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_ZH_BY_TYPE = {
    "extra_forbidden": "未知的键(拼写错误?)",
    "missing": "缺少必需的键",
    "literal_error": "取值不在允许的范围内",
    "string_pattern_mismatch": "格式不对",
    "greater_than": "数值太小",
    "greater_than_equal": "数值太小",
    "less_than": "数值太大",
    "less_than_equal": "数值太大",
    "too_short": "项目太少",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "decimal_parsing": "应为数字",
    "float_parsing": "应为数字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "string_type": "应为文本(加引号)",
}


@dataclass(frozen=True)
class DefinitionProblem:
    """One problem in a definition file: the file, the line (1-based, when known), the key
    path (list items counted from 1), what it disables and a message in both languages."""

    kind: str  # questionnaire | policy
    target: str  # the form id or policy id it disables
    file: str
    line: int | None
    key: str
    message_zh: str
    message_en: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"kind": self.kind, "target": self.target, "file": self.file,
                "line": self.line, "key": self.key, "message_zh": self.message_zh,
                "message_en": self.message_en}

    @property
    def where(self) -> str:
        """``file:line`` (or just the file), then the key."""
        at = f"{self.file}:{self.line}" if self.line else self.file
        return f"{at} {self.key}".rstrip()

    def text(self) -> str:
        """One line: where, then the Chinese and the English message."""
        return f"{self.where}: {self.message_zh} / {self.message_en}"


class DefinitionFiles:
    """The definition files in some folders, to notice when one was edited, added or removed
    (a long-running intake reads them again then: a fixed typo takes effect at once)."""

    def __init__(self, folders: Sequence[Path]) -> None:
        self.folders = list(folders)
        self._seen = self._stamp()

    def _stamp(self) -> tuple[tuple[str, int, int], ...]:
        found = []
        for folder in self.folders:
            try:
                paths = sorted(folder.glob("*.toml"))
            except OSError:
                continue
            for path in paths:
                try:
                    st = path.stat()
                except OSError:
                    continue
                found.append((str(path), st.st_mtime_ns, st.st_size))
        return tuple(found)

    def changed(self) -> bool:
        """Whether any file changed since the last look (or since made)."""
        stamp = self._stamp()
        changed, self._seen = stamp != self._seen, stamp
        return changed


class DefinitionBroken(QmsFormsError):
    """A form or policy was asked for whose definition file is broken."""

    def __init__(self, what: str, problems: Sequence[DefinitionProblem]) -> None:
        self.problems = tuple(problems)
        lines = "; ".join(p.text() for p in self.problems)
        super().__init__(f"{what} 的定义文件有误,已停用 / the definition of {what} is broken "
                         f"and it is disabled: {lines}")


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def _key_re(key: str) -> re.Pattern[str]:
    quoted = re.escape(key)
    return re.compile(rf"""^\s*(?:{quoted}|"{quoted}"|'{quoted}')\s*(=|\.)""")


def line_of(text: str, loc: Sequence[str | int]) -> int | None:
    """The 1-based line of the key at pydantic location ``loc`` in TOML ``text``.

    Follows tables (``[scale]``) and arrays of tables (``[[questions]]``, the n-th for index
    n) and finds the key inside; for what it cannot follow (inline tables, values spread over
    lines) the line of the deepest key it found. None when not even the first key is found.
    """
    lines = text.splitlines()
    counts: dict[tuple[str, ...], int] = {}
    sections: list[tuple[tuple[str, ...], int, int]] = []  # (table, index, header line)
    for number, raw in enumerate(lines, 1):
        head = _HEADER.match(raw)
        if head is None:
            continue
        table = tuple(part.strip().strip("\"'") for part in head.group(2).split("."))
        index = 0
        if head.group(1) == "[[":
            index = counts.get(table, -1) + 1
            counts[table] = index
        sections.append((table, index, number))
    best: int | None = None
    start, end = 0, (sections[0][2] - 1 if sections else len(lines))
    path: tuple[str, ...] = ()
    for pos, part in enumerate(loc):
        if not isinstance(part, str):
            continue
        path = (*path, part)
        after = loc[pos + 1] if pos + 1 < len(loc) else None
        wanted = after if isinstance(after, int) else 0
        heads = [i for i, (table, n, _) in enumerate(sections)
                 if table == path and n == wanted]
        if heads:
            i = heads[0]
            best = start = sections[i][2]
            end = sections[i + 1][2] - 1 if i + 1 < len(sections) else len(lines)
            continue
        if any(table[:len(path)] == path for table, _, _ in sections):
            continue  # a dotted table name: [policies.monitoring-000]
        pattern = _key_re(part)
        hit = next((n for n in range(start, end) if pattern.match(lines[n])), None)
        if hit is None:
            return best
        best, start = hit + 1, hit + 1
    return best


def read_toml(kind: str, path: Path) -> tuple[dict[str, Any], str] | list[DefinitionProblem]:
    """A definition file's table and its text, or the problems that disable it (unreadable,
    not TOML, or without an ``id``); the problems then name the file's stem as what they
    disable."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return problems_of(kind, path.stem, path, exc, "")
    if not isinstance(data.get("id"), str) or not data["id"]:
        return [DefinitionProblem(kind, path.stem, path.name, line_of(text, ("id",)), "id",
                                  "缺少 id(用引号括起的文本)", "needs an id (quoted text)")]
    return data, text


def _key(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def problems_of(kind: str, target: str, path: Path, exc: Exception,
                text: str | None = None, prefix: tuple[str, ...] = ()) -> list[DefinitionProblem]:
    """The problems the error ``exc`` (raised reading ``path``) stands for, one per error;
    ``prefix`` is where in ``path`` the validated table sits (``policies.<id>`` of
    ``qmsforms.toml``)."""
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
    cause = exc
    while not isinstance(cause, ValidationError) and cause.__cause__ is not None:
        cause = cause.__cause__  # type: ignore[assignment]
    if isinstance(cause, ValidationError):
        out = []
        for err in cause.errors():
            loc = (*prefix, *err["loc"])
            en = str(err["msg"]).removeprefix("Value error, ")
            zh = _ZH_BY_TYPE.get(err["type"]) or f"取值无效({en})"
            out.append(DefinitionProblem(kind, target, path.name, line_of(text, loc),
                                         _key(loc), zh, en))
        return out
    message = str(exc)
    found = re.search(r"line (\d+)", message)
    line = int(found.group(1)) if found else None
    if type(exc).__name__ == "TOMLDecodeError":
        return [DefinitionProblem(kind, target, path.name, line, "",
                                  f"不是有效的 TOML({message})", f"not valid TOML: {message}")]
    return [DefinitionProblem(kind, target, path.name, line, "", f"无法使用({message})",
                              message)]


def definition_issue(form_id: str, problems: Sequence[DefinitionProblem]) -> Issue:
    """The issue that refuses a file of a form disabled by ``problems``."""
    return Issue.make(Code.FORM_DEFINITION_BROKEN, value=form_id, form=form_id,
                      detail="; ".join(f"{p.where}: {p.message_en}" for p in problems),
                      detail_zh="; ".join(f"{p.where}: {p.message_zh}" for p in problems))


M = TypeVar("M", bound=BaseModel)


def policy_path(policy_id: str, schemas_dirs: Sequence[Path | None]) -> Path:
    """The policy file in force: the first ``<dir>/policies/<id>.toml`` that exists among
    ``schemas_dirs`` (a workspace's own replaces the shipped file as a whole), else the last
    folder's (the shipped one's) path."""
    folders = [d for d in schemas_dirs if d is not None]
    for folder in folders:
        path = folder / "policies" / f"{policy_id}.toml"
        if path.is_file():
            return path
    return folders[-1] / "policies" / f"{policy_id}.toml"


def load_definition(model: type[M], path: Path, target: str, kind: str = "policy",
                    broken: type[DefinitionBroken] = DefinitionBroken) -> M:
    """Read the definition file ``path`` strictly into ``model``; ``broken`` (file, line and
    key, in Chinese and English) when it is not TOML or breaks the model."""
    found = read_toml(kind, path)
    if isinstance(found, list):
        raise broken(target, found)
    raw, text = found
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise broken(target, problems_of(kind, target, path, exc, text)) from exc


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``override`` into ``base``: tables merge key by key, everything else replaces."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
