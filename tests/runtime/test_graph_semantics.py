"""Graph semantics through the real litellm path to a stub LLM server (the router is never patched):
fan-out concurrency, joins, conditional edges, loops, rules, structured output, guards, budgets, replay."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from agent_factory.runtime.executor import run_spec
from agent_factory.testing import StubLLM, delay, reply

PRICE = dict(price_in="0.000001", price_out="0.000002")


def write_spec(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.md"
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def step_of(body: dict) -> str:
    return body["response_format"]["json_schema"]["name"] if body.get("response_format") else "router"


def by_step(answers: dict):
    """A stub handler answering each step's JSON (a dict, a StubReply or a function of the body)."""
    def handle(body):
        answer = answers[step_of(body)]
        answer = answer(body) if callable(answer) else answer
        return answer if not isinstance(answer, dict) else reply(json.dumps(answer))
    return handle


@pytest.fixture
def stub():
    with StubLLM(reply("{}")) as server:
        yield server


@pytest.fixture
def config(stub, make_config, alias_table, litellm):
    return make_config(alias_table("fast", stub, **PRICE))


FANOUT = """
# Agent: Fanout

## Purpose
Looks at a topic three ways at once.

## Inputs
- topic: str — the topic

## Outputs
- summary: str — the three views joined

## Workflow
### a
- llm: simple
- outputs: a_out
- prompt: View A of {topic}

### b
- llm: simple
- outputs: b_out
- prompt: View B of {topic}

### c
- llm: simple
- outputs: c_out
- prompt: View C of {topic}

### join
- llm: simple
- outputs: summary
- prompt: Join {a_out}, {b_out} and {c_out}.

### Flow
- START → a, b, c
- a, b, c → join
- join → END
"""


def test_fan_out_steps_run_concurrently_and_the_join_waits_for_all(tmp_path, stub, config):
    arrived: dict[str, float] = {}

    def slow(name):
        def answer(body):
            arrived[name] = time.perf_counter()
            return delay(1.0, reply(json.dumps({f"{name}_out": name.upper()})))
        return answer

    stub.handler = by_step({**{n: slow(n) for n in "abc"}, "join": lambda body: {"summary": body["messages"][-1]["content"]}})
    spec = write_spec(tmp_path, "fanout", FANOUT)
    run_spec(spec, {"topic": "warm-up"}, config=config)  # litellm's first call sets itself up
    stub.clear()
    started = time.perf_counter()
    result = run_spec(spec, {"topic": "tea"}, config=config)
    elapsed = time.perf_counter() - started
    assert result.ok, result.error
    # each answer takes 1 s: run one after another, the three would take over 3 s; the margins
    # leave room for a loaded CI machine without letting a sequential run pass
    assert max(arrived.values()) - min(arrived.values()) < 0.9, "a step was sent only after another's answer"
    assert elapsed < 2.5, f"three 1 s steps took {elapsed:.2f} s: not concurrent"
    assert result.outputs == {"summary": "Join A, B and C."}
    assert [step_of(b) for b in stub.requests][-1] == "join"
    assert sorted(result.steps[:3]) == ["a", "b", "c"] and result.steps[3:] == ["join"]


BRANCH = """
# Agent: Brancher

## Purpose
Labels a score high or low.

## Inputs
- topic: str — the topic

## Outputs
- score: int[0..10] — how good
- label: str — high or low

## Workflow
### grade
- llm: simple
- outputs: score
- prompt: Grade {topic}

### high
- llm: simple
- outputs: label
- prompt: Praise {topic}

### low
- llm: simple
- outputs: label
- prompt: Criticise {topic}

### Flow
- START → grade
- grade → high when score >= 5
- grade → low otherwise
- high → END
- low → END
"""


