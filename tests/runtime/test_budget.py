"""Budgets: refuse before sending, never end a run above max_cost_per_run (nor silently above it
when a provider or cassette reports hostile usage); the run-tree budget; the cost comparison."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from agent_factory.compiler.ir import ModelConfig
from agent_factory.compiler.span import Span
from agent_factory.runtime.budget import Attempt, Budget, CostLedger, compare_costs
from agent_factory.runtime.config import default_config, parse_config
from agent_factory.runtime.errors import AllModelsFailed, BudgetExceeded, UsageOverrun, UsageRejected
from agent_factory.runtime.pricing import prompt_token_bound
from agent_factory.runtime.replay import Cassette, ReplayStore
from agent_factory.runtime.result import cost_table
from agent_factory.runtime.router import ModelHealth, Router
from agent_factory.testing import StubLLM, error, reply

MESSAGES = [{"role": "user", "content": "Summarise the market for AI note-taking apps."}]
SPAN = Span.point("spec.md", 1)


@pytest.fixture
def expensive(make_config, alias_table):
    """One alias at $0.0001 per token in and out: 100 tokens cost a cent."""
    with StubLLM(reply("pricey", prompt_tokens=60, completion_tokens=20)) as stub:
        config = make_config(alias_table("dear", stub, price_in="0.0001", price_out="0.0001"))
        yield stub, config


def _router(config, budget):
    return Router(config, CostLedger(), budget, health=ModelHealth())


def test_call_is_refused_before_it_is_sent(expensive):
    stub, config = expensive
    router = _router(config, Budget(Decimal("0.01")))
    with pytest.raises(BudgetExceeded) as caught:
        asyncio.run(router.complete("research", "simple", MESSAGES, max_tokens=500))
    bound = prompt_token_bound(MESSAGES)
    estimate = Decimal("0.0001") * (bound + 500)
    assert bound == 80 and estimate == Decimal("0.058")
    assert str(caught.value) == (
        "step 'research': call refused, worst case $0.058000 on 'dear' + $0.000000 already spent "
        "would exceed max_cost_per_run $0.010000"
    )
    assert (caught.value.estimate, caught.value.spent, caught.value.maximum) == (estimate, 0, Decimal("0.01"))
    assert stub.requests == []
    [attempt] = router.ledger.attempts
    assert (attempt.outcome, attempt.cost, attempt.estimate) == ("refused", 0, estimate)


def test_run_never_ends_above_its_budget(expensive):
    stub, config = expensive
    budget = Budget(Decimal("0.05"))
    router = _router(config, budget)
    answered = 0
    with pytest.raises(BudgetExceeded) as caught:
        for _ in range(100):
            asyncio.run(router.complete("loop", "simple", MESSAGES, max_tokens=20))
            answered += 1
    # each call: worst case (80 + 20) tokens = $0.01, real cost (60 + 20) tokens = $0.008;
    # the 7th would need $0.048 + $0.01 > $0.05
    assert answered == 6 and len(stub.requests) == 6
    assert budget.spent == Decimal("0.048") == router.ledger.total_cost
    assert budget.spent <= budget.maximum and budget.reserved == 0
    assert str(caught.value) == (
        "step 'loop': call refused, worst case $0.010000 on 'dear' + $0.048000 already spent "
        "would exceed max_cost_per_run $0.050000"
    )


def test_parallel_calls_cannot_overrun_the_budget_together(expensive):
    stub, config = expensive
    budget = Budget(Decimal("0.035"))
    router = _router(config, budget)

    async def fan_out():
        calls = (router.complete(f"b{i}", "simple", MESSAGES, max_tokens=20) for i in range(10))
        return await asyncio.gather(*calls, return_exceptions=True)

    results = asyncio.run(fan_out())
    served = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, BudgetExceeded)]
    assert (len(served), len(refused)) == (3, 7)  # 3 × $0.01 reserved fit in $0.035, a 4th does not
    assert len(stub.requests) == 3
    assert budget.spent == Decimal("0.024") <= budget.maximum


def test_refused_alias_falls_through_to_a_cheaper_fallback(make_config, alias_table):
    with StubLLM(error(500, "down")) as cheap, StubLLM(reply("x")) as dear, StubLLM(reply("free answer")) as free:
        config = make_config(
            '[router]\nfallback = ["cheap", "dear", "free"]\n',
            alias_table("cheap", cheap, price_in="0.0000001", price_out="0.0000001"),
            alias_table("dear", dear, price_in="0.001", price_out="0.001"),
            alias_table("free", free, price_in="0.000001", price_out="0.000001"),
        )
        router = _router(config, Budget(Decimal("0.01")))
        result = asyncio.run(router.complete("s", "simple", MESSAGES, max_tokens=100))
    assert result.alias == "free"
    assert [(a.alias, a.outcome) for a in router.ledger.attempts] == [("cheap", "error"), ("dear", "refused"), ("free", "ok")]
    assert dear.requests == []


def test_failures_then_refusals_report_every_attempt(make_config, alias_table):
    with StubLLM(error(500, "down")) as cheap, StubLLM(reply("x")) as dear:
        config = make_config(
            alias_table("cheap", cheap, price_in="0", price_out="0"),
            alias_table("dear", dear, price_in="0.001", price_out="0.001"),
            '[tiers.pro]\nmodels = ["cheap", "dear"]\nmax_cost_per_request = 0.05\n',
        )
        router = _router(config, Budget())
        with pytest.raises(AllModelsFailed) as caught:
            asyncio.run(router.complete("s", "simple", MESSAGES, max_tokens=100, tier="pro"))
    assert str(caught.value) == (
        "step 's': all models failed (2 attempts)\n"
        "  - cheap (openai/cheap-model): error: litellm.InternalServerError: InternalServerError: OpenAIException - down\n"
        "  - dear (openai/dear-model): refused: step 's': call refused, "
        "worst case $0.180000 on 'dear' exceeds the tier's max_cost_per_request $0.050000"
    )
    assert dear.requests == []


def test_budget_for_run_takes_the_lower_of_spec_and_tier():
    config = default_config()
    spec = ModelConfig(span=SPAN, tier="free", max_cost_per_run=Decimal("0.50"))
    assert Budget.for_run(spec, config).maximum == Decimal("0.05")
    assert Budget.for_run(spec.model_copy(update={"max_cost_per_run": Decimal("0.02")}), config).maximum == Decimal("0.02")
    assert Budget.for_run(ModelConfig(span=SPAN, tier="enterprise"), config).maximum is None
    assert Budget.for_run(None, config).maximum == Decimal("0.05")  # the default tier is free


def test_ledger_json_keeps_money_as_strings():
    ledger = CostLedger()
    ledger.record(Attempt("s", "simple", "claude", "anthropic/claude-sonnet-4-5", "ok", 10, 5, Decimal("0.000105"), Decimal("0.1"), 0.25))
    assert ledger.as_json() == [
        {
            "step": "s", "task": "simple", "alias": "claude", "model": "anthropic/claude-sonnet-4-5", "outcome": "ok",
            "tokens_in": 10, "tokens_out": 5, "cost": "0.000105", "estimate": "0.100000", "latency_s": 0.25, "error": "",
            "overrun": False,
        }
    ]


def test_the_cost_table_flags_an_answer_that_overran_its_reservation():
    attempt = Attempt("draft", "simple", "fast", "openai/stub", "ok", 0, 100_000, Decimal(18), Decimal("0.018"), 0.5,
                      overrun=True)
    assert cost_table([attempt], None) == [
        "cost:",
        "  step                   alias/model                                   in    out        cost  latency  outcome",
        "  draft                  fast/openai/stub                               0 100000  $18.000000    0.50s  ok, overrun",
        "  total: $18.000000 (1 call)",
        "",
    ]


def test_compare_costs_prices_the_run_on_the_dearest_model_of_the_tier():
    config = default_config()
    ledger = CostLedger()
    ledger.record(Attempt("plan", "simple", "local", "ollama/llama3", "ok", 1000, 200, Decimal(0)))
    ledger.record(Attempt("search", "research", "perplexity", "perplexity/sonar", "ok", 2000, 500, Decimal("0.0025")))
    ledger.record(Attempt("judge", "simple", "perplexity", "perplexity/sonar", "refused", estimate=Decimal("1")))
    pro = compare_costs(ledger, config, "pro")
    assert (pro.reference_alias, pro.reference_model) == ("claude", "anthropic/claude-sonnet-4-5")
    # claude: $3 per million in, $15 per million out
    assert [(r.step, r.cost, r.reference_cost) for r in pro.rows] == [
        ("plan", Decimal(0), Decimal("0.006")),
        ("search", Decimal("0.0025"), Decimal("0.0135")),
    ]
    assert (pro.actual, pro.reference, pro.saving) == (Decimal("0.0025"), Decimal("0.0195"), Decimal("0.0170"))
    free = compare_costs(ledger, config, "free")
    assert (free.reference_alias, free.reference) == ("perplexity", Decimal("0.0037"))


def test_compare_costs_counts_calls_charged_without_tokens_on_both_sides():
    ledger = CostLedger()
    ledger.record(Attempt("search", "research", "perplexity", "perplexity/sonar", "ok", 2000, 500, Decimal("0.0025")))
    ledger.record(Attempt("judge", "simple", "perplexity", "perplexity/sonar", "cancelled", cost=Decimal("0.004"),
                          estimate=Decimal("0.004")))
    pro = compare_costs(ledger, default_config(), "pro")
    assert [r.step for r in pro.rows] == ["search"]
    assert (pro.actual, pro.reference, pro.saving) == (Decimal("0.0065"), Decimal("0.0175"), Decimal("0.0110"))
    assert pro.actual == ledger.total_cost


# ---------------------------------------------------------------- hostile usage reports


@pytest.fixture
def hostile(make_config, alias_table):
    """A stub reporting whatever usage the test sets; $0.00001 per token in, $0.0001 out."""
    with StubLLM(reply("hi")) as stub:
        yield stub, make_config(alias_table("sly", stub, price_in="0.00001", price_out="0.0001"))


def test_completion_tokens_past_max_tokens_are_charged_flagged_and_stop_the_call(hostile):
    stub, config = hostile
    stub.handler = lambda body: reply("hi", prompt_tokens=5, completion_tokens=100_000)
    budget = Budget(Decimal("0.05"))
    router = _router(config, budget)
    with pytest.raises(UsageOverrun) as caught:
        asyncio.run(router.complete("judge", "simple", MESSAGES, max_tokens=100))
    assert str(caught.value) == (
        "step 'judge': 'sly' reported 5 prompt and 100000 completion tokens (max_tokens 100), costing $10.000050 "
        "where $0.010800 was reserved; charged in full and stopped the run"
    )
    [attempt] = router.ledger.attempts
    assert (attempt.outcome, attempt.overrun, attempt.cost, attempt.estimate) == (
        "ok", True, Decimal("10.00005"), Decimal("0.0108"))
    assert attempt.error == str(caught.value)
    assert budget.spent == Decimal("10.00005") == router.ledger.total_cost and budget.reserved == 0


def test_answer_within_max_tokens_and_reservation_is_not_flagged(hostile):
    stub, config = hostile
    stub.handler = lambda body: reply("hi", prompt_tokens=80, completion_tokens=100)  # exactly the worst case
    router = _router(config, Budget(Decimal("0.0108")))
    result = asyncio.run(router.complete("judge", "simple", MESSAGES, max_tokens=100))
    assert result.cost == Decimal("0.0108")
    assert [(a.outcome, a.overrun, a.error) for a in router.ledger.attempts] == [("ok", False, "")]


def test_negative_token_counts_from_a_provider_are_rejected_at_the_worst_case(hostile):
    stub, config = hostile
    stub.handler = lambda body: reply("hi", prompt_tokens=-5, completion_tokens=-100_000_000)
    budget = Budget(Decimal("0.05"))
    router = _router(config, budget)
    with pytest.raises(UsageRejected) as caught:
        asyncio.run(router.complete("judge", "simple", MESSAGES, max_tokens=100))
    assert str(caught.value) == (
        "step 'judge': 'sly' reported impossible usage (prompt_tokens -5, completion_tokens -100000000) "
        "from the provider; charged the worst case reserved, $0.010800, and stopped the run"
    )
    [attempt] = router.ledger.attempts
    assert (attempt.outcome, attempt.tokens_in, attempt.tokens_out, attempt.cost) == ("rejected", 0, 0, Decimal("0.0108"))
    assert budget.spent == Decimal("0.0108") and budget.reserved == 0


@pytest.mark.parametrize(("completion_tokens", "shown"), [
    (-13000, "-13000"), (2.5, "2.5"), ("12", "'12'"), (True, "True"),
], ids=["negative", "fraction", "text", "boolean"])
def test_impossible_usage_in_a_cassette_is_rejected_naming_the_file(tmp_path, hostile, completion_tokens, shown):
    stub, config = hostile
    stub.handler = lambda body: reply("hi", prompt_tokens=10, completion_tokens=3)
    asyncio.run(_router_with(config, ReplayStore(tmp_path, "record")).complete("judge", "simple", MESSAGES, max_tokens=100))
    [path] = tmp_path.glob("*.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    data["response"]["usage"] = {"prompt_tokens": 10, "completion_tokens": completion_tokens}
    path.write_text(json.dumps(data), encoding="utf-8")
    router = _router_with(config, ReplayStore(tmp_path, "replay"))
    with pytest.raises(UsageRejected) as caught:
        asyncio.run(router.complete("judge", "simple", MESSAGES, max_tokens=100))
    assert str(caught.value) == (
        f"step 'judge': 'sly' reported impossible usage (completion_tokens {shown}) in cassette {path}; "
        "charged the worst case reserved, $0.010800, and stopped the run"
    )
    assert router.ledger.total_cost == Decimal("0.0108")


def _router_with(config, store):
    return Router(config, CostLedger(), Budget(Decimal("0.05")), store, health=ModelHealth())


class ScriptedCassettes:
    """A replay store answering every request with the next scripted usage (no files)."""

    replaying = True

    def __init__(self, usages):
        self.usages = list(usages)

    def lookup(self, step, key, request):
        prompt, completion = self.usages.pop(0)
        response = {"content": "ok", "usage": {"prompt_tokens": prompt, "completion_tokens": completion}}
        return Cassette(key, step, request, response, {}, path=Path("scripted.json"))


SCRIPTED_CONFIG = parse_config(
    '[models.sly]\nmodel = "openai/sly"\ninput_cost_per_token = 0.00001\noutput_cost_per_token = 0.0001\n',
    "scripted.toml",
)
COUNTS = st.one_of(st.integers(0, 250), st.integers(-10**6, 10**9), st.sampled_from([None, 1.5, "12", True]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(usages=st.lists(st.tuples(COUNTS, COUNTS), min_size=1, max_size=12), max_tokens=st.integers(1, 200))
def test_no_reported_usage_lets_a_run_end_above_its_budget_without_failing(usages, max_tokens):
    budget = Budget(Decimal("0.05"))
    router = Router(SCRIPTED_CONFIG, CostLedger(), budget, ScriptedCassettes(usages), health=ModelHealth())
    stopped = None
    for _ in usages:
        try:
            asyncio.run(router.complete("loop", "simple", MESSAGES, max_tokens=max_tokens))
        except (BudgetExceeded, UsageOverrun, UsageRejected) as exc:
            stopped = exc
            break
    total = router.ledger.total_cost
    assert total == budget.spent and budget.reserved == 0
    if total > budget.maximum:
        assert isinstance(stopped, UsageOverrun)
    flagged = [a for a in router.ledger.attempts if a.overrun]
    assert bool(flagged) == isinstance(stopped, UsageOverrun)
    if flagged:
        assert router.ledger.attempts[-1] is flagged[0]  # nothing ran after the overrun


# ---------------------------------------------------------------- the run tree's budget


def test_child_reservation_is_held_in_every_ancestor():
    root = Budget(Decimal("0.05"))
    child = root.child(Decimal("0.04"))
    grandchild = child.child(None)
    held = grandchild.reserve(Decimal("0.03"), step="s", alias="a")
    assert (root.reserved, child.reserved, grandchild.reserved) == (Decimal("0.03"),) * 3
    assert grandchild.remaining == Decimal("0.01")  # the child's own $0.04 is the nearest limit
    held.settle(Decimal("0.02"))
    assert (root.spent, child.spent, grandchild.spent) == (Decimal("0.02"),) * 3
    assert (root.reserved, child.reserved, grandchild.reserved) == (0, 0, 0)


def test_sibling_children_cannot_each_spend_the_parents_budget():
    root = Budget(Decimal("0.05"))
    left, right = root.child(Decimal("0.05")), root.child(Decimal("0.05"))
    left.reserve(Decimal("0.03"), step="l", alias="a")
    with pytest.raises(BudgetExceeded) as caught:
        right.reserve(Decimal("0.03"), step="r", alias="a")
    assert str(caught.value) == (
        "step 'r': call refused, worst case $0.030000 on 'a' + $0.030000 already spent "
        "would exceed max_cost_per_run $0.050000"
    )
    assert (root.reserved, left.reserved, right.reserved) == (Decimal("0.03"), Decimal("0.03"), 0)
