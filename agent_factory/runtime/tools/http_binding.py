"""`http:` bindings: `(http: GET https://api.example.com/items/{item_id})`.

Arguments named in the URL template fill it, URL-encoded (a value can never add a path
segment or a query parameter), and `.` or `..` as a path value is refused. The other arguments go in the query string for GET, HEAD
and DELETE, and in a JSON body for POST, PUT and PATCH. Placeholders are refused in the
scheme and host: the spec author chooses the server, never the model. Requests go
through `safe_fetch`, so the SSRF policy applies to bindings too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from .model import ToolError, ToolSpec
from .schema import arg, object_schema

if TYPE_CHECKING:
    from agent_factory.compiler.ir import ToolRef

    from .fetch import FetchResponse

    from .context import ToolContext

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ORIGIN = re.compile(r"^https?://[^/?#]*", re.IGNORECASE)
QUERY_METHODS = ("GET", "HEAD", "DELETE")
BODY_METHODS = ("POST", "PUT", "PATCH")
_SNIPPET = 200


@dataclass(frozen=True)
class UrlTemplate:
    """A URL with `{name}` placeholders in its path or query (`names` in order of appearance)."""

    text: str
    names: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> UrlTemplate:
        """Check and parse a template; `ValueError` says what is wrong with it."""
        origin = _ORIGIN.match(text)
        if origin is None:
            raise ValueError(f"the URL must start with http:// or https://, got {text!r}")
        if "{" in origin.group(0) or "}" in origin.group(0):
            raise ValueError(f"placeholders are not allowed in the scheme or host of {text!r}")
        if "{" in _PLACEHOLDER.sub("", text) or "}" in _PLACEHOLDER.sub("", text):
            raise ValueError(f"unbalanced or invalid placeholder braces in {text!r}")
        names = tuple(dict.fromkeys(_PLACEHOLDER.findall(text)))
        return cls(text, names)

    def fill(self, values: Mapping[str, Any]) -> str:
        """The URL with every placeholder replaced by its value, percent-encoded. `.` and `..`
        are refused in the path: encoding leaves them as they are, and the server would read
        them as "this folder" and "the parent folder" (`/api/{id}/info` with `..` is `/info`)."""
        path_end = len(re.split(r"[?#]", self.text, maxsplit=1)[0])
        return _PLACEHOLDER.sub(lambda match: self._value(match, values, path_end), self.text)

    @staticmethod
    def _value(match: re.Match[str], values: Mapping[str, Any], path_end: int) -> str:
        name, text = match.group(1), as_text(values[match.group(1)])
        if text in (".", "..") and match.start() < path_end:
            raise ToolError(f"argument '{name}' may not be {text!r}: it would change the path of the URL")
        return quote(text, safe="")


def as_text(value: Any) -> str:
    """A value as it appears in a URL: JSON spelling for booleans and null."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return str(value)


def http_binding_tool(ref: ToolRef) -> ToolSpec:
    """The `ToolSpec` of a spec tool bound with `http:`; `ValueError` for a bad binding."""
    binding = ref.binding
    method = (binding.method or "GET").upper()
    if method not in QUERY_METHODS + BODY_METHODS:
        raise ValueError(f"tool '{ref.name}': unsupported HTTP method {method!r}")
    try:
        template = UrlTemplate.parse(binding.target)
    except ValueError as exc:
        raise ValueError(f"tool '{ref.name}': {exc}") from None
    where = "query string" if method in QUERY_METHODS else "JSON body"
    properties = {
        name: arg(["string", "integer", "number"], f"Fills {{{name}}} in the URL.") for name in template.names
    }

    async def handler(args: dict[str, Any], ctx: ToolContext) -> Any:
        return await call_http_binding(method, template, args, ctx)

    return ToolSpec(
        name=ref.name,
        description=ref.description or f"{method} {binding.target}",
        parameters=object_schema(properties, open_=True),
        result=f"The response body (parsed when JSON). Arguments not in the URL are sent in the {where}.",
        kind="http",
        binding=f"{method} {binding.target}",
        handler=handler,
    )


async def call_http_binding(method: str, template: UrlTemplate, args: Mapping[str, Any], ctx: ToolContext) -> Any:
    """Send one bound request; HTTP error statuses become `ToolError`."""
    url = template.fill(args)
    rest = {name: value for name, value in args.items() if name not in template.names}
    body = None
    if method in BODY_METHODS:
        body = rest
    elif rest:
        query = urlencode([(name, _query_value(value)) for name, value in rest.items()], doseq=True)
        url += ("&" if "?" in url else "?") + query
    from .fetch import safe_fetch  # imported on the first call: building the tool must not load the fetcher

    response = await safe_fetch(url, ctx, method=method, json_body=body)
    if response.status >= 400:
        raise ToolError(f"{method} {response.url} returned HTTP {response.status}: {_snippet(response)}")
    return response_content(response)


def _query_value(value: Any) -> Any:
    """Lists become repeated parameters; scalars are spelled as in `as_text`."""
    if isinstance(value, (list, tuple)):
        return [as_text(item) for item in value]
    return as_text(value)


def response_content(response: FetchResponse) -> Any:
    """Parsed JSON for JSON responses, text otherwise."""
    if "json" in response.content_type:
        try:
            return json.loads(response.content)
        except (ValueError, RecursionError):
            pass  # a mislabelled body, or nesting too deep to parse: hand back the text
    return response.text()


def _snippet(response: FetchResponse) -> str:
    """The start of an error body, on one line."""
    text = " ".join(response.text().split())
    if not text:
        return "(empty body)"
    return text if len(text) <= _SNIPPET else text[:_SNIPPET] + "…"
