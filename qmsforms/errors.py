"""The errors that stop work, with their message in English and Chinese.

Problems found in a file are not errors: they are `qmsforms.issues.Issue` data. These are
for what stops a command (an unknown form, a customer list that cannot be used); the CLI shows
both languages. `qmsforms.issues` re-exports them.
"""

from __future__ import annotations


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
