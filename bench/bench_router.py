"""Router overhead per call, without provider latency.

Measures `Router.complete()` served from replay cassettes (planning, pricing, budget reservation,
request key, cassette lookup, ledger), against a bare baseline doing the irreducible part of that
work in the same run (canonical JSON + SHA-256 + dict lookup + Decimal cost), and, for scale,
litellm's own no-network path (`acompletion(mock_response=...)`).

    .venv/bin/python bench/bench_router.py [--calls 5000]

Target: under 1 ms per routed call.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_factory.runtime.budget import Budget, CostLedger  # noqa: E402
from agent_factory.runtime.config import parse_config  # noqa: E402
from agent_factory.runtime.llm import litellm  # noqa: E402
from agent_factory.runtime.replay import ReplayStore  # noqa: E402
from agent_factory.runtime.router import ModelHealth, Router  # noqa: E402
from agent_factory.testing import StubLLM, reply  # noqa: E402

SYSTEM = {"role": "system", "content": "You are a careful startup-idea critic. " * 25}
TOOLS = [
    {"type": "function", "function": {"name": n, "description": "d" * 80, "parameters": {"type": "object"}}}
    for n in ("search", "fetch")
]
STEPS = [f"step_{i}" for i in range(20)]


def _messages(step: str) -> list[dict]:
    return [SYSTEM, {"role": "user", "content": f"Judge idea {step}: an app that reminds you to drink water."}]


def _config(base_url: str):
    return parse_config(f"""
[router]
fallback = ["local", "mid", "dear"]
[models.local]
model = "openai/local"
api_base = "{base_url}"
api_key_env = "BENCH_STUB_KEY"
input_cost_per_token = 0
output_cost_per_token = 0
tasks = ["classification"]
[models.mid]
model = "perplexity/sonar"
[models.dear]
model = "anthropic/claude-sonnet-4-5"
[tiers.pro]
models = ["local", "mid", "dear"]
max_cost_per_request = 0.5
""", "bench")


async def _complete(router: Router, step: str, task: str = "simple"):
    return await router.complete(step, task, _messages(step), tools=TOOLS, max_tokens=256, temperature=0.2, tier="pro")


def _record(directory: Path) -> None:
    """Cassettes for every step, recorded through the real HTTP path against a local stub."""
    os.environ.setdefault("BENCH_STUB_KEY", "stub")  # the OpenAI client wants some key
    with StubLLM(reply("Not novel.", prompt_tokens=300, completion_tokens=5)) as stub:
        router = Router(_config(stub.base_url), CostLedger(), Budget(), ReplayStore(directory, "record"), health=ModelHealth())

        async def run():
            for step in STEPS:
                await _complete(router, step, "classification")

        asyncio.run(run())


def bench_router(directory: Path, calls: int) -> float:
    """Microseconds per replay-served routed call (plan + budget + key + lookup + ledger)."""
    router = Router(_config("http://127.0.0.1:9/v1"), CostLedger(), Budget(Decimal("1000000")),
                    ReplayStore(directory, "replay"), health=ModelHealth())

    async def run():
        for i in range(50):  # warm-up: price lookups, first-call imports
            await _complete(router, STEPS[i % len(STEPS)])
        started = time.perf_counter()
        for i in range(calls):
            await _complete(router, STEPS[i % len(STEPS)])
        return time.perf_counter() - started

    return asyncio.run(run()) / calls * 1e6


def bench_baseline(calls: int) -> float:
    """Microseconds for the bare minimum: hash the request, find the answer, price it."""
    table = {}
    for step in STEPS:
        key = hashlib.sha256(json.dumps([_messages(step), TOOLS, "0.2"], sort_keys=True).encode()).hexdigest()
        table[key] = (300, 5)
    price_in, price_out = Decimal("0.000003"), Decimal("0.000015")
    started = time.perf_counter()
    total = Decimal(0)
    for i in range(calls):
        step = STEPS[i % len(STEPS)]
        key = hashlib.sha256(json.dumps([_messages(step), TOOLS, "0.2"], sort_keys=True).encode()).hexdigest()
        tokens_in, tokens_out = table[key]
        total += price_in * tokens_in + price_out * tokens_out
    return (time.perf_counter() - started) / calls * 1e6


def bench_litellm_mock(calls: int) -> float:
    """Microseconds per `litellm.acompletion(mock_response=...)`: litellm's own path, no network."""
    module = litellm()

    async def run():
        for _ in range(20):
            await module.acompletion(model="gpt-4o-mini", messages=_messages("s"), mock_response="x")
        started = time.perf_counter()
        for _ in range(calls):
            await module.acompletion(model="gpt-4o-mini", messages=_messages("s"), mock_response="x")
        return time.perf_counter() - started

    return asyncio.run(run()) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        _record(Path(tmp))
        routed = bench_router(Path(tmp), args.calls)
    baseline = bench_baseline(args.calls)
    mock = bench_litellm_mock(max(args.calls // 10, 100))
    print(f"router (replay-served, plan+budget+key+lookup+ledger): {routed:8.1f} µs/call")
    print(f"baseline (hash + dict lookup + Decimal cost):           {baseline:8.1f} µs/call   router/baseline = {routed / baseline:.1f}x")
    print(f"litellm acompletion(mock_response=...):                 {mock:8.1f} µs/call   router/litellm-mock = {routed / mock:.2f}x")
    print(f"target < 1000 µs/call: {'met' if routed < 1000 else 'MISSED'}")


if __name__ == "__main__":
    main()
