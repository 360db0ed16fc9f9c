"""Apply a `GraphPlan` to a LangGraph `StateGraph`, and compile it to an `AgentGraph`.

- every `PlanNode` becomes a node (its factory from `nodes.py`, wrapped with the bookkeeping:
  visit counts, `max_iterations`, steps done, progress events, staged outputs);
- a run starts with `fresh_run(inputs)` as its input: besides the inputs it empties the run's
  bookkeeping channels (a thread's next run counts its own visits, steps and tools), clears the
  outputs of the run before, and adds the inputs to the conversation — written with the input,
  so starting a run costs no superstep of its own;
- a `PlanEdge` with one source is `add_edge(a, b)`; with several it is a join,
  `add_edge([a, b], c)`: `c` runs once all of them have finished; `START → a, b, c` is three edges,
  so `a`, `b`, `c` run in the same superstep, concurrently;
- a `PlanBranch` is `add_conditional_edges`: its routes are tried in order with the evaluator
  against the state (and `run` facts), the first that holds wins, `None` is `otherwise`.

A node whose name is also a state field (a step `verdict` writing the output `verdict`) gets the
LangGraph name `verdict·step`, since LangGraph keeps one namespace for both; events and
`run.steps` still use the spec's name.

One compiled graph serves every run of its spec. The run's `Runtime` (budget, ledger, guards,
clock, tools) travels in the LangGraph config (`with_run`); each node makes it the one `CURRENT`
stands for while it runs. `AgentGraph.astream` — which `ainvoke`, `invoke`, `stream`, LangGraph's
server and `astream_events` all go through — opens a fresh run when the caller did not bring one.
"""

from __future__ import annotations

import queue
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from pydantic import BaseModel, Field, create_model

from agent_factory.compiler import GraphPlan, Spec
from agent_factory.compiler.plan import END as PLAN_END, START as PLAN_START, PlanBranch, PlanNode

from .errors import AgentRuntimeError
from .evaluate import expression, truthy
from .factory import RunFactory
from .inputs import graph_input
from .nodes import GUARD, Node, Runtime, StepFailed, make_node, refuse
from .prompts import inputs_prompt
from .state import (BOOKKEEPING, GUARDS, MESSAGES, REFUSED, RESET, STAGED, STEPS, VISITS, conversation,
                    field_names, input_schema, output_model, output_schema, state_schema)

REFUSE = "__refuse__"
RUN_KEY = "__agent_factory_run__"
"""The config key holding the run's `Runtime` (`__`-prefixed: LangGraph keeps such keys out of
checkpoint metadata)."""


class LoopLimitExceeded(AgentRuntimeError):
    """A step ran more often than its `max_iterations`."""


class NoRun(AgentRuntimeError):
    """A graph without a `RunFactory` was run without a run in its config."""


def node_ids(plan: GraphPlan, spec: Spec) -> dict[str, str]:
    """The LangGraph name of each plan node (see the module doc)."""
    taken = set(field_names(plan, spec))
    return {n.name: (f"{n.name}·step" if n.name in taken else n.name) for n in plan.nodes}


def build_graph(plan: GraphPlan, spec: Spec, runtime: Runtime) -> StateGraph:
    """The (uncompiled) `StateGraph` of `plan`. Node factories read spec-derived values from
    `runtime` while building; when running, each node uses the run in its config."""
    ids = node_ids(plan, spec)
    graph = StateGraph(state_schema(plan, spec), input_schema=input_schema(plan, spec),
                       output_schema=output_schema(plan, spec))
    with using(runtime):
        for node in plan.nodes:
            graph.add_node(ids[node.name], _StepNode(node, make_node(node, CURRENT), plan))  # type: ignore[arg-type]
    graph.add_node(REFUSE, refuse)
    for edge in plan.edges:
        sources = [_endpoint(s, ids) for s in edge.sources]
        if edge.sources == (GUARD,) and edge.target == PLAN_END:  # a refused run ends in REFUSE instead
            graph.add_conditional_edges(ids[GUARD], _after_guard, {REFUSE: REFUSE, END: END})
            continue
        graph.add_edge(sources[0] if len(sources) == 1 else sources, _endpoint(edge.target, ids))
    for branch in plan.branches:
        targets = {route.target: _endpoint(route.target, ids) for route in branch.routes}
        graph.add_conditional_edges(ids[branch.source], _Chooser(branch), targets)
    return graph


