"""SSRF-safe HTTP: every request (and every redirect hop) goes through `safe_fetch`.

For each hop: parse the URL (http/https only, no credentials), pin the host to one
address with `netpolicy.pin_address`, connect to that address while sending the original
`Host` header and TLS server name, read at most `max_response_bytes` (compressed bodies are
also decoded under that cap, see `decoding`), and follow redirects by hand so each new target
is checked again. Proxies from the environment are ignored:
a proxy would resolve the name itself and undo the pinning.

httpx is imported inside the functions so that importing the tool registry stays cheap.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .decoding import DecodedTooLarge, DecodeError, decode_body, encodings
from .model import ToolError
from .netpolicy import ALLOW_HINT, AllowList, Refused, pin_address

if TYPE_CHECKING:
    import httpx

    from .context import ToolContext

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Only these headers follow a redirect to another origin: any other may carry a credential meant
# for the first one (a search provider's key header can have any name).
_CROSS_ORIGIN_HEADERS = ("user-agent", "accept-encoding", "accept", "content-type")
_TEXT_TYPES = ("text/", "json", "xml", "javascript", "x-www-form-urlencoded")


@dataclass(frozen=True)
class FetchResponse:
    """A finished response: final `url`, `status`, lower-cased `headers`, raw `content`."""

    url: str
    status: int
    headers: dict[str, str]
    content: bytes

    @property
    def content_type(self) -> str:
        """The media type without parameters (`text/html`), or an empty string."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def is_text(self) -> bool:
        """Whether the body is text a model can read (no content type counts as text)."""
        return not self.content_type or any(marker in self.content_type for marker in _TEXT_TYPES)

    def text(self) -> str:
        """The body decoded with its declared charset (UTF-8 by default), never failing."""
        charset = _charset(self.headers.get("content-type", "")) or "utf-8"
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:  # an unknown charset name from the server
            return self.content.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class _Hop:
    """One request to send: method, URL, headers and body."""

    method: str
    url: httpx.URL
    headers: dict[str, str]
    body: bytes | None


async def safe_fetch(
    url: str,
    ctx: ToolContext,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    json_body: Any = None,
) -> FetchResponse:
    """Fetch `url` under the context's HTTP policy, following up to `max_redirects` redirects.

    Raises `ToolError` for invalid URLs, refused addresses, network failures and bodies over
    the size limit. HTTP error statuses are returned, not raised."""
    import httpx

    policy = ctx.config.http
    allow = AllowList.parse(policy.allow_hosts)
    hop = _first_hop(url, method, headers, json_body, policy.user_agent)
    previous: httpx.URL | None = None
    shown = url  # the first URL is reported as written; httpx would normalise `file:///x` to `file:/x`
    for _ in range(policy.max_redirects + 1):
        _check_scheme(hop.url, shown)
        address = await _pin(hop.url, previous, allow, ctx)
        response = await _send(hop, address, ctx)
        location = response.headers.get("location")
        if response.status not in REDIRECT_STATUSES or not location:
            return response
        previous, hop = hop.url, _redirected(hop, response.status, location)
        shown = str(hop.url)
    raise ToolError(f"too many redirects (more than {policy.max_redirects}) starting at {url}")


def _first_hop(
    url: str, method: str, headers: Mapping[str, str] | None, json_body: Any, user_agent: str
) -> _Hop:
    """The first request, with our User-Agent, asking for no compression (a server that
    compresses anyway is decoded under the size cap, see `_read_capped`)."""
    import json

    import httpx

    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ToolError(f"invalid URL {url!r}: {exc}") from None
    merged = {"user-agent": user_agent, "accept-encoding": "identity"}
    merged.update({key.lower(): value for key, value in (headers or {}).items()})
    body = None
    if json_body is not None:
        body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
        merged.setdefault("content-type", "application/json")
    return _Hop(method.upper(), parsed, merged, body)


def _check_scheme(url: httpx.URL, shown: str) -> None:
    """Only http(s) URLs with a host and without embedded credentials are fetched."""
    if url.scheme not in ("http", "https"):
        raise ToolError(f"unsupported URL scheme '{url.scheme}' in {shown}; only http and https are allowed")
    if not url.host:
        raise ToolError(f"invalid URL {shown!r}: no host")
    if url.userinfo:
        raise ToolError(
            f"refused a URL for host '{url.host}' with credentials in it; credentials in URLs are not allowed"
        )


async def _pin(url: httpx.URL, previous: httpx.URL | None, allow: AllowList, ctx: ToolContext):
    """The address to connect to for `url`, or `Refused` naming the request or redirect."""
    try:
        return await pin_address(_ascii_host(url), url.port or _default_port(url), allow, ctx.resolver)
    except Refused as exc:
        where = f"to connect to {url}" if previous is None else f"to follow the redirect from {previous} to {url}"
        raise Refused(f"refused {where}: {exc}; {ALLOW_HINT}") from None


