"""Money, duration and number literals of settings (`$0.05`, `20s`, `0.7`), exact as Decimal."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_MONEY = re.compile(r"^\$(\d+(?:\.\d+)?)$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_UNIT_SECONDS = {"ms": Decimal("0.001"), "s": Decimal(1), "m": Decimal(60), "h": Decimal(3600)}


class LiteralError(ValueError):
    """A literal that does not parse; `hint` says how to write it."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def money(text: str) -> Decimal:
    """`$0.05` → Decimal('0.05'). Rejects negative amounts, missing `$`, commas and currencies."""
    value = text.strip()
    match = _MONEY.match(value)
    if match:
        return Decimal(match.group(1))
    bare = value.lstrip("$").replace(",", "")
    if _NUMBER.match(bare) and not bare.startswith("-"):
        fixed = f"${bare}"
        return_hint = f"write `{fixed}`: amounts are in US dollars with a leading `$` and no separators"
    else:
        return_hint = "write an amount in US dollars such as `$0.05`"
    raise LiteralError(f"`{value}` is not a money amount", return_hint)


def duration_seconds(text: str) -> Decimal:
    """`20s` → Decimal(20); `500ms`, `2m`, `1h` also accepted."""
    value = text.strip()
    match = _DURATION.match(value)
    if not match:
        if _NUMBER.match(value):
            hint = f"add a unit: `{value}s` (units: ms, s, m, h)"
        else:
            hint = "write a duration such as `20s`, `500ms`, `2m` or `1h`"
        raise LiteralError(f"`{value}` is not a duration", hint)
    return canonical(Decimal(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def canonical(value: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation (`20`, not `2E+1`)."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def number(text: str) -> Decimal:
    """A plain decimal number."""
    value = text.strip()
    if not _NUMBER.match(value):
        raise LiteralError(f"`{value}` is not a number", "write a number such as `0.7` or `1024`")
    try:
        return Decimal(value)
    except InvalidOperation as error:  # pragma: no cover - the regex admits only valid decimals
        raise LiteralError(f"`{value}` is not a number", "write a number such as `0.7`") from error
