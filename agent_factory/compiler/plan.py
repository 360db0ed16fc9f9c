"""Graph plans: a checked spec lowered to the nodes and edges of an executable graph.

A `GraphPlan` is plain data. The runtime applies it to a LangGraph `StateGraph` (the
in-memory builder), and the `langgraph` backend renders the same plan as a short Python
module, so the generated code and the in-memory graph cannot drift apart.

Node kinds (`PlanNode.kind`) and what the runtime's node factory for each does:
- `llm`: one LLM call (or a tool-calling loop when `tools` is set) writing `outputs`;
- `tool`: one tool call with `args` (expression sources) writing `outputs`;
- `rules`: runs the rule table `table` without an LLM, writing verdict and message;
- `agent`: runs another spec (`spec`) as a subgraph, writing its outputs;
- `react`: the single tool-using step of a spec without a Workflow;
- `router`: a Team's router choosing a member (`strategy`, `routes`, `default`);
- `member`: a Team member (`spec`), run as a subgraph;
- `guard`: checks the runtime invariants before the outputs leave the graph.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .ir import Spec, Step

START = "START"
END = "END"
GUARD = "__guard__"
ROUTER = "__router__"
REACT = "agent"


@dataclass(frozen=True)
class PlanNode:
    """One node: `name`, `kind` (see the module doc), the spec `line` it comes from, and the
    factory `options` (JSON-able: outputs, prompt, tools, args, table, spec, ...)."""

    name: str
    kind: str
    line: int
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlanEdge:
    """`sources` → `target`. Several sources make a join: the target waits for all of them."""

    sources: tuple[str, ...]
    target: str
    line: int


@dataclass(frozen=True)
class PlanRoute:
    """One branch of a conditional edge: go to `target` when `condition` (an expression
    source, evaluated against the run state) holds; `condition=None` is `otherwise`."""

    condition: str | None
    target: str
    line: int


@dataclass(frozen=True)
class PlanBranch:
    """The conditional edges leaving `source`, tried in order (first match wins)."""

    source: str
    routes: tuple[PlanRoute, ...]


@dataclass(frozen=True)
class GraphPlan:
    """A whole graph: the spec it comes from, its input and output field names, nodes,
    plain edges, conditional branches, and loop limits (`max_iterations` per node)."""

    spec_path: str
    spec_name: str
    kind: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    nodes: tuple[PlanNode, ...]
    edges: tuple[PlanEdge, ...]
    branches: tuple[PlanBranch, ...] = ()
    max_iterations: dict[str, int] = field(default_factory=dict)

    def node(self, name: str) -> PlanNode:
        return next(n for n in self.nodes if n.name == name)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (for templates and tests)."""
        return asdict(self)


def plan_graph(spec: "Spec") -> GraphPlan:
    """Lower a checked Agent or Team spec to its graph plan (Components and Constitutions
    have no graph: ValueError)."""
    if spec.kind == "team":
        return _team(spec)
    if spec.kind != "agent":
        raise ValueError(f"a {spec.kind} spec has no graph")
    nodes, edges, branches = (_workflow(spec) if spec.workflow else _react(spec))
    guard = _guard(spec)
    return GraphPlan(
        spec_path=spec.path, spec_name=spec.name, kind=spec.kind, inputs=_inputs(spec), outputs=_outputs(spec),
        nodes=(*nodes, guard), edges=(*edges, PlanEdge((GUARD,), END, guard.line)), branches=branches,
        max_iterations={s.name: s.max_iterations for s in (spec.workflow.steps if spec.workflow else ()) if s.max_iterations},
    )


def _section_line(spec: "Spec", *keys: str) -> int:
    """The line of the first of these sections the spec has (the title's line otherwise)."""
    for key in keys:
        ref = next((r for r in spec.sections if r.key == key), None)
        if ref is not None:
            return ref.span.line
    return spec.span.line


def _guard(spec: "Spec") -> PlanNode:
    """The guard node; it comes from the Invariants section (or the constitution's)."""
    return PlanNode(GUARD, "guard", _section_line(spec, "invariants"), {"invariants": _guarded(spec)})


def _inputs(spec: "Spec") -> tuple[str, ...]:
    return tuple(f.name for f in spec.inputs) or ("query",)