@pytest.mark.parametrize(("score", "branch"), [(7, "high"), (2, "low")])
def test_conditional_edges_route_on_the_state(tmp_path, stub, config, score, branch):
    stub.handler = by_step({"grade": {"score": score}, "high": {"label": "HIGH"}, "low": {"label": "LOW"}})
    result = run_spec(write_spec(tmp_path, "branch", BRANCH), {"topic": "tea"}, config=config)
    assert result.ok, result.error
    assert result.steps == ["grade", branch]
    assert result.outputs == {"score": score, "label": branch.upper()}


LOOP = """
# Agent: Looper

## Purpose
Redrafts until the draft is good.

## Inputs
- topic: str — the topic

## Outputs
- quality: int[0..10] — how good the draft is

## Workflow
### draft
- llm: simple
- outputs: quality
- max_iterations: 2
- prompt: Draft about {topic}

### Flow
- START → draft
- draft → draft when quality < 5
- draft → END otherwise
"""


def test_a_loop_past_max_iterations_fails_naming_the_step_and_line(tmp_path, stub, config):
    stub.handler = by_step({"draft": {"quality": 1}})
    spec = write_spec(tmp_path, "loop", LOOP)
    result = run_spec(spec, {"topic": "tea"}, config=config)
    assert result.error == (f"step 'draft' ({spec}:{line_of(spec, '### draft')}) would run a 3rd time, "
                            "past its max_iterations: 2")
    assert len(stub.requests) == 2
    assert result.steps == ["draft", "draft"]
    assert result.render_text().splitlines()[-1].startswith("steps: draft, draft; tools called: none; latency ")


def test_a_loop_that_ends_in_time_succeeds(tmp_path, stub, config):
    answers = iter([{"quality": 1}, {"quality": 9}])
    stub.handler = by_step({"draft": lambda body: next(answers)})
    result = run_spec(write_spec(tmp_path, "loop", LOOP), {"topic": "tea"}, config=config)
    assert result.ok, result.error
    assert (result.steps, result.outputs) == (["draft", "draft"], {"quality": 9})


RULES = """
# Agent: Judge

## Purpose
Scores an idea, then applies the kill criteria.

## Inputs
- idea: str — the idea

## Outputs
- novelty_score: float[0..100] — how new
- estimated_mrr: float — revenue
- verdict: enum(BUILD|KILL)
- reasoning: str

## Workflow
### score
- llm: simple
- outputs: novelty_score, estimated_mrr, reasoning
- prompt: Score {idea}

### decide
- rules: Kill Criteria
- outputs: verdict, reasoning

### Flow
- START → score
- score → decide
- decide → END

## Rules
### Kill Criteria
- KILL when novelty_score < 60: "Novelty too low ({novelty_score})."
- KILL when estimated_mrr < 2000: "MRR potential too low (${estimated_mrr})."
- otherwise BUILD
"""


@pytest.mark.parametrize(("scores", "verdict", "reasoning"), [
    ({"novelty_score": 30, "estimated_mrr": 100}, "KILL", "Novelty too low (30)."),
    ({"novelty_score": 90, "estimated_mrr": 1500.5}, "KILL", "MRR potential too low ($1500.5)."),
    ({"novelty_score": 90, "estimated_mrr": 9000}, "BUILD", "model's reasons"),
])
def test_rules_step_runs_the_table_without_an_llm(tmp_path, stub, config, scores, verdict, reasoning):
    stub.handler = by_step({"score": {**scores, "reasoning": "model's reasons"}})
    result = run_spec(write_spec(tmp_path, "judge", RULES), {"idea": "x"}, config=config)
    assert result.ok, result.error
    assert (result.outputs["verdict"], result.outputs["reasoning"]) == (verdict, reasoning)
    assert len(stub.requests) == 1  # the rules step asked no model


TRIAGE = """
# Agent: Lead Triage

## Purpose
Decides whether a sales lead is worth a call.

## Inputs
- company: str
- score: int?

## Outputs
- verdict: enum(CALL|SKIP)
- reasoning: str

## Invariants
1. **INV-001 Sane score:** MUST NOT accept a doubled score over 200. `check: not score or score * 2 <= 200`

## Workflow
### decide
- rules: Triage
- outputs: verdict, reasoning

### Flow
- START → decide
- decide → END

## Rules
### Triage
- SKIP when score and score + 10 < 60: "Score too low ({score})."
- otherwise CALL
"""