def compile_graph(factory: RunFactory | None, plan: GraphPlan, spec: Spec, runtime: Runtime,
                  checkpointer: Any = None) -> AgentGraph:
    """The runnable graph of `plan`: an `AgentGraph` opening runs from `factory` (None: every
    caller must bring its run, as `agent-factory run` and nested runs do)."""
    compiled = build_graph(plan, spec, runtime).compile(checkpointer=checkpointer)
    attrs = {k: v for k, v in compiled.__dict__.items() if k != "__orig_class__"}
    return AgentGraph(factory=factory, **attrs)


def agent_graph(factory: RunFactory, checkpointer: Any = None) -> AgentGraph:
    """The graph of `factory`'s spec, each invocation a fresh run of it (the generated module's
    `graph`, and anyone's `graph.invoke`)."""
    return compile_graph(factory, factory.plan, factory.spec, factory.runtime(), checkpointer)


# ---------------------------------------------------------------- the run in progress

_CURRENT: ContextVar[Runtime] = ContextVar("agent_factory_runtime")


class CurrentRuntime:
    """Stands in for the runtime of the run in progress (set with `using`). Graphs hold this
    instead of one run's runtime, so one compiled graph serves every run of a spec: compiling
    costs more than the rest of a run's bookkeeping together."""

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


def run_of(config: Any) -> Runtime | None:
    """The run carried by a LangGraph config, if any."""
    return ((config or {}).get("configurable") or {}).get(RUN_KEY)


def with_run(config: Any, runtime: Runtime) -> dict[str, Any]:
    """`config` (a LangGraph config, or None) carrying `runtime` as its run."""
    merged = dict(config or {})
    merged["configurable"] = {**(merged.get("configurable") or {}), RUN_KEY: runtime}
    return merged


def _run_in(config: Any) -> Runtime:
    runtime = run_of(config)
    if runtime is None:
        raise NoRun("this graph runs only with a run in its config (agent_factory.runtime.graph.with_run)")
    return runtime


