"""One budget per run tree: `agent:` steps and parallel branches share the parent's money; hostile
usage reports stop the run; calls cancelled in flight stay in the ledger. Real specs, stub LLM."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

import pytest

from agent_factory.runtime.executor import run_spec
from agent_factory.testing import StubLLM, delay, error, reply

PRICE_OUT = Decimal("0.00018")  # 100 completion tokens cost $0.018; prompts are free, so worst case == real cost

HELPER = """
# Agent: Helper

## Purpose
Drafts an answer, then polishes it.

## Inputs
- topic: str — the topic

## Outputs
- answer: str — the answer

## Model
- max_cost_per_run: $0.05
- max_tokens: 100

## Workflow
### draft
- llm: simple
- outputs: rough
- prompt: Draft {topic}

### polish
- llm: simple
- outputs: answer
- prompt: Polish {rough}

### Flow
- START → draft
- draft → polish
- polish → END
"""

FAN_OUT = """
# Agent: Fan Out

## Purpose
Asks two helpers at once.

## Inputs
- topic: str — the topic

## Outputs
- left: str — one answer
- right: str — the other answer

## Model
- max_cost_per_run: $0.05

## Workflow
### ask_left
- agent: helper.md
- outputs: left

### ask_right
- agent: helper.md
- outputs: right

### Flow
- START → ask_left, ask_right
- ask_left, ask_right → END
"""

WARM_THEN_DELEGATE = """
# Agent: Warm Then Delegate

## Purpose
Spends most of its money itself, then delegates.

## Inputs
- topic: str — the topic

## Outputs
- answer: str — the helper's answer

## Model
- max_cost_per_run: $0.05
- max_tokens: 200

## Workflow
### warm
- llm: simple
- outputs: notes
- prompt: Think about {topic}

### delegate
- agent: helper.md
- outputs: answer

### Flow
- START → warm
- warm → delegate
- delegate → END
"""

THREE_AT_ONCE = """
# Agent: Three At Once

## Purpose
Asks three questions in parallel.

## Inputs
- topic: str — the topic

## Outputs
- a: str — first
- b: str — second
- c: str — third

## Model
- max_tokens: 100

## Workflow
### fail_fast
- llm: simple
- outputs: a
- prompt: A {topic}

### slow_b
- llm: simple
- outputs: b
- prompt: B {topic}

### slow_c
- llm: simple
- outputs: c
- prompt: C {topic}

### Flow
- START → fail_fast, slow_b, slow_c
- fail_fast, slow_b, slow_c → END
"""


def honest(body):
    """Answers the step's schema with its first field; uses exactly `max_tokens` completion tokens."""
    schema = body["response_format"]["json_schema"]["schema"]
    field = next(iter(schema["properties"]))
    return reply(json.dumps({field: f"{field} text"}), prompt_tokens=0, completion_tokens=body["max_tokens"])


@pytest.fixture
def stub():
    with StubLLM(honest) as server:
        yield server


@pytest.fixture
def config(stub, make_config, alias_table, litellm):
    return make_config('[router]\ncooldown_seconds = 0\n',
                       alias_table("fast", stub, price_in="0", price_out=str(PRICE_OUT)))


def _write(folder, **specs):
    for name, text in specs.items():
        (folder / f"{name}.md").write_text(text.strip() + "\n", encoding="utf-8")
    return folder / f"{next(iter(specs))}.md"


def test_parallel_agent_steps_share_one_budget(tmp_path, stub, config):
    # Each helper alone would spend $0.036 within its own $0.05; two at once must not spend $0.072.
    both_sent = threading.Barrier(2, timeout=10)

    def answer(body):
        if "Draft" in body["messages"][-1]["content"]:
            both_sent.wait()  # both helpers' first calls reach the provider before either is answered
        return honest(body)

    stub.handler = answer
    spec = _write(tmp_path, fan_out=FAN_OUT, helper=HELPER)
    result = run_spec(spec, {"topic": "tea"}, config=config)
    assert not result.ok and result.error_type == "BudgetExceeded"
    assert result.error.endswith(
        "call refused, worst case $0.018000 on 'fast' + $0.036000 already spent would exceed max_cost_per_run $0.050000"
    )
    assert len(stub.requests) == 2
    assert sum(a.cost for a in result.ledger) == Decimal("0.036")
    # the other helper's first call is either answered or, still in flight when the run stopped,
    # cancelled and charged its worst case (the same $0.018 here)
    served = sorted(a.outcome for a in result.ledger if a.outcome != "refused")
    assert served in (["ok", "ok"], ["cancelled", "ok"])