def test_arithmetic_on_an_optional_input_tested_first_checks_clean_and_runs_with_or_without_it(tmp_path, stub, config):
    from agent_factory.compiler import check

    spec = write_spec(tmp_path, "triage", TRIAGE)
    assert check(spec).diagnostics == []  # unguarded, `score + 10` and `score * 2` are E311
    absent = run_spec(spec, {"company": "Acme"}, config=config)
    assert (absent.ok, absent.error, absent.outputs["verdict"]) == (True, None, "CALL")
    low = run_spec(spec, {"company": "Acme", "score": 30}, config=config)
    assert (low.ok, low.outputs) == (True, {"verdict": "SKIP", "reasoning": "Score too low (30)."})
    high = run_spec(spec, {"company": "Acme", "score": 150}, config=config)
    assert (high.ok, high.error_type, high.steps) == (False, "GuardViolation", ["decide"])
    assert high.error == f"invariant INV-001 violated ({spec}:{line_of(spec, 'INV-001')}): Sane score"
    assert stub.requests == []  # a rules table asks no model


# ---------------------------------------------------------------- structured output


def test_invalid_json_is_repaired_once(tmp_path, stub, config):
    answers = iter([reply("Sure! quality is 7"), reply('{"quality": 7}')])
    stub.handler = by_step({"draft": lambda body: next(answers)})
    result = run_spec(write_spec(tmp_path, "loop", LOOP.replace("when quality < 5", "when quality < 0")),
                      {"topic": "tea"}, config=config)
    assert result.ok, result.error
    assert result.outputs == {"quality": 7}
    repair = stub.requests[1]["messages"][-1]["content"]
    assert repair == ("Your answer could not be used: invalid JSON: Expecting value: line 1 column 1 (char 0)\n"
                      "Reply again with one JSON object only, matching the requested schema exactly.")


def test_invalid_json_twice_fails_the_run(tmp_path, stub, config):
    stub.handler = by_step({"draft": reply("no JSON here")})
    spec = write_spec(tmp_path, "loop", LOOP)
    result = run_spec(spec, {"topic": "tea"}, config=config)
    assert result.error == (f"step 'draft' ({spec}:{line_of(spec, '### draft')}): the model's answer is not valid "
                            "structured output after one repair attempt: invalid JSON: Expecting value: line 1 column 1 (char 0)")
    assert len(stub.requests) == 2


def test_an_out_of_range_value_fails_validation_after_one_repair(tmp_path, stub, config):
    stub.handler = by_step({"draft": {"quality": 15}})
    spec = write_spec(tmp_path, "loop", LOOP)
    result = run_spec(spec, {"topic": "tea"}, config=config)
    assert result.error == (f"step 'draft' ({spec}:{line_of(spec, '### draft')}): the model's answer is not valid "
                            "structured output after one repair attempt: quality: Input should be less than or equal to 10 (got 15)")
    schema = stub.requests[0]["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["quality"] == {"description": "how good the draft is", "maximum": 10, "minimum": 0,
                                               "title": "Quality", "type": "integer"}


# ---------------------------------------------------------------- guards


GUARDED = """
# Agent: Summariser

## Purpose
Summarises a topic briefly.

## Inputs
- topic: str — the topic

## Outputs
- summary: str — the summary

## Invariants
1. **INV-001 Short:** MUST keep the summary under twenty characters. `check: len(summary) < 20`
2. **INV-002 Polite:** SHOULD say please. `check: summary contains "please"`
3. **INV-003 No lies:** MUST NOT make things up.

## Workflow
### write
- llm: simple
- outputs: summary
- prompt: Summarise {topic}

### Flow
- START → write
- write → END
"""


