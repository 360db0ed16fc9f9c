"""The `langgraph` target: Agent and Team specs compile to one LangGraph application folder.

For a spec `<stem>.md` it writes, relative to the output directory:

- `<stem>/graph.py`: a short Python module (template `templates/graph.py.j2`) that loads the
  spec from its sibling `spec.ir.json`, declares the graph plan literally (one `PlanNode`,
  `PlanEdge` or `PlanRoute` per line, each with a `# spec: path:line` comment) and builds its
  module-level `graph` from them with the runtime (`agent_factory.runtime.generated`);
- `<stem>/spec.ir.json`: the IR it was generated from (the `ir` backend's document), plus under
  `nested` the IR of every spec its Team members and `agent:` steps run, so the folder runs
  without the Markdown it came from.

And once per compile, for the whole folder (`combine`):

- `langgraph.json`: LangGraph's configuration, naming every graph (`./<stem>/graph.py:graph`),
  paths relative to it, the dependencies that install `agent-factory`, and `env`;
- `agent-factory.toml`: the configuration the graphs run with — a copy of the working folder's,
  else the embedded defaults (edit it, or point `AGENT_FACTORY_CONFIG` at another).

So `agent-factory compile specs/ --target langgraph -o out && cd out && langgraph dev` serves
every agent. The plan written into `graph.py` is `plan_graph(spec)`, value for value. Output is
deterministic: mappings are written with sorted keys, plan sequences in plan order, no timestamps.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agent_factory import __version__
from agent_factory.compiler import hookimpl
from agent_factory.compiler.ir import Spec
from agent_factory.compiler.passes import Backend, CompileContext
from agent_factory.compiler.plan import GraphPlan, PlanBranch, plan_graph
from agent_factory.compiler.provenance import header_lines
from agent_factory.plugins.backend_ir import ir_json
from agent_factory.plugins.templates import render
from agent_factory.runtime.config_view import CONFIG_FILENAME
from agent_factory.runtime.generated import IR_FILE, NESTED_KEY  # the file a generated module loads

TARGET = "langgraph"
MODULE_FILE = "graph.py"
CONFIG_FILE = "langgraph.json"
PYTHON_VERSION = "3.12"
NESTED_KINDS = ("member", "agent")


def emit_app(spec: Spec) -> dict[str, str]:
    """The files of an Agent or Team `spec`: relative file name → text, sorted by name. Raises
    ValueError for specs without a graph (the capability check rejects them first)."""
    stem = Path(spec.path).stem
    plan = plan_graph(spec)
    files = {
        f"{stem}/{MODULE_FILE}": render_module(spec, plan),
        f"{stem}/{IR_FILE}": app_ir_json(spec, plan),
    }
    return dict(sorted(files.items()))


def app_ir_json(spec: Spec, plan: GraphPlan) -> str:
    """`spec.ir.json`: the `ir` target's document, with the nested specs under `nested`."""
    nested = nested_specs(plan)
    if not nested:
        return ir_json(spec)
    document = json.loads(ir_json(spec))
    document[NESTED_KEY] = {path: found.model_dump(mode="json") for path, found in sorted(nested.items())}
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def nested_specs(plan: GraphPlan, found: dict[str, Spec] | None = None) -> dict[str, Spec]:
    """Every spec the plan's members and `agent:` steps run, and the specs those run, by the
    path the plans name them with (specs that do not check are left for the run to report)."""
    from agent_factory.compiler import check

    found = {} if found is None else found
    for node in plan.nodes:
        path = node.options.get("spec") if node.kind in NESTED_KINDS else None
        if path is None or path in found or not Path(path).is_file():
            continue
        result = check(path)
        if result.ok and result.spec is not None and result.spec.kind in ("agent", "team"):
            found[path] = result.spec
            nested_specs(plan_graph(result.spec), found)
    return found


def combine(files: dict[str, str]) -> dict[str, str]:
    """The folder-wide files of one compile: `langgraph.json` naming every graph emitted, and
    the `agent-factory.toml` they run with."""
    stems = sorted(name.split("/", 1)[0] for name in files if name.endswith(f"/{MODULE_FILE}"))
    return {CONFIG_FILE: langgraph_config(stems), CONFIG_FILENAME: runtime_config_text()}


def langgraph_config(stems: list[str]) -> str:
    """`langgraph.json`: every graph by its spec's stem, paths relative to this file."""
    config = {
        # the folder itself (the graphs' modules) and the runtime they import
        "dependencies": [".", f"agent-factory=={__version__}"],
        # litellm reads its bundled price map instead of fetching one when it is imported
        "env": {"LITELLM_LOCAL_MODEL_COST_MAP": "True"},
        "graphs": {stem: f"./{stem}/{MODULE_FILE}:graph" for stem in stems},
        "python_version": PYTHON_VERSION,
    }
    return json.dumps(config, indent=2, sort_keys=True) + "\n"


