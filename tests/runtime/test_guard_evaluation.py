"""An invariant whose check cannot be evaluated on the run's values (here: a division by the
model's score of 0) is not a pass: a MUST fails the run, a SHOULD warns, both saying why. (An
optional output used unguarded, the other way to get there, is E311 at check time.)"""

from __future__ import annotations

import json

import pytest

from agent_factory.runtime.executor import run_spec
from agent_factory.runtime.result import GuardResult
from agent_factory.testing import StubLLM, reply

SCORER = """# Agent: Scorer

## Purpose
Scores an idea.

## Inputs
- idea: str — the idea

## Outputs
- summary: str — a summary
- score: float — a score

## Invariants
1. **SCO-001 Scored:** {modality} score the idea below ten. `check: 10 / score > 1`

## Workflow
### judge
- llm: simple
- outputs: summary, score
- prompt: Score {{idea}}

### Flow
- START → judge
- judge → END
"""
INVARIANT_LINE = 14
CHECK_COLUMN = 1  # the plan keeps a check's line, not its column


@pytest.fixture
def answer():
    return {"summary": "a fine idea", "score": 0}


@pytest.fixture
def config(answer, make_config, alias_table, litellm):
    with StubLLM(lambda body: reply(json.dumps(answer))) as stub:
        yield make_config(alias_table("fast", stub, price_in="0.000001", price_out="0.000002"))


def _spec(tmp_path, modality):
    path = tmp_path / "scorer.md"
    path.write_text(SCORER.format(modality=modality), encoding="utf-8")
    return path


def _guard(path, status, detail, modality):
    return GuardResult("SCO-001", "Scored", modality, status, str(path), INVARIANT_LINE, "10 / score > 1", detail)


def test_a_must_whose_check_cannot_be_evaluated_fails_the_run(tmp_path, config):
    path = _spec(tmp_path, "MUST")
    result = run_spec(path, "a to-do app", config=config)
    assert (result.error_type, result.error) == (
        "GuardViolation", f"invariant SCO-001 violated ({path}:{INVARIANT_LINE}): Scored")
    assert result.guards == [_guard(path, "failed", "could not be evaluated: `expression at "
                                    f"{path}:{INVARIANT_LINE}:{CHECK_COLUMN}`: cannot apply to Decimal and float (float division by zero)",
                                    "MUST")]


def test_a_should_whose_check_cannot_be_evaluated_is_a_warning_not_a_pass(tmp_path, config):
    path = _spec(tmp_path, "SHOULD")
    result = run_spec(path, "a to-do app", config=config)
    assert result.ok, result.error
    assert result.guards == [_guard(path, "warned", "could not be evaluated: `expression at "
                                    f"{path}:{INVARIANT_LINE}:{CHECK_COLUMN}`: cannot apply to Decimal and float (float division by zero)",
                                    "SHOULD")]


def test_the_same_check_passes_once_the_value_is_there(tmp_path, config, answer):
    answer["score"] = 7
    path = _spec(tmp_path, "MUST")
    result = run_spec(path, "a to-do app", config=config)
    assert result.ok, result.error
    assert result.guards == [_guard(path, "passed", "", "MUST")]
