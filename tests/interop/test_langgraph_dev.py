"""The compiled `specs/` folder served by LangGraph's own `langgraph dev` (the in-memory server of
langgraph-cli, from the separate `.venv-langgraph` that `scripts/test.sh` sets up) and driven by
the official `langgraph_sdk` client, as a user would: every agent is listed with typed schemas,
runs stream again and again on one server and on one thread, and a bad input is refused by name.

The models and the search engine are stubs on 127.0.0.1 (`agent_factory.testing.agent_stubs`);
their prices make a run of Market Research cost two calls of `CALL_COST`, so a budget shared by
the runs of a graph would be refused within ten runs.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_sync_client

from agent_factory.testing import StubLLM
from agent_factory.testing.agent_stubs import CALL_COST, StubSearch, agent_answers, stub_config

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
LANGGRAPH = ROOT / ".venv-langgraph" / "bin" / "langgraph"
AGENTS = ["billing", "brain_fart_checker", "market_research", "support_desk", "tech_support"]
QUESTION = {"query": "What are the top three AI trends this year?"}
TODO = {"idea": "A to-do list app with reminders"}
QUIET = {"LANGGRAPH_CLI_NO_ANALYTICS": "1", "LANGSMITH_TRACING": "false", "LANGCHAIN_TRACING_V2": "false",
         "DO_NOT_TRACK": "1"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _compile(out: Path) -> None:
    """`agent-factory compile specs/ --target langgraph -o out`, from the repository root."""
    command = [str(Path(sys.executable).with_name("agent-factory")), "compile", "specs", "--target", "langgraph",
               "-o", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"langgraph dev exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"langgraph dev did not answer within 180 s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The compiled app under `langgraph dev` on 127.0.0.1, with the stubs configured."""
    if not LANGGRAPH.exists():
        pytest.fail(f"{LANGGRAPH} is missing: run `bash scripts/test.sh`, which sets up .venv-langgraph")
    out = tmp_path_factory.mktemp("app")
    _compile(out)
    log = out.parent / "langgraph-dev.log"
    env = {k: v for k, v in os.environ.items() if k != "AGENT_FACTORY_CONFIG"} | QUIET | {"AF_STUB_KEY": "stub-key"}
    with StubLLM(agent_answers) as llm, StubSearch() as search, log.open("w") as sink:
        (out / "agent-factory.toml").write_text(stub_config(llm, search), encoding="utf-8")
        port = _free_port()
        process = subprocess.Popen([str(LANGGRAPH), "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1",
                                    "--port", str(port)], cwd=out, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_until_up(url, process, log)
            yield get_sync_client(url=url), search
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def _stream(client, thread_id, agent, payload, mode="values"):
    """The last `values` and every error event of one streamed run."""
    final, errors = None, []
    for part in client.runs.stream(thread_id, agent, input=payload, stream_mode=mode):
        if part.event == "values":
            final = part.data
        elif part.event == "error":
            errors.append(part.data)
    return final, errors


def _statuses(values):
    return {g["id"]: g["status"] for g in values["__guards__"]}


MARKET_GUARDS = {"INV-001": "passed", "INV-002": "passed", "INV-003": "passed", "CON-001": "passed",
                 "CON-004": "passed"}
BFC_GUARDS = {"BFC-001": "passed", "BFC-002": "passed", "BFC-003": "passed", "CON-001": "passed",
              "CON-004": "passed"}


def test_every_compiled_agent_is_an_assistant(server):
    client, _ = server
    assert sorted(a["graph_id"] for a in client.assistants.search(limit=50)) == AGENTS


def test_schemas_are_the_specs_typed_inputs_and_outputs(server):
    client, _ = server
    schemas = client.assistants.get_schemas(_assistant(client, "market_research"))
    inputs, outputs = schemas["input_schema"], schemas["output_schema"]
    assert inputs["required"] == ["query"]
    assert inputs["properties"]["query"] == {"description": "the user's question", "title": "Query", "type": "string"}
    assert outputs["required"] == ["answer", "sources", "confidence"]
    assert outputs["properties"]["confidence"] == {"description": "how sure the agent is", "maximum": 1.0,
                                                   "minimum": 0.0, "title": "Confidence", "type": "number"}
    assert outputs["properties"]["sources"]["type"] == "array"
    bfc = client.assistants.get_schemas(_assistant(client, "brain_fart_checker"))["output_schema"]
    assert bfc["properties"]["verdict"]["enum"] == ["BUILD", "ITERATE", "KILL"]


def _assistant(client, graph_id):
    return next(a["assistant_id"] for a in client.assistants.search(graph_id=graph_id))


def test_market_research_runs_ten_times_in_a_row_each_within_its_own_budget(server):
    client, search = server
    assert 10 * 2 * CALL_COST > 0.05  # ten runs together spend past one run's max_cost_per_run
    before = len(search.queries)
    for _ in range(10):
        final, errors = _stream(client, None, "market_research", QUESTION)
        assert errors == []
        assert _statuses(final) == MARKET_GUARDS
        assert final["sources"] == ["https://news.example.org/ai-trends"]
    assert len(search.queries) - before == 10  # the configured search provider answered every run


def test_the_brain_fart_checker_kills_the_to_do_app_ten_times_in_a_row(server):
    client, _ = server
    for _ in range(10):
        final, errors = _stream(client, None, "brain_fart_checker", TODO)
        assert errors == []
        assert (final["verdict"], final["reasoning"]) == ("KILL", "Novelty too low (12). The market is saturated.")
        assert _statuses(final) == BFC_GUARDS


def test_three_runs_on_one_thread_each_count_their_own_tools_and_steps(server):
    client, _ = server
    thread = client.threads.create()["thread_id"]
    for turn in range(1, 4):
        final, errors = _stream(client, thread, "market_research", QUESTION)
        assert errors == [] and _statuses(final) == MARKET_GUARDS
        state = client.threads.get_state(thread)["values"]
        assert (state["__tools__"], state["__steps__"]) == (["web_search"], ["agent"])
        assert [m["type"] for m in state["messages"]] == ["human", "ai"] * turn


def test_a_team_routes_to_a_member_carried_in_the_compiled_output(server):
    client, _ = server
    final, errors = _stream(client, None, "support_desk", {"query": "Please refund the charge on my invoice"})
    assert errors == []
    assert final["answer"] == "AI agents, small language models and multimodal assistants lead this year's trends."
    assert _statuses(final) == {"CON-001": "passed", "CON-004": "passed"}


def test_a_members_steps_stream_as_a_subgraph(server):
    client, _ = server
    namespaces = {part.event for part in client.runs.stream(None, "support_desk", stream_mode="updates",
                                                          input={"query": "Please refund my invoice"},
                                                          stream_subgraphs=True)}
    assert {event.split(":")[0] for event in namespaces if "|" in event} == {"updates|billing"}


def test_a_bad_input_is_refused_naming_the_field(server):
    client, _ = server
    final, errors = _stream(client, None, "market_research", {"qurey": "What are the trends?"})
    assert errors == [{"error": "InputError",
                       "message": "inputs do not match the spec (missing query; unknown qurey); it takes: query"}]
    _, wrong_type = _stream(client, None, "brain_fart_checker", {"idea": ["not", "text"]})
    assert wrong_type == [{"error": "InputError",
                           "message": "inputs do not fit their declared types: idea: Input should be a valid string"}]


def test_the_chat_stream_carries_the_answer(server):
    client, _ = server
    said = [part.data for part in client.runs.stream(None, "market_research", input=QUESTION,
                                                     stream_mode="messages-tuple") if part.event == "messages"]
    texts = [message["content"] for message, _metadata in said if message["type"] == "ai"]
    assert texts and texts[-1].startswith("answer: AI agents, small language models")
