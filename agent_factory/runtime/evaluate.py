"""The expression evaluator: runs the compiler's expression trees against a run's values.

`evaluate(tree, scope)` walks an IR expression (`Literal_`, `Path`, `Unary`, `Binary`, `Call`,
`ListExpr`) with `scope`, a mapping of names to values (the run state, `run` facts, tool `args`).
`expression(source)` parses an expression source (a plan stores sources) once and caches the tree.

Semantics, in one place:
- numbers are exact `Decimal` literals; mixed with a float they become floats;
- a path looks each part up as a mapping key (or attribute); a missing name is `None`;
- `and`/`or` short-circuit and return booleans; `not` negates truthiness;
- `x contains "s"`: substring for text, membership for lists (case-sensitive);
- `x in y`: membership in a list or substring of a text; `x matches "re"`: `re.search`;
- `len(x)` of a text or list; comparing or adding `None` is an `EvaluationError` naming the expression.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

from agent_factory.compiler import ir
from agent_factory.compiler.expr import parse_expression
from agent_factory.compiler.span import Span

from .errors import AgentRuntimeError

__all__ = ["EvaluationError", "evaluate", "expression", "paths", "truthy"]


class EvaluationError(AgentRuntimeError):
    """An expression could not be evaluated (a missing value, a type mismatch, a bad regex)."""


@lru_cache(maxsize=1024)
def expression(source: str, file: str = "<expr>", line: int = 1) -> ir.Expression:
    """The parsed expression of `source` (cached); `EvaluationError` on a syntax error."""
    parsed, problems = parse_expression(source, Span.point(file, line, 1))
    if parsed is None:
        detail = "; ".join(p.message for p in problems) or "syntax error"
        raise EvaluationError(f"cannot parse expression `{source}` ({file}:{line}): {detail}")
    return parsed


def evaluate(tree: ir.Expr | ir.Expression, scope: Mapping[str, Any]) -> Any:
    """The value of `tree` in `scope`."""
    if isinstance(tree, ir.Expression):
        tree = tree.tree
    return _EVALUATORS[tree.node](tree, scope)


def truthy(tree: ir.Expr | ir.Expression, scope: Mapping[str, Any]) -> bool:
    """`evaluate` as a condition."""
    return bool(evaluate(tree, scope))


def paths(tree: ir.Expr | ir.Expression) -> list[tuple[str, ...]]:
    """Every field path named in `tree`, in order (for deciding which guards apply where)."""
    if isinstance(tree, ir.Expression):
        tree = tree.tree
    if isinstance(tree, ir.Path):
        return [tree.parts]
    children: list[Any] = []
    if isinstance(tree, ir.Unary):
        children = [tree.operand]
    elif isinstance(tree, ir.Binary):
        children = [tree.left, tree.right]
    elif isinstance(tree, (ir.Call,)):
        children = list(tree.args)
    elif isinstance(tree, ir.ListExpr):
        children = list(tree.items)
    return [p for child in children for p in paths(child)]


# ---------------------------------------------------------------- node kinds


def _literal(node: ir.Literal_, scope: Mapping[str, Any]) -> Any:
    return node.value


def _path(node: ir.Path, scope: Mapping[str, Any]) -> Any:
    value: Any = scope
    for part in node.parts:
        if isinstance(value, Mapping):
            value = value.get(part)
        else:
            value = getattr(value, part, None)
        if value is None:
            return None
    return value


def _unary(node: ir.Unary, scope: Mapping[str, Any]) -> Any:
    value = evaluate(node.operand, scope)
    if node.op == "not":
        return not value
    return _arith(operator.neg, (value,), node)


def _call(node: ir.Call, scope: Mapping[str, Any]) -> Any:
    value = evaluate(node.args[0], scope)
    if not isinstance(value, (str, list, tuple, dict)):
        raise EvaluationError(f"`{_src(node)}`: len() needs a text or a list, got {_kind(value)}")
    return len(value)


def _list(node: ir.ListExpr, scope: Mapping[str, Any]) -> Any:
    return [evaluate(item, scope) for item in node.items]


def _binary(node: ir.Binary, scope: Mapping[str, Any]) -> Any:
    if node.op == "and":
        return bool(evaluate(node.left, scope)) and bool(evaluate(node.right, scope))
    if node.op == "or":
        return bool(evaluate(node.left, scope)) or bool(evaluate(node.right, scope))
    left, right = evaluate(node.left, scope), evaluate(node.right, scope)
    if node.op in ("==", "!="):
        equal = _equal(left, right)
        return equal if node.op == "==" else not equal
    if node.op in _COMPARE:
        return _arith(_COMPARE[node.op], (left, right), node)
    if node.op in _ARITH:
        return _arith(_ARITH[node.op], (left, right), node)
    if node.op in ("in", "not in"):
        found = _member(left, right, node)
        return found if node.op == "in" else not found
    if node.op == "contains":
        return _member(right, left, node)
    return _matches(left, right, node)


_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def _numbers(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """Decimal literals meet floats from the model as floats; everything else stays as it is."""
    if any(isinstance(v, float) for v in values):
        return tuple(float(v) if isinstance(v, Decimal) else v for v in values)
    return values


def _arith(op: Any, values: tuple[Any, ...], node: ir.Expr) -> Any:
    if any(v is None for v in values):
        raise EvaluationError(f"`{_src(node)}`: a value is missing (None)")
    try:
        return op(*_numbers(values))
    except (TypeError, ArithmeticError) as exc:
        kinds = " and ".join(_kind(v) for v in values)
        raise EvaluationError(f"`{_src(node)}`: cannot apply to {kinds} ({exc})") from None


def _equal(left: Any, right: Any) -> bool:
    left, right = _numbers((left, right))
    return bool(left == right)


def _member(item: Any, container: Any, node: ir.Expr) -> bool:
    if isinstance(container, str):
        if not isinstance(item, str):
            raise EvaluationError(f"`{_src(node)}`: looking for {_kind(item)} in a text")
        return item in container
    if isinstance(container, (list, tuple, set, dict)):
        return any(_equal(item, member) for member in container)
    raise EvaluationError(f"`{_src(node)}`: needs a text or a list, got {_kind(container)}")


def _matches(text: Any, pattern: Any, node: ir.Expr) -> bool:
    if not isinstance(text, str) or not isinstance(pattern, str):
        raise EvaluationError(f"`{_src(node)}`: matches needs a text and a pattern, got {_kind(text)}")
    try:
        return re.search(pattern, text) is not None
    except re.error as exc:
        raise EvaluationError(f"`{_src(node)}`: invalid regular expression: {exc}") from None


def _kind(value: Any) -> str:
    return "nothing (None)" if value is None else type(value).__name__


def _src(node: ir.Expr) -> str:
    span = node.span
    return f"expression at {span.file}:{span.line}:{span.column}"


_EVALUATORS = {
    "literal": _literal,
    "path": _path,
    "unary": _unary,
    "binary": _binary,
    "call": _call,
    "list": _list,
}
