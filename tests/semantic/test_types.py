"""The types pass: expressions, prompt placeholders, rule messages and rule verdicts are checked
against the declared inputs and outputs, step outputs and run facts."""

from __future__ import annotations

from pathlib import Path

from agent_factory.compiler import check_text

HEAD = """# Agent: Types

## Purpose
Tests types.

## Outputs
- answer: str
- score: int[0..100]
- verdict: enum(BUILD|ITERATE|KILL)
- tags: list[str]
"""


def found(text: str, tmp_path: Path) -> list[tuple[str, int, int, int, str, str | None]]:
    path = tmp_path / "spec.md"
    path.write_text(text, encoding="utf-8")
    result = check_text(text, str(path))
    return [(d.code, d.span.line, d.span.column, d.span.end_column, d.message, d.hint) for d in result.diagnostics]


def with_check(expr: str) -> str:
    return HEAD + f"\n## Invariants\n1. **T-001 Rule:** MUST hold. `check: {expr}`\n"


COLUMN = len("1. **T-001 Rule:** MUST hold. `check: ") + 1  # where the expression starts
LINE = 13


def test_comparing_a_str_with_a_number_points_at_the_comparison(tmp_path):
    assert found(with_check("len(tags) >= 1 and answer > 5"), tmp_path) == [
        ("E301", LINE, COLUMN + 19, COLUMN + 29, "`>` compares numbers, but `answer` is `str`",
         "to compare its length write `len(answer)`"),
    ]


def test_enum_literal_must_be_a_member(tmp_path):
    assert found(with_check('verdict == "KIL"'), tmp_path) == [
        ("E302", LINE, COLUMN + 11, COLUMN + 16, "`KIL` is not one of `BUILD`, `ITERATE`, `KILL`", "did you mean `KILL`?"),
    ]


def test_enum_in_list_checks_every_literal(tmp_path):
    diags = found(with_check('verdict in ["BUILD", "KILLL"]'), tmp_path)
    assert [(d[0], d[4], d[5]) for d in diags] == [
        ("E302", "`KILLL` is not one of `BUILD`, `ITERATE`, `KILL`", "did you mean `KILL`?"),
    ]


def test_unknown_field_suggests_closest(tmp_path):
    assert found(with_check("scor > 5"), tmp_path) == [
        ("E300", LINE, COLUMN, COLUMN + 4, "unknown field `scor`", "did you mean `score`?"),
    ]


def test_unknown_run_fact_suggests_closest(tmp_path):
    assert [d[4:] for d in found(with_check("run.cost < $1"), tmp_path)] == [
        ("unknown field `run.cost`", "did you mean `run.cost_usd`?"),
    ]


def test_run_facts_money_and_durations_type_check(tmp_path):
    expr = ('run.cost_usd <= $0.05 and run.latency_s < 10s and "web_search" in run.tools_called '
            'and len(run.steps) > 1 and run.model matches "^claude" and run.tools_called contains "x"')
    assert found(with_check(expr), tmp_path) == []


def test_len_needs_text_or_list(tmp_path):
    assert [d[4] for d in found(with_check("len(score) > 1"), tmp_path)] == ["`len()` needs a str or a list, found `int`"]


def test_contains_needs_text_or_list_on_the_left(tmp_path):
    assert [d[4] for d in found(with_check('score contains "1"'), tmp_path)] == [
        "`contains` needs a str or a list on its left, but `score` is `int`"]


def test_in_needs_list_or_text_on_the_right(tmp_path):
    assert [d[4] for d in found(with_check('"a" in score'), tmp_path)] == [
        "`in` needs a list or a str on its right, but `score` is `int`"]


def test_matches_needs_text_and_a_valid_regex(tmp_path):
    assert [(d[0], d[4]) for d in found(with_check('score matches "1" or answer matches "(a"'), tmp_path)] == [
        ("E301", "`matches` needs a str on its left, but `score` is `int`"),
        ("E304", "`(a` is not a valid regular expression: missing ), unterminated subpattern at position 0"),
    ]


def test_boolean_operators_need_conditions(tmp_path):
    assert [d[4] for d in found(with_check("len(tags) > 0 or score"), tmp_path)] == [
        "`or` joins conditions, but its right side is `int`"]


