"""Apply a `GraphPlan` to a LangGraph `StateGraph`.

- every `PlanNode` becomes a node (its factory from `nodes.py`, wrapped with the bookkeeping:
  visit counts, `max_iterations`, steps done, progress events);
- a `PlanEdge` with one source is `add_edge(a, b)`; with several it is a join,
  `add_edge([a, b], c)`: `c` runs once all of them have finished; `START → a, b, c` is three edges,
  so `a`, `b`, `c` run in the same superstep, concurrently;
- a `PlanBranch` is `add_conditional_edges`: its routes are tried in order with the evaluator
  against the state (and `run` facts), the first that holds wins, `None` is `otherwise`.

A node whose name is also a state field (a step `verdict` writing the output `verdict`) gets the
LangGraph name `verdict·step`, since LangGraph keeps one namespace for both; events and
`run.steps` still use the spec's name.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from langgraph.graph import END, START, StateGraph

from agent_factory.compiler import GraphPlan, Spec
from agent_factory.compiler.plan import END as PLAN_END, START as PLAN_START, PlanBranch, PlanNode

from .errors import AgentRuntimeError
from .evaluate import expression, truthy
from .nodes import GUARD, Node, Runtime, StepFailed, make_node
from .state import STEPS, VISITS, field_names, state_schema


class LoopLimitExceeded(AgentRuntimeError):
    """A step ran more often than its `max_iterations`."""


def node_ids(plan: GraphPlan, spec: Spec) -> dict[str, str]:
    """The LangGraph name of each plan node (see the module doc)."""
    taken = set(field_names(plan, spec))
    return {n.name: (f"{n.name}·step" if n.name in taken else n.name) for n in plan.nodes}


def build_graph(plan: GraphPlan, spec: Spec, runtime: Runtime | None = None) -> StateGraph:
    """The (uncompiled) `StateGraph` of `plan`, its nodes bound to `runtime` (None: `default_runtime`)."""
    runtime = runtime or default_runtime(plan, spec)
    ids = node_ids(plan, spec)
    graph = StateGraph(state_schema(plan, spec))
    for node in plan.nodes:
        graph.add_node(ids[node.name], _wrapped(node, make_node(node, runtime), runtime, plan))
    for edge in plan.edges:
        sources = [_endpoint(s, ids) for s in edge.sources]
        graph.add_edge(sources[0] if len(sources) == 1 else sources, _endpoint(edge.target, ids))
    for branch in plan.branches:
        targets = {route.target: _endpoint(route.target, ids) for route in branch.routes}
        graph.add_conditional_edges(ids[branch.source], _chooser(branch, runtime), targets)
    return graph


def default_runtime(plan: GraphPlan, spec: Spec, config: Any = None) -> Runtime:
    """A runtime for a graph used on its own (a generated `graph.py` under `langgraph dev`):
    `agent-factory.toml` (or the defaults), the spec's tier and budget, the spec's tools.
    Its budget, ledger and guard results are shared by every invocation of that graph; for one
    budget per run use `run_spec`."""
    from .budget import Budget, CostLedger
    from .config import load_config
    from .router import Router
    from .tools import ToolRunner, resolve_tools

    config = config or load_config()
    tier = spec.model.tier if spec.model and spec.model.tier else config.router.default_tier
    router = Router(config, CostLedger(), Budget.for_run(spec.model, config, tier))
    return Runtime(spec, plan, config, router, ToolRunner(resolve_tools(spec.tools)), tier)


def compile_spec_graph(plan: GraphPlan, spec: Spec, runtime: Runtime, checkpointer: Any = None) -> Any:
    """`build_graph(...).compile(checkpointer=...)`: the runnable graph, bound to `runtime`."""
    return build_graph(plan, spec, runtime).compile(checkpointer=checkpointer)


# ---------------------------------------------------------------- one compiled graph per spec

_CURRENT: ContextVar[Runtime] = ContextVar("agent_factory_runtime")


class CurrentRuntime:
    """Stands in for the runtime of the run in progress (set with `using`). Graphs compiled by
    `shared_graph` hold this instead of one run's runtime, so one compiled graph serves every
    run of a spec: compiling costs more than the rest of a run's bookkeeping together."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        return getattr(_CURRENT.get(), name)


