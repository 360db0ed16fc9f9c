"""The `langgraph` backend: an Agent or Team spec compiles to a LangGraph application folder.

For a spec `<stem>.md` it writes, relative to the output directory:

- `<stem>/graph.py`: a short Python module (template `templates/graph.py.j2`) that loads the
  spec from its sibling `spec.ir.json`, declares the graph plan literally (one `PlanNode`,
  `PlanEdge` or `PlanRoute` per line, each with a `# spec: path:line` comment) and builds the
  graph from the runtime's node factories (`agent_factory.runtime.graph.build_graph`, imported
  only when the graph is built, so the module imports without the runtime);
- `<stem>/spec.ir.json`: the IR it was generated from (the `ir` backend's `ir_json`);
- `<stem>/langgraph.json`: the LangGraph configuration file, so `langgraph dev` (and the rest
  of LangGraph's tooling) loads the graph as `./graph.py:graph`.

The plan written into `graph.py` is `plan_graph(spec)`, value for value, so the generated
module and the in-memory builder make the same graph. Output is deterministic: mappings are
written with sorted keys, plan sequences in plan order, no timestamps.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agent_factory.compiler import hookimpl
from agent_factory.compiler.ir import Spec
from agent_factory.compiler.passes import Backend, CompileContext
from agent_factory.compiler.plan import GraphPlan, PlanBranch, plan_graph
from agent_factory.compiler.provenance import header_lines
from agent_factory.plugins.backend_ir import ir_json
from agent_factory.plugins.templates import render
from agent_factory.runtime.generated import IR_FILE  # the file a generated module loads

TARGET = "langgraph"
MODULE_FILE = "graph.py"
CONFIG_FILE = "langgraph.json"
PYTHON_VERSION = "3.12"


def emit_app(spec: Spec) -> dict[str, str]:
    """The application folder of an Agent or Team `spec`: relative file name → text, sorted by
    name. Raises ValueError for specs without a graph (the capability check rejects them first)."""
    stem = Path(spec.path).stem
    plan = plan_graph(spec)
    files = {
        f"{stem}/{MODULE_FILE}": render_module(spec, plan),
        f"{stem}/{IR_FILE}": ir_json(spec),
        f"{stem}/{CONFIG_FILE}": langgraph_config(stem),
    }
    return dict(sorted(files.items()))


def langgraph_config(stem: str) -> str:
    """`langgraph.json`: the folder is the dependency, the graph is `graph.py`'s `graph`."""
    config = {
        "dependencies": ["."],
        "graphs": {stem: f"./{MODULE_FILE}:graph"},
        "python_version": PYTHON_VERSION,
    }
    return json.dumps(config, indent=2, sort_keys=True) + "\n"


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
            description="a LangGraph application (graph.py + spec.ir.json + langgraph.json) per Agent or Team spec",
            emit=emit,
            # every graph the language can describe; components and constitutions have no graph
            features=ALL_FEATURES - {"component", "constitution"},
        )
    ]
