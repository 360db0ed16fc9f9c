"""The `mermaid` target (`<stem>.mmd`) and `agent-factory graph SPEC`.

The charts of every shipped spec with a graph are golden files under `golden/emit/mermaid/`;
run `pytest tests/test_emit_mermaid.py --update-golden` to rewrite them, then review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from agent_factory.compiler import PassManager, check, compile, plan_graph
from agent_factory.compiler.provenance import header_lines
from agent_factory.cli.graph import graph
from agent_factory.plugins import backend_mermaid
from agent_factory.plugins.capabilities import ALL_FEATURES

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "golden" / "emit" / "mermaid"
STEMS = ["billing", "brain_fart_checker", "market_research", "support_desk", "tech_support"]


def new_manager() -> PassManager:
    """A fresh manager with the built-in plugins, plus the target until it is in DEFAULT_PLUGINS."""
    return PassManager() if "mermaid" in PassManager.default().backends() else PassManager([backend_mermaid])


@pytest.fixture(scope="module")
def manager() -> PassManager:
    return new_manager()


@pytest.fixture
def at_repo_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Paths in the outputs are relative to the repository root (`specs/<stem>.md`)."""
    monkeypatch.chdir(ROOT)
    return ROOT


def chart(path: str, manager: PassManager) -> str:
    result, files = compile(path, "mermaid", manager)
    assert result.ok, result.diagnostics
    ((name, text),) = files.items()
    assert name == f"{Path(path).stem}.mmd"
    return text


def lines_of(path: str, manager: PassManager) -> list[str]:
    return [line.strip() for line in chart(path, manager).splitlines()]


