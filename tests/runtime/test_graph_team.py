"""Team specs: a router node (keyword or llm strategy) in front of member specs run as nested runs."""

from __future__ import annotations

import json

import pytest

from agent_factory.runtime.executor import run_spec
from agent_factory.runtime.nodes import keyword_route
from agent_factory.testing import StubLLM, reply

MEMBER = """
# Agent: {name} Helper

## Purpose
Answers {name} questions.

## Model
- task: simple
"""

TEAM = """
# Team: Desk

## Purpose
Routes each message to the member that can answer it.

## Members
- billing: billing.md — routes: invoice, refund, charge
- tech: tech.md — routes: error, crash

## Routing
- strategy: {strategy}
- default: tech
"""


def _answer(body):
    system = body["messages"][0]["content"]
    if body.get("response_format") is None:  # the llm router's classification request
        return reply(ROUTER_REPLY[0])
    who = "billing" if "Billing Helper" in system else "tech"
    return reply(json.dumps({"answer": f"{who} answers: {body['messages'][-1]['content']}"}))


ROUTER_REPLY = ["billing"]


@pytest.fixture
def team(tmp_path):
    def build(strategy: str = "keyword"):
        (tmp_path / "billing.md").write_text(MEMBER.format(name="Billing"), encoding="utf-8")
        (tmp_path / "tech.md").write_text(MEMBER.format(name="Tech"), encoding="utf-8")
        path = tmp_path / "desk.md"
        path.write_text(TEAM.format(strategy=strategy), encoding="utf-8")
        return path
    return build


@pytest.fixture
def config(make_config, alias_table, litellm):
    with StubLLM(_answer) as stub:
        yield make_config(alias_table("fast", stub, price_in="0.000001", price_out="0.000002"))


def test_keyword_routing_picks_the_member_with_most_route_words(team, config):
    result = run_spec(team(), "My invoice shows a double charge", config=config)
    assert result.ok, result.error
    assert result.outputs == {"answer": "billing answers: My invoice shows a double charge"}
    assert result.steps == ["billing"]
    assert [a.step for a in result.ledger] == ["billing/agent"]


def test_keyword_routing_falls_back_to_the_default_member(team, config):
    result = run_spec(team(), "Hello there", config=config)
    assert result.outputs == {"answer": "tech answers: Hello there"}
    assert result.steps == ["tech"]


def test_keyword_ties_go_to_the_first_member():
    routes = {"billing": ["invoice"], "tech": ["error"]}
    assert keyword_route("invoice error", routes, "tech") == "billing"
    assert keyword_route("Error, ERROR and an invoice", routes, "billing") == "tech"


@pytest.mark.parametrize(("router_says", "member"), [("billing", "billing"), ("Billing.", "billing"), ("nobody", "tech")])
def test_llm_routing_validates_the_answer_and_falls_back_to_the_default(team, config, router_says, member):
    ROUTER_REPLY[0] = router_says
    result = run_spec(team("llm"), "Why was I charged twice?", config=config)
    assert result.ok, result.error
    assert result.steps == [member]
    assert [(a.step, a.task) for a in result.ledger] == [("__router__", "classification"), (f"{member}/agent", "simple")]


CONSTITUTION = """
# Constitution: House Rules

## Purpose
Rules every spec in this folder inherits.

## Invariants
1. **CON-001 Budget ceiling:** MUST NOT spend more than one dollar on a single run. `check: run.cost_usd <= $1.00`
"""


def test_a_team_run_says_whose_each_inherited_guard_is(team, config, tmp_path):
    path = team()
    (tmp_path / "constitution.md").write_text(CONSTITUTION, encoding="utf-8")
    result = run_spec(path, "My invoice shows a double charge", config=config)
    assert result.ok, result.error
    assert [(g.id, g.run, g.status) for g in result.guards] == [("CON-001", "billing", "passed"),
                                                                 ("CON-001", "", "passed")]
    where = tmp_path / "constitution.md"
    assert result.render_text().split("\n\n")[1].splitlines() == [
        "guards:",
        f"  ✓ CON-001 Budget ceiling ({where}:8) in billing: passed",
        f"  ✓ CON-001 Budget ceiling ({where}:8): passed",
    ]
    assert [g["run"] for g in result.as_json()["guards"]] == ["billing", ""]
