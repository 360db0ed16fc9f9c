"""Run a spec: `run_spec(path_or_spec, inputs, ...) -> RunResult` (and `arun_spec`, its coroutine).

One run = one `Budget` (the spec's `max_cost_per_run`, capped by the tier's) and one `CostLedger`,
one `Router` (recording to / replaying from a cassette directory when asked), one `ToolRunner`, and
the spec's compiled graph. With `thread` the graph is checkpointed in SQLite (the project's
database in the user's data folder unless `checkpoint_db` says otherwise; read strictly, see
`checkpoints.py`): running again on the
same thread *without* inputs resumes an unfinished run from its last checkpoint (finished steps are
not run again), or, when the thread's run had finished, returns its last state without running
anything; running with inputs starts a new run on the thread, the earlier values still visible.

A failed run does not raise: its `RunResult.error` says why (the budget refusal, the replay miss,
the violated invariant, the step that failed); `result.raise_for_error()` raises it.
`run_spec` runs on the router's long-lived event loop (litellm binds its clients to one loop), so
call it from synchronous code; inside an event loop, await `arun_spec`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from agent_factory.compiler import GraphPlan, Spec, check, plan_graph

from .budget import Budget, compare_costs
from .checkpoints import open_checkpointer
from .config import RuntimeConfig
from .errors import AgentRuntimeError, ConfigError
from .factory import RunFactory
from .graph import fresh_run, shared_graph, with_run, with_saver
from .inputs import InputError, normalise_inputs, typed_inputs
from .nodes import Runtime, StepFailed
from .result import GuardResult, RunResult
from .router import Router, _background_loop
from .state import GUARDS, STEPS, TOOLS, state_keys
from .tools import ToolConfig, ToolContext, ToolRunner, resolve_tools

__all__ = ["InputError", "NoGraph", "SpecError", "arun_spec", "load_spec", "normalise_inputs", "run_spec",
           "typed_inputs"]

RECURSION_LIMIT = 1000  # loops are bounded by max_iterations; LangGraph's own limit (25) is too low for them


class SpecError(AgentRuntimeError):
    """The spec does not check clean (the message lists the diagnostics) or has no graph."""


class NoGraph(SpecError):
    """The spec checks clean but is not an Agent or Team (a Component or a Constitution)."""


def run_spec(path_or_spec: str | Path | Spec, inputs: Mapping[str, Any] | str | None, **options: Any) -> RunResult:
    """Run a spec synchronously. Options: `config` (RuntimeConfig or a path to agent-factory.toml),
    `replay` / `record` (cassette directory), `thread`, `tier`, `checkpoint_db`, `on_event`
    (called with a dict per progress event), `tool_config`, `tool_context`. See `arun_spec`."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _background_loop().run(arun_spec(path_or_spec, inputs, **options))
    raise RuntimeError("run_spec() was called inside a running event loop; await arun_spec() instead")


