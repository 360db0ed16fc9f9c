"""Static worst-case cost of a run (analyse stage) and the table `agent-factory cost` prints.

For each execution path of the workflow (a spec without a Workflow is one ReAct step over its
tools) the estimate is: LLM calls × (prompt tokens + max output tokens) × price per token.

- LLM calls: the most the runtime can make. An `llm:` step answers once, plus one repair
  request for an invalid answer (2); a step that may call tools (and the implicit ReAct step)
  makes up to `max_iterations` tool-calling rounds (default `DEFAULT_TOOL_ROUNDS`), then its
  answer and the repair (rounds + 2); `tool:` and `rules:` steps make none. On a path that
  loops, each step of the loop counts as many times as it may run: the smallest
  `max_iterations` of the steps of that loop (the runtime fails a step run more often). A loop
  left only by a `when` condition has no bound, and its path is marked incomplete.
  `agent:` steps run another spec whose cost is not included: such paths are marked incomplete.
- Prompt tokens: the rendered prompt (purpose, scope, rules, outputs, the step's prompt and its
  tools' descriptions) at `CHARS_PER_TOKEN` characters a token. Input values are not known
  statically, so `{placeholders}` count as written; every tool-loop call is counted with the
  same prompt (tool results are not known either).
- Max output tokens: the Model section's `max_tokens`, else `DEFAULT_MAX_TOKENS`.
- Models: those the routing allows for the step's task (the tier's models, the spec's `models`
  allow-list, the aliases serving the task in `agent-factory.toml`). `$ min` prices every call at
  the cheapest of them (the router's first choice), `$ max` at the dearest (a fallback).
- Prices: an alias's own prices from `agent-factory.toml`, else litellm's bundled cost map, read
  as plain JSON (no litellm import, no network).

The budget check (W701) compares the most expensive path at the cheapest allowed model with the
run budget the runtime enforces: the spec's `max_cost_per_run` (already merged with the
constitution's ceiling), capped by its tier's `max_cost_per_run` in `agent-factory.toml`; a spec
that sets none is compared with its tier's.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cache
from importlib.util import find_spec
from pathlib import Path

from agent_factory import usercache
from agent_factory.compiler import hookimpl
from agent_factory.compiler.diagnostics import Collector
from agent_factory.compiler.ir import Spec, Step, Workflow
from agent_factory.compiler.passes import CompileContext, Pass, PassResult
from agent_factory.compiler.span import Span
from agent_factory.compiler.typing_ import flow

DEFAULT_MAX_TOKENS = 1024
# the runtime's bounds (agent_factory.runtime.nodes; a test keeps the two in step)
DEFAULT_TOOL_ROUNDS = 5
REPAIR_CALLS = 1
DEFAULT_TASK = "simple"
CHARS_PER_TOKEN = 4
MAX_PATHS = 256
REACT_STEP = "agent"
COST_MAP_FILE = "model_prices_and_context_window_backup.json"
ZERO = Decimal(0)


@hookimpl
def af_register_passes() -> list[Pass]:
    return [Pass(name="cost", stage="analyse", order=50, run=run)]


def run(spec: Spec, ctx: CompileContext) -> PassResult:
    out = Collector()
    found = estimate(spec, ctx)
    if found is not None and found.limit is not None and found.worst is not None and found.worst.usd_min > found.limit:
        worst = found.worst
        whose = "max_cost_per_run" if found.limit_source == "spec" else f"the {found.limit_source}'s max_cost_per_run"
        raise_it = "max_cost_per_run" if found.limit_source == "spec" else f"the {found.limit_source}'s budget (agent-factory.toml)"
        out.add("W701", f"the worst-case cost of a run is ${money(worst.usd_min)}, above {whose} ${money(found.limit)}"
                f" (path {worst.display()}: {worst.calls} LLM calls at the cheapest allowed model)",
                found.limit_span, hint=f"raise {raise_it}, lower max_tokens or max_iterations, or allow a cheaper model;"
                " the runtime budget refuses the call that would cross the limit; see `agent-factory cost`")
    return PassResult(diagnostics=tuple(out.items))


# ---------------------------------------------------------------- execution paths


@dataclass(frozen=True)
class Execution:
    """One way through the workflow: `waves` of steps that run together (fan-out), whether it
    reaches END (`ended`) and whether it takes an edge back to a step that already ran (`loops`)."""

    waves: tuple[tuple[str, ...], ...]
    ended: bool
    loops: bool = False

    @property
    def steps(self) -> tuple[str, ...]:
        return tuple(name for wave in self.waves for name in wave)

    def display(self) -> str:
        """`START → a, b → c → END`."""
        parts = ["START", *(", ".join(wave) for wave in self.waves)]
        return " → ".join([*parts, "END"] if self.ended else parts)


def executions(spec: Spec) -> list[Execution]:
    """Every execution path of the spec (at most `MAX_PATHS`); a spec without a Workflow has one."""
    if spec.workflow is None:
        return [Execution(waves=((REACT_STEP,),), ended=True)]
    return _walk_all(spec.workflow)


def _walk_all(workflow: Workflow) -> list[Execution]:
    order = {s.name: i for i, s in enumerate(workflow.steps)}
    found: list[Execution] = []

    def choices(node: str, ran: set[str]) -> list[set[str]]:
        ready = [e for e in workflow.edges if node in e.sources and all(s in ran for s in e.sources)]
        fixed = {t for e in ready if e.when is None and not e.otherwise for t in e.targets}
        branches = [e for e in ready if e.when is not None or e.otherwise]
        return [fixed | set(e.targets) for e in branches] if branches else [fixed]

    def walk(ran: tuple[str, ...], waves: tuple, frontier: tuple[str, ...], ended: bool, loops: bool) -> None:
        if len(found) >= MAX_PATHS:
            return
        done = (*ran, *frontier)
        if not frontier:
            found.append(Execution(waves, ended, loops))
            return
        for combo in itertools.product(*(choices(n, set(done)) for n in frontier)):
            targets = set().union(*combo)
            new = tuple(sorted((t for t in targets if t in order and t not in done), key=order.__getitem__))
            looped = loops or any(t in done for t in targets if t in order)
            walk(done, (*waves, new) if new else waves, new, ended or "END" in targets, looped)

    walk((), (), ("START",), False, False)
    return found


# ---------------------------------------------------------------- prices and routing


@dataclass(frozen=True)
class Price:
    """Dollars per prompt and per completion token of one alias."""

    alias: str
    model: str
    input: Decimal
    output: Decimal

    def cost(self, tokens_in: int, tokens_out: int) -> Decimal:
        return self.input * tokens_in + self.output * tokens_out


@cache
def cost_map_path() -> Path | None:
    """litellm's bundled cost map file, None without litellm (litellm itself is not imported)."""
    spec = find_spec("litellm")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / COST_MAP_FILE
    return path if path.is_file() else None