@pytest.mark.parametrize("stem", STEMS)
def test_chart_matches_the_golden_file(stem, at_repo_root, manager, request):
    text = chart(f"specs/{stem}.md", manager)
    golden = GOLDEN / f"{stem}.mmd"
    if request.config.getoption("--update-golden"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(text.encode("utf-8"))
        return
    assert golden.exists(), f"{golden.name} is missing; run pytest with --update-golden and review it"
    assert text == golden.read_bytes().decode("utf-8"), f"{golden.name} differs from the golden file"


def test_golden_folder_holds_exactly_the_shipped_graphs():
    assert sorted(p.stem for p in GOLDEN.glob("*")) == STEMS


def test_compiling_twice_gives_identical_bytes(at_repo_root, manager):
    for stem in STEMS:
        assert chart(f"specs/{stem}.md", manager).encode() == chart(f"specs/{stem}.md", new_manager()).encode()


def test_chart_starts_with_the_provenance_header_then_the_flowchart(at_repo_root, manager):
    spec = check("specs/billing.md").spec
    header = "".join(f"%% {line}\n" for line in header_lines(spec))
    assert chart("specs/billing.md", manager).startswith(header + "flowchart TD\n")


def test_start_and_end_are_stadium_nodes(at_repo_root, manager):
    lines = lines_of("specs/billing.md", manager)
    assert '__start__(["START"])' in lines
    assert '__end__(["END"])' in lines
    assert "__start__ --> agent" in lines
    assert "__guard__ --> __end__" in lines


def test_node_labels_give_the_kind_and_what_it_runs(at_repo_root, manager):
    lines = lines_of("specs/brain_fart_checker.md", manager)
    assert 'research_market["research_market<br/>llm: research"]' in lines
    assert 'verdict["verdict<br/>rules: Kill Criteria"]' in lines
    assert 'agent["agent<br/>react: simple"]' in lines_of("specs/billing.md", manager)


def test_guard_is_a_hexagon_naming_the_invariants_it_checks(at_repo_root, manager):
    lines = lines_of("specs/brain_fart_checker.md", manager)
    assert '__guard__{{"guard<br/>checks BFC-001, BFC-002, BFC-003, CON-001, CON-004"}}' in lines


def test_join_is_drawn_from_every_source_to_the_target(at_repo_root, manager):
    lines = lines_of("specs/brain_fart_checker.md", manager)
    assert "project_revenue & analyze_competitors & assess_feasibility --> synthesize" in lines


def test_team_router_branches_are_labelled_with_their_condition(at_repo_root, manager):
    lines = lines_of("specs/support_desk.md", manager)
    assert '__router__{"router<br/>keyword routing"}' in lines
    assert 'billing[["billing<br/>member: specs/billing.md"]]' in lines
    assert '__router__ -->|"route == #quot;billing#quot;"| billing' in lines
    assert '__router__ -->|"otherwise"| tech' in lines


def test_when_and_otherwise_edges_are_labelled(at_repo_root, manager):
    lines = lines_of("golden/valid_workflow_when_otherwise_branch/spec.md", manager)
    assert 'plan -->|"needs_search == true"| search' in lines
    assert 'plan -->|"otherwise"| reply' in lines


@pytest.mark.parametrize("stem", STEMS)
def test_every_node_and_edge_follows_its_spec_position(stem, at_repo_root, manager):
    lines = lines_of(f"specs/{stem}.md", manager)
    body = lines[lines.index("flowchart TD") + 1:]
    drawn = [i for i, line in enumerate(body) if not line.startswith("%%") and not line.startswith("__start__([")
             and not line.startswith("__end__([")]
    plan = plan_graph(check(f"specs/{stem}.md").spec)
    assert len(drawn) == len(plan.nodes) + len(plan.edges) + sum(len(b.routes) for b in plan.branches)
    for i in drawn:
        assert body[i - 1].startswith(f"%% spec: specs/{stem}.md:"), body[i]


def test_labels_escape_quotes_and_angle_brackets():
    assert backend_mermaid.label('a < "b" > #c') == "a #lt; #quot;b#quot; #gt; #35;c"


def test_keywords_are_not_used_as_node_ids():
    assert backend_mermaid.node_id("end") == "n_end"
    assert backend_mermaid.node_id("START") == "__start__"
    assert backend_mermaid.node_id("research") == "research"


def test_component_specs_are_rejected_before_emitting(at_repo_root, manager):
    result, files = compile("specs/webhook_signer.md", "mermaid", manager)
    assert files == {}
    assert [d.code for d in result.diagnostics] == ["E801"]


def test_backend_declares_every_feature_but_documents_without_a_graph(manager):
    assert manager.backends()["mermaid"].features == ALL_FEATURES - {"component", "constitution"}


def run_graph(*args: str):
    return CliRunner().invoke(graph, list(args), catch_exceptions=False)


def test_graph_command_prints_the_mermaid_chart(at_repo_root, manager):
    result = run_graph("specs/support_desk.md")
    assert result.exit_code == 0
    assert result.output == chart("specs/support_desk.md", manager)


def test_graph_command_prints_nodes_and_edges_as_text(at_repo_root):
    result = run_graph("specs/support_desk.md", "--format", "text")
    assert result.exit_code == 0
    assert result.output == (
        "Support Desk (team graph of specs/support_desk.md)\n"
        "nodes:\n"
        "  __router__  router  line 10\n"
        "  billing     member  line 7\n"
        "  tech        member  line 8\n"
        "  __guard__   guard   line 1\n"
        "edges:\n"
        "  START -> __router__                             line 10\n"
        "  billing -> __guard__                            line 7\n"
        "  tech -> __guard__                               line 8\n"
        "  __guard__ -> END                                line 1\n"
        '  __router__ -> billing  when route == "billing"  line 7\n'
        "  __router__ -> tech     otherwise                line 10\n"
    )


def test_graph_command_marks_joins_in_text(at_repo_root):
    output = run_graph("specs/brain_fart_checker.md", "--format", "text").output
    assert "  project_revenue + analyze_competitors + assess_feasibility -> synthesize  (waits for all)  line 77\n" in output


def test_graph_command_rejects_specs_without_a_graph(at_repo_root):
    result = run_graph("specs/webhook_signer.md")
    assert result.exit_code == 1
    assert result.output == "error: specs/webhook_signer.md is a component spec; only Agent and Team specs have a graph\n"


def test_graph_command_reports_spec_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("broken.md").write_text("# Agent: Broken\n", encoding="utf-8")
    result = run_graph("broken.md")
    assert result.exit_code == 1
    assert result.output.startswith(
        "broken.md:1:1: error[E010]: the `Purpose` section is missing; every agent needs one\n")
