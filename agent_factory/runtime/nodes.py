"""Node factories: one per `PlanNode.kind` (llm, tool, rules, agent, react, router, member, guard).

Each factory takes the node and the run's `Runtime` and returns an async LangGraph node: a
function from the run state to the update it writes. `graph.py` wraps every node with the
bookkeeping (visit counts, `max_iterations`, steps done, progress events).

Structured output: an LLM step is asked for a JSON object with its output fields (the JSON schema
of `state.output_model`, sent as `response_format`); the answer is validated with the same model.
An answer that is not JSON or does not validate gets exactly one repair request (the problem is sent
back); a second bad answer fails the run naming the step and the problem.

Guards before tool calls — the rule: an invariant with a `check:` guards the calls of tool T when
its check names one of T's argument names, either as `args.<name>` or as a bare `<name>` that is
not a field of the spec. Before each call of T those invariants are evaluated with the arguments
visible as `args.<name>` and as `<name>` (plus the run state and `run` facts); a violated MUST /
MUST NOT stops the run before the call, a violated SHOULD is a warning. These invariants are not
evaluated again by the final guard (the arguments are gone by then).

Guards before `tool:` steps: an invariant with a `check:` that names a field one of the step's
`args:` expressions reads (and nothing else but inputs and `run` facts, so it can be judged
then) is also evaluated on the state just before that step, so a value a MUST forbids never
leaves in a tool call; the final guard checks it again on the final state.

A failed tool call is not a tool called: `run.tools_called` lists the calls that succeeded.

Tool replay: with a replay (or record) directory, tool results are served from (or written to)
`<dir>/tools/<tool>-<key>.json`, keyed by the tool name and its canonical arguments, so a replayed
run is hermetic — a missing result fails loudly like an LLM replay miss.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from agent_factory.compiler import GraphPlan, Spec
from agent_factory.compiler.plan import GUARD, PlanNode

from .budget import SERVED
from .config import RuntimeConfig
from .errors import AgentRuntimeError
from .evaluate import EvaluationError, evaluate, expression, paths
from .prompts import fill, inputs_prompt, optional_fields, repair_message, system_prompt
from .result import GuardResult
from .router import Router
from .state import (GUARDS, MESSAGES, REFUSED, RESET, ROUTE, STAGED, STEPS, TOOLS, conversation, field_names,
                    output_model, response_format)
from .tools import ToolCall, ToolResult, ToolRunner
from .tools.tape import read_recorded, write_recorded

Node = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
DEFAULT_MAX_TOKENS = 1024
DEFAULT_TOOL_ROUNDS = 5


class StepFailed(AgentRuntimeError):
    """A step could not produce its outputs; the message names the step and its spec line."""


class GuardViolation(AgentRuntimeError):
    """A MUST / MUST NOT invariant does not hold: `invariant <ID> violated (<file>:<line>): <title>`."""

    def __init__(self, guard: GuardResult, suffix: str = "") -> None:
        self.guard = guard
        super().__init__(f"invariant {guard.id} violated ({guard.where}): {guard.title}{suffix}")


class ToolReplayMiss(AgentRuntimeError):
    """Replay found no recorded result for a tool call."""


# ---------------------------------------------------------------- the run's shared objects


@dataclass
class Runtime:
    """What every node of one run shares: the checked `spec` and its `plan`, the `config`, the
    run's `router` (budget and ledger inside), the `tools` runner, the `tier`, the tool `tape`
    (replay/record) and `on_event` (progress). `prefix` names the steps of a nested run; `nested`
    holds the specs of members and `agent:` steps by the path the plan names them with."""

    spec: Spec
    plan: GraphPlan
    config: RuntimeConfig
    router: Router
    tools: ToolRunner
    tier: str
    tape: ToolTape | None = None
    on_event: Callable[[dict[str, Any]], None] | None = None
    prefix: str = ""
    nested: Mapping[str, Spec] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    guards: list[GuardResult] = field(default_factory=list)
    tool_invariants: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    step_invariants: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.tool_invariants = _tool_invariants(self)
        self.step_invariants = _step_invariants(self)

    def where(self, line: int) -> str:
        return f"{self.spec.path}:{line}"

    def emit(self, **event: Any) -> None:
        if self.on_event is not None:
            self.on_event({"spec": self.spec.path, **event})

    def facts(self, state: dict[str, Any]) -> dict[str, Any]:
        """The `run.*` facts: cost so far, latency, tools called, steps done, the last model."""
        served = [a for a in self.router.ledger.attempts if a.outcome in SERVED]
        return {
            "cost_usd": float(self.router.ledger.total_cost),
            "latency_s": time.perf_counter() - self.started,
            "tools_called": list(state.get(TOOLS) or []),
            "steps": list(state.get(STEPS) or []),
            "model": served[-1].model if served else "",
        }

    def scope(self, state: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {**state, **extra, "run": self.facts(state)}


def _tool_invariants(rt: Runtime) -> dict[str, list[dict[str, Any]]]:
    """For each tool, the guarded invariants that name its arguments (see the module doc)."""
    guard = next((n for n in rt.plan.nodes if n.kind == "guard"), None)
    fields = set(field_names(rt.plan, rt.spec))
    found: dict[str, list[dict[str, Any]]] = {}
    for name, spec in rt.tools.tools.items():
        params = set((spec.parameters or {}).get("properties", {}))
        for inv in (guard.options.get("invariants", []) if guard else []):
            named = paths(expression(inv["check"], inv["file"], inv["line"]))
            if any((p[0] == "args" and len(p) > 1 and spec.accepts(p[1])) or (p[0] in params and p[0] not in fields)
                   for p in named):
                found.setdefault(name, []).append(inv)
    return found


def _step_invariants(rt: Runtime) -> dict[str, list[dict[str, Any]]]:
    """For each `tool:` step, the guarded invariants naming a field its arguments read."""
    guard = next((n for n in rt.plan.nodes if n.kind == "guard"), None)
    invariants = guard.options.get("invariants", []) if guard else []
    found: dict[str, list[dict[str, Any]]] = {}
    for node in rt.plan.nodes:
        if node.kind != "tool" or not invariants:
            continue
        read = {p[0] for source in node.options.get("args", {}).values()
                for p in paths(expression(source, rt.spec.path, node.line))}
        named = [inv for inv in invariants if _judges(inv, read, set(rt.plan.inputs))]
        if named:
            found[node.name] = named
    return found


def _judges(inv: dict[str, Any], read: set[str], inputs: set[str]) -> bool:
    """Whether `inv` can judge a step's arguments before it runs: it names a field they read,
    and nothing the step cannot know yet (only those fields, the inputs and `run` facts)."""
    named = {p[0] for p in paths(expression(inv["check"], inv["file"], inv["line"]))} - {"run"}
    return bool(named & read) and named <= read | inputs


# ---------------------------------------------------------------- tools


class ToolTape:
    """Tool results recorded beside the LLM cassettes (`mode` record or replay)."""

    def __init__(self, directory: str | Path, mode: str) -> None:
        self.directory = Path(directory) / "tools"
        self.mode = mode

    @staticmethod
    def canonical(name: str, args: dict[str, Any]) -> str:
        return json.dumps({"tool": name, "args": args}, sort_keys=True, ensure_ascii=False, default=str)

    def path(self, name: str, args: dict[str, Any]) -> Path:
        key = hashlib.sha256(self.canonical(name, args).encode("utf-8")).hexdigest()
        return self.directory / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}-{key[:16]}.json"

    async def call(self, runner: ToolRunner, step: str, name: str, args: dict[str, Any]) -> ToolResult:
        path = self.path(name, args)
        if self.mode == "replay":
            if not path.is_file():
                raise ToolReplayMiss(f"tool replay miss at step '{step}': no recorded result for "
                                     f"{self.canonical(name, args)} in {self.directory}")
            result = read_recorded(path)
            runner.calls.append(ToolCall(name=name, args=args, ok=result.ok, latency_s=0.0, error=result.error))
            return result
        result = await runner.call(name, args)
        body = {"tool": name, "args": args, "result": result.model_dump(mode="json", exclude={"latency_s"})}
        write_recorded(path, body)
        return result


async def call_tool(rt: Runtime, state: dict[str, Any], step: str, name: str, args: dict[str, Any]) -> ToolResult:
    """Check the invariants that guard `name`'s arguments, then call it (through the tape)."""
    view = rt.tools.guard_view(name, args)  # what the tool will receive, compared by value
    check_invariants(rt, rt.tools.applicable(name, args, rt.tool_invariants.get(name, [])), rt.scope(state, args=view, **view),
                     suffix=f" (before calling tool '{name}' in step '{step}')")
    if rt.tape is not None:
        return await rt.tape.call(rt.tools, rt.prefix + step, name, args)
    return await rt.tools.call(name, args)


