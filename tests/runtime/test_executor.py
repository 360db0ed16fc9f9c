"""run_spec: inputs, checkpoints (--thread), tool steps and the guard before a tool call."""

from __future__ import annotations

import json

import pytest

from agent_factory.compiler import check
from agent_factory.compiler.ir import Invariant
from agent_factory.runtime.evaluate import expression
from agent_factory.runtime.executor import run_spec
from agent_factory.testing import StubLLM, error, reply
from agent_factory.testing.specs import CALC, TWO_STEPS




class Script:
    """Answers per step; `fail` makes a step's calls fail with HTTP 500."""

    def __init__(self) -> None:
        self.fail: set[str] = set()

    def __call__(self, body):
        step = body["response_format"]["json_schema"]["name"]
        if step in self.fail:
            return error(500, f"{step} is down")
        if step == "draft":
            return reply(json.dumps({"rough": "rough tea"}))
        return reply(json.dumps({"text": f"polished {body['messages'][-1]['content']}"}))


@pytest.fixture
def script():
    return Script()


@pytest.fixture
def stub(script):
    with StubLLM(script) as server:
        yield server


@pytest.fixture
def config(stub, make_config, alias_table, litellm):
    return make_config('[router]\ncooldown_seconds = 0\n', alias_table("fast", stub, price_in="0.000001", price_out="0.000002"))


def _spec(tmp_path, text, name="spec"):
    path = tmp_path / f"{name}.md"
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def test_a_failed_run_resumes_on_its_thread_without_rerunning_finished_steps(tmp_path, stub, script, config):
    spec, db = _spec(tmp_path, TWO_STEPS), tmp_path / "checkpoints.sqlite"
    script.fail.add("polish")
    first = run_spec(spec, {"topic": "tea"}, config=config, thread="t1", checkpoint_db=db)
    assert first.error.startswith("step 'polish': all models failed (1 attempts)")
    assert first.state["rough"] == "rough tea"  # the finished step's output is in the checkpoint
    script.fail.clear()
    stub.clear()
    second = run_spec(spec, None, config=config, thread="t1", checkpoint_db=db)
    assert second.ok, second.error
    assert second.outputs == {"text": "polished Polish rough tea"}
    assert [b["response_format"]["json_schema"]["name"] for b in stub.requests] == ["polish"]


def test_a_new_run_on_a_thread_sees_the_earlier_values(tmp_path, stub, config):
    spec, db = _spec(tmp_path, TWO_STEPS), tmp_path / "checkpoints.sqlite"
    run_spec(spec, {"topic": "tea"}, config=config, thread="t2", checkpoint_db=db).raise_for_error()
    again = run_spec(spec, {"topic": "coffee"}, config=config, thread="t2", checkpoint_db=db)
    assert again.ok and again.steps == ["draft", "polish"]  # steps counted afresh for the new run
    stub.clear()
    finished = run_spec(spec, None, config=config, thread="t2", checkpoint_db=db)
    assert finished.ok and stub.requests == []  # nothing left to run: the thread's state is shown
    assert (finished.state["topic"], finished.outputs) == ("coffee", {"text": "polished Polish rough tea"})


def test_a_tool_step_calls_the_tool_and_records_it(tmp_path, config):
    result = run_spec(_spec(tmp_path, CALC), "anything", config=config)
    assert result.ok, result.error
    assert (result.outputs, result.tools_called, result.ledger) == ({"total": 42}, ["calculator"], [])


def test_an_invariant_naming_a_tool_argument_is_checked_before_the_call(tmp_path, config):
    checked = check(_spec(tmp_path, CALC.replace("6 * 7", "2 ** 10")))
    rule = Invariant(span=checked.spec.span, id="SEC-001", title="No powers", modality="MUST NOT",
                     text="raise numbers to powers.", check=expression('not (args.expression contains "**")'))
    spec = checked.spec.model_copy(update={"invariants": (*checked.spec.invariants, rule)})
    result = run_spec(spec, "anything", config=config)
    line = checked.spec.span.line
    assert result.error == (f"invariant SEC-001 violated ({checked.spec.span.file}:{line}): No powers "
                            "(before calling tool 'calculator' in step 'add')")
    assert result.tools_called == []


