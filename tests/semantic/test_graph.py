"""The graph pass: entry and exit, reachability, cycles, branches, joins and definite assignment."""

from __future__ import annotations

from pathlib import Path

from agent_factory.compiler import check_text

HEAD = """# Agent: Graph

## Purpose
Tests flows.

## Outputs
- answer: str
- ok: bool

## Workflow
"""


def step(name: str, outputs: str, prompt: str = "Work on {query}.", extra: str = "") -> str:
    return f"### {name}\n- llm: simple\n- outputs: {outputs}\n{extra}- prompt: {prompt}\n\n"


def found(steps: str, flow: str, tmp_path: Path) -> list[tuple[str, int, int, str, str | None]]:
    text = HEAD + steps + "### Flow\n" + flow
    path = tmp_path / "spec.md"
    path.write_text(text, encoding="utf-8")
    result = check_text(text, str(path))
    return [(d.code, d.span.line, d.span.column, d.message, d.hint) for d in result.diagnostics]


def flow_line(steps: str, n: int) -> int:
    """The line number of the n-th flow edge (1-based)."""
    return len((HEAD + steps).split("\n")) + n


TWO = step("a", "ok") + step("b", "answer")


def test_workflow_without_start_edge_has_no_entry(tmp_path):
    assert found(TWO, "- a → b\n- b → END\n", tmp_path) == [
        ("E400", 10, 4, "the workflow has steps but no edge from `START`, so nothing would run", "add `- START → a` under `### Flow`"),
    ]


def test_start_as_target_and_end_as_source_are_errors(tmp_path):
    diags = found(TWO, "- START → a\n- a → b\n- b → START\n- END → b\n- b → END\n", tmp_path)
    line = flow_line(TWO, 3)
    assert diags == [
        ("E408", line, 7, "`START` cannot be the target of an edge",
         "flows start at `START` (`START → first_step`) and end at `END` (`last_step → END`)"),
        ("E408", line + 1, 3, "`END` cannot be the source of an edge",
         "flows start at `START` (`START → first_step`) and end at `END` (`last_step → END`)"),
    ]


def test_unreachable_step_and_step_that_never_ends(tmp_path):
    steps = TWO + step("c", "answer")
    diags = found(steps, "- START → a\n- a → END\n- a → b\n- c → END\n", tmp_path)
    assert [(d[0], d[3]) for d in diags] == [
        ("E402", "step `b` never reaches `END`: every path from it ends or loops without finishing"),
        ("E401", "step `c` is unreachable: no path from `START` leads to it"),
    ]


def test_cycle_without_exit_condition_is_an_error(tmp_path):
    steps = TWO + step("c", "answer")
    diags = found(steps, "- START → a\n- a → b\n- b → c\n- c → b\n- b → END\n", tmp_path)
    assert diags == [
        ("E403", flow_line(steps, 4), 3, "the cycle b → c → b has no exit condition and no `max_iterations`",
         "add a `when` edge that leaves the cycle (with an `otherwise`), or `max_iterations: N` on a step in it"),
    ]


def test_cycle_with_max_iterations_or_conditional_exit_is_fine(tmp_path):
    limited = step("a", "ok") + step("b", "answer", extra="- max_iterations: 3\n")
    assert found(limited, "- START → a\n- a → b\n- b → a\n- b → END\n", tmp_path) == []
    assert found(TWO, "- START → a\n- a → b\n- b → END when ok\n- b → a otherwise\n", tmp_path) == []


def test_branching_step_needs_exactly_one_otherwise(tmp_path):
    steps = TWO + step("c", "answer")
    diags = found(steps, "- START → a\n- a → b when ok\n- b → END\n- c → END\n- a → c when not ok\n", tmp_path)
    assert [(d[0], d[3]) for d in diags] == [("E404", "step `a` branches with `when` but has no `otherwise` edge")]
    diags = found(steps, "- START → a\n- a → b when ok\n- a → c otherwise\n- a → END otherwise\n- b → END\n- c → END\n", tmp_path)
    assert [(d[0], d[1], d[3]) for d in diags] == [("E404", flow_line(steps, 4), "step `a` has more than one `otherwise` edge")]


