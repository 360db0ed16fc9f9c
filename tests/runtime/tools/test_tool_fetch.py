"""http_fetch and safe_fetch: SSRF refusals, pinning, redirects, size and time limits."""

from __future__ import annotations

import pytest

from agent_factory.runtime.tools import HttpConfig, ToolConfig, ToolContext, builtin_tools

pytestmark = pytest.mark.anyio

HINT = "add the host or its network to [tools.http] allow_hosts to allow it"


async def fetch(ctx: ToolContext, url: str, **args):
    return await builtin_tools()["http_fetch"].invoke({"url": url, **args}, ctx)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1/", "127.0.0.1 is a loopback address"),
        ("http://10.0.0.1/admin", "10.0.0.1 is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("http://[::1]:8080/", "::1 is a loopback address"),
        ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1 is a loopback address (IPv4-mapped 127.0.0.1)"),
        ("http://localhost:8080/", "localhost resolves to 127.0.0.1, a loopback address"),
        ("http://2130706433/", "2130706433 resolves to 127.0.0.1, a loopback address"),
        ("http://0x7f.1/", "0x7f.1 resolves to 127.0.0.1, a loopback address"),
        ("https://0.0.0.0/", "0.0.0.0 is an unspecified address"),
    ],
)
async def test_private_and_internal_targets_are_refused(url, why):
    result = await fetch(ToolContext(), url)
    assert (result.ok, result.content) == (False, None)
    assert result.error == f"refused to connect to {url}: {why}; {HINT}"


async def test_the_allow_list_lets_tests_reach_a_local_server(local_server, allowed_ctx):
    result = await fetch(allowed_ctx, f"{local_server.url}/echo?x=1")
    assert result.ok, result.error
    assert result.content["status"] == 200
    assert result.content["url"] == f"{local_server.url}/echo?x=1"
    assert result.content["content_type"] == "application/json"
    assert '"path": "/echo?x=1"' in result.content["body"]
    seen = local_server.requests[0]
    assert (seen.method, seen.headers["accept-encoding"]) == ("GET", "identity")
    assert seen.headers["user-agent"].startswith("agent-factory/")


async def test_proxy_environment_variables_are_ignored(local_server, monkeypatch):
    async def resolver(host, port):
        return ["127.0.0.1"]

    for variable in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")  # the discard port: nothing answers there
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    ctx = ToolContext(ToolConfig(http=HttpConfig(allow_hosts=("127.0.0.1",)), timeout_s=5), resolver=resolver)
    result = await fetch(ctx, f"http://api.test:{local_server.port}/echo")
    assert result.ok, result.error
    assert [(r.path, r.headers["host"]) for r in local_server.requests] == [("/echo", f"api.test:{local_server.port}")]


async def test_a_name_is_resolved_once_and_the_host_header_is_kept(local_server):
    calls = []

    async def rebinding_resolver(host, port):
        calls.append(host)
        # The first answer is allowed; a second lookup would get the metadata address.
        return ["127.0.0.1"] if len(calls) == 1 else ["169.254.169.254"]

    config = ToolConfig(http=HttpConfig(allow_hosts=("127.0.0.1",)), timeout_s=5)
    ctx = ToolContext(config, resolver=rebinding_resolver)
    result = await fetch(ctx, f"http://api.test:{local_server.port}/echo")
    assert result.ok, result.error
    assert calls == ["api.test"]
    assert local_server.requests[0].headers["host"] == f"api.test:{local_server.port}"


async def test_https_requests_carry_the_original_name_for_tls():
    import httpx

    from agent_factory.runtime.tools.fetch import _Hop, _pinned_request

    hop = _Hop("GET", httpx.URL("https://docs.example.org:8443/a?b=1"), {"user-agent": "t"}, None)
    url, headers, extensions = _pinned_request(hop, "93.184.215.14")
    assert str(url) == "https://93.184.215.14:8443/a?b=1"
    assert headers == {"user-agent": "t", "host": "docs.example.org:8443"}
    assert extensions == {"sni_hostname": "docs.example.org"}


async def test_a_redirect_to_a_disallowed_address_is_refused(local_server, allowed_ctx):
    start = f"{local_server.url}/redirect?to=http://169.254.169.254/latest/meta-data/"
    result = await fetch(allowed_ctx, start)
    assert result.error == (
        f"refused to follow the redirect from {start} to http://169.254.169.254/latest/meta-data/: "
        f"169.254.169.254 is a link-local address; {HINT}"
    )
    assert len(local_server.requests) == 1


async def test_allowing_a_name_does_not_allow_other_names_for_the_same_address(local_server):
    async def resolver(host, port):
        return ["127.0.0.1"]  # both api.test and localhost answer with the loopback address

    ctx = ToolContext(ToolConfig(http=HttpConfig(allow_hosts=("api.test",)), timeout_s=5), resolver=resolver)
    start = f"http://api.test:{local_server.port}/redirect?to=http://localhost:{local_server.port}/echo"
    result = await fetch(ctx, start)
    assert result.error == (
        f"refused to follow the redirect from {start} to http://localhost:{local_server.port}/echo: "
        f"localhost resolves to 127.0.0.1, a loopback address; {HINT}"
    )


async def test_allowed_redirects_are_followed_and_303_becomes_get(local_server, allowed_ctx):
    target = f"{local_server.url}/echo"
    result = await fetch(allowed_ctx, f"{local_server.url}/redirect?status=303&to=/echo")
    assert result.ok, result.error
    assert result.content["url"] == target
    assert [(r.method, r.path) for r in local_server.requests] == [
        ("GET", "/redirect?status=303&to=/echo"),
        ("GET", "/echo"),
    ]


