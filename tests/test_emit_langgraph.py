"""The `langgraph` target: `<stem>/graph.py` + `spec.ir.json` + `langgraph.json` per Agent or Team spec.

The generated files of every shipped spec with a graph are golden files under
`golden/emit/langgraph/<stem>/`; run `pytest tests/test_emit_langgraph.py --update-golden` to
rewrite them, then review the diff.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent_factory.compiler import PassManager, check, compile, plan_graph
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
    assert sorted(files) == [f"{stem}/graph.py", f"{stem}/langgraph.json", f"{stem}/spec.ir.json"]
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


def test_module_imports_without_the_runtime_and_builds_with_it(at_repo_root, manager, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "agent_factory.runtime.graph", None)  # any import of it fails
    module = load_module(tmp_path, emitted("specs/brain_fart_checker.md", manager), "generated_lazy")
    with pytest.raises(ImportError):
        module.build()
    calls = []

    class Built:
        def compile(self):
            calls.append("compile")
            return "compiled graph"

    def build_graph(plan, spec, runtime):
        calls.append((plan, spec, runtime))
        return Built()

    monkeypatch.setitem(sys.modules, "agent_factory.runtime.graph", types.SimpleNamespace(build_graph=build_graph))
    assert isinstance(module.build("my runtime"), Built)
    assert calls == [(module.PLAN, module.SPEC, "my runtime")]
    assert module.graph == "compiled graph"
    assert module.graph == "compiled graph"  # built once, on first access
    assert calls[1:] == [(module.PLAN, module.SPEC, None), "compile"]
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        module.nothing


def test_langgraph_json_names_the_graph_for_langgraph_tooling(at_repo_root, manager):
    files = emitted("specs/support_desk.md", manager)
    assert json.loads(files["support_desk/langgraph.json"]) == {
        "dependencies": ["."], "graphs": {"support_desk": "./graph.py:graph"}, "python_version": "3.12",
    }


def test_spec_ir_json_is_the_ir_backend_output(at_repo_root, manager):
    files = emitted("specs/billing.md", manager)
    (ir_text,) = compile("specs/billing.md", "ir", manager)[1].values()
    assert files["billing/spec.ir.json"] == ir_text


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