class AgentGraph(CompiledStateGraph):
    """A compiled spec graph that gives each invocation its own run (see the module doc), checks
    its inputs before anything runs, and shows the spec's typed Inputs and Outputs as its schemas."""

    def __init__(self, *, factory: RunFactory | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.factory = factory

    async def astream(self, input: Any, config: Any = None, **kwargs: Any) -> AsyncIterator[Any]:  # type: ignore[override]
        # what streams out is what the output schema declares, as LangGraph's server asks for:
        # never the staged outputs or the bookkeeping (LangGraph's own default is every channel)
        if kwargs.get("output_keys") is None:
            kwargs["output_keys"] = self.output_channels
        if run_of(config) is not None or self.factory is None:  # the caller owns the run
            async for chunk in super().astream(input, config, **kwargs):
                yield chunk
            return
        if input is not None and _is_input(input):
            plan, spec = self.factory.plan, self.factory.spec
            input = fresh_run(plan, spec, graph_input(input, plan, spec))
        async with self.factory.open() as runtime:
            async for chunk in super().astream(input, with_run(config, runtime), **kwargs):
                yield chunk

    def stream(self, input: Any, config: Any = None, **kwargs: Any) -> Iterator[Any]:  # type: ignore[override]
        """`astream` on the runtime's own event loop (litellm binds its clients to one loop)."""
        import asyncio

        from .router import _background_loop

        chunks: queue.Queue[tuple[str, Any]] = queue.Queue()

        async def pump() -> None:
            try:
                async for chunk in self.astream(input, config, **kwargs):
                    chunks.put(("chunk", chunk))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                chunks.put(("error", exc))
            else:
                chunks.put(("done", None))

        future = asyncio.run_coroutine_threadsafe(pump(), _background_loop().loop)
        try:
            while True:
                kind, value = chunks.get()
                if kind == "chunk":
                    yield value
                elif kind == "error":
                    raise value
                else:
                    return
        finally:
            future.cancel()

    def get_input_jsonschema(self, config: Any = None) -> dict[str, Any]:
        return self._io_models()[0].model_json_schema()

    def get_output_jsonschema(self, config: Any = None) -> dict[str, Any]:
        return self._io_models()[1].model_json_schema()

    def get_input_schema(self, config: Any = None) -> type[BaseModel]:
        return self._io_models()[0]

    def get_output_schema(self, config: Any = None) -> type[BaseModel]:
        return self._io_models()[1]

    def _io_models(self) -> tuple[type[BaseModel], type[BaseModel]]:
        spec = self.factory.spec if self.factory else None
        if spec is None:
            return super().get_input_schema(), super().get_output_schema()
        return io_models(self.factory.plan, spec)


def _is_input(value: Any) -> bool:
    from langgraph.types import Command

    return not isinstance(value, Command)


def io_models(plan: GraphPlan, spec: Spec) -> tuple[type[BaseModel], type[BaseModel]]:
    """The typed input and output models of a spec's graph: its declared Inputs (required
    unless optional, with types, ranges, enums and descriptions), and its declared Outputs with
    the guard results and the conversation."""
    said = (list[dict[str, Any]] | None, Field(None, description="the conversation (chat views send and read this)"))
    guards = (list[dict[str, Any]] | None, Field(None, alias=GUARDS,
              description="each invariant checked: id, title, modality, status, file, line, check, detail"))
    base_in = output_model("inputs", spec, list(plan.inputs))
    base_out = output_model("outputs", spec, list(plan.outputs))
    name = "".join(part.capitalize() for part in "".join(c if c.isalnum() else " " for c in plan.spec_name).split())
    chat = {MESSAGES: said} if conversation(plan, spec) else {}
    inputs = create_model(f"{name}Input", __base__=base_in, **chat)  # type: ignore[call-overload]
    outputs = create_model(f"{name}Output", __base__=base_out, guards=guards, **chat)  # type: ignore[call-overload]
    return inputs, outputs


def _endpoint(name: str, ids: dict[str, str]) -> str:
    if name == PLAN_START:
        return START
    if name == PLAN_END:
        return END
    return ids[name]


class _Chooser:
    """A branch's condition, tried on the run's values (declared outputs included while staged)."""

    __slots__ = ("branch", "__name__")

    def __init__(self, branch: PlanBranch) -> None:
        self.branch = branch
        self.__name__ = f"{branch.source}·branch"

    async def __call__(self, state: dict[str, Any], config: RunnableConfig) -> str:  # async: no thread hop
        branch, rt = self.branch, _run_in(config)
        scope = rt.scope(visible(state))
        for route in branch.routes:
            if route.condition is None or truthy(expression(route.condition, rt.spec.path, route.line), scope):
                rt.emit(event="branch", step=branch.source, target=route.target, condition=route.condition)
                return route.target
        raise StepFailed(f"step '{branch.source}' ({rt.where(branch.routes[0].line)}): no condition of its "
                         "outgoing edges holds and none is `otherwise`")


async def _after_guard(state: dict[str, Any]) -> str:
    return REFUSE if state.get(REFUSED) else END


def visible(state: dict[str, Any]) -> dict[str, Any]:
    """The run's values as steps, conditions and guards see them: staged outputs included."""
    staged = state.get(STAGED)
    return {**state, **staged} if staged else state


def fresh_run(plan: GraphPlan, spec: Spec, inputs: dict[str, Any]) -> dict[str, Any]:
    """The input that starts a run (see the module doc): `inputs` (checked and typed), the
    bookkeeping emptied, the last run's outputs cleared, the question added to the conversation."""
    from langchain_core.messages import HumanMessage

    start: dict[str, Any] = {name: RESET for name in BOOKKEEPING}
    start[GUARDS] = []
    start[REFUSED] = None
    start.update({name: None for name in plan.outputs if name not in inputs})
    asked = inputs_prompt(inputs, plan.inputs) if conversation(plan, spec) else ""
    if asked:
        start[MESSAGES] = [HumanMessage(content=asked)]
    return {**start, **inputs}


class _StepNode:
    """A plan node as LangGraph runs it: runs the node with its run made current, counts visits
    (for `max_iterations`), reports progress events, records the step, and stages the declared
    outputs it writes (only the guard node publishes them). A callable object rather than a
    closure: LangGraph inspects a closure's bytecode for nested graphs on every compile, which
    cost most of a run's overhead."""

    __slots__ = ("node", "fn", "limit", "internal", "staged", "__name__")

    def __init__(self, node: PlanNode, fn: Node, plan: GraphPlan) -> None:
        self.node, self.fn, self.limit = node, fn, plan.max_iterations.get(node.name)
        self.internal = node.name.startswith("__")
        self.staged = frozenset(plan.outputs) if node.kind != "guard" else frozenset()
        self.__name__ = node.name

    async def __call__(self, state: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
        node, rt = self.node, _run_in(config)
        visits = (state.get(VISITS) or {}).get(node.name, 0) + 1
        if self.limit and visits > self.limit:
            raise LoopLimitExceeded(f"step '{node.name}' ({rt.where(node.line)}) would run a {_nth(visits)} time, "
                                    f"past its max_iterations: {self.limit}")
        rt.emit(event="start", step=rt.prefix + node.name, kind=node.kind)
        started = time.perf_counter()
        try:
            with using(rt):
                update = dict(await self.fn(visible(state)) or {})
        except Exception as exc:
            rt.emit(event="error", step=rt.prefix + node.name, kind=node.kind, error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            raise
        staged = {k: update.pop(k) for k in self.staged.intersection(update)}
        rt.emit(event="end", step=rt.prefix + node.name, kind=node.kind, elapsed=time.perf_counter() - started,
                update={k: v for k, v in update.items() if not k.startswith("__") and k != MESSAGES})
        if staged:
            update[STAGED] = staged
        update[VISITS] = {node.name: 1}
        if not self.internal:
            update[STEPS] = [node.name]
        return update


def _nth(count: int) -> str:
    suffix = "th" if 10 <= count % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(count % 10, "th")
    return f"{count}{suffix}"


# ---------------------------------------------------------------- one compiled graph per spec

_SHARED: OrderedDict[tuple, AgentGraph] = OrderedDict()  # least recently used first
SHARED_MAX = 256  # a hosted worker runs many specs (each stored version is one): bounded


def shared_graph(plan: GraphPlan, spec: Spec, runtime: Runtime) -> AgentGraph:
    """The compiled graph of `spec`, built once per spec (path and hashes) with no checkpointer;
    its callers bring their run (`with_run`) and, for a thread, their saver in the config
    (`with_saver`). `runtime` is read while building."""
    key = (spec.path, spec.sha256, spec.constitution.sha256 if spec.constitution else None)
    graph = _SHARED.get(key)
    if graph is None:
        graph = _SHARED[key] = compile_graph(None, plan, spec, runtime)
        while len(_SHARED) > SHARED_MAX:
            _SHARED.popitem(last=False)
    else:
        _SHARED.move_to_end(key)
    return graph


def with_saver(config: dict[str, Any], saver: Any) -> dict[str, Any]:
    """`config` checkpointing with `saver`, the way LangGraph lends a parent's saver to its
    subgraphs: a shared graph (compiled without one) then serves checkpointed runs too, so a
    thread's run does not compile the graph again."""
    from langgraph.constants import CONFIG_KEY_CHECKPOINTER

    return {**config, "configurable": {**config.get("configurable", {}), CONFIG_KEY_CHECKPOINTER: saver}}


__all__ = ["CURRENT", "GUARD", "AgentGraph", "LoopLimitExceeded", "NoRun", "agent_graph", "build_graph",
           "compile_graph", "fresh_run", "io_models", "node_ids", "run_of", "shared_graph", "using", "visible", "with_run",
           "with_saver"]