# ---------------------------------------------------------------- guards


def check_invariants(rt: Runtime, invariants: list[dict[str, Any]], scope: dict[str, Any], suffix: str = "") -> None:
    """Evaluate `invariants` in `scope`, record each result, raise for the first violated MUST."""
    results = [_check_one(inv, scope) for inv in invariants]
    rt.guards.extend(results)
    failed = next((g for g in results if g.status == "failed"), None)
    if failed is not None:
        raise GuardViolation(failed, suffix)


def check_before(rt: Runtime, invariants: list[dict[str, Any]], scope: dict[str, Any], suffix: str) -> None:
    """Evaluate `invariants` before a `tool:` step: a violated MUST stops the run (and is
    recorded); what holds, or only warns, is left for the final guard to record."""
    failed = next((g for g in (_check_one(inv, scope) for inv in invariants) if g.status == "failed"), None)
    if failed is not None:
        rt.guards.append(failed)
        raise GuardViolation(failed, suffix)


def _check_one(inv: dict[str, Any], scope: dict[str, Any]) -> GuardResult:
    strict = not inv["modality"].startswith("SHOULD")
    try:
        holds, detail = bool(evaluate(expression(inv["check"], inv["file"], inv["line"]), scope)), ""
    except EvaluationError as exc:
        holds, detail = False, f"could not be evaluated: {exc}"
    status = "passed" if holds else ("failed" if strict else "warned")
    if not holds and not detail:
        detail = f"check `{inv['check']}` is false"
    return GuardResult(inv["id"], inv["title"], inv["modality"], status, inv["file"], inv["line"], inv["check"], detail)


