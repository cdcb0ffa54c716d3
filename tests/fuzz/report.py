"""Counts and listings of a fuzz run, as the command prints them."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence

from .runner import OUTCOMES, Result

_SHOWN = ("valid-same", "refused", "false-refusal", "violation", "crash", "hang", "abort",
          "n/a", "harness-error")
_HEAD = {"valid-same": "same", "refused": "refused", "false-refusal": "false-ref",
         "violation": "VIOLATION", "crash": "crash", "hang": "hang", "abort": "abort",
         "n/a": "n/a", "harness-error": "harness"}


def variant(result: Result) -> str:
    """The variant named in parentheses at the end of a note, else the operator alone."""
    found = re.search(r"\(([^()]*)\)\s*$", result.note)
    return f"{result.op}/{found.group(1)}" if found else result.op


def table(results: Sequence[Result]) -> str:
    """Mutants per operator and format, by outcome, with a total line."""
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for r in results:
        counts[r.op, r.fmt][r.outcome] += 1
    widths = [max(len(h), 5) for h in (_HEAD[o] for o in _SHOWN)]
    head = f"{'operator':<20}{'fmt':<6}{'n':>6} " + " ".join(
        f"{_HEAD[o]:>{w}}" for o, w in zip(_SHOWN, widths, strict=True))
    lines = [head, "-" * len(head)]
    total: Counter[str] = Counter()
    for (op, fmt), c in sorted(counts.items()):
        total.update(c)
        lines.append(f"{op:<20}{fmt:<6}{sum(c.values()):>6} " + " ".join(
            f"{c.get(o, 0) or '.':>{w}}" for o, w in zip(_SHOWN, widths, strict=True)))
    lines.append("-" * len(head))
    lines.append(f"{'TOTAL':<26}{sum(total.values()):>6} " + " ".join(
        f"{total.get(o, 0):>{w}}" for o, w in zip(_SHOWN, widths, strict=True)))
    return "\n".join(lines)


def refusal_codes(results: Sequence[Result]) -> str:
    """The codes refused mutants carried, per operator."""
    by_op: dict[str, Counter[str]] = defaultdict(Counter)
    for r in results:
        if r.outcome in ("refused", "false-refusal"):
            by_op[f"{r.op}:{r.fmt}"].update(r.codes or ("(no code)",))
    return "\n".join(f"  {op:<26}" + ", ".join(f"{code} {n}" for code, n in c.most_common())
                     for op, c in sorted(by_op.items()))


def listing(results: Sequence[Result], outcome: str, limit: int) -> str:
    """Mutants of one outcome grouped by operator variant, ``limit`` examples per group."""
    groups: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        if r.outcome == outcome:
            groups[f"{variant(r)} [{r.fmt}]"].append(r)
    lines = []
    for name, found in sorted(groups.items(), key=lambda item: -len(item[1])):
        lines.append(f"  {name}: {len(found)}")
        for r in found[:limit]:
            lines.append(f"    {r.key}  expect={r.expect}  {r.note}")
            if r.codes:
                lines.append(f"      codes: {', '.join(r.codes)}")
            for line in r.detail.splitlines()[:8]:
                lines.append(f"      {line}")
    return "\n".join(lines)


def memory(results: Sequence[Result]) -> str:
    """The peak resident memory of the mutants read in worker processes: the largest, with
    its key, and the median."""
    measured = sorted((r for r in results if r.rss_mb), key=lambda r: r.rss_mb)
    if not measured:
        return "peak memory: not measured (run in this process)"
    top = measured[-1]
    median = measured[len(measured) // 2].rss_mb
    return (f"peak memory per mutant: max {top.rss_mb:.0f} MB ({top.key}), "
            f"median {median:.0f} MB")


def render(results: Sequence[Result], limit: int = 3) -> str:
    """The whole report: table, peak memory, refusal codes, then every bad outcome with repro
    keys."""
    parts = [table(results), "", memory(results), "", "refusal codes:", refusal_codes(results)]
    for outcome in OUTCOMES:
        if outcome in ("valid-same", "refused", "n/a"):
            continue
        if any(r.outcome == outcome for r in results):
            parts += ["", f"{outcome}:", listing(results, outcome, limit)]
    return "\n".join(parts)