@cache
def cost_map_text() -> str:
    """litellm's bundled cost map as text, "" without litellm."""
    path = cost_map_path()
    return path.read_text(encoding="utf-8") if path is not None else ""


@cache
def cost_map() -> dict:
    """The whole cost map, parsed (about 20 ms: 3 MB of JSON)."""
    text = cost_map_text()
    return json.loads(text) if text else {}


@cache
def cost_entry(model: str) -> dict | None:
    """The cost map's entry for `model`, without parsing the whole map when it need not.

    A check prices a handful of models, and parsing all 3 MB would cost more than the rest of
    the check. litellm's file is pretty-printed with 4 spaces, so a top-level key starts a line
    with exactly 4 spaces (a JSON string cannot hold a raw newline): that object alone is parsed,
    the last one when a key is repeated (as `json.loads` keeps the last). A key absent from the
    text has no entry. Anything else (another layout, a key spelt with escapes) parses the map."""
    text = cost_map_text()
    key = json.dumps(model)
    if key not in text and model.isascii():
        return None
    at = text.rfind(f"\n    {key}: {{") if text.startswith('{\n    "') else -1
    if at < 0:
        return cost_map().get(model)
    value, _ = json.JSONDecoder().raw_decode(text, at + len(f"\n    {key}: "))
    return value


