"""The `wikipedia` built-in and its providers.

The default provider, `mediawiki`, uses the public MediaWiki REST API of
`https://<language>.wikipedia.org` (or `[tools.wikipedia] base_url`): a page search, then
the page summary of the best match. Requests go through `safe_fetch` like any other.
Another provider can be registered with `register_wikipedia_provider` or placed in
`ctx.providers["wikipedia"]`.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlencode

from .fetch import safe_fetch
from .model import ToolError
from .providers import pick_provider

if TYPE_CHECKING:
    from .config import WikipediaConfig
    from .context import ToolContext

SEARCH_LIMIT = 3
_TAG = re.compile(r"<[^>]+>")


class WikipediaProvider(Protocol):
    """What `wikipedia` needs from an encyclopedia backend."""

    async def lookup(self, query: str, ctx: ToolContext) -> dict[str, Any]:
        """The best article for `query`: `title`, `summary`, `url`, `other_matches`."""
        ...


class MediaWikiProvider:
    """Search a MediaWiki site, then summarise its best match."""

    def __init__(self, config: WikipediaConfig) -> None:
        self.site = config.site()

    async def lookup(self, query: str, ctx: ToolContext) -> dict[str, Any]:
        search_url = f"{self.site}/w/rest.php/v1/search/page?" + urlencode({"q": query, "limit": SEARCH_LIMIT})
        pages = (await _get_json(search_url, ctx)).get("pages") or []
        if not pages:
            raise ToolError(f"no Wikipedia article matches {query!r}")
        best = pages[0]
        summary = await self._summary(best["key"], ctx)
        return {
            "title": summary.get("title") or best.get("title", best["key"]),
            "summary": summary.get("extract") or _plain(best.get("excerpt") or best.get("description") or ""),
            "url": _page_url(summary) or f"{self.site}/wiki/{quote(best['key'], safe='')}",
            "other_matches": [page.get("title", page.get("key", "")) for page in pages[1:]],
        }

    async def _summary(self, key: str, ctx: ToolContext) -> dict[str, Any]:
        """The page summary; MediaWiki sites without the summary endpoint give an empty one."""
        url = f"{self.site}/api/rest_v1/page/summary/{quote(key, safe='')}"
        return await _get_json(url, ctx, missing_ok=True)


async def _get_json(url: str, ctx: ToolContext, *, missing_ok: bool = False) -> dict[str, Any]:
    """GET a JSON object; error statuses and non-JSON bodies become `ToolError`
    (a 404 gives an empty object when `missing_ok`)."""
    response = await safe_fetch(url, ctx, headers={"accept": "application/json"})
    if response.status == 404 and missing_ok:
        return {}
    if response.status >= 400:
        raise ToolError(f"Wikipedia returned HTTP {response.status} for {response.url}")
    try:
        data = json.loads(response.content)
    except ValueError:
        raise ToolError(f"Wikipedia did not return JSON for {response.url}") from None
    return data if isinstance(data, dict) else {}


def _page_url(summary: dict[str, Any]) -> str | None:
    urls = summary.get("content_urls")
    if isinstance(urls, dict) and isinstance(urls.get("desktop"), dict):
        return urls["desktop"].get("page")
    return None


def _plain(fragment: str) -> str:
    """Search excerpts carry `<span class="searchmatch">` markup; keep the text."""
    return html.unescape(_TAG.sub("", fragment))


WIKIPEDIA_PROVIDERS: dict[str, Callable[[WikipediaConfig], WikipediaProvider]] = {"mediawiki": MediaWikiProvider}


def register_wikipedia_provider(name: str, factory: Callable[[WikipediaConfig], WikipediaProvider]) -> None:
    """Make a provider selectable as `[tools.wikipedia] provider = name`."""
    WIKIPEDIA_PROVIDERS[name] = factory


def wikipedia_provider(ctx: ToolContext) -> WikipediaProvider:
    """The provider for this context: an override object, else the configured name."""
    return pick_provider(ctx, "wikipedia", WIKIPEDIA_PROVIDERS, ctx.config.wikipedia, "wikipedia")


async def wikipedia_tool(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    """The `wikipedia` built-in."""
    return await wikipedia_provider(ctx).lookup(args["query"], ctx)
