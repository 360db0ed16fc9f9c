"""A compiled spec graph used from a user's own code (`graph.invoke`, `ainvoke`, `stream`) behaves
like `agent-factory run`: every invocation is a run of its own (budget, ledger, guards, clock,
tools), inputs are checked before anything runs, and outputs leave only after the guards passed.

The stub prices make every Market Research run cost two calls of `CALL_COST`; with one budget
shared by the runs of a graph, the worst-case reservation would be refused within ten runs.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from agent_factory.compiler import check
from agent_factory.runtime.config import parse_config
from agent_factory.runtime.factory import RunFactory, tools_table
from agent_factory.runtime.errors import BudgetExceeded
from agent_factory.runtime.graph import agent_graph, with_run
from agent_factory.runtime.inputs import InputError
from agent_factory.runtime.nodes import GuardViolation
from agent_factory.runtime.router import _background_loop
from agent_factory.testing import StubLLM
from agent_factory.testing.agent_stubs import CALL_COST, StubSearch, agent_answers, stub_config

ROOT = Path(__file__).resolve().parents[2]
QUESTION = {"query": "What are the top three AI trends this year?"}


@pytest.fixture(scope="module")
def stubs():
    os.environ.setdefault("AF_STUB_KEY", "stub-key")
    with StubLLM(agent_answers) as llm, StubSearch() as search:
        yield llm, search


@pytest.fixture(scope="module")
def config_file(stubs, tmp_path_factory):
    path = tmp_path_factory.mktemp("config") / "agent-factory.toml"
    path.write_text(stub_config(*stubs), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def in_repo(monkeypatch):
    monkeypatch.chdir(ROOT)  # spec paths as a user in the repository writes them: specs/<name>.md


def spec_of(name: str):
    return check(f"specs/{name}.md").spec


def graph_of(name: str, config_file: Path, **options):
    return agent_graph(RunFactory.load(spec_of(name), config=config_file, **options))


def statuses(values: dict) -> dict[str, str]:
    return {g["id"]: g["status"] for g in values["__guards__"]}


MARKET_GUARDS = {"INV-001": "passed", "INV-002": "passed", "INV-003": "passed", "CON-001": "passed",
                 "CON-004": "passed"}


def test_ten_invocations_in_a_row_each_get_their_own_budget_and_guards(config_file):
    graph = graph_of("market_research", config_file)
    budget = RunFactory.load(spec_of("market_research"), config=config_file).runtime().router.budget.maximum
    assert 10 * 2 * CALL_COST > budget  # what ten runs spend together is past one run's budget
    for _ in range(10):
        values = graph.invoke(QUESTION)
        assert statuses(values) == MARKET_GUARDS
        assert values["sources"] == ["https://news.example.org/ai-trends"]
        assert set(values) == {"answer", "sources", "confidence", "__guards__", "messages"}


def test_the_same_ten_runs_on_one_shared_budget_are_refused(config_file):
    """The control for the test above: one runtime for every run, as graphs had before, runs out."""
    factory = RunFactory.load(spec_of("market_research"), config=config_file)
    graph, shared = agent_graph(factory), factory.runtime()
    finished = 0
    with pytest.raises(BudgetExceeded) as refused:
        for _ in range(10):
            graph.invoke(QUESTION, with_run(None, shared))
            finished += 1
    assert finished == 6  # the seventh run finds too little left for its first call
    assert str(refused.value).startswith("step 'agent': call refused, worst case $")


def test_concurrent_invocations_from_threads_and_tasks_all_pass(config_file):
    graph = graph_of("market_research", config_file)
    with ThreadPoolExecutor(5) as pool:
        from_threads = list(pool.map(lambda _: graph.invoke(QUESTION), range(5)))

    async def together():
        return await asyncio.gather(*(graph.ainvoke(QUESTION) for _ in range(5)))

    from_tasks = _background_loop().run(together())
    assert [statuses(v) for v in from_threads + from_tasks] == [MARKET_GUARDS] * 10


def test_runs_on_one_thread_count_only_their_own_steps_and_tools(config_file):
    graph = agent_graph(RunFactory.load(spec_of("market_research"), config=config_file), InMemorySaver())
    thread = {"configurable": {"thread_id": "user-thread"}}
    for turn in range(1, 4):
        values = graph.invoke(QUESTION, thread)
        assert statuses(values) == MARKET_GUARDS
        state = graph.get_state(thread).values
        assert (state["__tools__"], state["__steps__"], state["__visits__"]) == (
            ["web_search"], ["agent"], {"__guard__": 1, "agent": 1})
        # the conversation is what persists on a thread: a question and an answer per run
        assert [m.type for m in state["messages"]] == ["human", "ai"] * turn
    assert state["messages"][-1].content.startswith("answer: AI agents, small language models")


def test_a_bad_input_is_refused_naming_the_field_before_any_model_call(stubs, config_file):
    graph = graph_of("brain_fart_checker", config_file)
    llm, _ = stubs
    before = len(llm.requests)
    with pytest.raises(InputError) as wrong_key:
        graph.invoke({"ideaa": "A to-do list app"})
    assert str(wrong_key.value) == "inputs do not match the spec (missing idea; unknown ideaa); it takes: idea"
    with pytest.raises(InputError) as wrong_type:
        graph.invoke({"idea": ["not", "text"]})
    assert str(wrong_type.value) == "inputs do not fit their declared types: idea: Input should be a valid string"
    assert len(llm.requests) == before


def test_a_bare_string_and_a_chat_message_are_the_only_input(config_file):
    graph = graph_of("brain_fart_checker", config_file)
    assert graph.invoke("A to-do list app with reminders")["verdict"] == "KILL"
    chat = graph.invoke({"messages": [{"role": "user", "content": "A to-do list app with reminders"}]})
    assert chat["verdict"] == "KILL"
    assert [m.content for m in chat["messages"] if m.type == "human"] == ["A to-do list app with reminders"]


def test_a_failed_search_is_not_a_search_done(config_file):
    graph = graph_of("market_research", config_file, tool_config=tools_table(None))  # no web_search provider
    with pytest.raises(GuardViolation) as failed:
        graph.invoke(QUESTION)
    assert str(failed.value) == ('invariant INV-003 violated (specs/market_research.md:31): Search first')


def test_outputs_that_fail_a_guard_never_leave_the_graph(stubs, config_file):
    spec = spec_of("market_research")
    strict = spec.model_copy(update={"invariants": tuple(
        inv.model_copy(update={"check": inv.check.model_copy(update={"source": "len(sources) >= 5"})})
        if inv.id == "INV-001" else inv for inv in spec.invariants)})
    graph = agent_graph(RunFactory.load(strict, config=config_file), InMemorySaver())
    thread = {"configurable": {"thread_id": "strict"}}
    chunks = []
    with pytest.raises(GuardViolation) as failed:
        for chunk in graph.stream(QUESTION, thread, stream_mode=["values", "updates", "messages"]):
            chunks.append(chunk)
    assert str(failed.value) == "invariant INV-001 violated (specs/market_research.md:29): Cite sources"
    assert chunks and not any("AI agents" in repr(chunk) for chunk in chunks)
    state = graph.get_state(thread)
    assert (state.values["__staged__"], state.values.get("answer")) == ({}, None)
    assert "AI agents" not in repr(state.values)  # the refused answer is not in the checkpoint either
    with pytest.raises(GuardViolation) as again:  # resuming the refused run refuses it again
        graph.invoke(None, thread)
    assert str(again.value) == str(failed.value)


def test_config_and_prices_are_loaded_when_the_graph_is_built(config_file):
    factory = RunFactory.load(spec_of("market_research"), config=config_file)
    assert factory.config == parse_config(config_file.read_text(), str(config_file))
    assert factory.tool_config.web_search.provider == "http_json"
    assert {name: factory.prices.price(name).source for name in factory.config.models} == {
        "local": "config", "perplexity": "config", "claude": "config"}


MAILER = """
# Agent: Mailer