def guard_node(node: PlanNode, rt: Runtime) -> Node:
    """Check every guarded invariant (except those that guard tool arguments) on the final state;
    when the MUSTs hold, publish the declared outputs and the answer to the conversation. When
    one does not, drop the staged outputs and mark the run refused: the next node fails it, so
    the refused values are not even in the thread's checkpoint."""
    before_tools = {inv["id"] for invs in rt.tool_invariants.values() for inv in invs}
    invariants = [inv for inv in node.options.get("invariants", []) if inv["id"] not in before_tools]
    outputs, chat = rt.plan.outputs, conversation(rt.plan, rt.spec)

    async def guard(state: dict[str, Any]) -> dict[str, Any]:
        start = len(rt.guards)
        try:
            check_invariants(rt, invariants, rt.scope(state))
        except GuardViolation as refused:
            return {STAGED: RESET, REFUSED: refused.guard.as_json(), GUARDS: [g.as_json() for g in rt.guards[start:]]}
        finally:
            rt.emit(event="guards", results=[g.as_json() for g in rt.guards[start:]])
        published = {name: state.get(name) for name in outputs}
        said = {MESSAGES: [answer_message(published)]} if chat else {}
        return {**published, GUARDS: [g.as_json() for g in rt.guards[start:]], **said}

    return guard


