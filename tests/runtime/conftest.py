"""Shared fixtures of the runtime tests: litellm imported offline, quiet."""

from __future__ import annotations

import os

import pytest

# Before anything imports litellm: use the bundled cost map, never fetch it.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"


@pytest.fixture(scope="session")
def litellm():
    """The real litellm module, imported once, without its help banners on errors."""
    import litellm as module

    module.suppress_debug_info = True
    return module


STUB_KEY_ENV = "AF_TEST_STUB_API_KEY"
os.environ[STUB_KEY_ENV] = "stub-key"  # the OpenAI client refuses to send without some key


def alias_toml(name: str, stub, *, price_in: str, price_out: str, tasks=None, extra: str = "") -> str:
    """A `[models.<name>]` table pointing at `stub` with exact prices."""
    lines = [
        f"[models.{name}]",
        f'model = "openai/{name}-model"',
        f'api_base = "{stub.base_url}"',
        f'api_key_env = "{STUB_KEY_ENV}"',
        f"input_cost_per_token = {price_in}",
        f"output_cost_per_token = {price_out}",
    ]
    if tasks is not None:
        lines.append("tasks = [" + ", ".join(f'"{t}"' for t in tasks) + "]")
    return "\n".join(lines) + ("\n" + extra if extra else "") + "\n"


@pytest.fixture
def make_config():
    """Build a RuntimeConfig from TOML snippets (as a user would write them)."""
    from agent_factory.runtime.config import parse_config

    def build(*tables: str):
        return parse_config("\n".join(tables), "test.toml")

    return build


@pytest.fixture
def alias_table():
    """`alias_toml` as a fixture, so tests need not import conftest."""
    return alias_toml
