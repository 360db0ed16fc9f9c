"""The `langgraph` target: `<stem>/graph.py` + `spec.ir.json` per Agent or Team spec, and one
`langgraph.json` (with the `agent-factory.toml` the graphs run with) for the folder.

The generated files of every shipped spec with a graph are golden files under
`golden/emit/langgraph/<stem>/`; run `pytest tests/test_emit_langgraph.py --update-golden` to
rewrite them, then review the diff.
"""

from __future__ import annotations

import importlib.util
import json
import re
import string
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from agent_factory.compiler import PassManager, check, compile, parse_text, plan_graph
from agent_factory.compiler.provenance import header_lines
from agent_factory.plugins import backend_langgraph
from agent_factory.plugins.capabilities import ALL_FEATURES

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "golden" / "emit" / "langgraph"
STEMS = ["billing", "brain_fart_checker", "market_research", "support_desk", "tech_support"]
_DOC_KIND = re.compile(r"^# (Agent|Team|Agent Spec)\b", re.MULTILINE)
# valid golden agents and teams (components and constitutions have no graph)
GRAPH_CASES = sorted(
    p.parent.name for p in (ROOT / "golden").glob("valid_*/spec.md") if _DOC_KIND.search(p.read_text(encoding="utf-8-sig"))
)
CONSTRUCTOR = re.compile(r"^\s*Plan(?:Node|Edge|Route)\(.*?(\d+)(?:\)|, \{)")


def new_manager() -> PassManager:
    """A fresh manager with the built-in plugins."""
    return PassManager()


@pytest.fixture(scope="module")
def manager() -> PassManager:
    return new_manager()


