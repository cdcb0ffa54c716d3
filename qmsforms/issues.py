"""Problems found in a file, as data: `Issue` and `Report` (the catalogue is `qmsforms.codes`).

Every check in qmsforms yields `Issue` objects and never raises for bad input; a `Report`
collects them for one file. Messages come from one catalogue (`Code`) so that the Chinese and
the English text always say the same thing and tests can assert on the code alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .codes import Code, Severity


class _Blank(dict[str, object]):
    """Formatting context that leaves unknown placeholders empty rather than failing."""

    def __missing__(self, key: str) -> str:
        return ""


@dataclass(frozen=True)
class Issue:
    """One problem: what (code), where (field, sheet, cell), what was found, and why, in zh + en.

    ``cell`` is an A1 reference (``B7`` or ``D12:H12`` for a row of tick boxes) for xlsx, or the
    content-control tag and position for docx.
    """

    code: str
    severity: Severity
    field: str | None
    sheet: str | None
    cell: str | None
    value: Any
    message_zh: str
    message_en: str

    @classmethod
    def make(
        cls,
        code: Code,
        *,
        field: str | None = None,
        sheet: str | None = None,
        cell: str | None = None,
        value: Any = None,
        label: tuple[str, str] | None = None,
        **context: Any,
    ) -> Issue:
        """Build an issue from the catalogue; ``label`` is the field's (zh, en) caption."""
        zh_label, en_label = label or (field or "", field or "")
        shown = "" if value is None else readable(str(value))
        if len(shown) > 80:
            shown = shown[:77] + "..."
        context = {k: readable(v) if isinstance(v, str) else v for k, v in context.items()}
        ctx = _Blank(context, label=zh_label, label_en=en_label, value=shown, field=field or "",
                     sheet=sheet or "")
        ctx.setdefault("detail_zh", ctx.get("detail", ""))
        return cls(
            code=code.name,
            severity=code.severity,
            field=field,
            sheet=sheet,
            cell=cell,
            value=_jsonable(value),
            message_zh=code.value.zh.format_map(ctx),
            message_en=code.value.en.format_map(ctx),
        )

    def to_dict(self) -> dict[str, Any]:
        """The issue as plain JSON-ready data."""
        return {
            "code": self.code,
            "severity": self.severity,
            "field": self.field,
            "sheet": self.sheet,
            "cell": self.cell,
            "value": self.value,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
        }


def readable(text: str) -> str:
    """``text`` as valid Unicode: bytes that were not UTF-8 (a GBK file name, which Python
    carries as surrogates) decoded as GB18030 where they can be, else shown as ``\\xNN``."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "backslashreplace")


def _jsonable(value: Any) -> Any:
    if isinstance(value, str):
        return readable(value)
    if value is None or isinstance(value, (int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)


class _Data:
    """`Report.data`: a value, or a validated model dumped to JSON-ready data when first read.

    A 50,000-line list spends a tenth of its validation dumping its lines, which a command
    that only says valid or not never reads. A report is pickled with its data dumped.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = "_" + name

    def __get__(self, report: Report | None, owner: type | None = None
                ) -> dict[str, Any] | None:
        if report is None:
            return None  # the field's default
        value = report.__dict__.get(self.name)
        if isinstance(value, _Pending):
            dumped = value.model.model_dump(mode="json")
            dumped.update(value.extra)
            value = report.__dict__[self.name] = dumped
        return value

    def __set__(self, report: Report, value: dict[str, Any] | None) -> None:
        report.__dict__[self.name] = value


@dataclass(frozen=True)
class _Pending:
    model: Any
    """A pydantic model, to be dumped with ``model_dump(mode="json")``."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Top-level keys added to the dumped data (see `Report.put`)."""