async def arun_spec(
    path_or_spec: str | Path | Spec,
    inputs: Mapping[str, Any] | str | None,
    *,
    config: RuntimeConfig | str | Path | None = None,
    replay: str | Path | None = None,
    record: str | Path | None = None,
    thread: str | None = None,
    tier: str | None = None,
    checkpoint_db: str | Path | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    tool_config: ToolConfig | None = None,
    tool_context: ToolContext | None = None,
) -> RunResult:
    """Run a spec (see the module doc); never raises for a failed run, only for misuse."""
    if replay is not None and record is not None:
        raise ValueError("give either replay or record, not both")
    try:
        spec, plan = load_spec(path_or_spec)
        values = typed_inputs(spec, normalise_inputs(inputs, plan, resuming=thread is not None, spec=spec))
        factory = RunFactory.load(spec, plan=plan, config=config, tool_config=tool_config, tier=tier)
        rt = factory.runtime(replay=replay, record=record, on_event=on_event, tool_context=tool_context)
    except (AgentRuntimeError, ValueError) as exc:
        name = path_or_spec.name if isinstance(path_or_spec, Spec) else str(path_or_spec)
        return RunResult(str(path_or_spec if not isinstance(path_or_spec, Spec) else path_or_spec.path), name,
                         {}, error=str(exc), error_type=type(exc).__name__, thread=thread)
    result = RunResult(spec.path, spec.name, values, thread=thread, tier=factory.tier)
    async with rt.tools:
        final = await _execute(rt, values, thread, checkpoint_db, result)
    result.state = final
    # outputs leave a run only once its guards passed: the guard node publishes them
    result.outputs = {} if result.error else {name: final.get(name) for name in plan.outputs if name in final}
    result.guards = rt.guards or [GuardResult(**g) for g in final.get(GUARDS) or []]
    result.ledger = list(rt.router.ledger.attempts)
    result.cost = compare_costs(rt.router.ledger, factory.config, factory.tier, factory.prices)
    result.tools_called = list(final.get(TOOLS) or [])
    result.steps = list(final.get(STEPS) or [])
    # the run's own clock, the one its `run.latency_s` guards read: it starts once the factory
    # has imported litellm and priced the aliases, so no latency includes that (seconds, once)
    result.latency_s = time.perf_counter() - rt.started
    return result


async def _execute(rt: Runtime, values: dict[str, Any], thread: str | None, db: str | Path | None,
                   result: RunResult) -> dict[str, Any]:
    """Run the graph; a failure is written to `result.error`. Returns the last state known."""
    run_config: dict[str, Any] = {"recursion_limit": RECURSION_LIMIT}
    async with AsyncExitStack() as stack:
        try:
            saver = await stack.enter_async_context(open_checkpointer(db)) if thread else None
        except ConfigError as exc:  # the checkpoint database cannot be opened
            result.error, result.error_type = str(exc), type(exc).__name__
            return {}
        graph = shared_graph(rt.plan, rt.spec, rt)
        if thread:
            run_config = with_saver({**run_config, "configurable": {"thread_id": thread}}, saver)
        try:
            payload = await _payload(graph, run_config, values, thread, rt)
            if payload is _NOTHING:  # a finished thread and no inputs: show where it stands, run nothing
                return dict((await graph.aget_state(run_config)).values)
        except (ValueError, ConfigError) as exc:  # nothing to resume, or a damaged checkpoint database
            result.error, result.error_type = str(exc), type(exc).__name__
            return {}
        final: dict[str, Any] = {}
        try:
            # each superstep's values are kept, so a failed run still shows the steps that ran
            async for values in graph.astream(payload, with_run(run_config, rt), stream_mode="values",
                                              output_keys=state_keys(rt.plan, rt.spec)):
                final = dict(values or {})
        except Exception as exc:  # noqa: BLE001 - every failure becomes the result's error, never a traceback
            result.error, result.error_type = _message(exc), type(exc).__name__
            if thread and not isinstance(exc, ConfigError):  # a damaged database would fail again
                final = dict((await graph.aget_state(run_config)).values)
        return final


_NOTHING = object()


async def _payload(graph: Any, run_config: dict[str, Any], values: dict[str, Any], thread: str | None,
                   rt: Runtime) -> Any:
    """What to invoke with: a fresh run of the inputs (`graph.fresh_run`), or None to resume a
    thread."""
    if values or not thread:
        return fresh_run(rt.plan, rt.spec, values)
    snapshot = await graph.aget_state(run_config)
    if not snapshot.values and not snapshot.next:
        thread_id = run_config["configurable"]["thread_id"]
        raise ValueError(f"no checkpointed run for thread '{thread_id}'; start one with --input")
    return None if snapshot.next else _NOTHING


def _message(exc: BaseException) -> str:
    if isinstance(exc, AgentRuntimeError):
        return str(exc)
    name = type(exc).__name__
    if name == "GraphRecursionError":
        return f"the graph did not finish within {RECURSION_LIMIT} steps (a loop without max_iterations?)"
    return f"internal error: {name}: {exc} (this is a bug; please report it)"


# ---------------------------------------------------------------- specs and inputs


