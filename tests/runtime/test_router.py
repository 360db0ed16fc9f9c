"""The router against stub providers over litellm's real HTTP path: order, fallback, cooldown, ledger."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from agent_factory.runtime.budget import Attempt, Budget, CostLedger
from agent_factory.runtime.errors import AllModelsFailed, NoModelAvailable
from agent_factory.runtime.router import LLMResult, ModelHealth, Router, ToolCall
from agent_factory.testing import StubLLM, delay, error, reply, scripted

MESSAGES = [{"role": "user", "content": "Is this idea new?"}]


class FakeClock:
    """A clock the test moves by hand, so cooldowns need no sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def two_stubs():
    with StubLLM(reply("cheap answer")) as cheap, StubLLM(reply("dear answer")) as dear:
        yield cheap, dear


@pytest.fixture
def two_aliases(two_stubs, make_config, alias_table):
    cheap, dear = two_stubs
    return make_config(
        '[router]\nfallback = ["cheap", "dear"]\ncooldown_seconds = 60\n',
        # a generous timeout: a loaded CI machine must not time out the real answers
        alias_table("cheap", cheap, price_in="0.000001", price_out="0.000002", extra="timeout_seconds = 2"),
        alias_table("dear", dear, price_in="0.00001", price_out="0.00003"),
    )


def _router(config, *, budget=None, clock=None, latency_clock=None):
    kwargs = {"clock": latency_clock} if latency_clock else {}
    return Router(config, CostLedger(), budget or Budget(), health=ModelHealth(clock or FakeClock()), **kwargs)


class TickingClock:
    """A latency clock that moves `tick` seconds each time it is read: an attempt (read at its
    start and its end) takes exactly one tick, however loaded the machine is."""

    def __init__(self, tick: float) -> None:
        self.now, self.tick = 0.0, tick

    def __call__(self) -> float:
        self.now += self.tick
        return self.now


def _ask(router, step="judge", **kwargs):
    kwargs.setdefault("max_tokens", 100)
    return asyncio.run(router.complete(step, "simple", MESSAGES, **kwargs))


def _without_latency(attempts):
    return [a.__class__(**{**{f: getattr(a, f) for f in a.__slots__}, "latency_s": 0.0}) for a in attempts]


def test_cheapest_capable_alias_answers_first(two_stubs, two_aliases):
    cheap, dear = two_stubs
    result = _ask(_router(two_aliases))
    assert (result.content, result.alias, result.model) == ("cheap answer", "cheap", "openai/cheap-model")
    assert len(cheap.requests) == 1 and dear.requests == []
    sent = cheap.requests[0]
    assert (sent["model"], sent["messages"], sent["max_tokens"]) == ("cheap-model", MESSAGES, 100)


def test_cheapest_first_even_when_the_chain_lists_it_last(two_stubs, two_aliases):
    cheap, dear = two_stubs
    result = _ask(_router(two_aliases), fallback=["dear", "cheap"])
    assert result.alias == "cheap"


def test_ledger_records_real_token_counts_and_exact_cost(two_stubs, two_aliases):
    cheap, _ = two_stubs
    cheap.handler = lambda request: reply("ok", prompt_tokens=123, completion_tokens=45)
    router = _router(two_aliases, latency_clock=TickingClock(0.25))
    result = _ask(router)
    cost = Decimal("0.000001") * 123 + Decimal("0.000002") * 45
    assert (result.tokens_in, result.tokens_out, result.cost) == (123, 45, cost)
    assert result.cost == Decimal("0.000213")
    [attempt] = router.ledger.attempts
    assert _without_latency([attempt]) == [
        Attempt("judge", "simple", "cheap", "openai/cheap-model", "ok", 123, 45, Decimal("0.000213"),
                estimate=attempt.estimate, latency_s=0.0)
    ]
    assert attempt.latency_s == result.latency_s == 0.25  # the clock's reading, not this machine's speed
    assert router.budget.spent == Decimal("0.000213") and router.budget.reserved == 0


def test_falls_back_when_first_alias_answers_500(two_stubs, two_aliases):
    cheap, dear = two_stubs
    cheap.handler = lambda request: error(500, "overloaded")
    dear.handler = lambda request: reply("dear answer", prompt_tokens=10, completion_tokens=5)
    router = _router(two_aliases)
    result = _ask(router)
    assert (result.alias, result.content, result.cost) == ("dear", "dear answer", Decimal("0.00025"))
    assert [(a.alias, a.outcome, a.tokens_in, a.tokens_out, a.cost, a.error) for a in router.ledger.attempts] == [
        ("cheap", "error", 0, 0, Decimal(0), "litellm.InternalServerError: InternalServerError: OpenAIException - overloaded"),
        ("dear", "ok", 10, 5, Decimal("0.00025"), ""),
    ]
    assert router.budget.spent == Decimal("0.00025")