@pytest.mark.parametrize(("inputs", "message"), [
    (None, "no inputs given; this spec takes: topic"),
    ({"subject": "tea"}, "inputs do not match the spec (missing topic; unknown subject); it takes: topic"),
    ('{"topic": ', "the input looks like JSON but is not valid: Expecting value: line 1 column 10 (char 9)"),
])
def test_bad_inputs_are_reported(tmp_path, config, inputs, message):
    assert run_spec(_spec(tmp_path, TWO_STEPS), inputs, config=config).error == message


def test_inputs_are_converted_to_their_declared_types_and_optional_ones_may_be_left_out(tmp_path, config):
    counted = TWO_STEPS.replace("- topic: str — the topic", "- topic: str — the topic\n- count: int[0..10] — how many\n"
                                "- label: str? — optional")
    result = run_spec(_spec(tmp_path, counted), {"topic": "tea", "count": "3"}, config=config)
    assert result.ok, result.error
    assert result.inputs == {"topic": "tea", "count": 3}


def test_text_input_goes_to_the_only_input(tmp_path, config):
    result = run_spec(_spec(tmp_path, TWO_STEPS), "tea", config=config)
    assert result.inputs == {"topic": "tea"} and result.ok


GUARDED = TWO_STEPS.replace("## Workflow", """## Invariants
1. **TXT-001 Short:** MUST stay short. `check: len(text) < 5`

## Workflow""")


def test_a_run_a_guard_refused_has_no_outputs_on_its_thread_or_when_resumed(tmp_path, stub, config):
    spec, db = _spec(tmp_path, GUARDED), tmp_path / "checkpoints.sqlite"
    refused = f"invariant TXT-001 violated ({spec}:{line_of(spec, 'TXT-001')}): Short"
    first = run_spec(spec, {"topic": "tea"}, config=config, thread="t1", checkpoint_db=db)
    resumed = run_spec(spec, None, config=config, thread="t1", checkpoint_db=db)
    for result in (first, resumed):
        assert (result.error, result.outputs, result.as_json()["outputs"]) == (refused, {}, {})
        assert "outputs:" not in result.render_text()
    # the refused text is dropped before the run fails: not even the thread's checkpoint keeps it
    assert (first.state["__staged__"], first.state.get("text")) == ({}, None)
    assert "polished" not in repr(first.state)


def line_of(path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


SECRET_POST = """
# Agent: Poster

## Purpose
Sends a note somewhere.

## Inputs
- note: str — what to send

## Outputs
- total: float — the answer

## Invariants
1. **SEC-002 No secrets out:** MUST NOT send a secret. `check: not (note contains "sk-")`

## Tools
- calculator — arithmetic

## Workflow
### send
- tool: calculator
- args: expression = note
- outputs: total

### Flow
- START → send
- send → END
"""


def test_an_invariant_naming_what_a_tool_step_sends_is_checked_before_the_step(tmp_path, config):
    spec = _spec(tmp_path, SECRET_POST)
    refused = run_spec(spec, {"note": "1 + sk-12"}, config=config)
    assert refused.error == (f"invariant SEC-002 violated ({spec}:{line_of(spec, 'SEC-002')}): No secrets out "
                             "(before step 'send' called tool 'calculator')")
    assert (refused.tools_called, refused.steps) == ([], [])
    allowed = run_spec(spec, {"note": "6 * 7"}, config=config)
    assert (allowed.outputs, allowed.tools_called) == ({"total": 42}, ["calculator"])
    assert [g.status for g in allowed.guards if g.id == "SEC-002"] == ["passed"]  # recorded once, by the final guard