def test_a_violated_must_fails_the_run_naming_the_invariant_and_line(tmp_path, stub, config):
    stub.handler = by_step({"write": {"summary": "a summary that is far too long, please"}})
    spec = write_spec(tmp_path, "guarded", GUARDED)
    result = run_spec(spec, {"topic": "tea"}, config=config)
    assert result.error == f"invariant INV-001 violated ({spec}:{line_of(spec, 'INV-001')}): Short"
    assert [(g.id, g.status) for g in result.guards] == [("INV-001", "failed"), ("INV-002", "passed")]
    assert result.steps == ["write"]
    assert result.render_text().splitlines()[-1].startswith("steps: write; tools called: none; latency ")


def test_a_violated_should_is_a_warning(tmp_path, stub, config):
    stub.handler = by_step({"write": {"summary": "Tea is nice."}})
    spec = write_spec(tmp_path, "guarded", GUARDED)
    result = run_spec(spec, {"topic": "tea"}, config=config)
    assert result.ok, result.error
    assert [(w.id, w.where, w.detail) for w in result.warnings] == [
        ("INV-002", f"{spec}:{line_of(spec, 'INV-002')}", 'check `summary contains "please"` is false')]
    system = stub.requests[0]["messages"][0]["content"]
    assert "- INV-003 No lies: MUST NOT make things up." in system and "INV-001" not in system


# ---------------------------------------------------------------- budgets and replay


def test_a_refused_call_fails_the_run_with_the_budget_message(tmp_path, stub, make_config, alias_table):
    dear = make_config(alias_table("fast", stub, price_in="0.001", price_out="0.001"))
    stub.handler = by_step({"write": {"summary": "x"}})
    spec = write_spec(tmp_path, "guarded", GUARDED.replace("## Workflow", "## Model\n- max_cost_per_run: $0.01\n\n## Workflow"))
    result = run_spec(spec, {"topic": "tea"}, config=dear)
    assert re.fullmatch(r"step 'write': call refused, worst case \$\d+\.\d{6} on 'fast' \+ \$0\.000000 already spent "
                        r"would exceed max_cost_per_run \$0\.010000", result.error), result.error
    assert stub.requests == []
    assert [a.outcome for a in result.ledger] == ["refused"]


def test_a_replay_miss_names_the_step_and_shows_the_request(tmp_path, config):
    spec = write_spec(tmp_path, "guarded", GUARDED)
    result = run_spec(spec, {"topic": "tea"}, config=config, replay=tmp_path / "empty")
    lines = result.error.splitlines()
    assert re.fullmatch(rf"replay miss at step 'write': no cassette for request key [0-9a-f]{{16}} in {tmp_path / 'empty'}",
                        lines[0])
    assert lines[1] == "request:"
    assert '"content": "Summarise tea"' in result.error
    assert lines[-1] == f"no cassettes recorded in {tmp_path / 'empty'}"


def test_a_recorded_run_replays_offline(tmp_path, stub, config):
    stub.handler = by_step({"write": {"summary": "Tea, please."}})
    spec = write_spec(tmp_path, "guarded", GUARDED)
    recorded = run_spec(spec, {"topic": "tea"}, config=config, record=tmp_path / "tape")
    stub.stop()
    replayed = run_spec(spec, {"topic": "tea"}, config=config, replay=tmp_path / "tape")
    assert replayed.ok, replayed.error
    assert replayed.outputs == recorded.outputs == {"summary": "Tea, please."}
    assert [a.outcome for a in replayed.ledger] == ["replayed"]


# ---------------------------------------------------------------- prompts, reservations, one compiled graph

SCOPED = GUARDED.replace("## Inputs", """## Scope
### In Scope
- ✅ Summarise drinks
### Out of Scope
- ❌ Give medical advice

## Inputs""")

HOUSE_RULES = """
# Constitution: House Rules

## Purpose
Rules every agent here inherits.

## Invariants
1. **HR-001 Budget:** MUST NOT spend more than a dollar. `check: run.cost_usd <= $1.00`
2. **HR-002 Kind:** MUST be kind.
"""


