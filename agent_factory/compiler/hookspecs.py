"""Every hook a plugin can implement. docs/plugins.md documents each one; a test fails when
a hook here is missing from the docs or documented with another signature.

Plugins are modules or objects with functions named like these hooks and decorated with
`agent_factory.hookimpl`. Built-in plugins are listed in `agent_factory.plugins.DEFAULT_PLUGINS`;
third-party plugins are found through the `agent_factory` entry-point group.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .diagnostics import Diagnostic
    from .ir import Spec
    from .passes import Backend, CompileContext, Pass
    from agent_factory.runtime.tools.model import ToolSpec

PROJECT = "agent_factory"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def af_register_passes() -> list["Pass"]:
    """Return the compiler passes this plugin provides.

    Called once when the pass manager is built. Each `Pass` has a `name`, a `stage`
    (`resolve`, `validate`, `analyse` or `lower`), an `order` within its stage, and a
    `run(spec, ctx)` that returns a `PassResult` (a new spec or None, and diagnostics).
    The manager runs stages in that order and stops after a stage that reported errors.
    Not firstresult: the lists of all plugins are concatenated.
    """


@hookspec
def af_validate_spec(spec: "Spec", ctx: "CompileContext") -> list["Diagnostic"]:
    """Check a spec and return diagnostics (an empty list when it is fine).

    Called once per spec in the `validate` stage, after the built-in validate passes, with
    the spec already merged with its constitution. The simplest way to add a check.
    Not firstresult: every plugin's diagnostics are reported.
    """


@hookspec
def af_register_backends() -> list["Backend"]:
    """Return the compile targets (backends) this plugin provides.

    Called once when the pass manager is built. A `Backend` has a `name` (the value of
    `compile --target`), a `description`, the set of `features` it supports, and
    `emit(spec, ctx) -> dict[str, str]` mapping relative file names to file contents.
    Not firstresult: all backends are collected; two backends with one name is an error.
    """


@hookspec(firstresult=True)
def af_find_constitution(spec_path: Path, extends: str | None) -> Path | None:
    """Return the constitution file that applies to the spec at `spec_path`, or None.

    `extends` is the spec's `extends:` front matter value, if any. The built-in
    implementation follows `extends` (relative to the spec) or walks up from the spec's folder
    to the nearest `constitution.md`. firstresult: the first non-None answer wins, so a plugin
    can impose a constitution by answering before the built-in one (`tryfirst=True`).
    """


@hookspec
def af_register_tools() -> list["ToolSpec"]:
    """Return the tools this plugin provides (`agent_factory.runtime.tools.model.ToolSpec`:
    name, description, JSON Schema of the arguments, and the async handler).

    Called once per pass manager, when the names pass first needs the registry. A spec may
    then list the tool by name in its Tools section without a binding. Not firstresult: the
    lists are merged; two plugins registering one name is reported as an error naming both.
    """


@hookspec
def af_check_target(spec: "Spec", backend: "Backend") -> list["Diagnostic"]:
    """Check that `backend` can compile `spec`; return diagnostics (empty when it can).

    Called by `compile()` for the chosen `--target`, after the spec checked clean and before
    the backend's `emit`; an error stops the compile, so no broken artifact is written. The
    built-in capabilities plugin reports E801 for each feature the spec uses that the backend's
    `features` lack. Not firstresult: every plugin's diagnostics are reported.
    """
