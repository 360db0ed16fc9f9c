"""The names pass: tools, steps, rule tables, spec paths, routing defaults and tool arguments resolve."""

from __future__ import annotations

from pathlib import Path

from agent_factory.compiler import PassManager, check_text, hookimpl
from agent_factory.runtime.tools.model import ToolSpec

WORKFLOW_HEAD = """# Agent: Names

## Purpose
Tests names.

## Outputs
- answer: str
"""


def found(text: str, tmp_path: Path, manager: PassManager | None = None) -> list[tuple[str, int, int, str, str | None]]:
    path = tmp_path / "spec.md"
    path.write_text(text, encoding="utf-8")
    result = check_text(text, str(path), manager)
    return [(d.code, d.span.line, d.span.column, d.message, d.hint) for d in result.diagnostics]


def test_unknown_tool_suggests_closest_name(tmp_path):
    spec = WORKFLOW_HEAD + "\n## Tools\n- web_serch — find things\n"
    assert found(spec, tmp_path) == [
        ("E200", 10, 3, "unknown tool `web_serch`: no plugin provides it and it has no binding", "did you mean `web_search`?"),
    ]


def test_bound_tool_needs_no_registry_entry(tmp_path):
    spec = WORKFLOW_HEAD + "\n## Tools\n- lookup — records (http: GET https://api.example.com/r/{id})\n"
    assert found(spec, tmp_path) == []


def test_tool_registered_by_two_plugins_is_an_error_naming_both(tmp_path):
    class Twin:
        @hookimpl
        def af_register_tools(self):
            return [ToolSpec(name="web_search", description="a second web search", parameters={"type": "object"})]

    manager = PassManager(plugins=[Twin()], load_entrypoints=False)
    spec = WORKFLOW_HEAD + "\n## Tools\n- web_search — find things\n"
    (diag,) = found(spec, tmp_path, manager)
    assert diag[0] == "E209"
    assert diag[3].startswith("tool `web_search` is registered by more than one plugin (`agent_factory.plugins.tools_builtin` and ")


def test_registry_is_collected_once_per_manager(tmp_path):
    calls = []

    class Counting:
        @hookimpl
        def af_register_tools(self):
            calls.append(1)
            return [ToolSpec(name="my_tool", description="mine", parameters={"type": "object"})]

    manager = PassManager(plugins=[Counting()], load_entrypoints=False)
    spec = WORKFLOW_HEAD + "\n## Tools\n- my_tool — from a plugin\n"
    assert found(spec, tmp_path, manager) == []
    assert found(spec, tmp_path, manager) == []
    assert calls == [1]


def flow_spec(steps: str, flow: str, extra: str = "") -> str:
    return WORKFLOW_HEAD + extra + "\n## Workflow\n" + steps + "\n### Flow\n" + flow


ANSWER = "### write\n- llm: simple\n- outputs: answer\n- prompt: Answer {query}.\n"


def test_edge_naming_unknown_step_points_at_the_name(tmp_path):
    spec = flow_spec(ANSWER, "- START → writ\n- write → END\n")
    assert found(spec, tmp_path) == [
        ("E201", 16, 11, "flow edge names the step `writ`, which the Workflow does not declare", "did you mean `write`?"),
    ]


def test_llm_step_tools_must_be_spec_tools(tmp_path):
    steps = "### write\n- llm: research\n- tools: web_search\n- outputs: answer\n- prompt: Answer {query}.\n"
    spec = flow_spec(steps, "- START → write\n- write → END\n")
    assert found(spec, tmp_path) == [
        ("E202", 12, 10, "step `write` may call the tool `web_search`, which is not in the spec's Tools section",
         "add `- web_search` to the Tools section"),
    ]


def test_tool_step_must_run_a_spec_tool(tmp_path):
    steps = "### calc\n- tool: calculatr\n- args: expression = \"1+1\"\n- outputs: answer\n"
    spec = flow_spec(steps, "- START → calc\n- calc → END\n", extra="\n## Tools\n- calculator — sums\n")
    assert found(spec, tmp_path) == [
        ("W210", 10, 3, "tool `calculator` is declared but no step uses it",
         "add it to a step's `tools:`, run it with a `tool:` step, mark it `(optional)` or remove it"),
        ("E203", 14, 9, "step `calc` runs the tool `calculatr`, which is not in the spec's Tools section",
         "did you mean `calculator`?"),
    ]


def test_rules_step_table_name_is_case_insensitive_and_typos_suggest(tmp_path):
    rules = "\n## Rules\n### Gate\n- STOP when len(answer) < 2\n- otherwise GO\n"
    good = flow_spec(ANSWER + "\n### decide\n- rules: gate\n- outputs: verdict\n",
                     "- START → write\n- write → decide\n- decide → END\n") + rules
    assert found(good, tmp_path) == []
    bad = good.replace("- rules: gate", "- rules: Gat")
    assert found(bad, tmp_path) == [
        ("E204", 16, 10, "step `decide` runs the rule table `Gat`, which the Rules section does not have", "did you mean `Gate`?"),
    ]


