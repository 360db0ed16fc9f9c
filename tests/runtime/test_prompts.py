"""Prompts: an optional input the caller left out is empty text, through the real run path."""

from __future__ import annotations

import json

import pytest

from agent_factory.runtime.executor import run_spec
from agent_factory.runtime.prompts import PromptError, fill
from agent_factory.testing import StubLLM, reply

INVOICES = """\
# Agent: Invoices

## Purpose
Finds invoices.

## Inputs
- query: str
- currency_hint: enum(USD|EUR|GBP)?

## Outputs
- answer: str

## Workflow
### answer
- llm: simple
- outputs: answer
- prompt: Find {query} (currency: {currency_hint}).

### Flow
- START → answer
- answer → END
"""


@pytest.fixture
def stub():
    with StubLLM(reply(json.dumps({"answer": "3 invoices"}))) as server:
        yield server


def test_an_absent_optional_input_is_empty_text_in_the_prompt(tmp_path, stub, make_config, alias_table, litellm):
    spec = tmp_path / "invoices.md"
    spec.write_text(INVOICES, encoding="utf-8")
    config = make_config(alias_table("fast", stub, price_in="0.000001", price_out="0.000002"))
    result = run_spec(spec, {"query": "unpaid invoices"}, config=config)
    assert result.ok, result.error
    assert result.outputs == {"answer": "3 invoices"}
    [request] = stub.requests
    assert request["messages"][-1] == {"role": "user", "content": "Find unpaid invoices (currency: )."}


def test_a_required_value_without_a_value_still_names_the_placeholder():
    with pytest.raises(PromptError) as caught:
        fill("Find {query} in {currency_hint}", {"currency_hint": None}, step="answer", where="x.md:3",
             optional=("currency_hint",))
    assert str(caught.value) == ("step 'answer' (x.md:3): the prompt names {query}, which has no value yet "
                                 "(values: currency_hint)")
