"""The `calculator` built-in: arithmetic without `eval`.

The expression is parsed with `ast` and walked by hand. Only number literals, `+ - * / //
% **`, unary `+`/`-`, parentheses, the constants `pi` and `e`, and the functions `sqrt`,
`abs`, `round`, `min`, `max` are evaluated; anything else is refused by name before any
of it runs. Powers are bounded so `9**9**9` is refused instead of hanging the process.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

from .model import ToolError

Number = int | float

MAX_LENGTH = 500
MAX_EXPONENT = 10_000
MAX_RESULT_BITS = 14_000  # about 4,200 decimal digits: Python refuses to print ints past 4,300

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}
_CONSTANTS: dict[str, float] = {"e": math.e, "pi": math.pi}
_FUNCTIONS: dict[str, Callable[..., Number]] = {"abs": abs, "max": max, "min": min, "round": round, "sqrt": math.sqrt}

# Names for the syntax a user may try, so a refusal says what was found.
_SYNTAX_NAMES = {
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.Compare: "comparison",
    ast.BoolOp: "boolean operator",
    ast.Lambda: "lambda",
    ast.IfExp: "conditional expression",
    ast.List: "list",
    ast.Tuple: "tuple",
    ast.Dict: "dictionary",
    ast.Set: "set",
    ast.ListComp: "comprehension",
    ast.SetComp: "comprehension",
    ast.DictComp: "comprehension",
    ast.GeneratorExp: "comprehension",
    ast.NamedExpr: "assignment expression",
    ast.JoinedStr: "f-string",
    ast.Starred: "unpacking",
}
_ALLOWED = "numbers, + - * / // % **, parentheses, pi, e, abs(), max(), min(), round(), sqrt()"


class CalculatorError(ToolError):
    """An expression the calculator refuses or cannot evaluate."""


def evaluate(expression: str) -> Number:
    """The value of an arithmetic `expression` (int when exact, float otherwise)."""
    text = expression.strip()
    if not text:
        raise CalculatorError("the expression is empty")
    if len(text) > MAX_LENGTH:
        raise CalculatorError(f"the expression is {len(text)} characters long; the limit is {MAX_LENGTH}")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        # Python reports column 0 for an expression that ends too early; point past its end.
        column = exc.offset if exc.offset and exc.offset > 0 else len(text) + 1
        raise CalculatorError(f"invalid expression {text!r}: {exc.msg} at column {column}") from None
    try:
        return _checked(_eval(tree.body))
    except ZeroDivisionError:
        raise CalculatorError("division by zero") from None
    except OverflowError:
        raise CalculatorError("the result is too large") from None
    except ValueError as exc:  # math domain errors, round() of nan or infinity
        raise CalculatorError(f"invalid value: {exc}") from None


def _checked(value: Number) -> Number:
    """Refuse results that cannot be shown: huge integers, infinities and NaN."""
    if isinstance(value, int) and value.bit_length() > MAX_RESULT_BITS:
        raise CalculatorError("the result is too large")
    if isinstance(value, float) and not math.isfinite(value):
        raise CalculatorError("the result is not a finite number")
    return value


def _eval(node: ast.expr) -> Number:
    """Evaluate one allowed node; refuse everything else."""
    if isinstance(node, ast.Constant):
        return _literal(node.value)
    if isinstance(node, ast.BinOp):
        return _binary(node)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand))
    if isinstance(node, ast.Name):
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        raise CalculatorError(f"unknown name '{node.id}'; allowed names: {', '.join(sorted(_CONSTANTS))}")
    if isinstance(node, ast.Call):
        return _call(node)
    raise CalculatorError(f"unsupported syntax: {_syntax_name(node)}; allowed: {_ALLOWED}")


def _literal(value: object) -> Number:
    """Only int and float literals; bool is an int to Python but not a number here."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    raise CalculatorError(f"unsupported literal {value!r}: only numbers are allowed")


def _binary(node: ast.BinOp) -> Number:
    """Apply a binary operator; powers go through `_power` for the size limits."""
    left, right = _eval(node.left), _eval(node.right)
    if isinstance(node.op, ast.Pow):
        return _power(left, right)
    operation = _BINARY.get(type(node.op))
    if operation is None:
        raise CalculatorError(f"unsupported operator {_operator_symbol(node.op)}; allowed: {_ALLOWED}")
    return _checked(operation(left, right))


def _power(base: Number, exponent: Number) -> Number:
    """`base ** exponent`, refusing exponents and integer results too large to compute quickly."""
    if abs(exponent) > MAX_EXPONENT:
        raise CalculatorError(f"the exponent {exponent} is too large; the limit is {MAX_EXPONENT}")
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
        if base.bit_length() * exponent > MAX_RESULT_BITS:
            raise CalculatorError("the result is too large")
    result = base**exponent
    if isinstance(result, complex):
        raise CalculatorError("the result is a complex number (a negative number to a fractional power)")
    return _checked(result)


def _call(node: ast.Call) -> Number:
    """Call one of the allowed functions with positional number arguments."""
    name = node.func.id if isinstance(node.func, ast.Name) else None
    if name not in _FUNCTIONS:
        shown = name if name is not None else ast.unparse(node.func)
        raise CalculatorError(f"unknown function '{shown}'; allowed functions: {', '.join(sorted(_FUNCTIONS))}")
    if node.keywords:
        raise CalculatorError(f"{name}() takes no keyword arguments")
    args = [_eval(arg) for arg in node.args]
    if name == "sqrt" and args and args[0] < 0:
        raise CalculatorError("sqrt() of a negative number")
    try:
        return _FUNCTIONS[name](*args)
    except TypeError as exc:
        raise CalculatorError(f"{name}(): {exc}") from None


def _syntax_name(node: ast.AST) -> str:
    """A readable name for a refused piece of syntax."""
    if isinstance(node, ast.UnaryOp):
        return "operator 'not'" if isinstance(node.op, ast.Not) else "operator '~'"
    return _SYNTAX_NAMES.get(type(node), type(node).__name__)


def _operator_symbol(op: ast.operator) -> str:
    """The source symbol of a refused binary operator (bitwise and matrix operators)."""
    symbols = {ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>", ast.MatMult: "@"}
    return f"'{symbols.get(type(op), type(op).__name__)}'"


async def calculator_tool(args: dict[str, Any], ctx: object) -> Number:
    """The `calculator` built-in."""
    return evaluate(args["expression"])
