"""Stubs that let the shipped agents run end to end on 127.0.0.1: a model that answers every
step of `specs/` sensibly, a search endpoint, and the `agent-factory.toml` that wires both in.

    with StubLLM(agent_answers) as llm, StubSearch() as search:
        Path("agent-factory.toml").write_text(stub_config(llm, search))

`agent_answers` reads what each request asks for: with tools offered and no tool result yet it
calls `web_search`; otherwise it answers the JSON object of the requested schema, with values
that make the Market Research agent cite a source and the Brain Fart Checker KILL a to-do app.
Every answer reports `TOKENS_IN` prompt and `TOKENS_OUT` completion tokens, so a run's cost is
exact: `CALL_COST` per research or reasoning call at the prices `stub_config` sets (the `local`
alias, which serves only simple and classification tasks, costs a tenth of that, so the specs
with a one-cent budget fit their worst case).
"""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from .stub_llm import StubLLM, StubReply, reply

TOKENS_IN, TOKENS_OUT = 1000, 100
PRICE_IN, PRICE_OUT = Decimal("0.000002"), Decimal("0.00001")
CALL_COST = PRICE_IN * TOKENS_IN + PRICE_OUT * TOKENS_OUT
ALIASES = ("local", "perplexity", "claude")  # the constitution's fallback names all three
LIGHT_TASKS = ("simple", "classification")
ALL_TASKS = (*LIGHT_TASKS, "research", "complex_reasoning", "code_generation")

ANSWERS: dict[str, Any] = {
    "answer": "AI agents, small language models and multimodal assistants lead this year's trends.",
    "sources": ["https://news.example.org/ai-trends"],
    "confidence": 0.8,
    "novelty_score": 12,
    "market_size_score": 70,
    "competition_score": 95,
    "execution_difficulty": 15,
    "estimated_mrr": 300,
    "competitor_count": 40,
    "reasoning": "A crowded market of free apps.",
    "next_steps": ["Interview ten people with an unmet reminder problem"],
}
BY_TYPE = {"string": "a short note", "number": 1, "integer": 1, "boolean": True, "array": []}


def agent_answers(body: dict[str, Any]) -> StubReply:
    """The stub model's answer to one chat request (see the module doc)."""
    searched = any(m.get("role") == "tool" for m in body.get("messages", []))
    offered = [t["function"]["name"] for t in body.get("tools") or []]
    if "web_search" in offered and not searched:
        query = body["messages"][-1]["content"][:80]
        return reply(None, tool_calls=[{"name": "web_search", "arguments": {"query": query}}],
                     prompt_tokens=TOKENS_IN, completion_tokens=TOKENS_OUT)
    schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("schema") or {}
    answer = {name: ANSWERS.get(name, BY_TYPE.get(field.get("type"), "")) for name, field in
              (schema.get("properties") or {}).items()}
    return reply(json.dumps(answer), prompt_tokens=TOKENS_IN, completion_tokens=TOKENS_OUT)


class StubSearch:
    """A JSON search endpoint on 127.0.0.1: `GET /search?q=...` answers one hit per query;
    `queries` keeps what was asked."""

    def __init__(self) -> None:
        self.queries: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _search_handler(self))

    @property
    def url(self) -> str:
        """The URL template for `[tools.web_search] url`."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/search?q={{query}}&n={{max_results}}"

    def __enter__(self) -> StubSearch:
        threading.Thread(target=self._server.serve_forever, name="stub-search", daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def _search_handler(stub: StubSearch) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
            pass

        def do_GET(self) -> None:
            query = parse_qs(urlparse(self.path).query).get("q", [""])[0]
            stub.queries.append(query)
            hit = {"title": f"About {query[:40]}", "url": ANSWERS["sources"][0], "snippet": "Agents are the trend."}
            body = json.dumps({"results": [hit]}).encode("utf-8")
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def stub_config(llm: StubLLM, search: StubSearch | None = None, *, key_env: str = "AF_STUB_KEY") -> str:
    """An `agent-factory.toml` whose every alias is `llm` (at `PRICE_IN`/`PRICE_OUT`) and whose
    `web_search` is `search` (127.0.0.1 allowed for it). Set `key_env` in the environment."""
    lines = ["[router]", f"fallback = {json.dumps(list(ALIASES))}", 'default_tier = "free"', "cooldown_seconds = 0", ""]
    for alias in ALIASES:
        light = alias == "local"
        lines += [f"[models.{alias}]", f'model = "openai/{alias}-stub"', f'api_base = "{llm.base_url}"',
                  f'api_key_env = "{key_env}"', f"input_cost_per_token = {PRICE_IN / 10 if light else PRICE_IN}",
                  f"output_cost_per_token = {PRICE_OUT / 10 if light else PRICE_OUT}",
                  f"tasks = {json.dumps(list(LIGHT_TASKS if light else ALL_TASKS))}", ""]
    for tier in ("free", "pro", "enterprise"):
        lines += [f"[tiers.{tier}]", f"models = {json.dumps(list(ALIASES))}", "max_cost_per_run = 2.00", ""]
    if search is not None:
        lines += ["[tools.http]", 'allow_hosts = ["127.0.0.1"]', "", "[tools.web_search]", 'provider = "http_json"',
                  f'url = "{search.url}"', ""]
    return "\n".join(lines)