def model_price(model: str) -> tuple[Decimal, Decimal] | None:
    """(input, output) dollars per token of a litellm model name, or None when unpriced.

    Reading the 3 MB cost map and finding a model in it took a tenth of a check's start, and
    a check prices the same few models every time: each answer is kept in the user cache
    (`agent_factory.usercache`, `prices/`) under the cost map file's `usercache.stamp` (path,
    size, times, inode), so upgrading litellm looks them up again."""
    known = _known_prices()
    if model not in known:
        known[model] = _map_price(model)
        usercache.write("prices", _cost_map_id(), known)
    found = known[model]
    return None if found is None else (Decimal(found[0]), Decimal(found[1]))


def _map_price(model: str) -> list[str] | None:
    """[input, output] of `model` (or its name without the provider) in the cost map, as text."""
    for key in (model, model.split("/", 1)[-1]):
        info = cost_entry(key)
        info = info if isinstance(info, dict) else {}
        if info.get("input_cost_per_token") is not None and info.get("output_cost_per_token") is not None:
            # repr() of the float is the shortest text that round-trips: exact Decimal of the intended value
            return [repr(info["input_cost_per_token"]), repr(info["output_cost_per_token"])]
    return None


@cache
def _known_prices() -> dict[str, list[str] | None]:
    """The prices looked up before in this cost map; {} when there are none or they are damaged."""
    stored = usercache.read("prices", _cost_map_id())
    if not isinstance(stored, dict) or not all(_is_price(value) for value in stored.values()):
        return {}
    return stored


def _is_price(value: object) -> bool:
    if value is None:
        return True
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(part, str) for part in value)):
        return False
    try:
        return all(Decimal(part).is_finite() for part in value)
    except ArithmeticError:
        return False


@cache
def _cost_map_id() -> str:
    """The cost map file's `usercache.stamp`, hashed."""
    path = cost_map_path()
    return hashlib.sha256(b"no cost map" if path is None else usercache.stamp(path).encode()).hexdigest()


def runtime_config(ctx: CompileContext | None):
    """The router configuration: the `RuntimeConfig` a caller put in the cache as `cost.config`,
    else the view of the working folder's `agent-factory.toml` or the defaults, validated once
    per text (`agent_factory.runtime.config_view`; a broken file is reported by the runtime, the
    estimate uses the defaults), once per manager and working folder."""
    from agent_factory.runtime.config_view import load_view

    cache_ = ctx.cache if ctx is not None else {}
    if "cost.config" in cache_:
        return cache_["cost.config"]
    key = ("cost.config", os.getcwd())  # the view is of the working folder's file
    if key not in cache_:
        cache_[key] = load_view()
    return cache_[key]


def alias_price(config, name: str) -> Price | None:
    alias = config.models[name]
    if alias.input_cost_per_token is not None and alias.output_cost_per_token is not None:
        return Price(name, alias.model, alias.input_cost_per_token, alias.output_cost_per_token)
    found = model_price(alias.model)
    return Price(name, alias.model, *found) if found else None


def eligible(config, spec: Spec, task: str) -> list[str]:
    """The aliases the router may use for `task` (the same rule as `Router._allowed`)."""
    model = spec.model
    tier = (model.tier if model and model.tier else None) or config.router.default_tier
    fallback = tuple(a for a in (model.fallback if model else ()) if a in config.models)
    allow = tuple(model.models) if model and model.models else ()
    in_tier = [n for n in config.chain(fallback) if n in config.tier(tier).models]
    return [n for n in in_tier if (not allow or n in allow) and task in config.alias(n).tasks]


# ---------------------------------------------------------------- the estimate


