"""The `web_search` built-in and its providers.

A provider is any object with `async search(query, max_results, ctx) -> list[SearchHit]`.
Providers are chosen by name (`[tools.web_search] provider`): `none` (the default, which
explains how to configure one), `http_json` (any HTTP endpoint answering JSON), or one a
plugin registered with `register_search_provider`. A provider object placed in
`ctx.providers["web_search"]` wins over the configured one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict

from .fetch import safe_fetch
from .http_binding import UrlTemplate
from .model import ToolError
from .providers import pick_provider

if TYPE_CHECKING:
    from .config import WebSearchConfig
    from .context import ToolContext

NO_PROVIDER = (
    "no web search provider configured; set [tools.web_search] provider = \"http_json\" and "
    "url = \"https://…?q={query}&n={max_results}\" in agent-factory.toml, or install a plugin that registers one"
)


class SearchHit(BaseModel):
    """One search result: `title`, `url`, `snippet`."""

    model_config = ConfigDict(frozen=True)

    title: str
    url: str
    snippet: str = ""


class SearchProvider(Protocol):
    """What `web_search` needs from a search backend."""

    async def search(self, query: str, max_results: int, ctx: ToolContext) -> list[SearchHit]:
        """At most `max_results` hits for `query`; `ToolError` on failure."""
        ...


class UnconfiguredSearch:
    """The default provider: every search fails with instructions to configure one."""

    def __init__(self, config: WebSearchConfig) -> None:
        self.config = config

    async def search(self, query: str, max_results: int, ctx: ToolContext) -> list[SearchHit]:
        raise ToolError(NO_PROVIDER)


class HttpJsonSearch:
    """A search endpoint that answers JSON: `url` is a template with `{query}` and
    `{max_results}`; the hits are the list at `results_key` (a dotted path), each with
    `title`/`name`, `url`/`link` and `snippet`/`content`/`description`."""

    def __init__(self, config: WebSearchConfig) -> None:
        self.config = config

    async def search(self, query: str, max_results: int, ctx: ToolContext) -> list[SearchHit]:
        url = self._template().fill({"query": query, "max_results": max_results})
        response = await safe_fetch(url, ctx, headers=self._headers())
        if response.status >= 400:
            raise ToolError(f"the search endpoint returned HTTP {response.status} for {response.url}")
        try:
            data = json.loads(response.content)
        except ValueError:
            raise ToolError(f"the search endpoint did not return JSON ({response.url})") from None
        return [_hit(item) for item in _results(data, self.config.results_key)][:max_results]

    def _template(self) -> UrlTemplate:
        if not self.config.url:
            raise ToolError('web_search provider "http_json" needs a URL; set [tools.web_search] url')
        try:
            return UrlTemplate.parse(self.config.url)
        except ValueError as exc:
            raise ToolError(f"[tools.web_search] url is invalid: {exc}") from None

    def _headers(self) -> dict[str, str]:
        """The API key header, read from the environment at call time (never stored in config)."""
        name = self.config.api_key_env
        if not name:
            return {}
        key = os.environ.get(name)
        if not key:
            raise ToolError(f"the environment variable {name} is not set (needed by [tools.web_search])")
        return {self.config.api_key_header: self.config.api_key_prefix + key}


def _results(data: Any, path: str) -> list[Any]:
    """The list at a dotted `path` of a JSON document."""
    node = data
    for part in path.split(".") if path else ():
        node = node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, list):
        raise ToolError(f"the search endpoint's JSON has no list at '{path}'")
    return node


def _hit(item: Any) -> SearchHit:
    """A hit from one result object, accepting the common key spellings."""
    if not isinstance(item, dict):
        raise ToolError(f"a search result is not an object: {item!r}")
    return SearchHit(
        title=str(_first(item, "title", "name")),
        url=str(_first(item, "url", "link")),
        snippet=str(_first(item, "snippet", "content", "description")),
    )


def _first(item: dict, *keys: str) -> Any:
    return next((item[key] for key in keys if item.get(key) is not None), "")


SEARCH_PROVIDERS: dict[str, Callable[[WebSearchConfig], SearchProvider]] = {
    "http_json": HttpJsonSearch,
    "none": UnconfiguredSearch,
}


def register_search_provider(name: str, factory: Callable[[WebSearchConfig], SearchProvider]) -> None:
    """Make a provider selectable as `[tools.web_search] provider = name`."""
    SEARCH_PROVIDERS[name] = factory


def search_provider(ctx: ToolContext) -> SearchProvider:
    """The provider for this context: an override object, else the configured name."""
    return pick_provider(ctx, "web_search", SEARCH_PROVIDERS, ctx.config.web_search, "web search")


async def web_search_tool(args: dict[str, Any], ctx: ToolContext) -> list[dict[str, str]]:
    """The `web_search` built-in."""
    hits = await search_provider(ctx).search(args["query"], args["max_results"], ctx)
    return [hit.model_dump() for hit in hits]
