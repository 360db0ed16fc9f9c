"""web_search and wikipedia: pluggable providers, defaults that explain themselves, local servers only."""

from __future__ import annotations

import pytest

from agent_factory.runtime.tools import (
    HttpConfig,
    SearchHit,
    ToolConfig,
    ToolContext,
    WebSearchConfig,
    WikipediaConfig,
    builtin_tools,
    register_search_provider,
)
from agent_factory.runtime.tools.search import SEARCH_PROVIDERS

pytestmark = pytest.mark.anyio


def ctx_for(**sections) -> ToolContext:
    """A context that may reach the local test server, with the given config sections."""
    return ToolContext(ToolConfig(timeout_s=5, http=HttpConfig(allow_hosts=("127.0.0.1",)), **sections))


async def test_web_search_without_a_provider_says_how_to_configure_one():
    result = await builtin_tools()["web_search"].invoke({"query": "langgraph"}, ToolContext())
    assert result.error == (
        'no web search provider configured; set [tools.web_search] provider = "http_json" and '
        'url = "https://…?q={query}&n={max_results}" in agent-factory.toml, or install a plugin that registers one'
    )


async def test_http_json_provider_queries_the_configured_endpoint(local_server, monkeypatch):
    monkeypatch.setenv("AF_TEST_SEARCH_KEY", "s3cret")
    search = WebSearchConfig(
        provider="http_json",
        url=local_server.url + "/search?q={query}&n={max_results}",
        results_key="data.items",
        api_key_env="AF_TEST_SEARCH_KEY",
        api_key_header="X-Api-Key",
        api_key_prefix="",
    )
    result = await builtin_tools()["web_search"].invoke(
        {"query": "ada & babbage", "max_results": 2}, ctx_for(web_search=search)
    )
    assert result.content == [
        {"title": "Result 1 for ada & babbage", "url": "https://example.org/1", "snippet": "snippet 1"},
        {"title": "Result 2 for ada & babbage", "url": "https://example.org/2", "snippet": "snippet 2"},
    ]
    seen = local_server.requests[0]
    assert (seen.path, seen.headers["x-api-key"]) == ("/search?q=ada%20%26%20babbage&n=2", "s3cret")


async def test_http_json_provider_needs_its_api_key(local_server, monkeypatch):
    monkeypatch.delenv("AF_TEST_SEARCH_KEY", raising=False)
    search = WebSearchConfig(provider="http_json", url=local_server.url + "/search?q={query}",
                             api_key_env="AF_TEST_SEARCH_KEY")
    result = await builtin_tools()["web_search"].invoke({"query": "x"}, ctx_for(web_search=search))
    assert result.error == "the environment variable AF_TEST_SEARCH_KEY is not set (needed by [tools.web_search])"


async def test_http_json_provider_reports_a_missing_result_list(local_server):
    search = WebSearchConfig(provider="http_json", url=local_server.url + "/search?q={query}&n={max_results}")
    result = await builtin_tools()["web_search"].invoke({"query": "x"}, ctx_for(web_search=search))
    assert result.error == "the search endpoint's JSON has no list at 'results'"


async def test_an_unknown_provider_lists_the_available_ones():
    ctx = ToolContext(ToolConfig(web_search=WebSearchConfig(provider="bingo")))
    result = await builtin_tools()["web_search"].invoke({"query": "x"}, ctx)
    assert result.error == "unknown web search provider 'bingo'; available: http_json, none"


async def test_max_results_is_range_checked():
    result = await builtin_tools()["web_search"].invoke({"query": "x", "max_results": 0}, ToolContext())
    assert result.error == "invalid arguments: argument 'max_results' must be at least 1, got 0"


class FixedSearch:
    """A provider a plugin might register."""

    def __init__(self, config):
        self.config = config

    async def search(self, query, max_results, ctx):
        return [SearchHit(title=f"{query} #{i}", url=f"https://e.test/{i}") for i in range(max_results)]


async def test_registered_providers_are_selected_by_name(monkeypatch):
    monkeypatch.setitem(SEARCH_PROVIDERS, "fixed", FixedSearch)  # undone after the test
    register_search_provider("fixed", FixedSearch)
    ctx = ToolContext(ToolConfig(web_search=WebSearchConfig(provider="fixed")))
    result = await builtin_tools()["web_search"].invoke({"query": "q", "max_results": 2}, ctx)
    assert result.content == [
        {"title": "q #0", "url": "https://e.test/0", "snippet": ""},
        {"title": "q #1", "url": "https://e.test/1", "snippet": ""},
    ]


async def test_a_provider_object_in_the_context_wins():
    ctx = ToolContext(providers={"web_search": FixedSearch(None)})
    result = await builtin_tools()["web_search"].invoke({"query": "q", "max_results": 1}, ctx)
    assert result.content == [{"title": "q #0", "url": "https://e.test/0", "snippet": ""}]


async def test_wikipedia_searches_then_summarises_the_best_match(local_server):
    ctx = ctx_for(wikipedia=WikipediaConfig(base_url=local_server.url))
    result = await builtin_tools()["wikipedia"].invoke({"query": "Ada Lovelace"}, ctx)
    assert result.content == {
        "title": "Ada Lovelace",
        "summary": "Augusta Ada King, Countess of Lovelace, was an English mathematician.",
        "url": "https://en.wikipedia.org/wiki/Ada_Lovelace",
        "other_matches": ["Lovelace (film)"],
    }
    assert [r.path for r in local_server.requests] == [
        "/w/rest.php/v1/search/page?q=Ada+Lovelace&limit=3",
        "/api/rest_v1/page/summary/Ada_Lovelace",
    ]


async def test_wikipedia_reports_no_match(local_server):
    ctx = ctx_for(wikipedia=WikipediaConfig(base_url=local_server.url))
    result = await builtin_tools()["wikipedia"].invoke({"query": "zzzz"}, ctx)
    assert result.error == "no Wikipedia article matches 'zzzz'"


async def test_without_a_summary_endpoint_the_search_excerpt_is_the_summary(local_server):
    ctx = ctx_for(wikipedia=WikipediaConfig(base_url=local_server.url))
    result = await builtin_tools()["wikipedia"].invoke({"query": "Babbage"}, ctx)
    assert result.content == {
        "title": "Charles Babbage",
        "summary": "Babbage designed the Analytical Engine",
        "url": f"{local_server.url}/wiki/Charles_Babbage",
        "other_matches": [],
    }
    assert [r.path for r in local_server.requests] == [
        "/w/rest.php/v1/search/page?q=Babbage&limit=3",
        "/api/rest_v1/page/summary/Charles_Babbage",
    ]


async def test_wikipedia_uses_the_language_subdomain_through_the_ssrf_policy():
    async def resolver(host, port):
        assert (host, port) == ("fr.wikipedia.org", 443)
        return ["10.1.2.3"]  # a poisoned answer must still be refused

    ctx = ToolContext(ToolConfig(wikipedia=WikipediaConfig(language="fr")), resolver=resolver)
    result = await builtin_tools()["wikipedia"].invoke({"query": "Lovelace"}, ctx)
    assert result.error == (
        "refused to connect to https://fr.wikipedia.org/w/rest.php/v1/search/page?q=Lovelace&limit=3: "
        "fr.wikipedia.org resolves to 10.1.2.3, a private address; "
        "add the host or its network to [tools.http] allow_hosts to allow it"
    )


def test_the_language_cannot_inject_a_host():
    with pytest.raises(ValueError) as caught:
        WikipediaConfig(language="evil.example/x")
    assert "language must be a Wikipedia language code such as 'en', got 'evil.example/x'" in str(caught.value)
