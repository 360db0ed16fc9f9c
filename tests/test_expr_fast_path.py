"""The expression fast path gives exactly the IR the grammar gives (spans included)."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from agent_factory.compiler import expr
from agent_factory.compiler.span import Span

BASE = Span.point("spec.md", 7, 12)
NAMES = st.sampled_from(["a", "verdict", "run", "cost_usd", "len", "order", "notes", "in", "true", "x_1", "index"])
PATHS = st.lists(NAMES, min_size=1, max_size=3).map(".".join)
OPERANDS = st.one_of(
    PATHS,
    PATHS.map(lambda p: f"len({p})"),
    PATHS.map(lambda p: f"len ( {p} )"),
    st.from_regex(r"\$[0-9]{1,3}(\.[0-9]{1,2})?", fullmatch=True),
    st.from_regex(r"[0-9]{1,3}(\.[0-9])?(ms|s|m|h|sec|x)?", fullmatch=True),
    st.from_regex(r'"[a-z \\"]{0,6}"', fullmatch=True),
    st.sampled_from(["'KILL'", "1.5.2", "$5.x", "true", "[1]", "()"]),
)
OPS = st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "in", "not in", "not  in", "contains", "matches", "=", "<>", "and"])
SPACE = st.sampled_from(["", " ", "  ", "\t"])


def through_grammar(text: str, monkeypatch: pytest.MonkeyPatch):
    with monkeypatch.context() as patch:
        patch.setattr(expr, "_fast_tree", lambda _text: None)
        return expr.parse_expression(text, BASE)


@settings(max_examples=1500, deadline=None)
@given(OPERANDS, SPACE, OPS, SPACE, OPERANDS)
@example("len(next_steps)", " ", ">=", " ", "1")
@example("run.cost_usd", " ", "<=", " ", "$0.10")
def test_fast_path_gives_the_grammars_ir(left, s1, op, s2, right):
    text = f"{left}{s1}{op}{s2}{right}"
    fast = expr._fast_tree(text)
    if fast is None:
        return
    with pytest.MonkeyPatch.context() as patch:
        slow_node, slow_errors = through_grammar(text, patch)
    fast_node, fast_errors = expr.parse_expression(text, BASE)
    assert [d.model_dump() for d in fast_errors] == [d.model_dump() for d in slow_errors]
    assert (fast_node.model_dump() if fast_node else None) == (slow_node.model_dump() if slow_node else None)


def test_fast_path_takes_the_common_shapes():
    for text in ['len(sources) >= 1', 'verdict == "KILL"', 'run.cost_usd <= $0.10', '"web_search" in run.tools_called',
                 'run.latency_s <= 30s', 'novelty_score < 60']:
        assert expr._fast_tree(text) is not None, text
