"""Schemathesis against the running app's OpenAPI document: every operation, generated inputs
(valid and invalid), authenticated as an owner; no 500 and every response matches its schema.

The examples per operation are bounded so the whole run stays around half a minute.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import negative_data_rejection

from agent_factory.platform.app import create_app
from agent_factory.platform.db.connect import DatabaseUrls
from agent_factory.platform.settings import Settings
from conftest import make_team

# the document only: building the app opens no connection (the pool opens at startup)
_UNUSED = DatabaseUrls(owner="postgresql://unused@127.0.0.1/unused", app="postgresql://unused@127.0.0.1/unused")
# A request the schema allows may still be refused for its meaning: a spec with errors or a stale
# cursor is 422, an existing name 409. Raw Markdown bodies are any text, so there is no invalid one.
CONFIG = SchemathesisConfig.from_dict({"checks": {"positive_data_acceptance": {
    "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]}}})
schema = schemathesis.openapi.from_dict(create_app(Settings(database=_UNUSED)).openapi(), config=CONFIG)


@pytest.fixture
def owner(client, market_research):
    # every example of an operation shares the key: the free plan's rate limit would refuse a valid one
    team = make_team(client, "Fuzz", "fuzz@fuzz.test", "enterprise")
    client.post("/v1/agents", json={"spec": market_research}, headers=team.auth)
    return team


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_answers_within_its_schema_and_never_500(case, owner, live_server):
    markdown = case.media_type == "text/markdown"
    case.call_and_validate(base_url=live_server.url, headers=owner.auth,
                           excluded_checks=[negative_data_rejection] if markdown else None)
