"""Invariants: static / runtime / prompt classes, and static checks violated on a path."""

from __future__ import annotations

from agent_factory.plugins.invariants import CACHE_KEY, classify
from agent_factory.testing.plugins import compile_with_plugins, plugin_manager

BRANCHING = """# Agent: Skips Search

## Purpose
Promises to search.

## Outputs
- needs_search: bool — whether to search
- answer: str — the reply

## Tools
- web_search — recent facts

## Invariants
1. **INV-001 Search first:** {modality} search before answering. `check: {check}`

## Workflow
### plan
- llm: classification
- outputs: needs_search

### search
- tool: web_search
- args: query = query

### answer
- llm: simple
- outputs: answer

### Flow
- START → plan
- plan → search when needs_search
- plan → answer otherwise
- search → answer
- answer → END
"""

REACT = """# Agent: Reacts

## Purpose
One tool loop.

## Tools
- web_search — recent facts

## Invariants
1. **INV-001 Search first:** MUST search. `check: "web_search" in run.tools_called`
2. **INV-002 Prompt rule:** MUST be kind.
3. **INV-003 Cheap:** MUST NOT spend much. `check: run.cost_usd <= $100`
"""


def _branching(modality: str = "MUST", check: str = '"web_search" in run.tools_called') -> str:
    return BRANCHING.format(modality=modality, check=check)


def _messages(result) -> list[tuple[str, str]]:
    return [(d.code, d.message) for d in result.diagnostics]


def test_must_check_false_on_one_branch_is_an_error_printing_the_path():
    result = compile_with_plugins(_branching(), path="spec.md")
    assert _messages(result) == [(
        "E601",
        'invariant INV-001 (Search first) is violated on path START → plan → answer → END: '
        '`"web_search" in run.tools_called` is false there (tools called on it: none)',
    )]
    assert result.diagnostics[0].span.line == 14
    assert not result.ok


def test_should_check_false_on_one_branch_is_a_warning():
    result = compile_with_plugins(_branching("SHOULD"), path="spec.md")
    assert [d.code for d in result.diagnostics] == ["W602"]
    assert result.ok


def test_step_facts_are_decided_per_path():
    result = compile_with_plugins(_branching(check='"answer" in run.steps and "plan" in run.steps'), path="spec.md")
    assert result.diagnostics == []
    assert classify(result.spec) == {"INV-001": "static"}
    skipped = compile_with_plugins(_branching(check='"search" in run.steps'), path="spec.md")
    assert [d.code for d in skipped.diagnostics] == ["E601"]
    assert "START → plan → answer → END" in skipped.diagnostics[0].message


def test_not_in_is_violated_where_a_tool_step_runs():
    result = compile_with_plugins(_branching(check='"web_search" not in run.tools_called'), path="spec.md")
    assert [d.code for d in result.diagnostics] == ["E601"]
    assert "START → plan → search → answer → END" in result.diagnostics[0].message


def test_react_agent_may_skip_tools_so_tool_checks_are_runtime():
    result = compile_with_plugins(REACT, path="spec.md")
    assert result.diagnostics == []
    assert classify(result.spec) == {"INV-001": "runtime", "INV-002": "prompt", "INV-003": "static"}


def test_checks_on_outputs_are_runtime_and_checkless_invariants_are_prompt_rules():
    text = REACT.replace('`check: "web_search" in run.tools_called`', "`check: len(answer) > 0`")
    result = compile_with_plugins(text, path="spec.md")
    assert classify(result.spec)["INV-001"] == "runtime"
    assert classify(result.spec)["INV-002"] == "prompt"


def test_cost_bound_below_the_prompts_own_cost_is_violated():
    text = REACT.replace("$100", "$0.0000001").replace("## Invariants", "## Model\n- task: research\n- tier: free\n\n## Invariants")
    result = compile_with_plugins(text, path="spec.md")
    assert [d.code for d in result.diagnostics] == ["E601"]
    assert result.diagnostics[0].message.startswith(
        "invariant INV-003 (Cheap) is violated on path START → agent → END: `run.cost_usd <= $0.0000001` is false there"
        " (its prompts alone cost at least $")


def test_cost_bound_between_floor_and_worst_case_is_left_to_the_runtime():
    text = REACT.replace("$100", "$0.005").replace("## Invariants", "## Model\n- task: research\n- tier: free\n\n## Invariants")
    result = compile_with_plugins(text, path="spec.md")
    assert result.diagnostics == []
    assert classify(result.spec)["INV-003"] == "runtime"


def test_a_tool_step_in_a_parallel_branch_runs_on_every_path():
    text = _branching().replace(
        "- START → plan\n- plan → search when needs_search\n- plan → answer otherwise\n- search → answer",
        "- START → plan, search\n- plan, search → answer")
    result = compile_with_plugins(text, path="spec.md")
    assert result.diagnostics == []
    assert classify(result.spec) == {"INV-001": "static"}


def test_classes_are_left_in_the_context_cache_for_later_stages():
    manager = plugin_manager()
    from agent_factory.compiler import check_text

    check_text(REACT, "spec.md", manager)
    assert manager.cache[CACHE_KEY] == {"INV-001": "runtime", "INV-002": "prompt", "INV-003": "static"}
    assert manager.cache[(CACHE_KEY, "spec.md")] == manager.cache[CACHE_KEY]