@dataclass(frozen=True)
class StepCost:
    """One step's share: `calls` LLM calls of `prompt_tokens` + `max_output_tokens` each,
    priced at the cheapest (`low`) and dearest (`high`) allowed model; `note` explains gaps."""

    step: str
    kind: str
    task: str | None
    calls: int
    prompt_tokens: int
    max_output_tokens: int
    low: Price | None = None
    high: Price | None = None
    note: str = ""

    @property
    def usd_min(self) -> Decimal:
        return self.calls * self.low.cost(self.prompt_tokens, self.max_output_tokens) if self.low else ZERO

    @property
    def usd_max(self) -> Decimal:
        return self.calls * self.high.cost(self.prompt_tokens, self.max_output_tokens) if self.high else ZERO

    @property
    def usd_floor(self) -> Decimal:
        """The least the step can cost: one call, its prompt only, at the cheapest model."""
        return self.low.cost(self.prompt_tokens, 0) if self.low and self.calls else ZERO

    @property
    def complete(self) -> bool:
        return not self.note


@dataclass(frozen=True)
class PathCost:
    """The cost of one execution path: the sum of its steps' (a step of a loop counted as often
    as it may run); `unbounded` when the path loops with no `max_iterations` to bound it."""

    execution: Execution
    steps: tuple[StepCost, ...]
    unbounded: bool = False

    def display(self) -> str:
        return self.execution.display()

    @property
    def calls(self) -> int:
        return sum(s.calls for s in self.steps)

    @property
    def usd_min(self) -> Decimal:
        return sum((s.usd_min for s in self.steps), ZERO)

    @property
    def usd_max(self) -> Decimal:
        return sum((s.usd_max for s in self.steps), ZERO)

    @property
    def usd_floor(self) -> Decimal:
        return sum((s.usd_floor for s in self.steps), ZERO)

    @property
    def complete(self) -> bool:
        """False when a step could not be priced (an `agent:` step, no allowed model, no price)
        or the path loops without a bound: its numbers are then a lower bound."""
        return all(s.complete for s in self.steps) and not self.unbounded


@dataclass(frozen=True)
class Estimate:
    """The whole estimate: per-step costs, per-path costs, the budget `limit` and its span."""

    spec: str
    steps: tuple[StepCost, ...]
    paths: tuple[PathCost, ...]
    limit: Decimal | None
    limit_span: Span
    notes: tuple[str, ...] = field(default=())
    limit_source: str = "spec"  # or "`pro` tier": whose max_cost_per_run `limit` is

    @property
    def worst(self) -> PathCost | None:
        """The path whose cost at the cheapest allowed models is highest (ties: the dearest, then
        the one making more calls)."""
        return max(self.paths, key=lambda p: (p.usd_min, p.usd_max, p.calls), default=None)

    @property
    def usd_min(self) -> Decimal:
        return min((p.usd_min for p in self.paths), default=ZERO)

    @property
    def usd_max(self) -> Decimal:
        return max((p.usd_max for p in self.paths), default=ZERO)


def estimate(spec: Spec, ctx: CompileContext | None = None) -> Estimate | None:
    """The cost estimate of an Agent spec (None for other kinds), cached per spec in `ctx.cache`."""
    if spec.kind != "agent":
        return None
    key = ("cost.estimate", spec.path, spec.sha256, spec.constitution.sha256 if spec.constitution else None)
    cache_ = ctx.cache if ctx is not None else {}
    if key not in cache_:
        cache_[key] = _estimate(spec, runtime_config(ctx))
    return cache_[key]