def test_otherwise_without_when_is_an_error(tmp_path):
    diags = found(TWO, "- START → a\n- a → b otherwise\n- b → END\n", tmp_path)
    assert [(d[0], d[3]) for d in diags] == [("E404", "step `a` has an `otherwise` edge but no `when` edge")]


def test_conditional_and_unconditional_edges_cannot_be_mixed(tmp_path):
    diags = found(TWO, "- START → a\n- a → b when ok\n- a → END otherwise\n- a → b\n- b → END\n", tmp_path)
    assert diags == [
        ("E405", flow_line(TWO, 4), 3, "step `a` has an unconditional edge besides its `when`/`otherwise` branches",
         "give this edge a `when` condition, or make it the `otherwise` branch"),
    ]


def test_join_source_skipped_by_a_branch_warns(tmp_path):
    steps = step("a", "ok") + step("b", "notes") + step("c", "more") + step("d", "answer")
    flow = "- START → a, c\n- a → b when ok\n- a → END otherwise\n- b, c → d\n- d → END\n"
    assert found(steps, flow, tmp_path) == [
        ("W406", flow_line(steps, 4), 3, "join source `b` can be skipped: when `a` takes the branch to `END`, `b` never runs "
         "and `d` waits for it forever",
         "join only steps that always run together, or move the join after the branches of `a` meet"),
    ]


def test_join_inside_one_branch_does_not_warn(tmp_path):
    steps = step("a", "ok") + step("b", "notes") + step("c", "more") + step("d", "answer")
    flow = "- START → a\n- a → b, c when ok\n- a → END otherwise\n- b, c → d\n- d → END\n"
    assert found(steps, flow, tmp_path) == []


def test_value_used_before_written_on_some_path_prints_the_path(tmp_path):
    steps = step("a", "ok") + step("b", "notes") + step("c", "answer", prompt="Use {notes}.")
    flow = "- START → a\n- a → c when ok\n- a → b otherwise\n- b → c\n- c → END\n"
    line = len((HEAD + steps).split("\n")) - 2
    assert found(steps, flow, tmp_path) == [
        ("E407", line, 15, "`{notes}` in the prompt of `c` may be used before it is written: on the path START → a → c "
         "no step writes `notes` (written by `b`)",
         "make every path to `c` pass through `b`, for example with an edge `b → c`"),
    ]


def test_value_used_in_a_when_before_written(tmp_path):
    steps = step("a", "answer") + step("b", "ok") + step("c", "answer")
    flow = "- START → a, b\n- a → c when ok\n- a → END otherwise\n- b → END\n- c → END\n"
    diags = found(steps, flow, tmp_path)
    assert [(d[0], d[3]) for d in diags] == [
        ("E407", "`ok` in the condition after `a` may be used before it is written: on the path START → a no step "
         "writes `ok` (written by `b`)"),
    ]


def test_join_makes_every_source_output_available(tmp_path):
    steps = step("a", "ok") + step("b", "notes") + step("c", "answer", prompt="Use {ok} and {notes}.")
    assert found(steps, "- START → a, b\n- a, b → c\n- c → END\n", tmp_path) == []


def test_graph_checks_do_not_run_when_validation_failed(tmp_path):
    steps = step("a", "ok", prompt="Use {nothing}.") + step("b", "answer")
    diags = found(steps, "- START → a\n- b → END\n", tmp_path)
    assert [d[0] for d in diags] == ["E305"]


def test_missing_flow_reports_no_entry_not_placeholder_order(tmp_path):
    steps = step("a", "notes, ok") + step("b", "answer", prompt="Use {notes}.")
    assert [d[0] for d in found(steps, "", tmp_path)] == ["E400"]
