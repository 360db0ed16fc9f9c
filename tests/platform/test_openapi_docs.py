"""The OpenAPI document at /openapi.json (browsable at /docs) documents every operation."""

from __future__ import annotations

from agent_factory.platform.app import create_app
from agent_factory.platform.db.connect import DatabaseUrls
from agent_factory.platform.settings import Settings

_UNUSED = DatabaseUrls(owner="postgresql://unused@127.0.0.1/unused", app="postgresql://unused@127.0.0.1/unused")


def test_every_operation_has_a_description_and_documents_its_errors():
    document = create_app(Settings(database=_UNUSED)).openapi()
    operations = [(method, path, op) for path, item in document["paths"].items() for method, op in item.items()]
    assert len(operations) >= 17
    for method, path, op in operations:
        assert op.get("description"), f"{method.upper()} {path} has no docstring"
        errors = {status for status in op["responses"] if status.startswith(("4", "5"))}
        if path == "/health":  # the process is up or there is no answer at all
            continue
        assert errors, f"{method.upper()} {path} documents no error response"
        for status in errors:
            schema = op["responses"][status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)
        if path.startswith("/v1/") and path != "/v1/sessions":
            assert "401" in errors and op.get("security"), f"{method.upper()} {path} does not say it needs a key"


def test_every_way_to_start_a_run_documents_its_quota_rate_and_busy_thread_answers():
    paths = create_app(Settings(database=_UNUSED)).openapi()["paths"]
    documented = {path: sorted(s for s in paths[path]["post"]["responses"] if s in ("402", "409", "429"))
                  for path in ("/v1/agents/{agent_id}/runs", "/threads/{thread_id}/runs", "/threads/{thread_id}/runs/wait",
                               "/threads/{thread_id}/runs/stream", "/runs", "/runs/wait", "/runs/stream")}
    on_a_thread, thread_less = ["402", "409", "429"], ["402", "429"]
    assert documented == {"/v1/agents/{agent_id}/runs": on_a_thread, "/threads/{thread_id}/runs": on_a_thread,
                          "/threads/{thread_id}/runs/wait": on_a_thread, "/threads/{thread_id}/runs/stream": on_a_thread,
                          "/runs": thread_less, "/runs/wait": thread_less, "/runs/stream": thread_less}


def test_the_docs_page_is_served(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert "swagger-ui" in page.text


def test_every_operation_taking_a_credential_documents_both_schemes():
    """The tenant dependency reads the headers itself (see `auth.request_credential`); the document
    still names both ways to send a key, as FastAPI would for `Security` dependencies."""
    document = create_app(Settings(database=_UNUSED)).openapi()
    assert document["components"]["securitySchemes"] == {
        "HTTPBearer": {"type": "http", "description": "an API key (`agf_…`) or a session token (`afs_…`)", "scheme": "bearer"},
        "APIKeyHeader": {"type": "apiKey", "description": "an API key (`agf_…`)", "in": "header", "name": "X-Api-Key"},
    }
    public = {("post", "/v1/sessions"), ("get", "/health"), ("get", "/ready"), ("get", "/info")}
    for path, item in document["paths"].items():
        for method, op in item.items():
            if (method, path) in public:
                assert not op.get("security"), (method, path)
            else:
                assert op["security"] == [{"HTTPBearer": []}, {"APIKeyHeader": []}], (method, path)
