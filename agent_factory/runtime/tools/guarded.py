"""Tool arguments as argument guards see them.

An invariant such as `args.number != 13` guards a tool's calls. A model can send `"13"` or
`"013"`: text that the tool (an URL template, a server) will read as 13, while Python's
`"13" != 13` holds. So the guards do not see raw values: `guard_view` gives them the arguments
the tool will receive (checked against its schema, defaults filled in), each value wrapped to
compare by what it denotes:

- a text compared with a number is compared as a number when it spells one (`"013"` equals 13,
  `" 13.0 "` too); one that spells no number is unequal, and ordering it (`<`, `>=`…) is an
  evaluation error, so a MUST guard fails rather than passes;
- a number compared with a text does the same from the other side (13 equals `"013"`);
- a text compared with a boolean is compared with its JSON spelling (`"true"` equals true).

Everything else (substring tests, regular expressions, `len`, arithmetic) behaves as for plain
values. Coerced or refused: a text and a number are never silently unequal when they mean the same.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from agent_factory.runtime.evaluate import EvaluationError

from .schema import validate_args

if TYPE_CHECKING:
    from .model import ToolSpec

_NUMBER = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")
_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge,
}


def guard_view(spec: ToolSpec | None, args: Mapping[str, Any]) -> dict[str, Any]:
    """`args` as the tool `spec` will receive them (when they are valid; as given otherwise, since
    the call is then refused anyway), with every value wrapped as the module doc says."""
    values = dict(args)
    if spec is not None:
        problems, clean = validate_args(spec.parameters, values)
        if not problems:
            values = clean
    return {name: typed(value) for name, value in values.items()}


def applicable(spec: ToolSpec | None, args: Mapping[str, Any], invariants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The `invariants` that judge this call: all of them for declared arguments; for an
    argument the schema does not declare (an open schema), only when the call passes it, since
    the same open tool is called with different arguments each time."""
    from agent_factory.runtime.evaluate import expression, paths

    declared = set((spec.parameters if spec else {}).get("properties", {}))

    def judges(inv: dict[str, Any]) -> bool:
        named = paths(expression(inv["check"], inv["file"], inv["line"]))
        return all(p[1] in declared or p[1] in args for p in named if p[0] == "args" and len(p) > 1)

    return [inv for inv in invariants if judges(inv)]


def typed(value: Any) -> Any:
    """`value` with its texts and numbers (also inside lists and objects) wrapped."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return ArgText(value)
    if isinstance(value, int):
        return ArgInt(value)
    if isinstance(value, float):
        return ArgFloat(value)
    if isinstance(value, (list, tuple)):
        return [typed(item) for item in value]
    if isinstance(value, Mapping):
        return {key: typed(item) for key, item in value.items()}
    return value


def as_number(value: Any) -> Decimal | float | None:
    """A number for a number (not a boolean) or a text that spells one; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        return Decimal(value.strip())
    return None


def _same_number(left: Decimal | float, right: Decimal | float) -> bool:
    if isinstance(left, float) or isinstance(right, float):
        return float(left) == float(right)
    return left == right


def _compare(name: str, left: Any, right: Any) -> bool:
    """An ordering of a text and a number, as numbers; an `EvaluationError` when one side spells none."""
    a, b = as_number(left), as_number(right)
    if a is None or b is None:
        raise EvaluationError(f"cannot order the argument value {left!r} and {right!r}: not both numbers")
    if isinstance(a, float) or isinstance(b, float):
        a, b = float(a), float(b)
    return _ORDER[name](a, b)


class _Ordered:
    """`<`, `<=`, `>` and `>=` through the class's own `_order(other, name)`."""

    __slots__ = ()

    def __lt__(self, other: Any) -> bool:
        return self._order(other, "lt")  # type: ignore[attr-defined]

    def __le__(self, other: Any) -> bool:
        return self._order(other, "le")  # type: ignore[attr-defined]

    def __gt__(self, other: Any) -> bool:
        return self._order(other, "gt")  # type: ignore[attr-defined]

    def __ge__(self, other: Any) -> bool:
        return self._order(other, "ge")  # type: ignore[attr-defined]


class ArgText(_Ordered, str):
    """A text argument that compares with numbers and booleans by what it denotes."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, bool):
            return str(self).strip() == ("true" if other else "false")
        if isinstance(other, (int, float, Decimal)):
            mine = as_number(self)
            return mine is not None and _same_number(mine, other)
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = str.__hash__

    def _order(self, other: Any, name: str) -> bool:
        if isinstance(other, (int, float, Decimal)) and not isinstance(other, bool):
            return _compare(name, self, other)
        return _ORDER[name](str(self), other)



class _ArgNumber(_Ordered):
    """Comparisons of a number argument with texts (mixed into `ArgInt` and `ArgFloat`)."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            theirs = as_number(other)
            return theirs is not None and _same_number(theirs, self._plain())  # type: ignore[attr-defined]
        return self._plain() == other  # type: ignore[attr-defined]

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def _order(self, other: Any, name: str) -> bool:
        if isinstance(other, str):
            return _compare(name, self._plain(), other)  # type: ignore[attr-defined]
        return _ORDER[name](self._plain(), other)  # type: ignore[attr-defined]



class ArgInt(_ArgNumber, int):
    """An integer argument that compares with texts by the number they spell."""

    __hash__ = int.__hash__

    def _plain(self) -> int:
        return int(self)


class ArgFloat(_ArgNumber, float):
    """A float argument that compares with texts by the number they spell."""

    __hash__ = float.__hash__

    def _plain(self) -> float:
        return float(self)