def test_agent_step_path_is_relative_to_the_spec_folder(tmp_path):
    (tmp_path / "helper.md").write_text("# Agent: Helper\n\n## Purpose\nHelps.\n", encoding="utf-8")
    steps = "### delegate\n- agent: helper.md\n- outputs: answer\n"
    spec = flow_spec(steps, "- START → delegate\n- delegate → END\n")
    assert found(spec, tmp_path) == []
    diags = found(spec.replace("helper.md", "helpr.md"), tmp_path)
    assert diags == [("E205", 11, 10, f"step `delegate` runs the agent spec `helpr.md`, which does not exist (looked in `{tmp_path.as_posix()}`)",
                      "did you mean `helper.md`?")]


def test_team_member_path_and_routing_default(tmp_path):
    (tmp_path / "billing.md").write_text("# Agent: Billing\n\n## Purpose\nBills.\n", encoding="utf-8")
    spec = ("# Team: Desk\n\n## Purpose\nRoutes.\n\n## Members\n- billing: billing.md — routes: invoice\n"
            "- tech: tech.md — routes: error\n\n## Routing\n- strategy: keyword\n- default: biling\n")
    assert [(c, line, col, msg, hint) for c, line, col, msg, hint in found(spec, tmp_path)] == [
        ("E205", 8, 3, f"member `tech` is the spec `tech.md`, which does not exist (looked in `{tmp_path.as_posix()}`)",
         "paths are relative to this spec's folder"),
        ("E206", 12, 12, "routing default `biling` is not a member", "did you mean `billing`?"),
    ]


def test_tool_step_missing_and_unknown_arguments(tmp_path):
    steps = ("### fetch\n- tool: lookup\n- args: id = query\n- outputs: record\n\n"
             "### search\n- tool: web_search\n- args: query = query, colour = \"red\"\n- outputs: answer\n")
    tools = "\n## Tools\n- lookup — records (http: GET https://api.example.com/{year}/r/{id})\n- web_search — find\n"
    spec = flow_spec(steps, "- START → fetch\n- fetch → search\n- search → END\n", extra=tools)
    assert found(spec, tmp_path) == [
        ("E207", 15, 9, "step `fetch` calls `lookup` without the required argument `year`", "add `args: year = <expr>`"),
        ("E208", 21, 24, "tool `web_search` has no argument `colour`", "its arguments: max_results, query"),
    ]


def test_unused_tool_and_unwritten_output_are_warnings(tmp_path):
    spec = flow_spec(ANSWER, "- START → write\n- write → END\n",
                     extra="- sources: list[url]\n\n## Tools\n- web_search — find\n- wikipedia (optional) — facts\n")
    assert found(spec, tmp_path) == [
        ("W211", 8, 3, "output `sources` is never written: no step lists it in `outputs:`",
         "add it to the `outputs:` of the step that produces it, or remove it"),
        ("W210", 11, 3, "tool `web_search` is declared but no step uses it",
         "add it to a step's `tools:`, run it with a `tool:` step, mark it `(optional)` or remove it"),
    ]


def test_without_workflow_tools_and_outputs_are_not_reported_unused(tmp_path):
    spec = WORKFLOW_HEAD + "- sources: list[url]\n\n## Tools\n- web_search — find\n"
    assert found(spec, tmp_path) == []


def test_unknown_llm_task_suggests_closest(tmp_path):
    spec = flow_spec(ANSWER.replace("llm: simple", "llm: simpel"), "- START → write\n- write → END\n")
    assert found(spec, tmp_path) == [
        ("E213", 11, 8, "step `write` names the unknown task `simpel`", "did you mean `simple`?"),
    ]


def test_an_edge_to_a_declared_step_with_its_own_error_is_not_reported_as_undeclared(tmp_path):
    from agent_factory.compiler import check

    spec = tmp_path / "go.md"
    spec.write_text("# Agent: Go\n\n## Purpose\nGoes.\n\n## Workflow\n### go\n- outputs: answer\n\n### finish\n"
                    "- llm: simple\n- outputs: answer\n\n### finish\n- llm: simple\n- outputs: answer\n\n### Flow\n"
                    "- START → go\n- go → stop\n- stop → END\n", encoding="utf-8")
    found = [(d.code, d.message, d.hint) for d in check(spec).diagnostics if d.code in ("E072", "E201")]
    assert found == [
        ("E072", "step `go` does not say what it runs",
         "give exactly one of `llm: <task>`, `tool: <name>`, `agent: <spec>`, `rules: <table>`"),
        ("E201", "flow edge names the step `stop`, which the Workflow does not declare", "steps: finish"),
        ("E201", "flow edge names the step `stop`, which the Workflow does not declare", "steps: finish"),
    ]


def test_a_windows_path_to_a_member_gets_a_use_slash_hint(tmp_path):
    from agent_factory.compiler import check

    spec = tmp_path / "team.md"
    spec.write_text("# Team: W\n\n## Purpose\nRoutes.\n\n## Members\n- one: members\\general.md — routes: x\n",
                    encoding="utf-8")
    [diag] = check(spec).diagnostics
    assert (diag.code, diag.hint) == ("E205", "write paths with `/`, on every system: `members/general.md`")