def _ascii_host(url: httpx.URL) -> str:
    """The host as DNS and TLS see it: internationalised names in their punycode form."""
    return url.raw_host.decode("ascii")


def _default_port(url: httpx.URL) -> int:
    return 443 if url.scheme == "https" else 80


async def _send(hop: _Hop, address, ctx: ToolContext) -> FetchResponse:
    """Send one request to the pinned `address` and read a size-capped body."""
    import httpx

    request_url, headers, extensions = _pinned_request(hop, address)
    limit = ctx.config.http.max_response_bytes
    # Only a backstop: the tool's own deadline (same length, started earlier) is what ends a
    # slow call, so the message is always "timed out after N s".
    timeout = httpx.Timeout(ctx.config.timeout_s + 1.0)
    try:
        async with httpx.AsyncClient(
            trust_env=False, follow_redirects=False, timeout=timeout, verify=_tls_context()
        ) as client:
            request = client.build_request(
                hop.method, request_url, headers=headers, content=hop.body, extensions=extensions
            )
            response = await client.send(request, stream=True)
            try:
                content = await _read_capped(response, limit, hop.url)
            finally:
                await response.aclose()
    except httpx.TimeoutException:
        raise ToolError(f"timed out fetching {hop.url}") from None
    except httpx.HTTPError as exc:
        raise ToolError(f"request to {hop.url} failed: {_describe(exc)}") from None
    headers_out = {key.lower(): value for key, value in response.headers.items()}
    return FetchResponse(str(hop.url), response.status_code, headers_out, content)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context for all requests: building one loads the CA bundle (tens of
    milliseconds), and a fresh client per hop would otherwise pay that on every hop."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _pinned_request(hop: _Hop, address) -> tuple[httpx.URL, dict[str, str], dict[str, Any]]:
    """The URL with the host replaced by the pinned address, the original `Host` header,
    and the TLS server name (SNI and certificate check) set to the original host."""
    headers = dict(hop.headers)
    headers["host"] = hop.url.netloc.decode("ascii")
    extensions: dict[str, Any] = {}
    if hop.url.scheme == "https":
        extensions["sni_hostname"] = _ascii_host(hop.url)
    return hop.url.copy_with(host=str(address)), headers, extensions


async def _read_capped(response: httpx.Response, limit: int, url: httpx.URL) -> bytes:
    """The body, refusing as soon as its raw bytes (or their declared length) pass `limit`;
    a compressed body is then decoded in bounded chunks, in a thread, under the same limit."""
    declared = response.headers.get("content-length", "")
    too_big = f"response from {url} is larger than the limit of {limit} bytes"
    if declared.isdigit() and int(declared) > limit:
        raise ToolError(too_big)
    body = bytearray()
    async for chunk in response.aiter_raw():  # raw: httpx would decode without any bound
        body += chunk
        if len(body) > limit:
            raise ToolError(too_big)
    coding = response.headers.get("content-encoding", "")
    if not body or not encodings(coding):
        return bytes(body)
    try:
        return await asyncio.to_thread(decode_body, bytes(body), coding, limit)
    except DecodedTooLarge as exc:
        raise ToolError(f"{too_big}: {exc} (content-encoding: {coding})") from None
    except DecodeError as exc:
        raise ToolError(f"cannot decode the response from {url}: {exc}") from None


def _redirected(hop: _Hop, status: int, location: str) -> _Hop:
    """The next hop of a redirect: 303 (and 301/302 after POST) become GET without a body,
    as browsers do; credentials are dropped when the origin changes."""
    import httpx

    try:
        target = hop.url.join(location)
    except httpx.InvalidURL as exc:
        raise ToolError(f"invalid redirect location {location!r} from {hop.url}: {exc}") from None
    method, body, headers = hop.method, hop.body, dict(hop.headers)
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        method, body = "GET", None
        headers.pop("content-type", None)
    if (target.scheme, target.host, target.port) != (hop.url.scheme, hop.url.host, hop.url.port):
        headers = {name: value for name, value in headers.items() if name in _CROSS_ORIGIN_HEADERS}
    return _Hop(method, target, headers, body)


def _charset(content_type: str) -> str | None:
    """The `charset=` parameter of a Content-Type header."""
    for part in content_type.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip('"') or None
    return None


def _describe(exc: Exception) -> str:
    """A one-line description of a transport error (httpx messages can be empty)."""
    return str(exc) or type(exc).__name__


async def http_fetch_tool(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    """The `http_fetch` built-in: status, final URL, content type and the body as text
    (binary bodies are summarised). Error statuses are content, not failures: a 404 page
    is an answer the model can read."""
    response = await safe_fetch(args["url"], ctx, method=args["method"])
    if response.is_text():
        body = response.text()
    else:
        body = f"[{len(response.content)} bytes of {response.content_type} not shown]"
    return {"url": response.url, "status": response.status, "content_type": response.content_type, "body": body}