## Purpose
Drafts messages about a topic.

## Inputs
- topic: str — the topic

## Outputs
- messages: list[str] — the drafted messages
"""


def test_a_spec_output_called_messages_is_the_specs_not_the_conversation(tmp_path, config_file):
    path = tmp_path / "mailer.md"
    path.write_text(MAILER.strip() + "\n", encoding="utf-8")
    graph = agent_graph(RunFactory.load(check(path).spec, config=config_file))
    assert graph.invoke({"topic": "tea"}) == {"messages": [], "__guards__": []}
    assert "messages" not in graph.get_input_jsonschema()["properties"]
    assert graph.get_output_jsonschema()["properties"]["messages"]["items"] == {"type": "string"}


def test_the_schemas_are_the_specs_inputs_and_its_outputs_with_guards_and_messages(config_file):
    graph = graph_of("market_research", config_file)
    inputs, outputs = graph.get_input_jsonschema(), graph.get_output_jsonschema()
    assert (inputs["required"], inputs["properties"]["query"]) == (
        ["query"], {"description": "the user's question", "title": "Query", "type": "string"})
    assert sorted(outputs["properties"]) == ["__guards__", "answer", "confidence", "messages", "sources"]
    assert outputs["properties"]["confidence"] == {"description": "how sure the agent is", "maximum": 1.0,
                                                   "minimum": 0.0, "title": "Confidence", "type": "number"}


def test_langgraphs_drawing_shows_each_team_member_as_one_node(config_file):
    drawing = graph_of("support_desk", config_file).get_graph()
    assert sorted(drawing.nodes) == ["__end__", "__guard__", "__refuse__", "__router__", "__start__", "billing", "tech"]
    assert sorted((edge.source, edge.target) for edge in drawing.edges) == [
        ("__guard__", "__end__"), ("__guard__", "__refuse__"), ("__refuse__", "__end__"), ("__router__", "billing"),
        ("__router__", "tech"), ("__start__", "__router__"), ("billing", "__guard__"), ("tech", "__guard__"),
    ]