def test_the_system_prompt_says_purpose_scope_refusals_and_the_rules_without_a_check(tmp_path, stub, config):
    stub.handler = by_step({"write": {"summary": "Tea, please."}})
    write_spec(tmp_path, "constitution", HOUSE_RULES)
    spec = write_spec(tmp_path, "scoped", SCOPED)
    result = run_spec(spec, {"topic": "tea"}, config=config)
    assert result.ok, result.error
    assert stub.requests[0]["messages"][0] == {"role": "system", "content": (
        "You are Summariser.\n\n"
        "Summarises a topic briefly.\n\n"
        "You help with:\n- Summarise drinks\n\n"
        "Politely refuse any request to do the following, and say that it is out of scope:\n- Give medical advice\n\n"
        "Rules you always follow:\n"
        "- INV-003 No lies: MUST NOT make things up.\n"
        "- HR-001 Budget: MUST NOT spend more than a dollar.\n"
        "- HR-002 Kind: MUST be kind.\n\n"
        "When you give your final answer, reply with one JSON object only, with the fields: summary."
    )}


def test_an_llm_step_reserves_its_prompt_bound_plus_1024_completion_tokens(tmp_path, stub, config):
    from decimal import Decimal

    stub.handler = by_step({"write": {"summary": "Tea, please."}})
    result = run_spec(write_spec(tmp_path, "guarded", GUARDED), {"topic": "tea"}, config=config)
    assert result.ok, result.error
    [request], [attempt] = stub.requests, result.ledger
    assert request["max_tokens"] == 1024
    # the estimate is the prompt bound at the input price plus 1024 tokens at the output price
    prompt_tokens = (attempt.estimate - 1024 * Decimal(PRICE["price_out"])) / Decimal(PRICE["price_in"])
    assert prompt_tokens == int(prompt_tokens)
    assert prompt_tokens >= len(json.dumps([request["messages"]], ensure_ascii=False).encode())
    assert attempt.cost == attempt.tokens_in * Decimal(PRICE["price_in"]) + attempt.tokens_out * Decimal(PRICE["price_out"])


def test_a_spec_is_compiled_once_and_every_run_reuses_the_graph(tmp_path, stub, config, monkeypatch):
    from agent_factory.runtime import graph as graph_module

    compiled = []
    real = graph_module.compile_graph
    monkeypatch.setattr(graph_module, "compile_graph", lambda *args, **kwargs: compiled.append(args[2].name)
                        or real(*args, **kwargs))
    stub.handler = by_step({"write": {"summary": "Tea, please."}})
    spec = write_spec(tmp_path, "once", GUARDED.replace("Summariser", "Compiled Once"))
    for topic in ("tea", "coffee", "cocoa"):
        assert run_spec(spec, {"topic": topic}, config=config).ok
    assert compiled == ["Compiled Once"]


NO_WORKFLOW = """
# Agent: Adder

## Purpose
Adds numbers with the calculator.

## Inputs
- question: str — the sum to work out

## Outputs
- answer: str — the result

## Tools
- calculator — does the arithmetic
"""


def test_without_a_workflow_one_tool_calling_step_runs_at_most_five_rounds(tmp_path, stub, config):
    stub.handler = lambda body: reply(None, tool_calls=[{"name": "calculator", "arguments": {"expression": "1 + 1"}}])
    spec = write_spec(tmp_path, "adder", NO_WORKFLOW)
    result = run_spec(spec, {"question": "1 + 1?"}, config=config)
    assert result.error == (f"step 'agent' ({spec}:{line_of(spec, '## Tools')}): still calling tools after 5 rounds "
                            "(max_iterations 5)")
    assert len(stub.requests) == 6
    answers = [m["content"] for m in stub.requests[-1]["messages"] if m["role"] == "tool"]
    assert answers == ["2"] * 5  # five rounds of calculator answers, then the run stops asking