def test_falls_back_when_first_alias_times_out(two_stubs, two_aliases):
    cheap, dear = two_stubs
    cheap.handler = lambda request: delay(6, reply("too late"))
    router = _router(two_aliases)
    result = _ask(router)
    assert result.alias == "dear"
    timeout, answered = router.ledger.attempts
    assert (timeout.alias, timeout.outcome, timeout.cost) == ("cheap", "timeout", Decimal(0))
    assert timeout.error.startswith("litellm.Timeout: ")
    assert 2 <= timeout.latency_s < 6  # cut at the alias's 2 s, before the stub's answer at 6 s
    assert (answered.alias, answered.outcome) == ("dear", "ok")


def test_failing_alias_cools_down_and_is_skipped_next_time(two_stubs, two_aliases):
    cheap, dear = two_stubs
    cheap.handler = scripted([error(503, "down"), reply("cheap is back")])
    clock = FakeClock()
    router = _router(two_aliases, clock=clock)
    assert _ask(router).alias == "dear"
    assert _ask(router).alias == "dear"  # cheap is cooling down: not even asked
    assert (len(cheap.requests), len(dear.requests)) == (1, 2)
    clock.now += 61
    assert _ask(router).content == "cheap is back"
    assert (len(cheap.requests), len(dear.requests)) == (2, 2)


def test_cooling_alias_is_still_tried_last(two_stubs, two_aliases):
    cheap, dear = two_stubs
    cheap.handler = scripted([error(500, "down"), reply("cheap answers after all")])
    dear.handler = scripted([reply("dear answer"), error(500, "dear down too")])
    router = _router(two_aliases)
    assert _ask(router).alias == "dear"
    result = _ask(router)
    assert (result.alias, result.content) == ("cheap", "cheap answers after all")
    assert [(a.alias, a.outcome) for a in router.ledger.attempts] == [
        ("cheap", "error"), ("dear", "ok"), ("dear", "error"), ("cheap", "ok"),
    ]


def test_cooldowns_are_shared_by_routers_of_one_health(two_stubs, two_aliases):
    cheap, dear = two_stubs
    cheap.handler = lambda request: error(500, "down")
    health = ModelHealth(FakeClock())
    first = Router(two_aliases, CostLedger(), Budget(), health=health)
    second = Router(two_aliases, CostLedger(), Budget(), health=health)
    _ask(first)
    assert _ask(second).alias == "dear"
    assert [a.alias for a in second.ledger.attempts] == ["dear"]


def test_all_models_failed_lists_every_attempt(two_stubs, two_aliases):
    cheap, dear = two_stubs
    cheap.handler = lambda request: error(500, "cheap is down")
    dear.handler = lambda request: error(429, "rate limited")
    with pytest.raises(AllModelsFailed) as caught:
        _ask(_router(two_aliases), step="classify")
    assert str(caught.value) == (
        "step 'classify': all models failed (2 attempts)\n"
        "  - cheap (openai/cheap-model): error: "
        "litellm.InternalServerError: InternalServerError: OpenAIException - cheap is down\n"
        "  - dear (openai/dear-model): error: litellm.RateLimitError: RateLimitError: OpenAIException - rate limited"
    )
    assert [a.outcome for a in caught.value.attempts] == ["error", "error"]


def test_alias_without_its_key_is_unavailable_and_never_called(two_stubs, make_config, alias_table, monkeypatch):
    cheap, dear = two_stubs
    monkeypatch.delenv("AF_TEST_ABSENT_KEY", raising=False)
    config = make_config(
        alias_table("cheap", cheap, price_in="0", price_out="0").replace("AF_TEST_STUB_API_KEY", "AF_TEST_ABSENT_KEY"),
        alias_table("dear", dear, price_in="0.00001", price_out="0.00003"),
    )
    router = _router(config)
    assert _ask(router).alias == "dear"
    assert cheap.requests == []
    first = router.ledger.attempts[0]
    assert (first.alias, first.outcome, first.error) == ("cheap", "unavailable", "AF_TEST_ABSENT_KEY is not set")


def test_task_types_and_allow_list_narrow_the_plan(two_stubs, make_config, alias_table):
    cheap, dear = two_stubs
    config = make_config(
        alias_table("cheap", cheap, price_in="0.000001", price_out="0.000002", tasks=["simple"]),
        alias_table("dear", dear, price_in="0.00001", price_out="0.00003", tasks=["simple", "research"]),
    )
    router = _router(config)
    research = asyncio.run(router.complete("look", "research", MESSAGES, max_tokens=50))
    assert research.alias == "dear"
    assert _ask(router, models=["dear"]).alias == "dear"
    assert cheap.requests == []


def test_no_model_for_task_in_tier_says_why(two_stubs, make_config, alias_table):
    cheap, dear = two_stubs
    config = make_config(
        alias_table("cheap", cheap, price_in="0", price_out="0", tasks=["simple"]),
        alias_table("dear", dear, price_in="0", price_out="0", tasks=["code_generation"]),
        '[tiers.free]\nmodels = ["cheap"]\n',
    )
    router = _router(config)
    with pytest.raises(NoModelAvailable) as caught:
        asyncio.run(router.complete("write", "code_generation", MESSAGES, max_tokens=50, tier="free"))
    assert str(caught.value) == (
        "step 'write': no model serves task 'code_generation' in tier 'free': none of cheap lists 'code_generation' in its tasks"
    )
    with pytest.raises(NoModelAvailable) as caught:
        _ask(router, tier="free", models=["dear"])
    assert str(caught.value) == (
        "step 'judge': no model serves task 'simple' in tier 'free': "
        "the spec's models are not allowed in tier 'free' (allowed: cheap)"
    )
    with pytest.raises(NoModelAvailable) as caught:
        _ask(router, fallback=["cheap", "claude"])
    assert str(caught.value) == (
        "step 'judge': no model serves task 'simple' in tier 'free': "
        "the spec names alias 'claude', which is not configured (cheap, dear)"
    )


