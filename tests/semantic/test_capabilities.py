"""Backend capabilities: the features a spec uses, and E801 when a target lacks one."""

from __future__ import annotations

from agent_factory.compiler import Backend, hookimpl
from agent_factory.plugins.capabilities import ALL_FEATURES, FEATURES, check_capabilities, required_features
from agent_factory.testing.plugins import compile_with_plugins

WORKFLOW = """---
target: tiny
---
# Agent: Flow

## Purpose
Fans out and joins.

## Tools
- lookup — finds things (http: GET https://example.com/find/{q})

## Workflow
### a
- llm: simple
- outputs: x
- prompt: One {query}.

### b
- tool: lookup
- args: q = query
- outputs: y

### c
- llm: simple
- outputs: answer
- prompt: Both {x} {y}.

### Flow
- START → a, b
- a, b → c
- c → END
"""


def _tiny(features: frozenset[str]):
    class TinyBackend:
        @hookimpl
        def af_register_backends(self) -> list[Backend]:
            return [Backend(name="tiny", description="a test backend", emit=lambda spec, ctx: {}, features=features)]

    return TinyBackend()


def test_required_features_come_from_the_ir():
    result = compile_with_plugins(WORKFLOW, plugins=[_tiny(ALL_FEATURES)])
    assert result.ok, result.diagnostics
    assert required_features(result.spec) == {"agent", "workflow", "llm_step", "tool_step", "fan_out", "join",
                                              "tool_bindings.http"}
    assert required_features(result.spec) <= set(FEATURES)


def test_target_missing_a_feature_is_an_error_naming_it_and_its_line():
    result = compile_with_plugins(WORKFLOW, plugins=[_tiny(frozenset({"agent", "workflow", "llm_step", "tool_step"}))],
                                  path="spec.md")
    assert [(d.code, d.span.line, d.message) for d in result.diagnostics] == [
        ("E801", 10, "target `tiny` does not support tool_bindings.http (a tool bound with `(http: ...)`), which this spec uses here"),
        ("E801", 29, "target `tiny` does not support fan_out (an edge to several steps that run in parallel (`START → a, b`)),"
                     " which this spec uses here"),
        ("E801", 30, "target `tiny` does not support join (an edge from several steps (`a, b → c`: c waits for all)),"
                     " which this spec uses here"),
    ]
    assert result.diagnostics[0].hint == ("`tiny` supports: agent, llm_step, tool_step, workflow; "
                                          "choose another --target or remove the feature")


def test_check_capabilities_is_callable_for_any_backend():
    result = compile_with_plugins(WORKFLOW, plugins=[_tiny(ALL_FEATURES)])
    everything = Backend(name="all", description="", emit=lambda s, c: {}, features=ALL_FEATURES)
    assert check_capabilities(result.spec, everything) == []
    agents_only = Backend(name="agents", description="", emit=lambda s, c: {}, features=frozenset({"agent"}))
    assert len(check_capabilities(result.spec, agents_only)) == 6


def test_loops_and_conditions_are_features():
    text = WORKFLOW.replace("- c → END", "- c → a when answer == \"\"\n- c → END otherwise")
    result = compile_with_plugins(text, plugins=[_tiny(ALL_FEATURES)])
    assert {"loops", "conditional_edges"} <= required_features(result.spec)


def test_the_check_target_hook_reports_what_a_backend_lacks():
    from agent_factory.testing.plugins import plugin_manager

    manager = plugin_manager([_tiny(frozenset({"agent"}))])
    result = compile_with_plugins(WORKFLOW, plugins=[_tiny(ALL_FEATURES)])
    tiny = Backend(name="tiny", description="", emit=lambda s, c: {}, features=frozenset({"agent"}))
    found = [d for batch in manager.hook.af_check_target(spec=result.spec, backend=tiny) for d in batch]
    assert [d.code for d in found] == ["E801"] * 6
