"""The calculator evaluates arithmetic with `ast`, never `eval`, and refuses everything else by name."""

from __future__ import annotations

import math

import pytest

from agent_factory.runtime.tools import ToolContext, builtin_tools
from agent_factory.runtime.tools.calculator import CalculatorError, evaluate

ALLOWED = "numbers, + - * / // % **, parentheses, pi, e, abs(), max(), min(), round(), sqrt()"


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 / 2", 3.5),
        ("7 // 2", 3),
        ("-7 % 3", 2),
        ("2 ** 10", 1024),
        ("2 ** -1", 0.5),
        ("-(3 - 5)", 2),
        ("+4", 4),
        ("sqrt(16) + abs(-2)", 6.0),
        ("round(2.567, 2)", 2.57),
        ("min(3, 1, 2) + max(4, 9)", 10),
        ("1.5e3", 1500.0),
        ("2 * pi", 2 * math.pi),
        ("e ** 0", 1.0),
        ("10 ** 30", 10**30),
    ],
)
def test_arithmetic_is_evaluated(expression, value):
    assert evaluate(expression) == value


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os')", "unknown function '__import__'; allowed functions: abs, max, min, round, sqrt"),
        (
            "__import__('os').system('true')",
            "unknown function '__import__('os').system'; allowed functions: abs, max, min, round, sqrt",
        ),
        ("(1).__class__", f"unsupported syntax: attribute access; allowed: {ALLOWED}"),
        ("math.sqrt(4)", "unknown function 'math.sqrt'; allowed functions: abs, max, min, round, sqrt"),
        ("open('x')", "unknown function 'open'; allowed functions: abs, max, min, round, sqrt"),
        ("x + 1", "unknown name 'x'; allowed names: e, pi"),
        ("'a' * 3", "unsupported literal 'a': only numbers are allowed"),
        ("True + 1", "unsupported literal True: only numbers are allowed"),
        ("1j * 2", "unsupported literal 1j: only numbers are allowed"),
        ("[1, 2]", f"unsupported syntax: list; allowed: {ALLOWED}"),
        ("1 < 2", f"unsupported syntax: comparison; allowed: {ALLOWED}"),
        ("(lambda: 1)()", "unknown function 'lambda: 1'; allowed functions: abs, max, min, round, sqrt"),
        ("lambda: 1", f"unsupported syntax: lambda; allowed: {ALLOWED}"),
        ("not 1", f"unsupported syntax: operator 'not'; allowed: {ALLOWED}"),
        ("1 << 100", f"unsupported operator '<<'; allowed: {ALLOWED}"),
        ("round(2.5, ndigits=1)", "round() takes no keyword arguments"),
        ("1 / 0", "division by zero"),
        ("5 % 0", "division by zero"),
        ("9 ** 9 ** 9", "the exponent 387420489 is too large; the limit is 10000"),
        ("(10 ** 1000) ** 100", "the result is too large"),
        ("10.0 ** 400", "the result is too large"),
        ("9 ** 9999", "the result is too large"),  # would pass a bit limit but not print
        ("(9 ** 4000) * (9 ** 4000)", "the result is too large"),
        ("1e308 * 10", "the result is not a finite number"),
        ("round(1e308 * 10 - 1e308 * 10)", "the result is not a finite number"),
        ("(-8) ** 0.5", "the result is a complex number (a negative number to a fractional power)"),
        ("sqrt(-1)", "sqrt() of a negative number"),
        ("2 +", "invalid expression '2 +': invalid syntax at column 4"),
        ("(1", "invalid expression '(1': '(' was never closed at column 1"),
        ("", "the expression is empty"),
        ("1+" * 300 + "1", "the expression is 601 characters long; the limit is 500"),
    ],
)
def test_everything_else_is_refused_with_a_clear_message(expression, message):
    with pytest.raises(CalculatorError) as caught:
        evaluate(expression)
    assert str(caught.value) == message


@pytest.mark.anyio
async def test_calculator_tool_returns_the_value_as_content():
    result = await builtin_tools()["calculator"].invoke({"expression": "(2 + 3) * sqrt(16)"}, ToolContext())
    assert (result.ok, result.content, result.error) == (True, 20.0, None)


@pytest.mark.anyio
async def test_calculator_tool_reports_refusals_as_failed_results():
    result = await builtin_tools()["calculator"].invoke({"expression": "__import__('os')"}, ToolContext())
    assert (result.ok, result.content) == (False, None)
    assert result.error == "unknown function '__import__'; allowed functions: abs, max, min, round, sqrt"
