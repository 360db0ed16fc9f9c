"""The `mermaid` backend: an Agent or Team spec compiles to `<stem>.mmd`, a Mermaid flowchart
of its graph plan (template `templates/graph.mmd.j2`).

The chart reads top-down (`flowchart TD`): START and END are stadium nodes, each node's label
gives its name and kind (and what it runs), agent steps and team members are subroutine
boxes, the team router a rhombus and the invariant guard a hexagon naming the invariants it
checks. A join (`a, b → c`) is one `a & b --> c` line; a conditional edge is labelled with its
condition (or `otherwise`). Every node and edge is preceded by a `%% spec: path:line` comment
(Mermaid has no end-of-line comments) and the file starts with the provenance header.
Output is deterministic: nodes and edges in plan order, which follows the spec.
"""

from __future__ import annotations

import re
from pathlib import Path

from agent_factory.compiler import hookimpl
from agent_factory.compiler.ir import Spec
from agent_factory.compiler.passes import Backend, CompileContext
from agent_factory.compiler.plan import END, START, GraphPlan, PlanNode, plan_graph
from agent_factory.compiler.provenance import header_lines
from agent_factory.plugins.templates import render

TARGET = "mermaid"
# ids LangGraph's own Mermaid drawings use for the entry and exit
IDS = {START: "__start__", END: "__end__"}
# words the flowchart parser takes as keywords, so they cannot be node ids
RESERVED = frozenset({"end", "graph", "flowchart", "subgraph", "direction", "style", "linkstyle", "classdef",
                      "class", "click", "call", "href", "default"})
# node kind -> (opening, closing) of its shape
SHAPES = {"agent": ("[[", "]]"), "member": ("[[", "]]"), "router": ("{", "}"), "guard": ("{{", "}}")}
RECTANGLE = ("[", "]")
# node kind -> the option that says what it runs, shown under the kind
DETAIL = {"llm": "task", "react": "task", "tool": "tool", "rules": "table", "agent": "spec", "member": "spec",
          "router": "strategy"}
# Mermaid entity codes for the characters that would end or confuse a quoted label
ESCAPES = (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"))


def emit_chart(spec: Spec) -> dict[str, str]:
    """`{"<stem>.mmd": text}` for an Agent or Team `spec` (ValueError for specs without a graph)."""
    return {f"{Path(spec.path).stem}.mmd": render_chart(spec, plan_graph(spec))}


def render_chart(spec: Spec, plan: GraphPlan) -> str:
    """The Mermaid text of `plan` (which must be `plan_graph(spec)`)."""
    where = spec.path
    nodes = [{"code": _terminal(START), "where": None}]
    nodes += [{"code": _node(node), "where": f"{where}:{node.line}"} for node in plan.nodes]
    nodes.append({"code": _terminal(END), "where": None})
    edges = [{"code": f"{' & '.join(node_id(s) for s in edge.sources)} --> {node_id(edge.target)}",
              "where": f"{where}:{edge.line}"} for edge in plan.edges]
    for branch in plan.branches:
        edges += [{"code": f'{node_id(branch.source)} -->|"{label(route.condition or "otherwise")}"| '
                           f"{node_id(route.target)}", "where": f"{where}:{route.line}"} for route in branch.routes]
    return render("graph.mmd.j2", header=header_lines(spec), nodes=nodes, edges=edges)


def node_id(name: str) -> str:
    """The Mermaid id of a plan node: its name, unless that is START/END or a keyword."""
    if name in IDS:
        return IDS[name]
    if name.lower() in RESERVED or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        return "n_" + re.sub(r"\W", "_", name)
    return name


def label(text: str) -> str:
    """`text` safe inside a double-quoted Mermaid label."""
    for raw, code in ESCAPES:
        text = text.replace(raw, code)
    return text


def _terminal(name: str) -> str:
    return f'{node_id(name)}(["{name}"])'


def _node(node: PlanNode) -> str:
    opening, closing = SHAPES.get(node.kind, RECTANGLE)
    title, detail = _describe(node)
    return f'{node_id(node.name)}{opening}"{label(title)}<br/>{label(detail)}"{closing}'


def _describe(node: PlanNode) -> tuple[str, str]:
    """The two label lines: the name and the kind with what the node runs; the compiler's own
    nodes (router, guard) by their kind, with their strategy or the invariants they check."""
    if node.kind == "guard":
        ids = [inv["id"] for inv in node.options.get("invariants", ())]
        return "guard", f"checks {', '.join(ids)}" if ids else "no checks"
    detail = node.options.get(DETAIL.get(node.kind, ""))
    if node.kind == "router":
        return "router", f"{detail} routing"
    return node.name, f"{node.kind}: {detail}" if detail else node.kind


def emit(spec: Spec, ctx: CompileContext) -> dict[str, str]:
    """The backend's `emit`: the flowchart of `spec` (see `emit_chart`)."""
    return emit_chart(spec)


@hookimpl
def af_register_backends() -> list[Backend]:
    from agent_factory.plugins.capabilities import ALL_FEATURES

    return [
        Backend(
            name=TARGET,
            description="a Mermaid flowchart (<stem>.mmd) of each Agent or Team spec's graph",
            emit=emit,
            # every graph the language can describe; components and constitutions have no graph
            features=ALL_FEATURES - {"component", "constitution"},
        )
    ]