def test_check_must_be_a_condition(tmp_path):
    assert found(with_check("score + 1"), tmp_path) == [
        ("E303", LINE, COLUMN, COLUMN + 9, "a `check:` must be a condition (bool), but `score + 1` is `int`",
         "compare it with something, e.g. `score + 1 > 0`"),
    ]


def test_defaults_apply_when_inputs_and_outputs_are_absent(tmp_path):
    spec = ("# Agent: Defaults\n\n## Purpose\nDefaults.\n\n## Invariants\n"
            "1. **D-001 Rule:** MUST hold. `check: len(answer) > 0 and query != \"\" and len(sources) > 0`\n")
    assert [(d[0], d[4], d[5]) for d in found(spec, tmp_path)] == [
        ("E300", "unknown field `sources`", "known: answer, query"),
    ]


FLOW = """
## Workflow
### research
- llm: research
- outputs: findings, score
- prompt: Research {query}.

### write
- llm: simple
- outputs: answer, tags, verdict
- prompt: Write about {query} using {findings} and {research.score}; keep {{braces}}.

### Flow
- START → research
- research → write when WHEN
- research → END otherwise
- write → END
"""


def test_step_output_not_declared_in_outputs_is_a_str(tmp_path):
    spec = HEAD + FLOW.replace("WHEN", "findings > 3")
    (diag,) = found(spec, tmp_path)
    assert diag[0] == "E301" and diag[4] == "`>` compares numbers, but `findings` is `str`"


def test_step_dot_output_paths_resolve(tmp_path):
    assert found(HEAD + FLOW.replace("WHEN", 'research.score > 3 and findings contains "x"'), tmp_path) == []


def test_prompt_placeholder_must_be_an_input_or_an_earlier_output(tmp_path):
    spec = HEAD + FLOW.replace("WHEN", "score > 3").replace("Research {query}.", "Research {query} for {answr} and {tags}.")
    assert [(d[0], d[1], d[2], d[4], d[5]) for d in found(spec, tmp_path)] == [
        ("E305", 16, 32, "`{answr}` in the prompt of `research` is not an input or an output of an earlier step",
         "available here: query (write `{{` for a literal brace)"),
        ("E305", 16, 44, "`{tags}` in the prompt of `research` is written by `write`, which does not run before `research`",
         "add a flow edge so that `write` runs before `research`"),
    ]


RULES = """
## Workflow
### score_it
- llm: simple
- outputs: score, tags
- prompt: Score {query}.

### decide
- rules: Gate
- outputs: verdict, answer

### Flow
- START → score_it
- score_it → decide
- decide → END

## Rules
### Gate
- KILL when score < 40: "Score too low ({scor})"
- PARK when score < 50
- HOLD when len(tags) > 100 and score > "x"
- otherwise BUILD
"""


def test_rule_messages_verdicts_and_when_are_checked(tmp_path):
    assert [(d[0], d[1], d[2], d[4], d[5]) for d in found(HEAD + RULES, tmp_path)] == [
        ("E307", 9, 12, "`verdict` is `enum(BUILD|ITERATE|KILL)`, which lacks the verdicts `PARK`, `HOLD` of rule table "
         "`Gate` (run by step `decide`)", "declare `verdict: enum(BUILD|ITERATE|KILL|PARK|HOLD)`"),
        ("E306", 29, 41, "the rule message names `{scor}`, which is not a field", "did you mean `score`?"),
        ("E301", 31, 33, "`>` compares numbers, but `\"x\"` is `str`", "compare numbers (int, float, money or durations)"),
    ]


def test_example_expect_must_be_a_condition(tmp_path):
    spec = HEAD + "\n## Examples\n### ✅ Scores\n**Input:** query: hi\n**Expect:** score\n"
    assert [(d[0], d[4]) for d in found(spec, tmp_path)] == [
        ("E303", "an `**Expect:**` must be a condition (bool), but `score` is `int`")]


def test_tool_argument_type_must_match_the_schema(tmp_path):
    spec = HEAD + """
## Tools
- web_search — find

## Workflow
### search
- tool: web_search
- args: query = answr, max_results = "five"
- outputs: answer

### Flow
- START → search
- search → END
"""
    assert [(d[0], d[4]) for d in found(spec, tmp_path) if d[0].startswith("E")] == [
        ("E300", "unknown field `answr`"),
        ("E308", "argument `max_results` of `web_search` is `integer`, but `\"five\"` is `str`"),
    ]
