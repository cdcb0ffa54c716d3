"""What an operator produces: the mutant's bytes and what the reader must make of them."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from .seeds import Seed


class Expect(str, Enum):
    """What a mutant may validate to.

    SAME: a meaning-preserving respelling; it must come back VALID with the seed's data (a
    refusal is a *false refusal*, counted apart from violations). KEEP: VALID with the seed's
    data, or refused with a code. REFUSE: the file says something that must be refused (a
    formula typed into an input cell); VALID is a violation even with the seed's data.
    """

    SAME = "same"
    KEEP = "same-or-refused"
    REFUSE = "refused"


@dataclass(frozen=True)
class Mutation:
    """One mutant: its bytes, its expectation and a note saying what was done."""

    data: bytes
    expect: Expect
    note: str
    expected: dict[str, Any] | None = None
    """The data a VALID reading must give when the mutation changes a value on purpose
    (None: the seed's data)."""


MutateFn = Callable[[random.Random, Seed], "Mutation | None"]
"""An operator body: None when it does not apply to the seed (nothing to mutate)."""


@dataclass(frozen=True)
class Operator:
    """A named mutation for the formats it applies to."""

    name: str
    formats: tuple[str, ...]
    mutate: MutateFn


REGISTRY: dict[tuple[str, str], Operator] = {}
"""(operator name, format) -> operator; one name may have a body per format."""


def operator(name: str, *formats: str) -> Callable[[MutateFn], MutateFn]:
    """Register ``fn`` as operator ``name`` for ``formats`` (default: xlsx and docx)."""

    def register(fn: MutateFn) -> MutateFn:
        for fmt in formats or ("xlsx", "docx"):
            if (name, fmt) in REGISTRY:
                raise ValueError(f"operator {name} registered twice for {fmt}")
            REGISTRY[name, fmt] = Operator(name, (fmt,), fn)
        return fn

    return register


def operators_for(fmt: str) -> list[Operator]:
    """The operators that apply to files of ``fmt``, in registration order."""
    return [op for (_, f), op in REGISTRY.items() if f == fmt]
