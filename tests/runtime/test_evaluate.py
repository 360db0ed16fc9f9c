"""The expression evaluator over the compiler's expression trees."""

from __future__ import annotations

import pytest

from agent_factory.runtime.evaluate import EvaluationError, evaluate, expression, paths


def _eval(source: str, **scope):
    return evaluate(expression(source), scope)


@pytest.mark.parametrize(("source", "scope", "expected"), [
    ("novelty_score < 60", {"novelty_score": 59.5}, True),
    ("novelty_score < 60", {"novelty_score": 60}, False),
    ("run.cost_usd <= $0.10", {"run": {"cost_usd": 0.1}}, True),
    ("run.latency_s <= 30s", {"run": {"latency_s": 31.0}}, False),
    ('verdict == "KILL"', {"verdict": "KILL"}, True),
    ("len(next_steps) >= 1", {"next_steps": ["a"]}, True),
    ('"web_search" in run.tools_called', {"run": {"tools_called": ["web_search"]}}, True),
    ('answer contains "agent"', {"answer": "AI agents"}, True),
    ('answer contains "agent"', {"answer": "Agents"}, False),
    ('sources contains "x"', {"sources": ["x", "y"]}, True),
    ('not (answer matches "[0-9]{13,19}")', {"answer": "card 4111111111111111"}, False),
    ("a + b * 2 == 7", {"a": 1, "b": 3}, True),
    ("x in [1, 2, 3]", {"x": 2}, True),
    ("flag or missing > 1", {"flag": True}, True),
    ("plan.needs_search and not done", {"plan": {"needs_search": True}, "done": False}, True),
])
def test_expressions_evaluate_against_the_scope(source, scope, expected):
    assert _eval(source, **scope) is expected


def test_comparing_a_missing_value_names_the_expression():
    with pytest.raises(EvaluationError) as info:
        _eval("score < 60")
    assert str(info.value) == "`expression at <expr>:1:1`: a value is missing (None)"


def test_len_of_a_number_is_an_error():
    with pytest.raises(EvaluationError) as info:
        _eval("len(score) > 1", score=3)
    assert str(info.value) == "`expression at <expr>:1:1`: len() needs a text or a list, got int"


def test_a_syntax_error_is_reported_with_its_source():
    with pytest.raises(EvaluationError) as info:
        expression("a <", "spec.md", 7)
    assert str(info.value).startswith("cannot parse expression `a <` (spec.md:7): expression syntax error at")


def test_paths_lists_every_field_named():
    assert paths(expression('len(sources) >= 1 and "x" in run.tools_called')) == [("sources",), ("run", "tools_called")]
