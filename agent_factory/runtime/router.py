"""The LLM router: cheapest capable model first, fallback along the chain, budget-checked, ledgered.

For each request the router
1. plans: the aliases the tier allows (narrowed by the spec's `models:`) that serve the task,
   the cheapest worst case first, then the others in fallback-chain order; aliases cooling down
   after a failure go last (a cooldown demotes, it never forbids);
2. for each alias in turn: checks the tier's per-request cap, reserves the worst case in the
   run's budget (refusing the call that would cross it), calls litellm (or the replay store),
   settles the budget at the real cost and records the attempt in the ledger;
3. returns the first answer, or raises `BudgetExceeded` (nothing could be afforded) or
   `AllModelsFailed` (with every attempt).

Reported usage is not trusted: a negative or non-integer token count is `UsageRejected`, and an
answer costing more than was reserved (or past `max_tokens`) is charged, flagged `overrun` on its
attempt and raised as `UsageOverrun`; both stop the run instead of falling back. So a run never
ends above its budget with an honest provider, and never silently with a dishonest one. A call
cancelled in flight (a sibling branch failed) is recorded as `cancelled` at its worst case.

litellm's own Router is not used: its fallbacks run inside one call, where our budget could not
check each fallback's price before it is sent nor the ledger see each attempt, and it does not
cool down a model group of one deployment, which every alias here is. Retries inside litellm and
the OpenAI client are switched off for the same reason: each try must pass the budget.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .budget import Attempt, Budget, CostLedger, Reservation
from .config import AliasConfig, RouterSettings, RuntimeConfig
from .errors import AllModelsFailed, BudgetExceeded, NoModelAvailable, UsageOverrun, UsageRejected
from .llm import litellm
from .pricing import PriceBook, prompt_token_bound, worst_case_cost
from .replay import Cassette, ReplayStore, normalise_request, request_key

_TIMEOUT_GRACE_S = 1.0



PROVIDER_KEYS: ContextVar[dict[str, str]] = ContextVar("agent_factory_provider_keys", default={})
"""Provider keys by the environment variable name an alias reads (`api_key_env`), for the runs of
this context only: the hosted API sets a team's own keys here; the process environment is the fallback."""


def provider_key(env_name: str) -> str | None:
    """The key an alias's `api_key_env` names: this context's, else the environment's."""
    return PROVIDER_KEYS.get().get(env_name) or os.environ.get(env_name)

@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool call the model asked for: `id`, tool `name`, `arguments` as the JSON text it sent."""

    id: str
    name: str
    arguments: str

    def args(self) -> dict[str, Any]:
        """The arguments parsed (ValueError when the model sent invalid JSON)."""
        parsed = json.loads(self.arguments or "{}")
        if not isinstance(parsed, dict):
            raise ValueError(f"tool call {self.name}: arguments are not a JSON object: {self.arguments}")
        return parsed


@dataclass(frozen=True, slots=True)
class LLMResult:
    """The answer of a routed call: `content`, `tool_calls`, the `alias` and `model` that answered,
    `tokens_in`/`tokens_out`, real `cost` (Decimal dollars), `latency_s`, and `replayed`."""

    content: str | None
    tool_calls: tuple[ToolCall, ...]
    alias: str
    model: str
    tokens_in: int
    tokens_out: int
    cost: Decimal
    latency_s: float
    replayed: bool = False

    def message(self) -> dict[str, Any]:
        """The answer as an OpenAI assistant message, to append to the conversation."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            message["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in self.tool_calls
            ]
        return message


# ---------------------------------------------------------------- cooldowns


class ModelHealth:
    """Which endpoints are cooling down after failures. One instance is shared by every router of
    the process (`ModelHealth.shared()`), because runs come and go but a provider outage does not."""

    _shared: ModelHealth | None = None

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._failures: dict[tuple[str, ...], int] = {}
        self._cool_until: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()

    @classmethod
    def shared(cls) -> ModelHealth:
        """The process-wide instance."""
        if cls._shared is None:
            cls._shared = cls()
        return cls._shared

    def cooling(self, key: tuple[str, ...]) -> bool:
        """True while `key` is in its cooldown."""
        until = self._cool_until.get(key)
        return until is not None and self.clock() < until

    def failed(self, key: tuple[str, ...], settings: RouterSettings) -> None:
        """Count a failure; enough in a row start a cooldown of `settings.cooldown_seconds`."""
        with self._lock:
            count = self._failures.get(key, 0) + 1
            if count >= settings.failures_before_cooldown:
                self._cool_until[key] = self.clock() + settings.cooldown_seconds
                count = 0
            self._failures[key] = count

    def succeeded(self, key: tuple[str, ...]) -> None:
        """An answer ends the failure streak and any cooldown."""
        with self._lock:
            self._failures.pop(key, None)
            self._cool_until.pop(key, None)


