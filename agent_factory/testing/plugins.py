"""A test harness for plugin authors: compile a spec with your plugin registered.

    from agent_factory.testing.plugins import compile_with_plugins

    def test_my_check_warns():
        result = compile_with_plugins(SPEC_TEXT, plugins=[my_plugin])
        assert [d.code for d in result.diagnostics] == ["W901"]

The same as a pytest fixture: add `pytest_plugins = ["agent_factory.testing.plugins"]` to your
`conftest.py`, then ask for `af_compile` (a `compile_with_plugins` with entry points off unless
you pass `entrypoints=True`). Nothing is imported from pytest unless the fixture is used.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Iterable

from agent_factory.compiler import CheckResult, PassManager, check, check_text

__all__ = ["af_compile", "compile_with_plugins", "plugin_manager"]


def plugin_manager(plugins: Iterable[object] = (), entrypoints: bool = False) -> PassManager:
    """A fresh `PassManager` with the built-in plugins, `plugins` and (when `entrypoints`) every
    installed `agent_factory` entry-point plugin. Fresh: nothing is shared with other tests."""
    return PassManager(plugins=list(plugins), load_entrypoints=entrypoints)


def compile_with_plugins(text_or_path: str | Path, plugins: Iterable[object] = (), *, entrypoints: bool = False,
                         path: str | None = None) -> CheckResult:
    """Check a spec with `plugins` registered and return its `CheckResult` (spec and diagnostics).

    `text_or_path` is spec text (anything containing a newline) or the path of a spec file.
    Text is checked as if it were at `path` (default: a file in a fresh temporary folder, so no
    constitution from the working tree applies). `entrypoints=True` also loads installed plugins.
    """
    manager = plugin_manager(plugins, entrypoints)
    if isinstance(text_or_path, Path) or "\n" not in text_or_path:
        return check(text_or_path, manager)
    if path is not None:
        return check_text(text_or_path, path, manager)
    with tempfile.TemporaryDirectory(prefix="af-plugin-test-") as folder:
        spec_path = Path(folder) / "spec.md"
        spec_path.write_text(text_or_path, encoding="utf-8")
        result = check(spec_path, manager)
    return result


def _fixture():
    import pytest

    @pytest.fixture
    def af_compile():
        """`af_compile(text_or_path, plugins=[...], entrypoints=False)` → `CheckResult`."""
        return compile_with_plugins

    return af_compile


try:  # the fixture exists only where pytest does; the helpers work without it
    af_compile = _fixture()
except ImportError:  # pragma: no cover - pytest not installed
    af_compile = None
