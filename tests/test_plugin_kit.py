"""The plugin kit: the harness and the example third-party plugin loaded through its entry point."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest

from agent_factory.compiler import PassManager, check_text, hookimpl
from agent_factory.compiler.render import render_text
from agent_factory.testing.plugins import af_compile, compile_with_plugins, plugin_manager  # noqa: F401 - fixture

OWNED = "---\nowner: growth\n---\n# Agent: Dice\n\n## Purpose\nRolls dice.\n\n## Tools\n- dice_roll — rolls a die\n"
UNOWNED = "# Agent: Dice\n\n## Purpose\nRolls dice.\n\n## Tools\n- dice_roll — rolls a die\n"
EXAMPLE_INSTALLED = any(ep.name == "example" for ep in entry_points(group="agent_factory"))


@pytest.fixture
def example_installed():
    """The example plugin must be installed (the README's test command does it): a missing
    install fails these tests instead of skipping them."""
    assert EXAMPLE_INSTALLED, "the example plugin is not installed: run bash scripts/test.sh, or pip install -e tests/example_plugin"


needs_example = pytest.mark.usefixtures("example_installed")


class OwnerCheck:
    """A plugin as an object: warns about specs without an owner."""

    @hookimpl
    def af_validate_spec(self, spec, ctx):
        from af_example_plugin import af_validate_spec
        return af_validate_spec(spec, ctx)


@pytest.fixture
def example_on(monkeypatch):
    monkeypatch.setenv("AF_EXAMPLE_PLUGIN", "1")
    monkeypatch.delenv("AGENT_FACTORY_NO_ENTRYPOINTS", raising=False)


@needs_example
def test_entry_point_plugin_adds_a_tool_and_a_check(example_on, tmp_path):
    manager = PassManager()  # loads the `agent_factory` entry points, like the CLI
    assert "example" in {name for name, _ in manager.pm.list_name_plugin()}
    spec = tmp_path / "dice.md"
    spec.write_text(UNOWNED, encoding="utf-8")
    result = check_text(UNOWNED, str(spec), manager)
    assert [(d.code, d.severity.value, d.message) for d in result.diagnostics] == [
        ("W901", "warning", "spec `Dice` has no owner")]
    assert render_text(result.diagnostics).startswith(f"{spec}:1:1: warning[W901]: spec `Dice` has no owner\n")
    assert result.ok


@needs_example
def test_entry_point_tool_resolves_by_name(example_on, tmp_path):
    result = compile_with_plugins(OWNED, entrypoints=True)
    assert result.ok and result.diagnostics == []
    without = compile_with_plugins(OWNED)  # entry points off: the tool is unknown
    assert [d.code for d in without.diagnostics] == ["E200"]


@needs_example
def test_example_plugin_is_inert_until_enabled(monkeypatch):
    monkeypatch.delenv("AF_EXAMPLE_PLUGIN", raising=False)
    result = compile_with_plugins(UNOWNED.replace("dice_roll", "web_search"), entrypoints=True)
    assert result.diagnostics == []


@needs_example
def test_harness_registers_a_plugin_object(example_on):
    result = compile_with_plugins(UNOWNED.replace("dice_roll", "web_search"), plugins=[OwnerCheck()])
    assert [d.code for d in result.diagnostics] == ["W901"]


def test_harness_accepts_a_path_and_uses_a_fresh_manager(tmp_path):
    spec = tmp_path / "a.md"
    spec.write_text("# Agent: A\n\n## Purpose\nAnswers.\n", encoding="utf-8")
    assert compile_with_plugins(spec).ok
    assert compile_with_plugins(str(spec)).ok
    assert plugin_manager() is not plugin_manager() and plugin_manager() is not PassManager.default()


def test_harness_text_is_checked_away_from_any_constitution():
    result = compile_with_plugins("# Agent: A\n\n## Purpose\nAnswers.\n")
    assert result.ok and result.spec.constitution is None


def test_fixture_is_the_harness(af_compile):
    assert af_compile is compile_with_plugins
    assert af_compile("# Agent: A\n\n## Purpose\nAnswers.\n").ok


def test_trace_env_writes_hook_calls_to_stderr(monkeypatch, capsys):
    monkeypatch.setenv("AGENT_FACTORY_TRACE_HOOKS", "1")
    manager = plugin_manager()
    check_text("# Agent: A\n\n## Purpose\nAnswers.\n", str(Path("nowhere") / "a.md"), manager)
    assert "af_register_passes" in capsys.readouterr().err
