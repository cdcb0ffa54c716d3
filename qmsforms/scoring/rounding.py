"""Exact arithmetic for scores: Decimal inside, half-up rounding, floats only at the edge."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def rounded(value: Decimal, decimals: int) -> Decimal:
    """Round half-up (as people and Excel's ROUND do, not banker's rounding)."""
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def as_float(value: Decimal | None) -> float | None:
    """A rounded Decimal as the float written to JSON (None stays None)."""
    return None if value is None else float(value)


def to_decimal(value: object) -> Decimal | None:
    """A form value (int, float, Decimal or numeric string) as Decimal; None when blank."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value))