def _health_key(name: str, alias: AliasConfig) -> tuple[str, ...]:
    return (name, alias.model, alias.api_base or "")


# ---------------------------------------------------------------- the router


@dataclass(slots=True)
class _Request:
    """One `complete()` call's fixed inputs, passed between the small steps below."""

    step: str
    task: str
    tier: str
    messages: Sequence[dict[str, Any]]
    tools: Sequence[dict[str, Any]] | None
    response_format: Any
    max_tokens: int
    temperature: float | Decimal | None
    prompt_bound: int
    timeout: float | Decimal | None
    normalised: dict[str, Any] | None = None
    key: str | None = None


class Router:
    """Routes a run's LLM calls. One per run: `ledger` and `budget` are the run's; `replay` a
    `ReplayStore` to record to or replay from; `health` defaults to the process-wide cooldowns;
    `clock` measures each attempt's latency (seconds)."""

    def __init__(
        self,
        config: RuntimeConfig,
        ledger: CostLedger,
        budget: Budget,
        replay: ReplayStore | None = None,
        *,
        health: ModelHealth | None = None,
        prices: PriceBook | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.clock = clock
        self.config = config
        self.ledger = ledger
        self.budget = budget
        self.replay = replay
        self.health = health or ModelHealth.shared()
        self.prices = prices or PriceBook(config)

    async def complete(
        self,
        step: str,
        task: str,
        messages: Sequence[dict[str, Any]],
        *,
        tools: Sequence[dict[str, Any]] | None = None,
        response_format: Any = None,
        max_tokens: int,
        temperature: float | Decimal | None = None,
        tier: str | None = None,
        models: Sequence[str] = (),
        fallback: Sequence[str] = (),
        timeout: float | Decimal | None = None,
    ) -> LLMResult:
        """Answer `messages` (OpenAI chat format) for workflow step `step` of task type `task`.

        `tools` are OpenAI tool definitions; `response_format` a JSON-schema dict or pydantic class;
        `max_tokens` bounds the answer and the budget estimate; `tier` defaults to the config's;
        `models` (the spec's allow-list) and `fallback` (the spec's chain) narrow and order the plan;
        `timeout` (seconds, e.g. the spec's `max_latency`) caps each attempt's configured timeout.
        Raises `NoModelAvailable`, `BudgetExceeded`, `AllModelsFailed` or `ReplayMiss`.
        """
        request = _Request(
            step, task, tier or self.config.router.default_tier, messages, tools, response_format,
            max_tokens, temperature, prompt_token_bound(messages, tools, response_format), timeout,
        )
        if self.replay is not None:
            request.normalised = normalise_request(messages, tools, response_format, temperature)
            request.key = request_key(request.normalised)
        attempts: list[Attempt] = []
        refusals: list[BudgetExceeded] = []
        plan = self.plan(request.step, task, request.tier, models, fallback, request.prompt_bound, max_tokens)
        for alias, estimate in plan:
            result = await self._try(request, alias, estimate, attempts, refusals)
            if result is not None:
                return result
        raise _failure(request.step, attempts, refusals)

    def complete_sync(self, *args: Any, **kwargs: Any) -> LLMResult:
        """`complete()` for synchronous callers (threads, scripts); not from inside a running event
        loop, which it would block: await `complete()` there."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return _background_loop().run(self.complete(*args, **kwargs))
        raise RuntimeError("Router.complete_sync() was called inside a running event loop; await Router.complete()")

    # ------------------------------------------------------------ planning

    def plan(
        self, step: str, task: str, tier: str, models: Sequence[str], fallback: Sequence[str],
        prompt_bound: int, max_tokens: int,
    ) -> list[tuple[str, Decimal]]:
        """The aliases to try, in order, each with its worst-case cost for this request."""
        allowed = self._allowed(step, task, tier, models, fallback)
        estimates = {name: worst_case_cost(self.prices.price(name), prompt_bound, max_tokens) for name in allowed}
        cheapest = min(allowed, key=estimates.__getitem__)  # min() keeps the first of equals: chain order
        ordered = [cheapest, *(name for name in allowed if name != cheapest)]
        if self.replay is None or not self.replay.replaying:
            ordered = self._demote_cooling(ordered)
        return [(name, estimates[name]) for name in ordered]

    def _allowed(self, step: str, task: str, tier: str, models: Sequence[str], fallback: Sequence[str]) -> list[str]:
        for name in (*models, *fallback):
            if name not in self.config.models:
                known = ", ".join(self.config.models)
                reason = f"the spec names alias '{name}', which is not configured ({known})"
                raise NoModelAvailable(step, task, tier, reason)
        capable = self.config.eligible(task, tier, tuple(models), tuple(fallback))
        if not capable:
            raise NoModelAvailable(step, task, tier, self._why_none(task, tier, models, fallback))
        return list(capable)

    def _why_none(self, task: str, tier: str, models: Sequence[str], fallback: Sequence[str]) -> str:
        in_tier = [n for n in self.config.chain(tuple(fallback)) if n in self.config.tier(tier).models]
        permitted = [n for n in in_tier if not models or n in models]
        if not in_tier:
            return f"tier '{tier}' allows no configured alias"
        if not permitted:
            return f"the spec's models are not allowed in tier '{tier}' (allowed: {', '.join(in_tier)})"
        return f"none of {', '.join(permitted)} lists '{task}' in its tasks"

    def _demote_cooling(self, ordered: list[str]) -> list[str]:
        cooling = {n for n in ordered if self.health.cooling(_health_key(n, self.config.alias(n)))}
        return [n for n in ordered if n not in cooling] + [n for n in ordered if n in cooling]

    # ------------------------------------------------------------ one attempt

    async def _try(
        self, request: _Request, name: str, estimate: Decimal,
        attempts: list[Attempt], refusals: list[BudgetExceeded],
    ) -> LLMResult | None:
        """Try one alias: None (after recording why) when it was refused, unavailable or failed."""
        alias = self.config.alias(name)
        if not self._replaying and alias.api_key_env and not provider_key(alias.api_key_env):
            return self._note(attempts, request, name, alias, "unavailable", error=f"{alias.api_key_env} is not set")
        try:
            reservation = self._reserve(request, name, estimate)
        except BudgetExceeded as refusal:
            refusals.append(refusal)
            return self._note(attempts, request, name, alias, "refused", estimate=estimate, error=str(refusal))
        try:
            return await self._answer(request, name, alias, reservation, attempts)
        finally:
            reservation.settle(Decimal(0))  # no-op once settled at the real cost; frees the hold on failure

    def _reserve(self, request: _Request, name: str, estimate: Decimal) -> Reservation:
        """Hold the worst case in the run's budget, unless it passes the tier's per-request cap."""
        cap = self.config.tier(request.tier).max_cost_per_request
        if cap is not None and estimate > cap:
            raise BudgetExceeded(request.step, name, estimate, Decimal(0), cap, "request")
        return self.budget.reserve(estimate, step=request.step, alias=name)

    @property
    def _replaying(self) -> bool:
        return self.replay is not None and self.replay.replaying

    async def _answer(
        self, request: _Request, name: str, alias: AliasConfig, reservation: Reservation, attempts: list[Attempt]
    ) -> LLMResult | None:
        if self._replaying:
            return self._replayed(request, name, alias, reservation, attempts)
        litellm()  # the first call imports litellm (seconds); that is not the provider's latency
        started = self.clock()
        try:
            parsed = _parse(await self._call_provider(request, alias), request)
        except asyncio.CancelledError:  # the request may have reached the provider: it is billed
            self._charge_worst_case(request, name, alias, reservation, attempts, "cancelled",
                                    self.clock() - started, "cancelled in flight; charged its worst case")
            raise
        except Exception as exc:  # any provider failure is a reason to fall back, never to crash the run
            self.health.failed(_health_key(name, alias), self.config.router)
            outcome = "timeout" if _is_timeout(exc) else "error"
            self._note(attempts, request, name, alias, outcome, estimate=reservation.estimate,
                       latency=self.clock() - started, error=_first_line(exc))
            return None
        self.health.succeeded(_health_key(name, alias))
        result = self._settle(request, name, alias, parsed, reservation, attempts, self.clock() - started)
        if self.replay is not None:  # recording
            self._record(request, result)
        return result

    async def _call_provider(self, request: _Request, alias: AliasConfig) -> Any:
        timeout = alias.timeout_seconds or self.config.router.timeout_seconds
        if request.timeout is not None:
            timeout = min(timeout, float(request.timeout))  # the spec gives Decimal seconds
        kwargs: dict[str, Any] = {
            **alias.params,
            "model": alias.model,
            "messages": list(request.messages),
            "max_tokens": request.max_tokens,
            "timeout": timeout,
            "num_retries": 0,  # litellm's retries: off, each try must pass the budget
            "max_retries": 0,  # the OpenAI client's retries: off, same reason
        }
        if alias.api_base:
            kwargs["api_base"] = alias.api_base
        if alias.api_key_env:
            kwargs["api_key"] = provider_key(alias.api_key_env)
        if request.tools:
            kwargs["tools"] = list(request.tools)
        if request.response_format is not None:
            kwargs["response_format"] = request.response_format
        if request.temperature is not None:
            kwargs["temperature"] = float(request.temperature)
        # litellm enforces `timeout`; wait_for is the backstop for a provider path that does not
        return await asyncio.wait_for(litellm().acompletion(**kwargs), timeout + _TIMEOUT_GRACE_S)

    def _replayed(
        self, request: _Request, name: str, alias: AliasConfig, reservation: Reservation, attempts: list[Attempt]
    ) -> LLMResult:
        assert self.replay is not None and request.key is not None and request.normalised is not None
        cassette = self.replay.lookup(request.step, request.key, request.normalised)
        return self._settle(request, name, alias, _from_cassette(cassette), reservation, attempts, 0.0)

    def _settle(
        self, request: _Request, name: str, alias: AliasConfig, parsed: _Parsed, reservation: Reservation,
        attempts: list[Attempt], latency: float,
    ) -> LLMResult:
        """Charge an answer and record it; raise `UsageRejected` / `UsageOverrun` (after charging)
        when its reported usage is impossible or exceeds what was reserved."""
        problem = _impossible_usage(parsed)
        if problem:
            self._charge_worst_case(request, name, alias, reservation, attempts, "rejected", latency,
                                    f"impossible usage ({problem}) {parsed.source}")
            raise UsageRejected(request.step, name, problem, parsed.source, reservation.estimate)
        cost = self.prices.price(name).cost(parsed.tokens_in, parsed.tokens_out)
        replayed = parsed.source != FROM_PROVIDER
        result = LLMResult(parsed.content, parsed.tool_calls, name, alias.model, parsed.tokens_in, parsed.tokens_out,
                           cost, latency, replayed)
        reservation.settle(cost)
        overrun = parsed.tokens_out > request.max_tokens or cost > reservation.estimate
        error = UsageOverrun(request.step, name, (parsed.tokens_in, parsed.tokens_out), request.max_tokens, cost,
                             reservation.estimate) if overrun else None
        self._note(attempts, request, name, alias, "replayed" if replayed else "ok",
                   estimate=reservation.estimate, latency=latency, tokens=(parsed.tokens_in, parsed.tokens_out),
                   cost=cost, error=str(error or ""), overrun=overrun)
        if error is not None:
            raise error
        return result

    def _charge_worst_case(
        self, request: _Request, name: str, alias: AliasConfig, reservation: Reservation, attempts: list[Attempt],
        outcome: str, latency: float, error: str,
    ) -> None:
        """A call whose real cost is unknown (cancelled, or impossible usage) costs what was reserved."""
        reservation.settle(reservation.estimate)
        self._note(attempts, request, name, alias, outcome, estimate=reservation.estimate, latency=latency,
                   cost=reservation.estimate, error=error)

    def _note(
        self, attempts: list[Attempt], request: _Request, name: str, alias: AliasConfig, outcome: Any, *,
        estimate: Decimal = Decimal(0), latency: float = 0.0, tokens: tuple[int, int] = (0, 0),
        cost: Decimal = Decimal(0), error: str = "", overrun: bool = False,
    ) -> None:
        """Record one attempt in the run's ledger and in this call's list (for error messages)."""
        attempt = Attempt(request.step, request.task, name, alias.model, outcome, tokens[0], tokens[1],
                          cost, estimate, latency, error, overrun)
        attempts.append(attempt)
        self.ledger.record(attempt)
        return None

    def _record(self, request: _Request, result: LLMResult) -> None:
        assert self.replay is not None and request.key is not None and request.normalised is not None
        response = {
            "content": result.content,
            "tool_calls": [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in result.tool_calls],
            "usage": {"prompt_tokens": result.tokens_in, "completion_tokens": result.tokens_out},
        }
        recorded_with = {"alias": result.alias, "model": result.model, "max_tokens": request.max_tokens}
        self.replay.save(request.step, request.key, request.normalised, response, recorded_with)


# ---------------------------------------------------------------- helpers


FROM_PROVIDER = "from the provider"


@dataclass(frozen=True, slots=True)
class _Parsed:
    content: str | None
    tool_calls: tuple[ToolCall, ...]
    tokens_in: Any  # as reported: checked by `_impossible_usage` before it is priced
    tokens_out: Any
    source: str = FROM_PROVIDER


def _parse(response: Any, request: _Request) -> _Parsed:
    """Content, tool calls and usage of a litellm response. Missing usage is charged at the worst
    case: a provider that does not say what it used must not look free."""
    message = response.choices[0].message
    calls = tuple(
        ToolCall(call.id or f"call_{i}", call.function.name, call.function.arguments or "{}")
        for i, call in enumerate(message.tool_calls or ())
    )
    usage = getattr(response, "usage", None)
    tokens_in = getattr(usage, "prompt_tokens", None)
    tokens_out = getattr(usage, "completion_tokens", None)
    return _Parsed(
        message.content,
        calls,
        request.prompt_bound if tokens_in is None else tokens_in,
        request.max_tokens if tokens_out is None else tokens_out,
    )


def _from_cassette(cassette: Cassette) -> _Parsed:
    response = cassette.response
    usage = response.get("usage", {})
    calls = tuple(ToolCall(c["id"], c["name"], c["arguments"]) for c in response.get("tool_calls", ()))
    return _Parsed(response.get("content"), calls, usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0),
                   f"in cassette {cassette.path}")


def _impossible_usage(parsed: _Parsed) -> str:
    """What is wrong with the reported token counts ('' when they are whole numbers >= 0)."""
    problems = [
        f"{name} {value!r}"
        for name, value in (("prompt_tokens", parsed.tokens_in), ("completion_tokens", parsed.tokens_out))
        if type(value) is not int or value < 0  # a bool is an int to Python, never a token count
    ]
    return ", ".join(problems)


def _is_timeout(exc: Exception) -> bool:
    return isinstance(exc, (TimeoutError, litellm().Timeout))


def _first_line(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:500]


def _failure(step: str, attempts: list[Attempt], refusals: list[BudgetExceeded]) -> Exception:
    """Nothing answered: a budget refusal if nothing was sent for lack of money, else every attempt."""
    sent = [a for a in attempts if a.outcome in ("error", "timeout")]
    if refusals and not sent:
        return min(refusals, key=lambda refusal: refusal.estimate)
    return AllModelsFailed(step, attempts)


class _BackgroundLoop:
    """One event loop on a daemon thread for every synchronous caller. litellm binds its HTTP
    clients and logging queue to the loop that first used them, so one long-lived loop beats a
    fresh `asyncio.run()` per call (which makes litellm rebuild them and warn each time)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="agent-factory-router", daemon=True).start()
        atexit.register(self.close)

    def run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def close(self) -> None:
        """Cancel what litellm left running on the loop (its logging worker), then stop it, so
        the interpreter does not exit with pending tasks."""
        async def cancel_others() -> None:
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        if self.loop.is_running():
            asyncio.run_coroutine_threadsafe(cancel_others(), self.loop).result(timeout=2)
            self.loop.call_soon_threadsafe(self.loop.stop)


_loop_lock = threading.Lock()
_loop: _BackgroundLoop | None = None


def _background_loop() -> _BackgroundLoop:
    global _loop
    with _loop_lock:
        if _loop is None:
            _loop = _BackgroundLoop()
        return _loop
