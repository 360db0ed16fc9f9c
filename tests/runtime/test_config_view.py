"""The view `check` reads of agent-factory.toml: validated by the runtime's models once per text."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agent_factory import usercache
from agent_factory.runtime import config_view
from agent_factory.runtime.config import default_config, parse_config
from agent_factory.runtime.config_view import AliasView, ConfigView, RouterView, TierView, load_view, view_of

CUSTOM = """
[router]
fallback = ["b"]
default_tier = "pro"

[models.a]
model = "ollama/llama3"
tasks = ["simple"]
input_cost_per_token = 0.000001
output_cost_per_token = 0.000002

[models.b]
model = "anthropic/claude-sonnet-4-5"

[tiers.pro]
models = ["a", "b"]
max_cost_per_run = 2

[tools.mcp_servers.files]
command = "npx"
"""


@pytest.fixture
def folders(tmp_path, monkeypatch):
    """A working folder and a private cache folder; counts the validations."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(usercache.CACHE_ENV, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    calls: list[str] = []
    validate = config_view._validate
    monkeypatch.setattr(config_view, "_validate", lambda text, source: calls.append(source) or validate(text, source))
    return work, calls


def test_the_view_holds_what_the_validated_configuration_says():
    config = parse_config(CUSTOM, "agent-factory.toml")
    assert view_of(config) == ConfigView(
        router=RouterView("pro", ("b",)),
        models={"a": AliasView("ollama/llama3", ("simple",), Decimal("0.000001"), Decimal("0.000002")),
                "b": AliasView("anthropic/claude-sonnet-4-5",
                               ("simple", "classification", "research", "complex_reasoning", "code_generation"))},
        tiers={"pro": TierView(("a", "b"), Decimal("2"))},
        source="agent-factory.toml",
        powers=("starts MCP server 'files' (npx)",),
    )


@pytest.mark.parametrize("text", [CUSTOM, None])
def test_the_view_routes_as_the_runtime_configuration(text):
    config = parse_config(text, "x") if text else default_config()
    view = view_of(config)
    for override in ((), ("b",), ("claude",)):
        assert view.chain(override) == config.chain(override)
    for tier in ("free", "pro", "enterprise", "gold"):
        assert (view.tier(tier).models, view.tier(tier).max_cost_per_run) == (
            config.tier(tier).models, config.tier(tier).max_cost_per_run)


def test_a_second_load_of_the_same_text_reads_the_cached_view(folders):
    work, calls = folders
    (work / "agent-factory.toml").write_text(CUSTOM, encoding="utf-8")
    first = load_view()
    assert load_view() == first == view_of(parse_config(CUSTOM, "agent-factory.toml"))
    assert calls == ["agent-factory.toml"]
    (work / "agent-factory.toml").write_text(CUSTOM.replace("max_cost_per_run = 2", "max_cost_per_run = 3"),
                                               encoding="utf-8")
    assert load_view().tiers["pro"].max_cost_per_run == Decimal("3")
    assert calls == ["agent-factory.toml", "agent-factory.toml"]


def test_without_a_file_the_view_is_the_embedded_defaults(folders):
    _, calls = folders
    assert load_view() == load_view() == view_of(default_config())
    assert calls == ["<embedded defaults>"]


def test_an_invalid_file_gives_the_defaults_and_is_validated_once(folders):
    work, calls = folders
    (work / "agent-factory.toml").write_text('[models.a]\nmodel = "x"\ntimeout_seconds = 0\n', encoding="utf-8")
    assert load_view() == load_view() == view_of(default_config())
    assert calls == ["agent-factory.toml", "<embedded defaults>"]


def test_a_damaged_cache_file_is_validated_again(folders, tmp_path):
    _, calls = folders
    load_view()
    [cached] = (tmp_path / "cache" / "agent-factory" / "config").iterdir()
    cached.write_text('{"valid": true}', encoding="utf-8")
    assert load_view() == view_of(default_config())
    assert calls == ["<embedded defaults>", "<embedded defaults>"]


def test_a_cached_file_with_trusted_powers_is_still_announced(folders, capsys):
    work, calls = folders
    (work / "agent-factory.toml").write_text(CUSTOM, encoding="utf-8")
    note = (f"note: using {work / 'agent-factory.toml'} from the working folder; it\n"
            "  - starts MCP server 'files' (npx)\n"
            "  a configuration runs with your permissions: pass --config to choose one explicitly\n")
    load_view()
    assert capsys.readouterr().err == note
    config_view._announced.clear()  # a new process
    load_view()
    assert (capsys.readouterr().err, calls) == (note, ["agent-factory.toml"])


def test_the_cache_can_be_turned_off(folders, tmp_path, monkeypatch):
    _, calls = folders
    monkeypatch.setenv(usercache.CACHE_ENV, "1")
    load_view()
    load_view()
    assert calls == ["<embedded defaults>", "<embedded defaults>"]
    assert not (tmp_path / "cache").exists()


def test_an_edit_of_the_validating_code_validates_again(folders, tmp_path, monkeypatch):
    # in a development install the version stays the same while the models change
    _, calls = folders
    model = tmp_path / "config.py"
    model.write_text("rules = 1\n", encoding="utf-8")
    monkeypatch.setattr(config_view, "VALIDATORS", (model,))
    load_view()
    model.write_text("rules = 22\n", encoding="utf-8")
    load_view()
    assert calls == ["<embedded defaults>", "<embedded defaults>"]
