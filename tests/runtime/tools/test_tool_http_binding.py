"""`http:` bindings fill their URL template (encoded), send the rest as query or JSON body."""

from __future__ import annotations

import json

import pytest

from agent_factory.runtime.tools import ToolContext, binding_tool
from agent_factory.runtime.tools.http_binding import UrlTemplate

HINT = "add the host or its network to [tools.http] allow_hosts to allow it"


@pytest.fixture
def bound(tool_ref):
    """Builds the ToolSpec of an `http:` binding."""

    def build(url: str, method: str = "GET"):
        return binding_tool(tool_ref("lookup", "http", target=url, method=method, description="Look an item up"))

    return build


def test_placeholders_become_required_arguments(bound):
    spec = bound("https://api.example.com/v1/items/{item_id}/parts/{part}?lang={lang}")
    assert (spec.name, spec.kind, spec.binding, spec.description) == (
        "lookup",
        "http",
        "GET https://api.example.com/v1/items/{item_id}/parts/{part}?lang={lang}",
        "Look an item up",
    )
    assert spec.parameters["required"] == ["item_id", "part", "lang"]
    assert spec.parameters["properties"]["item_id"] == {
        "type": ["string", "integer", "number"],
        "description": "Fills {item_id} in the URL.",
    }
    assert spec.parameters["additionalProperties"] is True


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("https://{host}/x", "tool 'lookup': placeholders are not allowed in the scheme or host of 'https://{host}/x'"),
        ("https://api.{zone}.com/x", "tool 'lookup': placeholders are not allowed in the scheme or host of "
         "'https://api.{zone}.com/x'"),
        ("ftp://example.com/{x}", "tool 'lookup': the URL must start with http:// or https://, got "
         "'ftp://example.com/{x}'"),
        ("https://example.com/{x", "tool 'lookup': unbalanced or invalid placeholder braces in "
         "'https://example.com/{x'"),
        ("https://example.com/{1x}", "tool 'lookup': unbalanced or invalid placeholder braces in "
         "'https://example.com/{1x}'"),
    ],
)
def test_bad_templates_are_refused_when_the_tool_is_built(bound, target, message):
    with pytest.raises(ValueError) as caught:
        bound(target)
    assert str(caught.value) == message


def test_values_are_percent_encoded_so_they_cannot_change_the_path():
    template = UrlTemplate.parse("https://h.example/items/{id}?q={q}")
    assert template.names == ("id", "q")
    assert template.fill({"id": "../admin?x=1#f", "q": "a b&c=d"}) == (
        "https://h.example/items/..%2Fadmin%3Fx%3D1%23f?q=a%20b%26c%3Dd"
    )
    assert template.fill({"id": 42, "q": True}) == "https://h.example/items/42?q=true"


@pytest.mark.anyio
@pytest.mark.parametrize("value", ["..", "."])
async def test_dot_segments_are_refused_as_path_values(bound, local_server, allowed_ctx, value):
    spec = bound(local_server.url + "/api/{id}/info")
    result = await spec.invoke({"id": value}, allowed_ctx)
    assert result.error == f"argument 'id' may not be '{value}': it would change the path of the URL"
    assert local_server.requests == []


def test_dot_segments_are_fine_in_the_query_and_inside_longer_values():
    template = UrlTemplate.parse("https://h.example/files/{name}?dir={dir}")
    assert template.fill({"name": "...", "dir": ".."}) == "https://h.example/files/...?dir=.."
    assert template.fill({"name": "a..b", "dir": "."}) == "https://h.example/files/a..b?dir=."


@pytest.mark.anyio
async def test_get_fills_the_template_and_sends_the_rest_as_query(bound, local_server, allowed_ctx):
    spec = bound(local_server.url + "/echo/{item_id}?lang={lang}")
    result = await spec.invoke({"item_id": "a b/c", "lang": "fr", "page": 2, "tags": ["x", "y"]}, allowed_ctx)
    assert result.ok, result.error
    assert result.content == {
        "method": "GET",
        "path": "/echo/a%20b%2Fc?lang=fr&page=2&tags=x&tags=y",
        "host": f"127.0.0.1:{local_server.port}",
        "body": "",
    }


@pytest.mark.anyio
async def test_post_sends_the_remaining_arguments_as_json(bound, local_server, allowed_ctx):
    spec = bound(local_server.url + "/echo/{item_id}", method="POST")
    result = await spec.invoke({"item_id": 7, "note": "héllo", "count": 3}, allowed_ctx)
    assert result.ok, result.error
    assert result.content["path"] == "/echo/7"
    assert json.loads(result.content["body"]) == {"note": "héllo", "count": 3}
    assert local_server.requests[0].headers["content-type"] == "application/json"


@pytest.mark.anyio
@pytest.mark.parametrize("method", ["HEAD", "DELETE"])
async def test_head_and_delete_send_the_other_arguments_as_query(bound, local_server, allowed_ctx, method):
    spec = bound(local_server.url + "/echo/{item_id}", method=method)
    result = await spec.invoke({"item_id": 7, "force": True, "tags": ["x", "y"]}, allowed_ctx)
    assert result.ok, result.error
    assert [(r.method, r.path, r.body) for r in local_server.requests] == [
        (method, "/echo/7?force=true&tags=x&tags=y", b"")
    ]


@pytest.mark.anyio
@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_put_and_patch_send_the_other_arguments_as_json(bound, local_server, allowed_ctx, method):
    spec = bound(local_server.url + "/echo/{item_id}", method=method)
    result = await spec.invoke({"item_id": 7, "note": "hi", "done": False}, allowed_ctx)
    assert result.ok, result.error
    assert result.content["method"] == method
    assert result.content["path"] == "/echo/7"
    assert json.loads(result.content["body"]) == {"note": "hi", "done": False}


@pytest.mark.anyio
async def test_a_missing_placeholder_argument_is_reported(bound, allowed_ctx):
    spec = bound("http://127.0.0.1:9/echo/{item_id}")
    result = await spec.invoke({"page": 1}, allowed_ctx)
    assert result.error == "invalid arguments: missing required argument 'item_id'"


@pytest.mark.anyio
async def test_http_error_statuses_are_tool_errors(bound, local_server, allowed_ctx):
    spec = bound(local_server.url + "/status/{code}")
    result = await spec.invoke({"code": 404}, allowed_ctx)
    assert result.error == f"GET {local_server.url}/status/404 returned HTTP 404: Not Found: the item does not exist"


@pytest.mark.anyio
async def test_bindings_obey_the_ssrf_policy(bound):
    spec = bound("http://169.254.169.254/latest/{path}")
    result = await spec.invoke({"path": "meta-data"}, ToolContext())
    assert result.error == (
        "refused to connect to http://169.254.169.254/latest/meta-data: "
        f"169.254.169.254 is a link-local address; {HINT}"
    )


def test_unsupported_methods_are_refused(bound):
    with pytest.raises(ValueError) as caught:
        bound("https://example.com/x", method="TRACE")
    assert str(caught.value) == "tool 'lookup': unsupported HTTP method 'TRACE'"


def test_json_nested_too_deeply_to_parse_comes_back_as_text():
    from agent_factory.runtime.tools.fetch import FetchResponse
    from agent_factory.runtime.tools.http_binding import response_content

    deep = b"[" * 100_000 + b"]" * 100_000
    response = FetchResponse("https://api.example/x", 200, {"content-type": "application/json"}, deep)
    assert response_content(response) == deep.decode()
