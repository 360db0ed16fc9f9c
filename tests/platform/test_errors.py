"""Bad input gets a 4xx with `{"error": code, "detail": …}`, never a 500."""

from __future__ import annotations

import asyncpg

from agent_factory.platform.errors import as_platform_error


def test_malformed_json_is_422(client, two_teams):
    acme, _ = two_teams
    response = client.post("/v1/agents", content=b'{"spec": ', headers={**acme.auth, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_a_wrong_type_names_the_field(client, two_teams):
    acme, _ = two_teams
    response = client.post("/v1/keys", json={"name": "x", "scopes": "admin"}, headers=acme.auth)
    assert response.json() == {"error": "invalid_request", "detail": [
        {"loc": ["body", "scopes"], "message": "Input should be a valid list", "type": "list_type"}]}
    unknown = client.post("/v1/agents", json={"spec": "# Agent: X", "extra": 1}, headers=acme.auth)
    assert unknown.json()["detail"] == [{"loc": ["extra"], "message": "Extra inputs are not permitted", "type": "extra_forbidden"}]


def test_a_huge_body_is_413_before_it_is_read(client, two_teams, settings):
    acme, _ = two_teams
    huge = "x" * (settings.max_body_bytes + 1)
    response = client.post("/v1/agents", content=huge, headers={**acme.auth, "Content-Type": "text/markdown"})
    assert (response.status_code, response.json()) == (413, {
        "error": "payload_too_large", "detail": f"the body is larger than {settings.max_body_bytes} bytes"})


def test_a_chunked_body_over_the_limit_is_413(client, two_teams, settings):
    acme, _ = two_teams

    def chunks():
        for _ in range(settings.max_body_bytes // 1024 + 2):
            yield b"y" * 1024

    response = client.post("/v1/check", content=chunks(), headers={**acme.auth, "Content-Type": "text/markdown"})
    assert response.status_code == 413


def test_bad_utf8_is_422(client, two_teams):
    acme, _ = two_teams
    response = client.post("/v1/check", content=b"# Agent: X\n\xff\xfe", headers={**acme.auth, "Content-Type": "text/markdown"})
    assert (response.status_code, response.json()) == (422, {
        "error": "invalid_request", "detail": "the body is not UTF-8 (invalid byte 0xff at offset 11)"})


def test_nul_characters_and_lone_surrogates_are_422_not_500(client, two_teams):
    acme, _ = two_teams
    for raw in (b'{"spec": "# Agent: X\\u0000"}', b'{"spec": "# Agent: \\ud800"}'):
        response = client.post("/v1/agents", content=raw, headers={**acme.auth, "Content-Type": "application/json"})
        assert response.status_code == 422, raw
        assert response.json()["error"] == "invalid_request"
    key = client.post("/v1/keys", json={"name": "a\u0000b", "scopes": ["agents:read"]}, headers=acme.auth)
    assert key.json()["detail"] == [{"loc": ["body", "name"], "message": "Value error, text may not contain NUL characters (\\u0000)",
                                     "type": "value_error"}]
    member = client.post("/v1/members", json={"email": "a\u0000@b.c"}, headers=acme.auth)
    assert member.status_code == 422


def test_another_content_type_is_415(client, two_teams):
    acme, _ = two_teams
    response = client.post("/v1/check", content=b"<x/>", headers={**acme.auth, "Content-Type": "application/xml"})
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"


def test_unknown_routes_and_methods_answer_in_the_same_shape(client):
    assert client.get("/v1/nothing").json() == {"error": "not_found", "detail": "Not Found"}
    response = client.patch("/health")
    assert (response.status_code, response.json()) == (405, {"error": "method_not_allowed", "detail": "Method Not Allowed"})


def test_a_malformed_id_is_422(client, two_teams):
    acme, _ = two_teams
    response = client.get("/v1/agents/not-a-uuid", headers=acme.auth)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "agent_id"]


def test_database_refusals_that_slip_past_the_schemas_are_4xx():
    clash = as_platform_error(asyncpg.UniqueViolationError("duplicate key value violates unique constraint"))
    assert (clash.status, clash.code, clash.detail) == (409, "conflict", "a resource with the same unique name exists")
    nul = as_platform_error(asyncpg.CharacterNotInRepertoireError("invalid byte sequence for encoding UTF8: 0x00"))
    assert (nul.status, nul.code) == (422, "invalid_request")


def test_a_query_parameter_given_twice_is_422_not_the_last_value(client, two_teams):
    acme, _ = two_teams
    for path in ("/v1/agents?limit=1&limit=2", "/v1/audit?limit=1&limit=2", "/v1/runs?limit=1&limit=2"):
        response = client.get(path, headers=acme.auth)
        assert (path, response.status_code, response.json()) == (path, 422, {"error": "invalid_request", "detail": [
            {"loc": ["query", "limit"], "message": "given more than once", "type": "repeated"}]})