async def refuse(state: dict[str, Any]) -> dict[str, Any]:
    """The node after a guard that refused the run: fails it with the violated invariant."""
    raise GuardViolation(GuardResult(**state[REFUSED]))


def answer_message(outputs: dict[str, Any]) -> Any:
    """The outputs as the assistant's chat message: the one output's text, else `name: value` lines."""
    from langchain_core.messages import AIMessage

    return AIMessage(content=inputs_prompt(outputs, tuple(outputs)))


# ---------------------------------------------------------------- LLM steps


async def complete(rt: Runtime, step: str, task: str, messages: list[dict[str, Any]], **kwargs: Any) -> Any:
    """One routed LLM call with the spec's Model settings."""
    model = rt.spec.model
    return await rt.router.complete(
        rt.prefix + step, task, messages,
        max_tokens=(model.max_tokens if model and model.max_tokens else DEFAULT_MAX_TOKENS),
        temperature=model.temperature if model else None, tier=rt.tier,
        models=model.models if model else (), fallback=model.fallback if model else (),
        timeout=model.max_latency_s if model else None, **kwargs,
    )


def parse_output(content: str | None, model: type[BaseModel]) -> tuple[dict[str, Any] | None, str | None]:
    """The validated answer, or the problem with it (invalid JSON or the validation errors)."""
    text = _strip_fence(content or "")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON: {exc}"
    try:
        return model.model_validate(data).model_dump(mode="json"), None
    except ValidationError as exc:
        return None, "; ".join(_validation_problem(e) for e in exc.errors(include_url=False))


def _validation_problem(error: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in error["loc"]) or "answer"
    got = "" if error["type"] == "missing" else f" (got {json.dumps(error['input'], default=str)})"
    return f"{where}: {error['msg']}{got}"


def _strip_fence(text: str) -> str:
    match = re.fullmatch(r"\s*```(?:json)?\s*(.*?)\s*```\s*", text, re.DOTALL)
    return match.group(1) if match else text.strip()


async def converse(
    rt: Runtime, node: PlanNode, state: dict[str, Any], messages: list[dict[str, Any]], outputs: list[str],
    tool_names: list[str], max_rounds: int,
) -> tuple[dict[str, Any], list[str]]:
    """Ask until a valid structured answer comes: tool calls run in between (at most `max_rounds`
    rounds), one repair request for a bad answer. Returns the outputs and the tools called."""
    model = output_model(node.name, rt.spec, outputs)
    fmt = response_format(node.name, model)
    schemas = [rt.tools.tools[n].function_schema() for n in tool_names if n in rt.tools.tools] or None
    task = node.options.get("task", "simple")
    called: list[str] = []
    rounds, repaired = 0, False
    while True:
        answer = await complete(rt, node.name, task, messages, tools=schemas, response_format=fmt)
        if answer.tool_calls:
            rounds += 1
            if rounds > max_rounds:
                raise StepFailed(f"step '{node.name}' ({rt.where(node.line)}): still calling tools after "
                                 f"{max_rounds} rounds (max_iterations {max_rounds})")
            messages.append(answer.message())
            for call in answer.tool_calls:
                message, ok = await _tool_message(rt, state, node.name, call)
                messages.append(message)
                called += [call.name] if ok else []
            continue
        value, problem = parse_output(answer.content, model)
        if problem is None:
            return value or {}, called
        if repaired:
            raise StepFailed(f"step '{node.name}' ({rt.where(node.line)}): the model's answer is not valid "
                             f"structured output after one repair attempt: {problem}")
        repaired = True
        messages += [{"role": "assistant", "content": answer.content or ""},
                     {"role": "user", "content": repair_message(problem)}]