def _estimate(spec: Spec, config) -> Estimate:
    steps = {s.name: s for s in (spec.workflow.steps if spec.workflow else ())}
    base = _base_prompt(spec)
    costs: dict[str, StepCost] = {}
    for name in (s.name for s in spec.workflow.steps) if spec.workflow else (REACT_STEP,):
        costs[name] = step_cost(spec, steps.get(name), base, config)
    bounds = visit_bounds(spec) if spec.workflow else {}
    paths = tuple(path_cost(e, costs, bounds) for e in executions(spec))
    model = spec.model
    setting = model.setting("max_cost_per_run") if model else None
    span = (setting.value_span or setting.span) if setting else (model.span if model and model.settings else spec.span)
    limit, source = run_limit(spec, config)
    if setting is None and limit is not None:
        span = spec.span.model_copy(update={"end_line": spec.span.line, "end_column": spec.span.column + 1})
    return Estimate(spec.path, tuple(costs.values()), paths, limit, span, limit_source=source)


def run_limit(spec: Spec, config) -> tuple[Decimal | None, str]:
    """The run budget the runtime enforces (`Budget.for_run`): the spec's `max_cost_per_run`
    capped by its tier's, and whose it is ("spec" or "`<tier>` tier")."""
    model = spec.model
    tier = (model.tier if model and model.tier else None) or config.router.default_tier
    own = model.max_cost_per_run if model else None
    ceiling = config.tier(tier).max_cost_per_run
    if ceiling is not None and (own is None or ceiling < own):
        return ceiling, f"`{tier}` tier"
    return own, "spec"


def visit_bounds(spec: Spec) -> dict[str, int | None]:
    """How often each step of a loop may run: the smallest `max_iterations` among the steps of
    its loop (its strongly connected part of the flow graph), None when none sets one."""
    graph = flow(spec)
    limits = {s.name: s.max_iterations for s in spec.workflow.steps}
    bounds: dict[str, int | None] = {}
    for name in limits:
        ahead = graph.reach(name)
        loop = {other for other in ahead if name in graph.reach(other) and other in limits}
        if name in loop and any(name in graph.succ.get(o, ()) for o in loop):
            set_limits = [limits[o] for o in loop if limits[o]]
            bounds[name] = min(set_limits) if set_limits else None
    return bounds


def path_cost(execution: Execution, costs: dict[str, StepCost], bounds: dict[str, int | None]) -> PathCost:
    """The cost of one path; on a path that loops, the steps of a loop count once per run."""
    if not execution.loops:
        return PathCost(execution, tuple(costs[n] for n in execution.steps))
    steps = tuple(replace(costs[n], calls=costs[n].calls * (bounds.get(n) or 1)) for n in execution.steps)
    unbounded = any(n in bounds and bounds[n] is None for n in execution.steps)
    return PathCost(execution, steps, unbounded)


def step_cost(spec: Spec, step: Step | None, base: str, config) -> StepCost:
    """The cost of one step (`step` None: the implicit ReAct step over the spec's tools)."""
    max_out = spec.model.max_tokens if spec.model and spec.model.max_tokens else DEFAULT_MAX_TOKENS
    if step is not None and step.kind != "llm":
        note = "runs another spec; its cost is not included" if step.kind == "agent" else ""
        return StepCost(step.name, step.kind, None, 0, 0, 0, note=note)
    if step is None:
        name, task, tools, prompt, loops = REACT_STEP, (spec.model.task if spec.model else None), [t.name for t in spec.tools], "", True
        rounds = DEFAULT_TOOL_ROUNDS
    else:
        name, task, tools, prompt, loops = step.name, step.target, list(step.tools), step.prompt or "", bool(step.tools)
        rounds = step.max_iterations or DEFAULT_TOOL_ROUNDS
    task = task or DEFAULT_TASK
    calls = (rounds + 1 if loops else 1) + REPAIR_CALLS
    tokens = prompt_tokens(base, prompt, [t for t in spec.tools if t.name in tools])
    aliases = eligible(config, spec, task)
    priced = [p for p in (alias_price(config, a) for a in aliases) if p is not None]
    if not priced:
        note = f"no priced model serves task `{task}`" + ("" if aliases else " at this tier")
        return StepCost(name, "llm", task, calls, tokens, max_out, note=note)
    by_cost = sorted(priced, key=lambda p: p.cost(tokens, max_out))  # sorted() is stable: chain order breaks ties
    return StepCost(name, "llm", task, calls, tokens, max_out, by_cost[0], by_cost[-1])