@pytest.fixture
def at_repo_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Paths in the outputs are relative to the repository root (`specs/<stem>.md`)."""
    monkeypatch.chdir(ROOT)
    return ROOT


def emitted(path: str, manager: PassManager) -> dict[str, str]:
    result, files = compile(path, "langgraph", manager)
    assert result.ok, result.diagnostics
    return files


def load_module(folder: Path, files: dict[str, str], name: str) -> types.ModuleType:
    """Write the generated files under `folder` and import its graph.py as module `name`."""
    for relative, text in files.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text, encoding="utf-8")
    (module_file,) = folder.glob("*/graph.py")
    spec = importlib.util.spec_from_file_location(name, module_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("stem", STEMS)
def test_generated_files_match_the_golden_files(stem, at_repo_root, manager, request):
    files = emitted(f"specs/{stem}.md", manager)
    assert sorted(files) == [f"{stem}/graph.py", f"{stem}/spec.ir.json"]
    if request.config.getoption("--update-golden"):
        for stale in (GOLDEN / stem).glob("*"):
            stale.unlink()
        for name, text in files.items():
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_bytes(text.encode("utf-8"))
        return
    expected = sorted(f"{stem}/{p.name}" for p in (GOLDEN / stem).glob("*"))
    assert expected == sorted(files), f"{stem}: golden files differ; run pytest with --update-golden and review"
    for name, text in files.items():
        assert text == (GOLDEN / name).read_bytes().decode("utf-8"), f"{name} differs from the golden file"


def test_every_shipped_spec_with_a_graph_has_golden_files(at_repo_root):
    with_graph = sorted(p.stem for p in Path("specs").glob("*.md") if check(p).spec.kind in ("agent", "team"))
    assert with_graph == STEMS


def test_compiling_twice_gives_identical_bytes(at_repo_root, manager):
    for stem in STEMS:
        first = emitted(f"specs/{stem}.md", manager)
        second = emitted(f"specs/{stem}.md", new_manager())
        assert {k: v.encode() for k, v in first.items()} == {k: v.encode() for k, v in second.items()}


@pytest.mark.parametrize("stem", STEMS)
def test_generated_plan_equals_the_in_memory_plan(stem, at_repo_root, manager, tmp_path):
    module = load_module(tmp_path, emitted(f"specs/{stem}.md", manager), f"generated_{stem}")
    spec = check(f"specs/{stem}.md").spec
    assert module.PLAN == plan_graph(spec)
    # the spec the module loads from spec.ir.json plans the same graph
    assert plan_graph(module.SPEC) == module.PLAN


@pytest.mark.parametrize("case", GRAPH_CASES)
def test_every_valid_golden_graph_round_trips_through_generated_code(case, at_repo_root, manager, tmp_path):
    result = check(f"golden/{case}/spec.md")
    assert result.spec.kind in ("agent", "team")
    module = load_module(tmp_path, emitted(f"golden/{case}/spec.md", manager), f"generated_{case}")
    assert module.PLAN == plan_graph(result.spec)


def test_module_builds_its_graph_at_import_with_the_configuration_beside_it(at_repo_root, manager, tmp_path,
                                                                           monkeypatch):
    from agent_factory.runtime.graph import AgentGraph

    monkeypatch.delenv("AGENT_FACTORY_CONFIG", raising=False)
    (tmp_path / "agent-factory.toml").write_text(
        (ROOT / "agent_factory/runtime/default_config.toml").read_text(encoding="utf-8")
        + '\n[tools.web_search]\nprovider = "http_json"\nurl = "https://search.example/?q={query}"\n', encoding="utf-8")
    module = load_module(tmp_path, emitted("specs/brain_fart_checker.md", manager), "generated_at_import")
    assert "graph" in vars(module)  # a real module attribute: LangGraph's server reads the module's __dict__
    assert isinstance(module.graph, AgentGraph)
    factory = module.graph.factory
    assert (factory.spec, factory.plan, factory.tier) == (module.SPEC, module.PLAN, "pro")
    assert Path(factory.config.source) == (tmp_path / "agent-factory.toml").resolve()
    assert factory.tool_config.web_search.url == "https://search.example/?q={query}"


def test_agent_factory_config_points_a_generated_module_at_another_file(at_repo_root, manager, tmp_path,
                                                                       monkeypatch):
    elsewhere = tmp_path / "elsewhere.toml"
    elsewhere.write_text((ROOT / "agent_factory/runtime/default_config.toml").read_text(encoding="utf-8")
                         + '\n[tools]\ntimeout_s = 7\n', encoding="utf-8")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "agent-factory.toml").write_text("[tools]\ntimeout_s = 3\n", encoding="utf-8")
    monkeypatch.setenv("AGENT_FACTORY_CONFIG", str(elsewhere))
    module = load_module(tmp_path / "app", emitted("specs/brain_fart_checker.md", manager), "generated_elsewhere")
    factory = module.graph.factory
    assert (Path(factory.config.source), factory.tool_config.timeout_s) == (elsewhere, 7.0)


def test_one_langgraph_json_names_every_graph_relative_to_itself(tmp_path):
    from agent_factory.cli import main
    from agent_factory.runtime.config import default_config_text

    result = CliRunner().invoke(main, ["compile", str(ROOT / "specs"), "--target", "langgraph", "-o", str(tmp_path)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "langgraph.json").read_text(encoding="utf-8")) == {
        "dependencies": [".", "agent-factory==0.1.0"],
        "env": {"LITELLM_LOCAL_MODEL_COST_MAP": "True"},
        "graphs": {stem: f"./{stem}/graph.py:graph" for stem in STEMS},
        "python_version": "3.12",
    }
    # compiled where no agent-factory.toml is found, the folder runs with the defaults
    assert (tmp_path / "agent-factory.toml").read_text(encoding="utf-8") == default_config_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*STEMS, "agent-factory.toml", "langgraph.json"])


def test_the_working_folders_configuration_is_copied_beside_the_graphs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "agent-factory.toml").write_text("# mine\n", encoding="utf-8")
    files = {"a/graph.py": "", "a/spec.ir.json": "", "b/graph.py": "", "b/spec.ir.json": ""}
    combined = backend_langgraph.combine(files)
    assert combined["agent-factory.toml"] == "# mine\n"
    assert json.loads(combined["langgraph.json"])["graphs"] == {"a": "./a/graph.py:graph", "b": "./b/graph.py:graph"}


def test_spec_ir_json_is_the_ir_backend_output(at_repo_root, manager):
    files = emitted("specs/billing.md", manager)
    (ir_text,) = compile("specs/billing.md", "ir", manager)[1].values()
    assert files["billing/spec.ir.json"] == ir_text


def test_a_team_carries_its_members_specs_so_the_folder_runs_without_the_markdown(at_repo_root, manager, tmp_path):
    module = load_module(tmp_path, emitted("specs/support_desk.md", manager), "generated_team")
    assert module.NESTED == {"specs/billing.md": check("specs/billing.md").spec,
                             "specs/tech_support.md": check("specs/tech_support.md").spec}
    assert module.graph.factory.nested == module.NESTED
    text = (tmp_path / "support_desk" / "spec.ir.json").read_text(encoding="utf-8")
    assert str(ROOT) not in text  # no path of the machine that compiled it


@pytest.mark.parametrize("case", sorted(p.parent.name for p in (ROOT / "golden").glob("*/spec.md")))
def test_spec_ir_json_reads_back_equal_to_the_ir(case, at_repo_root):
    from agent_factory.compiler.ir import Spec
    from agent_factory.plugins.backend_ir import ir_json

    spec = check(f"golden/{case}/spec.md").spec
    if spec is not None:  # a case that does not parse has no IR to write
        assert Spec.model_validate(json.loads(ir_json(spec))["spec"]) == spec


LITERALS = st.one_of(
    st.decimals(min_value=0, max_value=10**6, places=3).map(lambda d: (f"{d}", "number")),
    st.decimals(min_value=0, max_value=1000, places=2).map(lambda d: (f"${d}", "money")),
    st.integers(min_value=1, max_value=3600).map(lambda n: (f"{n}s", "duration")),
    st.text(alphabet=string.ascii_letters + string.digits + " ", max_size=12).map(lambda t: (f'"{t}"', "string")),
    st.booleans().map(lambda b: ("true" if b else "false", "bool")),
)


@settings(max_examples=60, deadline=None)
@given(literal=LITERALS)
def test_every_kind_of_literal_reads_back_from_spec_ir_json_as_written(literal):
    from agent_factory.compiler.ir import Spec
    from agent_factory.plugins.backend_ir import ir_json

    text, kind = literal
    spec = parse_text("# Agent: Lit\n\n## Purpose\nEchoes.\n\n## Invariants\n1. **LIT-001 Same:** MUST hold. "
                      f"`check: answer == {text}`\n", "lit.md").spec
    (inv,) = [i for i in spec.invariants if i.id == "LIT-001"]
    assert inv.check.tree.right.type == kind
    back = Spec.model_validate_json(json.dumps(json.loads(ir_json(spec))["spec"]))
    assert back == spec
    assert type(back.invariants[0].check.tree.right.value) is type(inv.check.tree.right.value)


def test_graph_py_starts_with_the_provenance_header(at_repo_root, manager):
    files = emitted("specs/brain_fart_checker.md", manager)
    spec = check("specs/brain_fart_checker.md").spec
    header = "".join(f"# {line}\n" for line in header_lines(spec))
    assert files["brain_fart_checker/graph.py"].startswith(header + '"""Brain Fart Checker: the LangGraph graph')