def test_tool_calls_come_back_parsed_and_as_a_message(two_stubs, two_aliases):
    cheap, _ = two_stubs
    cheap.handler = lambda request: reply(None, tool_calls=[{"name": "search", "arguments": {"q": "llm routers"}, "id": "c1"}])
    tools = [{"type": "function", "function": {"name": "search", "parameters": {"type": "object"}}}]
    result = _ask(_router(two_aliases), tools=tools, temperature=Decimal("0.2"))
    assert result.tool_calls == (ToolCall("c1", "search", '{"q": "llm routers"}'),)
    assert result.tool_calls[0].args() == {"q": "llm routers"}
    assert result.message() == {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "search", "arguments": '{"q": "llm routers"}'}}],
    }
    sent = cheap.requests[0]
    assert (sent["tools"], sent["temperature"]) == (tools, 0.2)


def test_complete_sync_works_outside_an_event_loop(two_stubs, two_aliases):
    result = _router(two_aliases).complete_sync("judge", "simple", MESSAGES, max_tokens=20)
    assert isinstance(result, LLMResult) and result.content == "cheap answer"


def test_complete_sync_refuses_inside_a_running_loop(two_aliases):
    async def inside():
        _router(two_aliases).complete_sync("judge", "simple", MESSAGES, max_tokens=20)

    with pytest.raises(RuntimeError, match="await Router.complete"):
        asyncio.run(inside())


def test_parallel_branches_share_one_ledger(two_stubs, two_aliases):
    router = _router(two_aliases)

    async def fan_out():
        return await asyncio.gather(*(router.complete(f"branch_{i}", "simple", MESSAGES, max_tokens=10) for i in range(5)))

    results = asyncio.run(fan_out())
    assert [r.content for r in results] == ["cheap answer"] * 5
    assert sorted(a.step for a in router.ledger.attempts) == [f"branch_{i}" for i in range(5)]
    assert router.budget.spent == sum((r.cost for r in results), Decimal(0))


def test_call_timeout_caps_the_configured_one(two_stubs, make_config, alias_table):
    cheap, dear = two_stubs
    cheap.handler = lambda request: delay(6, reply("too late"))
    config = make_config(
        alias_table("cheap", cheap, price_in="0", price_out="0"),  # router default: 30 s
        alias_table("dear", dear, price_in="0.00001", price_out="0.00003"),
    )
    router = _router(config)
    result = _ask(router, timeout=Decimal("1.5"))  # a spec's max_latency is Decimal seconds
    first = router.ledger.attempts[0]
    assert (result.alias, first.outcome) == ("dear", "timeout")
    assert 1.5 <= first.latency_s < 6  # cut at the call's 1.5 s, not the router's 30 s nor the stub's 6 s


def test_eligible_aliases_follow_the_routers_rule(two_aliases):
    assert two_aliases.eligible("simple", "pro") == ("cheap", "dear")
    assert two_aliases.eligible("simple", "pro", fallback=["dear"]) == ("dear", "cheap")
    assert two_aliases.eligible("simple", "pro", models=["dear"]) == ("dear",)
    assert two_aliases.eligible("research", "pro", models=["dear"]) == ("dear",)


def test_usable_from_langgraph_async_and_sync_nodes(two_stubs, two_aliases):
    from typing import TypedDict

    from langgraph.graph import END, START, StateGraph

    cheap, _ = two_stubs
    cheap.handler = lambda request: reply(f"answer to: {request['messages'][-1]['content']}")
    router = _router(two_aliases)

    class State(TypedDict, total=False):
        question: str
        draft: str
        final: str

    async def draft(state: State) -> State:
        result = await router.complete("draft", "simple", [{"role": "user", "content": state["question"]}], max_tokens=50)
        return {"draft": result.content}

    def polish(state: State) -> State:  # LangGraph runs sync nodes in a worker thread
        result = router.complete_sync("polish", "simple", [{"role": "user", "content": state["draft"]}], max_tokens=50)
        return {"final": result.content}

    graph = StateGraph(State)
    graph.add_node("draft", draft)
    graph.add_node("polish", polish)
    graph.add_edge(START, "draft")
    graph.add_edge("draft", "polish")
    graph.add_edge("polish", END)
    state = asyncio.run(graph.compile().ainvoke({"question": "Is it new?"}))
    assert state["final"] == "answer to: answer to: Is it new?"
    assert [a.step for a in router.ledger.attempts] == ["draft", "polish"]