async def _tool_message(rt: Runtime, state: dict[str, Any], step: str, call: Any) -> tuple[dict[str, Any], bool]:
    """The tool's answer to the model, and whether the call succeeded."""
    try:
        args = call.args()
    except ValueError as exc:
        result = ToolResult(ok=False, error=str(exc))
    else:
        result = await call_tool(rt, state, step, call.name, args)
    return {"role": "tool", "tool_call_id": call.id, "content": result.text()}, result.ok


def llm_node(node: PlanNode, rt: Runtime) -> Node:
    """An `llm:` step: its prompt filled from the state, a structured answer with its outputs,
    a tool-calling loop when it lists `tools`."""
    outputs = list(node.options.get("outputs", ()))
    tools = list(node.options.get("tools", ()))
    rounds = int(node.options.get("max_iterations") or DEFAULT_TOOL_ROUNDS)

    async def llm(state: dict[str, Any]) -> dict[str, Any]:
        prompt = node.options.get("prompt") or ""
        text = (fill(prompt, state, step=node.name, where=rt.where(node.line), optional=optional_fields(rt.spec)) if prompt
                else inputs_prompt(state, rt.plan.inputs))
        messages = [{"role": "system", "content": system_prompt(rt.spec, outputs)}, {"role": "user", "content": text}]
        values, called = await converse(rt, node, state, messages, outputs, tools, rounds)
        return {**values, TOOLS: called}

    return llm


def react_node(node: PlanNode, rt: Runtime) -> Node:
    """The one step of a spec without a Workflow: the inputs as the user message, the spec's
    tools in a tool-calling loop, the spec's outputs as the structured answer."""
    return llm_node(node, rt)


# ---------------------------------------------------------------- deterministic steps


def tool_node(node: PlanNode, rt: Runtime) -> Node:
    """A `tool:` step: arguments evaluated from the state, one call, the result to its outputs."""
    outputs = list(node.options.get("outputs", ()))

    async def tool(state: dict[str, Any]) -> dict[str, Any]:
        scope = rt.scope(state)
        check_before(rt, rt.step_invariants.get(node.name, []), scope,
                     suffix=f" (before step '{node.name}' called tool '{node.options['tool']}')")
        args = {name: evaluate(expression(source, rt.spec.path, node.line), scope)
                for name, source in node.options.get("args", {}).items()}
        args = {k: float(v) if hasattr(v, "as_tuple") else v for k, v in args.items()}  # Decimal → JSON number
        result = await call_tool(rt, state, node.name, node.options["tool"], args)
        if not result.ok:
            raise StepFailed(f"step '{node.name}' ({rt.where(node.line)}): tool '{node.options['tool']}' failed: {result.error}")
        return {**_tool_outputs(outputs, result.content), TOOLS: [node.options["tool"]]}

    return tool


def _tool_outputs(outputs: list[str], content: Any) -> dict[str, Any]:
    if len(outputs) > 1 and isinstance(content, dict):
        return {name: content.get(name) for name in outputs}
    return {outputs[0]: content} if outputs else {}


def rules_node(node: PlanNode, rt: Runtime) -> Node:
    """A `rules:` step: the decision table, first match wins; the verdict to the first output,
    the filled message (when the rule has one) to the second. No LLM."""
    table = rt.spec.rule_table(node.options["table"])
    outputs = list(node.options.get("outputs", ()))
    if table is None:
        raise StepFailed(f"step '{node.name}' ({rt.where(node.line)}): no rule table '{node.options['table']}'")

    async def rules(state: dict[str, Any]) -> dict[str, Any]:
        scope = rt.scope(state)
        for rule in table.rules:
            if rule.otherwise or (rule.when is not None and evaluate(rule.when, scope)):
                update = {outputs[0]: rule.verdict} if outputs else {}
                if rule.message and len(outputs) > 1:
                    update[outputs[1]] = fill(rule.message, state, step=node.name, where=rt.where(rule.span.line),
                                           optional=optional_fields(rt.spec))
                return update
        raise StepFailed(f"step '{node.name}' ({rt.where(node.line)}): no rule of '{table.name}' matched "
                         "and the table has no `otherwise`")

    return rules


