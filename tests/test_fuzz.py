"""Property tests of the compiler: it never raises, never reports an internal error (E900),
keeps every position inside the file, and its IR is stable and round-trips through JSON.

The whole file runs in well under a minute; the heaviest property is marked `slow`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_factory.compiler import Spec, Span, check, check_text, parse_text
from agent_factory.compiler.expr import parse_expression

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "specs").glob("*.md"))
VALID_GOLDEN = sorted(p for p in (ROOT / "golden").glob("valid_*/spec.md"))

# Fragments a spec is made of, so random documents reach deep into every section builder.
FRAGMENTS = [
    "---", "id: x", "version: 1.0.0", "status: draft", "extends: ../nowhere.md", "# Agent: Fuzz", "# Team: T",
    "# Component: C", "# Constitution: K", "# Agent Spec: Old v1.2", "**Status:** DRAFT", "## Purpose", "Does things.",
    "## Scope", "### In Scope", "### Out of Scope", "- ✅ a", "- ❌ b", "## Inputs", "## Outputs", "- x: int[",
    "- x: int[0..100]", "- y: float[1..0]", "- z: list[enum(a|b)]?", "- q: strng", "- url: url — a link",
    "## Invariants", "1. **INV-001 Cite:** MUST cite. `check: len(sources) >= 1`", "- **X:** SHOULD `check: run.cost_usd <= $0.05`",
    "- **A:**", "## Tools", "### Essential Tools", "### Optional Tools", "- web_search", "- wikipedia (optional)",
    "1. **Web Search** - find", "- f — g (http: GET https://h/{a})", "- p (python: m.n:f)", "- m (mcp: s/t)", "- b (http: )",
    "## Model", "- task: research", "- tier: pro", "- max_cost_per_run: $0.05", "- max_cost_per_run: 0.05",
    "- max_latency: 20", "- temperature: 3", "- fallback: a → b", "## Workflow", "### step_a", "### Flow", "- llm: simple",
    "- tool: web_search", "- rules: T", "- agent: x.md", "- args: query = query", "- args: q =", "- tools: web_search",
    "- max_iterations: 3", "- outputs: answer", "prompt:", "- prompt: hi {query}", "- START → step_a", "- step_a → END",
    "- a, b → c", "- a → b when x >", "- a → c otherwise", "- → a", "## Rules", "### T", "- KILL when x < 1: \"no\"",
    "- otherwise OK", "## Examples", "### ✅ ok", "### ❌ bad", "### Clearly Correct", "**Example 1: X**",
    "**Input:** hi", "**Input:**", "**Expect:** contains \"a\"", "**Expect:** a ==", "User: hi", "Agent: hello",
    "## Members", "- a: a.md — routes: x, y", "## Routing", "- strategy: keyword", "- default: a", "## Requirements",
    "### REQ-A-001 T", "- MUST x", "## Interface", "## Acceptance", "- ``", "## Success Criteria", "- [ ] x", "- [x] y",
    "## Data Models", "## Toolz", "#### minor", "```", "```python", "~~~", "<!--", "-->", "***", "", "  continued",
    "\t- nested", "\r", "\ufeff",
]
line = st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=30))
markdownish = st.lists(line, max_size=40).map("\n".join)
any_text = st.one_of(markdownish, st.text(max_size=400))
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_sound(result, text: str) -> None:
    """No internal error, and every diagnostic's position lies inside the checked text."""
    assert [d for d in result.diagnostics if d.code == "E900"] == []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for diag in result.diagnostics:
        if diag.span.file != result.path:
            continue  # a position in another file (a constitution) is checked by that file's own tests
        span = diag.span
        assert 1 <= span.line <= max(len(lines), 1), diag
        assert span.line <= span.end_line, diag
        width = len(lines[span.line - 1].rstrip("\r")) if lines else 0
        assert 1 <= span.column <= width + 1, diag


@FAST
@given(any_text)
def test_parse_text_never_raises_on_arbitrary_text(text: str) -> None:
    result = parse_text(text, "fuzz.md")
    assert [d for d in result.diagnostics if d.code == "E900"] == []


@FAST
@given(any_text)
def test_check_text_never_raises_and_keeps_positions_in_the_file(text: str) -> None:
    assert_sound(check_text(text, "fuzz.md"), text)


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(["a", "b.c", "1", "$0.05", "10s", '"x"', "'y'", "(", ")", "[", "]", ",", "==", "<", ">=",
                              "and", "or", "not", "in", "contains", "matches", "+", "-", "*", "/", "len", "true", "=",
                              "\\", "\"", " "]), max_size=15).map(" ".join),
))
def test_parse_expression_never_raises(source: str) -> None:
    node, errors = parse_expression(source, Span.point("fuzz.md", 3, 5, max(len(source), 1)))
    assert (node is None) == bool(errors)
    assert all(d.code == "E100" for d in errors)
    assert all(d.span.line == 3 and d.span.column >= 5 for d in errors)