def test_agent_step_cannot_spend_more_than_the_parent_has_left(tmp_path, stub, config):
    # warm spends $0.036 of the parent's $0.05; the helper's own limit ($0.05) must not let its
    # $0.018 call through, since only $0.014 is left in the run.
    spec = _write(tmp_path, warm=WARM_THEN_DELEGATE, helper=HELPER)
    result = run_spec(spec, {"topic": "tea"}, config=config)
    assert result.error == (
        "step 'delegate/draft': call refused, worst case $0.018000 on 'fast' + $0.036000 already spent "
        "would exceed max_cost_per_run $0.050000"
    )
    assert [(a.step, a.outcome, a.cost) for a in result.ledger] == [
        ("warm", "ok", Decimal("0.036")), ("delegate/draft", "refused", Decimal(0))
    ]
    assert len(stub.requests) == 1


def test_agent_step_within_the_parents_money_runs_to_the_end(tmp_path, stub, config):
    spec = _write(tmp_path, warm=WARM_THEN_DELEGATE.replace("max_tokens: 200", "max_tokens: 50"), helper=HELPER)
    result = run_spec(spec, {"topic": "tea"}, config=config)
    assert result.ok, result.error
    assert result.outputs == {"answer": "answer text"}
    assert [(a.step, a.cost) for a in result.ledger] == [
        ("warm", Decimal("0.009")), ("delegate/draft", Decimal("0.018")), ("delegate/polish", Decimal("0.018"))
    ]


def test_calls_cancelled_in_flight_are_in_the_ledger_at_their_worst_case(tmp_path, stub, config):
    arrived = threading.Barrier(3, timeout=10)

    def answer(body):
        step = body["response_format"]["json_schema"]["name"]
        arrived.wait()  # all three requests reach the provider before any answer
        return error(400, "bad request") if step == "fail_fast" else delay(30, honest(body))

    stub.handler = answer
    spec = _write(tmp_path, three=THREE_AT_ONCE)
    result = run_spec(spec, {"topic": "tea"}, config=config)
    assert result.error_type == "AllModelsFailed"
    assert len(stub.requests) == 3
    by_step = {a.step: (a.outcome, a.cost, a.estimate) for a in result.ledger}
    assert by_step == {
        "fail_fast": ("error", Decimal(0), Decimal("0.018")),
        "slow_b": ("cancelled", Decimal("0.018"), Decimal("0.018")),
        "slow_c": ("cancelled", Decimal("0.018"), Decimal("0.018")),
    }
    assert sum(a.cost for a in result.ledger) == Decimal("0.036")


def test_an_overrunning_provider_stops_the_run_and_the_cli_exits_1(tmp_path, stub, alias_table):
    stub.handler = lambda body: reply(json.dumps({"rough": "r"}), prompt_tokens=0, completion_tokens=100_000)
    spec = _write(tmp_path, helper=HELPER)
    config = tmp_path / "agent-factory.toml"
    config.write_text(alias_table("fast", stub, price_in="0", price_out=str(PRICE_OUT)), encoding="utf-8")
    cli = Path(sys.executable).with_name("agent-factory")
    done = subprocess.run([str(cli), "run", str(spec), "--input", "tea", "--config", str(config), "--format", "json"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    assert (data["ok"], data["error"]) == (False, (
        "step 'draft': 'fast' reported 0 prompt and 100000 completion tokens (max_tokens 100), costing $18.000000 "
        "where $0.018000 was reserved; charged in full and stopped the run"))
    [attempt] = data["ledger"]
    assert (attempt["outcome"], attempt["overrun"], attempt["cost"], attempt["estimate"]) == (
        "ok", True, "18.000000", "0.018000")
    assert (data["cost"]["total"], data["cost"]["reference_total"]) == ("18.000000", "18.000000")
    assert len(stub.requests) == 1  # the next step never ran


TEAM = """
# Team: Desk

## Purpose
Sends every question to the helper.

## Members
- helper: helper.md — routes: tea

## Routing
- strategy: keyword
- default: helper

## Model
- max_cost_per_run: $0.02
"""


def test_a_team_member_is_capped_by_the_teams_budget(tmp_path, stub, config):
    # the helper's own limit is $0.05; under a $0.02 team its second $0.018 call cannot be afforded
    spec = _write(tmp_path, desk=TEAM, helper=HELPER)
    result = run_spec(spec, "tea please", config=config)
    assert result.error == (
        "step 'helper/polish': call refused, worst case $0.018000 on 'fast' + $0.018000 already spent "
        "would exceed max_cost_per_run $0.020000"
    )
    assert [(a.step, a.outcome, a.cost) for a in result.ledger] == [
        ("helper/draft", "ok", Decimal("0.018")), ("helper/polish", "refused", Decimal(0))
    ]