# ---------------------------------------------------------------- teams and sub-agents


def router_node(node: PlanNode, rt: Runtime) -> Node:
    """A Team's router: writes `route`, the member that answers."""
    routes: dict[str, list[str]] = node.options.get("routes", {})
    default = node.options.get("default")

    async def route(state: dict[str, Any]) -> dict[str, Any]:
        text = inputs_prompt(state, rt.plan.inputs)
        if node.options.get("strategy") == "llm":
            chosen = await _ask_router(rt, node, text, routes, default)
        else:
            chosen = keyword_route(text, routes, default)
        rt.emit(event="route", step=node.name, member=chosen)
        return {ROUTE: chosen}

    return route


def keyword_route(text: str, routes: dict[str, list[str]], default: str | None) -> str | None:
    """The member whose route words occur most often in `text` (whole words, any case); ties go
    to the first member; no word at all goes to `default`."""
    lowered = text.lower()
    counts = {member: sum(len(re.findall(rf"\b{re.escape(w.lower())}\b", lowered)) for w in words)
              for member, words in routes.items()}
    best = max(counts.values(), default=0)
    if best == 0:
        return default
    return next(member for member, count in counts.items() if count == best)


async def _ask_router(rt: Runtime, node: PlanNode, text: str, routes: dict[str, list[str]], default: str | None) -> str | None:
    described = node.options.get("descriptions", {})
    menu = "\n".join(f"- {m}: {described.get(m) or ', '.join(routes[m])}" for m in routes)
    messages = [
        {"role": "system", "content": f"You route messages for {rt.spec.name}. Members:\n{menu}\n"
                                      "Reply with the name of the one member that should answer, and nothing else."},
        {"role": "user", "content": text},
    ]
    answer = await complete(rt, node.name, "classification", messages)
    name = (answer.content or "").strip().strip("`\"'.").lower()
    return next((m for m in routes if m.lower() == name), default)


def member_node(node: PlanNode, rt: Runtime) -> Node:
    """A Team member: its spec run as a nested run; every output it returns is written."""
    async def member(state: dict[str, Any]) -> dict[str, Any]:
        from .executor import run_nested

        outputs, tools = await run_nested(rt, node, state)
        known = set(field_names(rt.plan, rt.spec))
        return {**{k: v for k, v in outputs.items() if k in known}, TOOLS: tools}

    return member


def agent_node(node: PlanNode, rt: Runtime) -> Node:
    """An `agent:` step: another spec run as a nested run; its outputs go to the step's outputs
    (by name, or the only output to the only declared output)."""
    outputs = list(node.options.get("outputs", ()))

    async def agent(state: dict[str, Any]) -> dict[str, Any]:
        from .executor import run_nested

        produced, tools = await run_nested(rt, node, state)
        if len(outputs) == 1 and outputs[0] not in produced:
            only = list(produced.values())
            return {outputs[0]: only[0] if len(only) == 1 else produced, TOOLS: tools}
        return {**{name: produced.get(name) for name in outputs}, TOOLS: tools}

    return agent


FACTORIES: dict[str, Callable[[PlanNode, Runtime], Node]] = {
    "llm": llm_node, "react": react_node, "tool": tool_node, "rules": rules_node, "agent": agent_node,
    "router": router_node, "member": member_node, "guard": guard_node,
}


def make_node(node: PlanNode, rt: Runtime) -> Node:
    """The node function of `node` (KeyError for an unknown kind)."""
    return FACTORIES[node.kind](node, rt)


__all__ = [
    "FACTORIES", "GUARD", "GuardViolation", "Runtime", "StepFailed", "ToolReplayMiss", "ToolTape",
    "check_invariants", "keyword_route", "make_node", "parse_output",
]