def load_spec(path_or_spec: str | Path | Spec) -> tuple[Spec, GraphPlan]:
    """The checked spec and its plan; `SpecError` listing the diagnostics when it does not check."""
    if isinstance(path_or_spec, Spec):
        return path_or_spec, plan_graph(path_or_spec)
    path = Path(path_or_spec)
    return _load_cached(str(path), path.stat().st_mtime_ns if path.exists() else 0)


@lru_cache(maxsize=64)
def _load_cached(path: str, _mtime: int) -> tuple[Spec, GraphPlan]:
    checked = check(path)
    if not checked.ok:
        problems = [f"{d.span.file}:{d.span.line}:{d.span.column}: {d.severity.value}[{d.code}]: {d.message}"
                    for d in checked.diagnostics if d.severity.value == "error"]
        raise SpecError(f"{path} does not check clean:\n" + "\n".join(problems))
    try:
        return checked.spec, plan_graph(checked.spec)
    except ValueError as exc:
        raise NoGraph(f"{path}: {exc}; only Agent and Team specs can run") from None


# ---------------------------------------------------------------- nested runs (team members, agent steps)


MAX_NESTING = 8


async def run_nested(rt: Runtime, node: Any, state: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Run the spec of a member or `agent:` step inside this run: a child of this run's budget (its
    own limit, and every call also held in this run's, so never more than this run has left),
    this run's ledger and cassettes. Returns its outputs and tools."""
    if rt.prefix.count("/") >= MAX_NESTING:  # the compiler refuses cycles (E214); this bounds the rest
        raise StepFailed(f"step '{node.name}' ({rt.where(node.line)}): specs nested more than {MAX_NESTING} deep")
    try:
        spec, plan = nested_spec(rt, node.options["spec"])
    except (SpecError, OSError) as exc:
        raise StepFailed(f"step '{node.name}' ({rt.where(node.line)}): {exc}") from None
    values = _nested_inputs(plan, state, rt.plan.inputs)
    # the child's own limit, held together with this run's: one purse for the whole run tree
    budget = rt.router.budget.child(Budget.for_run(spec.model, rt.config, rt.tier).maximum)
    router = Router(rt.config, rt.router.ledger, budget, rt.router.replay, health=rt.router.health, prices=rt.router.prices)
    async with ToolRunner(resolve_tools(spec.tools), context=ToolContext(config=rt.tools.context.config,
                                                                           providers=rt.tools.context.providers)) as tools:
        child = Runtime(spec, plan, rt.config, router, tools, rt.tier, tape=rt.tape, on_event=rt.on_event,
                        prefix=f"{rt.prefix}{node.name}/", nested=rt.nested)
        graph = shared_graph(plan, spec, child)
        try:
            final = await graph.ainvoke(fresh_run(plan, spec, values),
                                        with_run({"recursion_limit": RECURSION_LIMIT}, child),
                                        output_keys=state_keys(plan, spec))
        finally:
            # named by the nested run's path, as its steps are in the ledger (`billing/agent`)
            rt.guards.extend(replace(g, run=g.run or child.prefix.rstrip("/")) for g in child.guards)
    return {name: final.get(name) for name in plan.outputs}, list(final.get(TOOLS) or [])


def nested_spec(rt: Runtime, path: str) -> tuple[Spec, GraphPlan]:
    """The spec a member or `agent:` step names: from the compiled output when it carries it
    (a generated application runs anywhere), else checked from its file."""
    carried = rt.nested.get(path)
    return (carried, plan_graph(carried)) if carried is not None else load_spec(path)


def _nested_inputs(plan: GraphPlan, state: dict[str, Any], parent_inputs: tuple[str, ...]) -> dict[str, Any]:
    """The nested spec's inputs by name from the state; a single unnamed input gets the parent's text."""
    values = {name: state[name] for name in plan.inputs if state.get(name) is not None}
    if not values and len(plan.inputs) == 1:
        texts = [str(state[name]) for name in parent_inputs if state.get(name) is not None]
        values = {plan.inputs[0]: "\n".join(texts)}
    return values