CONTINUED = "# Agent: X\n\n## Purpose\nP.\n\n## Inputs\n- query: str\n\n## Outputs\n- answer: str\n  continued\n"


def test_an_error_in_a_continuation_line_points_into_that_line() -> None:
    # the item's lines are parsed joined; the error used to land at 11:15, past the end of `- answer: str`
    [diag] = check_text(CONTINUED, "billing.md").diagnostics
    assert (diag.code, diag.message, str(diag.span), diag.span.end_column) == (
        "E020", "malformed output field: unexpected `continued`", "billing.md:11:3", 4)


def test_a_check_continued_on_the_next_line_is_located_on_that_line() -> None:
    text = CONTINUED.replace("  continued\n", "\n## Invariants\n1. **INV-001 A:** MUST be short.\n  `check: len(answerz) < 10`\n")
    [diag] = check_text(text, "x.md").diagnostics
    assert (diag.code, diag.message, str(diag.span), diag.span.end_column) == ("E300", "unknown field `answerz`", "x.md:14:15", 22)


def test_a_placeholder_in_a_continued_inline_prompt_is_located_on_its_own_line(tmp_path: Path) -> None:
    spec = tmp_path / "x.md"
    spec.write_text(CONTINUED.replace("  continued\n", "\n## Workflow\n### answer\n- llm: simple\n- prompt: hi\n"
                                      "  there {nope} ok\n- outputs: answer\n"), encoding="utf-8")
    [diag] = check(spec).diagnostics
    assert (diag.code, str(diag.span), diag.span.end_column) == ("E305", f"{spec}:16:9", 15)


def _stable_specs() -> list[Path]:
    return [*SHIPPED, *VALID_GOLDEN]


@pytest.mark.parametrize("path", _stable_specs(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_ir_is_stable_and_round_trips_through_json(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    relative = path.relative_to(ROOT).as_posix()
    first, second = check(relative), check(relative)
    assert first.ok, first.diagnostics
    assert first.spec == second.spec
    dumped = first.spec.model_dump_json()
    assert dumped == second.spec.model_dump_json()
    again = Spec.model_validate_json(dumped)
    assert again == first.spec
    assert json.loads(again.model_dump_json()) == json.loads(dumped)


# ---------------------------------------------------------------- mutation fuzz of the shipped specs

def _mutate(lines: list[str], data: st.DataObject) -> list[str]:
    kind = data.draw(st.sampled_from(["delete", "duplicate", "swap", "truncate", "insert_chars", "replace_line"]))
    if not lines:
        return [data.draw(st.text(max_size=20))]
    index = data.draw(st.integers(0, len(lines) - 1))
    if kind == "delete":
        return lines[:index] + lines[index + 1:]
    if kind == "duplicate":
        return lines[:index + 1] + [lines[index]] + lines[index + 1:]
    if kind == "swap":
        other = data.draw(st.integers(0, len(lines) - 1))
        swapped = list(lines)
        swapped[index], swapped[other] = swapped[other], swapped[index]
        return swapped
    if kind == "truncate":
        text = "\n".join(lines)
        return text[: data.draw(st.integers(0, len(text)))].split("\n")
    if kind == "replace_line":
        return lines[:index] + [data.draw(st.sampled_from(FRAGMENTS))] + lines[index + 1:]
    target = lines[index]
    at = data.draw(st.integers(0, len(target)))
    chars = data.draw(st.text(alphabet=st.sampled_from(list("`*#-:→|[](){}$\"'\\ \t✅❌…\u00e9\u200b\ufeff0129xX")) | st.characters(),
                              min_size=1, max_size=5))
    return lines[:index] + [target[:at] + chars + target[at:]] + lines[index + 1:]


@pytest.fixture(scope="module")
def spec_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch copy of specs/ (with its constitution and member specs) to write mutants into."""
    folder = tmp_path_factory.mktemp("mutants") / "specs"
    shutil.copytree(ROOT / "specs", folder)
    return folder


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.sampled_from(SHIPPED), st.data())
def test_mutated_shipped_specs_never_crash_and_keep_positions_in_the_file(
    spec_copy: Path, path: Path, data: st.DataObject
) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    for _ in range(data.draw(st.integers(1, 4))):
        lines = _mutate(lines, data)
    target = spec_copy / path.name
    target.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass"))
    try:
        text = target.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:  # a lone surrogate was drawn: the file is not UTF-8, which is E001
        result = check(target)
        assert [d.code for d in result.diagnostics] == ["E001"]
        return
    # Checked in place, as `agent-factory check` would: constitution discovery and member paths behave as in real use.
    assert_sound(check(target), text)