CURRENT = CurrentRuntime()


@contextmanager
def using(runtime: Runtime) -> Iterator[Runtime]:
    """Make `runtime` the one `CURRENT` stands for, in this task and the tasks it starts."""
    token = _CURRENT.set(runtime)
    try:
        yield runtime
    finally:
        _CURRENT.reset(token)


_SHARED: dict[tuple, Any] = {}


def shared_graph(plan: GraphPlan, spec: Spec, runtime: Runtime, checkpointer: Any = None) -> Any:
    """The compiled graph of `spec`, built once per spec (path and hashes) and checkpointer kind;
    run it inside `using(runtime)`. A graph with a checkpointer is compiled for that saver."""
    key = (spec.path, spec.sha256, spec.constitution.sha256 if spec.constitution else None)
    graph = None if checkpointer is not None else _SHARED.get(key)
    if graph is None:
        with using(runtime):  # factories read spec-derived values from the runtime while building
            graph = build_graph(plan, spec, CURRENT).compile(checkpointer=checkpointer)  # type: ignore[arg-type]
        if checkpointer is None:
            _SHARED[key] = graph
    return graph


def _endpoint(name: str, ids: dict[str, str]) -> str:
    if name == PLAN_START:
        return START
    if name == PLAN_END:
        return END
    return ids[name]


def _chooser(branch: PlanBranch, rt: Runtime) -> Any:
    def choose(state: dict[str, Any]) -> str:
        scope = rt.scope(state)
        for route in branch.routes:
            if route.condition is None or truthy(expression(route.condition, rt.spec.path, route.line), scope):
                rt.emit(event="branch", step=branch.source, target=route.target, condition=route.condition)
                return route.target
        raise StepFailed(f"step '{branch.source}' ({rt.where(branch.routes[0].line)}): no condition of its "
                         "outgoing edges holds and none is `otherwise`")

    return choose


def _wrapped(node: PlanNode, fn: Node, rt: Runtime, plan: GraphPlan) -> Node:
    return _StepNode(node, fn, rt, plan.max_iterations.get(node.name))


class _StepNode:
    """A plan node as LangGraph runs it: counts visits (for `max_iterations`), reports progress
    events and records the step. A callable object rather than a closure: LangGraph inspects a
    closure's bytecode for nested graphs on every compile, which cost most of a run's overhead."""

    __slots__ = ("node", "fn", "rt", "limit", "internal", "__name__")

    def __init__(self, node: PlanNode, fn: Node, rt: Runtime, limit: int | None) -> None:
        self.node, self.fn, self.rt, self.limit = node, fn, rt, limit
        self.internal = node.name.startswith("__")
        self.__name__ = node.name

    async def __call__(self, state: dict[str, Any]) -> dict[str, Any]:
        node, rt = self.node, self.rt
        visits = (state.get(VISITS) or {}).get(node.name, 0) + 1
        if self.limit and visits > self.limit:
            raise LoopLimitExceeded(f"step '{node.name}' ({rt.where(node.line)}) would run a {_nth(visits)} time, "
                                    f"past its max_iterations: {self.limit}")
        rt.emit(event="start", step=rt.prefix + node.name, kind=node.kind)
        started = time.perf_counter()
        try:
            update = dict(await self.fn(state) or {})
        except Exception as exc:
            rt.emit(event="error", step=rt.prefix + node.name, kind=node.kind, error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            raise
        rt.emit(event="end", step=rt.prefix + node.name, kind=node.kind, elapsed=time.perf_counter() - started,
                update={k: v for k, v in update.items() if not k.startswith("__")})
        update[VISITS] = {node.name: 1}
        if not self.internal:
            update[STEPS] = [node.name]
        return update


def _nth(count: int) -> str:
    suffix = "th" if 10 <= count % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(count % 10, "th")
    return f"{count}{suffix}"


__all__ = ["CURRENT", "GUARD", "LoopLimitExceeded", "build_graph", "compile_spec_graph", "default_runtime", "node_ids",
           "shared_graph", "using"]