@dataclass
class Report:
    """The outcome of reading one file: identity, validated data and every issue found."""

    path: str
    form: str | None = None
    revision: str | None = None
    instance_id: str | None = None
    issues: list[Issue] = field(default_factory=list)
    data: _Data = _Data()
    """The validated data as JSON-ready values (None when the file is not valid)."""
    scores: dict[str, Any] | None = None

    def set_model(self, model: Any) -> None:
        """Take a validated pydantic model as the data, dumped only when `data` is read."""
        self.__dict__["_data"] = _Pending(model)

    def peek(self, name: str) -> Any:
        """A top-level value of the data without dumping it (None when absent or invalid);
        a value read from the model is as the model holds it (text is text either way)."""
        value = self.__dict__.get("_data")
        if isinstance(value, _Pending):
            return value.extra.get(name, getattr(value.model, name, None))
        return value.get(name) if value is not None else None

    def put(self, name: str, value: Any) -> None:
        """Add a top-level key to the data (kept for the dump when it has not happened)."""
        data = self.__dict__.get("_data")
        if isinstance(data, _Pending):
            data.extra[name] = value
        elif data is not None:
            data[name] = value

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_data"] = self.data
        return state

    @property
    def valid(self) -> bool:
        """True when no issue is an error (warnings do not make a file invalid)."""
        return not any(i.severity == "error" for i in self.issues)

    @property
    def errors(self) -> list[Issue]:
        """The issues of severity ``error``."""
        return [i for i in self.issues if i.severity == "error"]

    def add(self, issues: Iterable[Issue] | Issue) -> None:
        """Append one issue or several."""
        if isinstance(issues, Issue):
            self.issues.append(issues)
        else:
            self.issues.extend(issues)

    def has(self, code: Code) -> bool:
        """Whether an issue with this code was reported."""
        return any(i.code == code.name for i in self.issues)

    def codes(self) -> list[str]:
        """The issue codes in order; handy in tests and logs."""
        return [i.code for i in self.issues]

    def flatten(self, keys: Iterable[str] = ("code", "field", "cell")) -> list[list[Any]]:
        """One row per issue with the chosen keys, as frictionless does."""
        keys = list(keys)
        return [[getattr(i, k) for k in keys] for i in self.issues]

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data; ``validate --json`` prints exactly this."""
        return {
            "path": self.path,
            "valid": self.valid,
            "form": self.form,
            "revision": self.revision,
            "instance_id": self.instance_id,
            "issues": [i.to_dict() for i in self.issues],
            "data": self.data,
            "scores": self.scores,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        """The report `to_dict` gave (as stored with a rejection in the ledger)."""
        keys = ("code", "severity", "field", "sheet", "cell", "value", "message_zh",
                "message_en")
        return cls(path=data.get("path", ""), form=data.get("form"),
                   revision=data.get("revision"), instance_id=data.get("instance_id"),
                   issues=[Issue(**{k: i.get(k) for k in keys}) for i in data.get("issues", [])],
                   data=data.get("data"), scores=data.get("scores"))

    def to_json(self) -> str:
        """``to_dict`` as indented JSON (dates and decimals as strings)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, default=str)


class QmsFormsError(Exception):
    """Base of the errors that stop work (not the problems found in a file, which are Issues).

    A message a person reads is given in English and Chinese: ``QmsFormsError(en, zh)``;
    ``message_en`` and ``message_zh`` hold them (``message_zh`` is None for an error raised
    with the English text alone, ``QmsFormsError(en)``). ``str()`` gives both, Chinese first.
    """

    message_en: str
    message_zh: str | None

    def __init__(self, message: object = "", zh: object = None, *more: object) -> None:
        super().__init__(message, *(() if zh is None else (zh,)), *more)
        self.message_en = str(message)
        self.message_zh = None if zh is None else str(zh)

    def __str__(self) -> str:
        if self.message_zh is None or len(self.args) != 2:
            return super().__str__()
        return f"{self.message_zh}\n{self.message_en}"


class UsageError(QmsFormsError):
    """The caller asked for something that cannot be done (unknown form, bad option value)."""