def runtime_config_text() -> str:
    """The working folder's `agent-factory.toml`, else the embedded defaults."""
    from agent_factory.runtime.config import default_config_text

    local = Path(CONFIG_FILENAME)
    return local.read_text(encoding="utf-8") if local.is_file() else default_config_text()


def render_module(spec: Spec, plan: GraphPlan) -> str:
    """The text of `graph.py` for `plan` (which must be `plan_graph(spec)`)."""
    where = spec.path
    fields = {"spec_path": plan.spec_path, "spec_name": plan.spec_name, "kind": plan.kind,
              "inputs": plan.inputs, "outputs": plan.outputs}
    return render(
        "graph.py.j2",
        header=header_lines(spec),
        title=_docstring_text(f"{plan.spec_name}: the LangGraph graph of the {plan.kind} spec {plan.spec_path}."),
        ir_file=IR_FILE,
        imports=", ".join(["GraphPlan", *(["PlanBranch"] if plan.branches else []), "PlanEdge", "PlanNode",
                           *(["PlanRoute"] if plan.branches else [])]),
        fields=[f"{name}={py_literal(value, 4, 5 + len(name))}," for name, value in fields.items()],
        nodes=[_entry("PlanNode", (n.name, n.kind, n.line, n.options), f"{where}:{n.line}", 8) for n in plan.nodes],
        edges=[_entry("PlanEdge", (e.sources, e.target, e.line), f"{where}:{e.line}", 8) for e in plan.edges],
        branches=[_branch(b, where) for b in plan.branches],
        max_iterations=py_literal(plan.max_iterations, 4, 4 + len("max_iterations=")),
    )


def _branch(branch: PlanBranch, where: str) -> dict[str, Any]:
    routes = [_entry("PlanRoute", (r.condition, r.target, r.line), f"{where}:{r.line}", 12) for r in branch.routes]
    return {"source": py_literal(branch.source), "routes": routes}


def _entry(constructor: str, args: tuple, where: str, indent: int) -> str:
    """One constructor call starting a line at `indent`, with a trailing comma and a
    `# spec: path:line` comment on its first line; only its last argument may wrap."""
    head = "".join(f"{py_literal(a)}, " for a in args[:-1])
    opening = f"{constructor}({head}"
    lines = f"{opening}{py_literal(args[-1], indent, indent + len(opening))}),".split("\n")
    lines[0] += f"  # spec: {where}"
    return "\n".join(lines)


WIDTH = 110


def py_literal(value: Any, indent: int = 0, column: int | None = None) -> str:
    """`value` (JSON-like data, tuples included) as a Python literal, dict keys sorted. A
    container that would run past `WIDTH` (starting at `column`) is written one item a line,
    the items at `indent` + 4 and the closing bracket at `indent`."""
    flat = _flat(value)
    start = indent if column is None else column
    if start + len(flat) <= WIDTH or not isinstance(value, (dict, list, tuple)) or not value:
        return flat
    inner = indent + 4
    if isinstance(value, dict):
        items = [f"{_flat(k)}: {py_literal(value[k], inner, inner + len(_flat(k)) + 2)}" for k in sorted(value)]
    else:
        items = [py_literal(v, inner) for v in value]
    opening, closing = {dict: "{}", list: "[]", tuple: "()"}[type(value)]
    return opening + "\n" + "".join(f"{' ' * inner}{item},\n" for item in items) + " " * indent + closing


def _flat(value: Any) -> str:
    """`value` as a one-line Python literal."""
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, str):
        return _py_str(value)
    if isinstance(value, tuple):
        items = [_flat(v) for v in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if isinstance(value, list):
        return f"[{', '.join(_flat(v) for v in value)}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_flat(k)}: {_flat(value[k])}" for k in sorted(value)) + "}"
    raise TypeError(f"cannot write a {type(value).__name__} as a Python literal")


def _py_str(text: str) -> str:
    """`repr`, but double-quoted when the text holds no double quote (the house style)."""
    literal = repr(text)
    if literal.startswith("'") and '"' not in text:
        # repr chose single quotes, so the text holds no `'`: nothing inside needs re-escaping
        literal = f'"{literal[1:-1]}"'
    return literal


def _docstring_text(text: str) -> str:
    """`text` made safe inside a triple-quoted docstring."""
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def emit(spec: Spec, ctx: CompileContext) -> dict[str, str]:
    """The backend's `emit`: the application folder of `spec` (see `emit_app`)."""
    return emit_app(spec)


@hookimpl
def af_register_backends() -> list[Backend]:
    from agent_factory.plugins.capabilities import ALL_FEATURES

    return [
        Backend(
            name=TARGET,
            description="a LangGraph application: graph.py + spec.ir.json per Agent or Team spec, one langgraph.json",
            emit=emit,
            combine=combine,
            # every graph the language can describe; components and constitutions have no graph
            features=ALL_FEATURES - {"component", "constitution"},
        )
    ]
