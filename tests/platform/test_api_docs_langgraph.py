"""docs/api.md: the LangGraph client example (its ```python block) runs as shown against a live
server, the Market Research agent posted as the guide posts it, its models and web search stubs on
127.0.0.1: it prints the streamed events, then the thread's values."""

from __future__ import annotations

import ast
import contextlib
import io
import os
import re
from dataclasses import replace
from pathlib import Path

import httpx

from agent_factory.platform.app import create_app
from agent_factory.platform.settings import RunSettings
from agent_factory.testing import StubLLM
from agent_factory.testing.agent_stubs import ANSWERS, StubSearch, agent_answers, stub_config
from conftest import LiveServer, make_team

ROOT = Path(__file__).resolve().parents[2]
SNIPPET = re.compile(r"```python\n(from langgraph_sdk import .*?)```", re.S)
QUEUE = "docs-langgraph"  # a queue of its own: only this test's worker (with the stub search) takes its runs
QUESTION = "Which note-taking apps grew fastest in 2025?"


def snippet(url: str, key: str) -> str:
    """The guide's example with the live server's URL and the team's key in place of its own."""
    [code] = SNIPPET.findall((ROOT / "docs/api.md").read_text(encoding="utf-8"))
    assert '"http://127.0.0.1:8000"' in code and '"agf_…"' in code
    return code.replace('"http://127.0.0.1:8000"', repr(url)).replace('"agf_…"', repr(key))


def test_the_langgraph_client_example_of_the_api_guide_runs_as_shown(client, settings, tmp_path):
    os.environ.setdefault("AF_STUB_KEY", "stub-key")
    with StubLLM(agent_answers) as llm, StubSearch() as search:
        (tmp_path / "agent-factory.toml").write_text(stub_config(llm, search), encoding="utf-8")
        served = replace(settings, config_path=tmp_path / "agent-factory.toml",
                         runs=RunSettings(worker_concurrency=1, queue=QUEUE, heartbeat_s=0.3))
        with LiveServer(create_app(served)) as server:
            team = make_team(client, "Acme", "ada@acme.test")
            posted = httpx.post(f"{server.url}/v1/agents", content=(ROOT / "specs/market_research.md").read_bytes(),
                                headers={"X-Api-Key": team.key, "Content-Type": "text/markdown"})
            assert posted.status_code == 201, posted.text
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                exec(compile(snippet(server.url, team.key), "docs/api.md", "exec"), {})  # noqa: S102 - the guide's own code
    lines = printed.getvalue().splitlines()
    streamed = [line.split(" ", 1) for line in lines[:-1]]
    assert [event for event, _ in streamed] == ["metadata", "updates", "values"]
    assert ast.literal_eval(streamed[1][1]) == {"agent": {}}  # the step that finished, without its values
    values = ast.literal_eval(lines[-1])
    assert ast.literal_eval(streamed[-1][1]) == values
    assert (values["query"], values["answer"], values["sources"], values["confidence"]) == (
        QUESTION, ANSWERS["answer"], ANSWERS["sources"], ANSWERS["confidence"])
    assert search.queries == [QUESTION]  # the agent searched (INV-003) through the stub