@pytest.mark.parametrize("stem", STEMS)
def test_every_node_edge_and_route_line_names_its_spec_line(stem, at_repo_root, manager):
    lines = emitted(f"specs/{stem}.md", manager)[f"{stem}/graph.py"].splitlines()
    constructors = [line for line in lines if CONSTRUCTOR.match(line)]
    plan = plan_graph(check(f"specs/{stem}.md").spec)
    assert len(constructors) == len(plan.nodes) + len(plan.edges) + sum(len(b.routes) for b in plan.branches)
    for line in constructors:
        number = CONSTRUCTOR.match(line).group(1)
        assert line.endswith(f"  # spec: specs/{stem}.md:{number}"), line


def test_component_and_constitution_specs_are_rejected_before_emitting(at_repo_root, manager):
    for path, kind, meaning in [("specs/webhook_signer.md", "component", "a `# Component:` document (code generation)"),
                                ("specs/constitution.md", "constitution", "a `# Constitution:` document")]:
        result, files = compile(path, "langgraph", manager)
        assert files == {}
        (problem,) = result.diagnostics
        assert problem.code == "E801"
        assert problem.message == f"target `langgraph` does not support {kind} ({meaning}), which this spec uses here"


def test_backend_declares_every_feature_but_documents_without_a_graph(manager):
    backend = manager.backends()["langgraph"]
    assert backend.features == ALL_FEATURES - {"component", "constitution"}


def test_python_literals_are_sorted_quoted_and_wrapped():
    literal = backend_langgraph.py_literal
    assert literal({"b": ("x",), "a": [1, None, True], "c": 'say "hi"'}) == \
        '{"a": [1, None, True], "b": ("x",), "c": \'say "hi"\'}'
    assert literal("it's") == '"it\'s"'
    assert literal(("a" * 60, "b" * 60), indent=4) == f'(\n        "{"a" * 60}",\n        "{"b" * 60}",\n    )'


def test_the_targets_are_built_in():
    assert {"ir", "langgraph", "mermaid", "openhands"} <= set(PassManager.default().backends())


def test_compile_check_fails_when_generated_code_was_edited_by_hand(tmp_path):
    from agent_factory.cli import main

    def run(*args: str):
        return CliRunner().invoke(main, ["compile", str(ROOT / "specs" / "support_desk.md"), "--target", "langgraph",
                                         "-o", str(tmp_path), *args], catch_exceptions=False)

    assert run().exit_code == 0
    assert run("--check").exit_code == 0
    produced = tmp_path / "support_desk" / "graph.py"
    produced.write_text(produced.read_text(encoding="utf-8").replace('"tech"', '"billing"'), encoding="utf-8")
    stale = run("--check")
    assert stale.exit_code == 1
    assert f"stale or edited by hand: {produced} (run `agent-factory compile` to regenerate)" in stale.output