def _outputs(spec: "Spec") -> tuple[str, ...]:
    return tuple(f.name for f in spec.outputs) or ("answer",)


def _guarded(spec: "Spec") -> list[dict[str, Any]]:
    """The invariants with a `check:`, in spec order, for the guard node."""
    return [
        {"id": inv.id, "title": inv.title, "modality": inv.modality or "MUST", "check": inv.check.source,
         "line": inv.span.line, "file": inv.span.file}
        for inv in spec.invariants if inv.check is not None
    ]


def _step_node(spec: "Spec", step: "Step") -> PlanNode:
    options: dict[str, Any] = {"outputs": list(step.outputs)}
    if step.kind == "llm":
        options.update(task=step.target, prompt=step.prompt or "", tools=list(step.tools))
    elif step.kind == "tool":
        options.update(tool=step.target, args={a.name: a.value.source for a in step.args})
    elif step.kind == "rules":
        options.update(table=step.target)
    else:
        options.update(spec=_relative(spec, step.target))
    if step.max_iterations:
        options["max_iterations"] = step.max_iterations
    return PlanNode(step.name, step.kind, step.span.line, options)


def _relative(spec: "Spec", target: str) -> str:
    """A path named in a spec, relative to the spec's folder, as a path from the working directory."""
    from pathlib import PurePosixPath

    folder = PurePosixPath(spec.path).parent
    return str(folder / target) if str(folder) not in ("", ".") else target


def _end(target: str) -> str:
    return GUARD if target == END else target


def _workflow(spec: "Spec") -> tuple[list[PlanNode], list[PlanEdge], tuple[PlanBranch, ...]]:
    nodes = [_step_node(spec, step) for step in spec.workflow.steps]
    edges: list[PlanEdge] = []
    routes: dict[str, list[PlanRoute]] = {}
    for edge in spec.workflow.edges:
        if edge.when is None and not edge.otherwise:
            edges.extend(PlanEdge(edge.sources, _end(t), edge.span.line) for t in edge.targets)
            continue
        for source in edge.sources:
            for target in edge.targets:
                route = PlanRoute(None if edge.otherwise else edge.when.source, _end(target), edge.span.line)
                routes.setdefault(source, []).append(route)
    branches = tuple(
        PlanBranch(source, tuple(sorted(items, key=lambda r: r.condition is None)))
        for source, items in routes.items()
    )
    return nodes, edges, branches


def _react(spec: "Spec") -> tuple[list[PlanNode], list[PlanEdge], tuple[PlanBranch, ...]]:
    task = spec.model.task if spec.model and spec.model.task else "simple"
    # a spec without a Workflow is one ReAct step: it comes from the Tools section (or the Purpose)
    line = _section_line(spec, "tools", "purpose")
    node = PlanNode(REACT, "react", line, {
        "task": task, "tools": [t.name for t in spec.tools], "outputs": list(_outputs(spec)), "max_iterations": 5,
    })
    return [node], [PlanEdge((START,), REACT, line), PlanEdge((REACT,), GUARD, line)], ()


def _team(spec: "Spec") -> GraphPlan:
    routing = spec.routing
    default = routing.default if routing and routing.default else (spec.members[0].name if spec.members else None)
    router = PlanNode(ROUTER, "router", routing.span.line if routing else _section_line(spec, "members"), {
        "strategy": routing.strategy if routing else "keyword",
        "routes": {m.name: list(m.routes) for m in spec.members},
        "descriptions": {m.name: m.description for m in spec.members},
        "default": default,
    })
    members = [PlanNode(m.name, "member", m.span.line, {"spec": _relative(spec, m.path)}) for m in spec.members]
    branch = PlanBranch(ROUTER, tuple(
        PlanRoute(f'route == "{m.name}"', m.name, m.span.line) for m in spec.members if m.name != default
    ) + ((PlanRoute(None, default, router.line),) if default else ()))
    guard = _guard(spec)
    edges = [PlanEdge((START,), ROUTER, router.line), *(PlanEdge((m.name,), GUARD, m.line) for m in members),
             PlanEdge((GUARD,), END, guard.line)]
    return GraphPlan(spec_path=spec.path, spec_name=spec.name, kind="team", inputs=_inputs(spec),
                     outputs=_outputs(spec), nodes=(router, *members, guard), edges=tuple(edges), branches=(branch,))