def _base_prompt(spec: Spec) -> str:
    """The text every LLM call of the spec carries (the system prompt's parts)."""
    parts = [spec.name, spec.purpose.text if spec.purpose else ""]
    parts += [("Do: " if s.included else "Refuse: ") + s.text for s in spec.scope]
    parts += [f"{i.modality or ''} {i.title}: {i.text}" for i in spec.invariants]
    parts += [f"{f.name}: {f.type.render()} {f.description}" for f in (*spec.inputs, *spec.outputs)]
    return "\n".join(parts)


def prompt_tokens(base: str, prompt: str, tools) -> int:
    """Tokens of a rendered prompt at `CHARS_PER_TOKEN` characters a token (rounded up)."""
    text = "\n".join([base, prompt, *(f"{t.name}: {t.description}" for t in tools)])
    return math.ceil(len(text) / CHARS_PER_TOKEN)


# ---------------------------------------------------------------- output


def money(value: Decimal, places: int = 6) -> str:
    """Dollars with `places` decimals (exact rounding of the Decimal)."""
    return f"{value.quantize(Decimal(1).scaleb(-places)):f}"


def as_dict(found: Estimate) -> dict:
    """The `--format json` shape: dollars as strings with 6 decimals, per-token prices exact."""
    def price(p: Price | None) -> dict | None:
        return None if p is None else {"alias": p.alias, "model": p.model, "input_per_token": str(p.input), "output_per_token": str(p.output)}

    return {
        "spec": found.spec,
        "max_cost_per_run": None if found.limit is None else money(found.limit),
        "budget_source": found.limit_source if found.limit is not None else None,
        "steps": [{"step": s.step, "kind": s.kind, "task": s.task, "calls": s.calls, "prompt_tokens": s.prompt_tokens,
                   "max_output_tokens": s.max_output_tokens, "cheapest": price(s.low), "dearest": price(s.high),
                   "usd_min": money(s.usd_min), "usd_max": money(s.usd_max), "note": s.note or None} for s in found.steps],
        "paths": [{"path": p.display(), "calls": p.calls, "usd_min": money(p.usd_min), "usd_max": money(p.usd_max),
                   "complete": p.complete} for p in found.paths],
        "worst_case_usd": money(found.worst.usd_min if found.worst else ZERO),
        "usd_min": money(found.usd_min),
        "usd_max": money(found.usd_max),
    }


def render_table(found: Estimate) -> str:
    """The text table: per step, per path, totals."""
    rows = [("step", "calls", "prompt tok", "max out tok", "model (min / max)", "$ min", "$ max")]
    for s in found.steps:
        models = f"{s.low.model} / {s.high.model}" if s.low and s.high else (s.note or "-")
        rows.append((s.step, str(s.calls), str(s.prompt_tokens), str(s.max_output_tokens), models, money(s.usd_min), money(s.usd_max)))
    lines = [f"cost estimate for {found.spec}", *_columns(rows), ""]
    path_rows = [("path", "calls", "$ min", "$ max")]
    for p in found.paths:
        path_rows.append((p.display() + ("" if p.complete else " (incomplete)"), str(p.calls), money(p.usd_min), money(p.usd_max)))
    lines += [*_columns(path_rows), ""]
    worst = found.worst
    lines.append(f"total: ${money(found.usd_min)} min, ${money(found.usd_max)} max; worst case at the cheapest allowed "
                 f"models ${money(worst.usd_min) if worst else money(ZERO)}"
                 + (f" (max_cost_per_run ${money(found.limit)}"
                    + ("" if found.limit_source == "spec" else f", the {found.limit_source}'s") + ")"
                    if found.limit is not None else ""))
    return "\n".join(lines) + "\n"


def _columns(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) if i in (0, 4) else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip() for r in rows]