async def test_redirect_loops_stop_after_five_hops(local_server, allowed_ctx):
    result = await fetch(allowed_ctx, f"{local_server.url}/loop")
    assert result.error == f"too many redirects (more than 5) starting at {local_server.url}/loop"
    assert len(local_server.requests) == 6


async def test_a_declared_length_over_the_limit_is_refused(local_server):
    config = ToolConfig(http=HttpConfig(allow_hosts=("127.0.0.1",), max_response_bytes=1000), timeout_s=5)
    result = await fetch(ToolContext(config), f"{local_server.url}/big?n=1001")
    assert result.error == f"response from {local_server.url}/big?n=1001 is larger than the limit of 1000 bytes"
    assert (await fetch(ToolContext(config), f"{local_server.url}/big?n=1000")).content["body"] == "x" * 1000


async def test_a_streamed_body_over_the_limit_is_cut_off(local_server, allowed_ctx):
    # The default limit is 1 MiB; 20 chunks of 64 KiB would be 1.25 MiB.
    url = f"{local_server.url}/stream?chunks=20"
    result = await fetch(allowed_ctx, url)
    assert result.error == f"response from {url} is larger than the limit of 1048576 bytes"


async def test_a_slow_server_times_out(local_server):
    config = ToolConfig(http=HttpConfig(allow_hosts=("127.0.0.1",)), timeout_s=0.3)
    result = await fetch(ToolContext(config), f"{local_server.url}/slow?s=5")
    assert result.error == "timed out after 0.3 s"
    assert result.latency_s < 3


async def test_error_statuses_are_content_for_http_fetch(local_server, allowed_ctx):
    result = await fetch(allowed_ctx, f"{local_server.url}/status/404")
    assert result.content == {
        "url": f"{local_server.url}/status/404",
        "status": 404,
        "content_type": "text/plain",
        "body": "Not Found: the item does not exist",
    }


async def test_text_is_decoded_with_its_charset_and_binary_is_summarised(local_server, allowed_ctx):
    text = await fetch(allowed_ctx, f"{local_server.url}/text")
    assert text.content["body"] == "héllo wörld"
    binary = await fetch(allowed_ctx, f"{local_server.url}/binary")
    assert binary.content["body"] == "[108 bytes of image/png not shown]"


async def test_head_returns_no_body(local_server, allowed_ctx):
    result = await fetch(allowed_ctx, f"{local_server.url}/echo", method="HEAD")
    assert (result.content["status"], result.content["body"]) == (200, "")
    assert local_server.requests[0].method == "HEAD"


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("file:///etc/passwd", "unsupported URL scheme 'file' in file:///etc/passwd; only http and https are allowed"),
        ("ftp://example.org/x", "unsupported URL scheme 'ftp' in ftp://example.org/x; only http and https are allowed"),
        ("http://user:pw@example.org/", "refused a URL for host 'example.org' with credentials in it; "
         "credentials in URLs are not allowed"),
        ("http://0177.0.0.1/", "invalid URL 'http://0177.0.0.1/': Invalid IPv4 address: '0177.0.0.1'"),
    ],
)
async def test_other_schemes_credentials_and_bad_urls_are_refused(url, error):
    assert (await fetch(ToolContext(), url)).error == error


async def test_method_is_limited_to_get_and_head():
    result = await fetch(ToolContext(), "https://example.org/", method="DELETE")
    assert result.error == "invalid arguments: argument 'method' must be one of GET, HEAD, got 'DELETE'"



async def test_https_to_a_pinned_address_verifies_the_certificate_of_the_name(tls_server, local_server):
    async def resolver(host, port):
        return ["127.0.0.1"]

    ctx = ToolContext(ToolConfig(http=HttpConfig(allow_hosts=("127.0.0.1",)), timeout_s=5), resolver=resolver)
    result = await fetch(ctx, f"https://tls.test:{tls_server}/echo")
    assert result.ok, result.error
    assert local_server.requests[0].headers["host"] == f"tls.test:{tls_server}"
    # Same address, another name: the certificate (for tls.test) must not be accepted.
    wrong = await fetch(ctx, f"https://other.test:{tls_server}/echo")
    failed = f"request to https://other.test:{tls_server}/echo failed: [SSL: CERTIFICATE_VERIFY_FAILED]"
    assert wrong.error.startswith(failed)
    assert "Hostname mismatch" in wrong.error


async def test_only_neutral_headers_follow_a_redirect_to_another_origin(local_server):
    async def resolver(host, port):
        return ["127.0.0.1"]  # two names for the local server: two origins

    from agent_factory.runtime.tools.fetch import safe_fetch

    ctx = ToolContext(ToolConfig(http=HttpConfig(allow_hosts=("api.test", "other.test")), timeout_s=5), resolver=resolver)
    start = f"http://api.test:{local_server.port}/redirect?to=http://other.test:{local_server.port}/echo"
    response = await safe_fetch(start, ctx, headers={"X-Subscription-Token": "key-for-api-test", "Accept": "application/json"})
    assert response.status == 200
    first, second = local_server.requests
    assert first.headers["x-subscription-token"] == "key-for-api-test"
    assert "x-subscription-token" not in second.headers
    assert second.headers["accept"] == "application/json"
    assert second.headers["host"] == f"other.test:{local_server.port}"
