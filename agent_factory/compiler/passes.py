"""The pass manager: plugins (built-in and third-party) on pluggy, passes run stage by stage.

Stages run in the order of `STAGES`. Within a stage every pass runs (so all problems of the
stage are reported at once). `resolve` and `validate` always both run; once either has
reported an error, `analyse` and `lower` are skipped.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Literal

import pluggy

from .. import usercache
from . import hookspecs
from .diagnostics import Diagnostic, has_errors
from .ir import Spec

STAGES = ("resolve", "validate", "analyse", "lower")
Stage = Literal["resolve", "validate", "analyse", "lower"]
TRACE_ENV = "AGENT_FACTORY_TRACE_HOOKS"
DISABLE_ENTRYPOINTS_ENV = "AGENT_FACTORY_NO_ENTRYPOINTS"


@dataclass
class CompileContext:
    """What a pass may know besides the spec: the plugin manager, the spec's `path`, the
    merged `constitution` spec (after the resolve stage), and a per-run `cache` that passes
    may use to avoid repeating work across specs (keyed by their own names)."""

    manager: "PassManager"
    path: Path
    constitution: Spec | None = None
    cache: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PassResult:
    """What a pass returns: a replacement `spec` (None keeps it) and its diagnostics."""

    spec: Spec | None = None
    diagnostics: tuple[Diagnostic, ...] = ()


@dataclass(frozen=True)
class Pass:
    """A compiler pass: `name`, `stage`, `order` within the stage, and `run(spec, ctx)`."""

    name: str
    stage: Stage
    run: Callable[[Spec, CompileContext], PassResult]
    order: int = 100


@dataclass(frozen=True)
class Backend:
    """A compile target: `name` (for `--target`), `description`, supported `features`,
    `emit(spec, ctx)` returning {relative path: text}, `opt_in_kinds`, and `combine(files)`
    returning the folder-wide files of one compile."""

    name: str
    description: str
    emit: Callable[[Spec, CompileContext], dict[str, str]]
    features: frozenset[str] = frozenset()
    # kinds compiled from a folder only when the spec's front matter `target:` names this backend
    # (the openhands target turns an agent into code only when the spec asks for it)
    opt_in_kinds: frozenset[str] = frozenset()
    # files for the whole output folder, from every file one compile emitted (None: there are none);
    # the langgraph target writes one langgraph.json naming every graph
    combine: Callable[[dict[str, str]], dict[str, str]] | None = None


class PassManager:
    """Loads plugins and runs passes. Build one with `PassManager.default()`."""

    def __init__(self, plugins: Iterable[object] = (), load_entrypoints: bool = True) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        from agent_factory.plugins import DEFAULT_PLUGINS

        for name in DEFAULT_PLUGINS:
            self.pm.register(importlib.import_module(name), name=name)
        if load_entrypoints and not os.environ.get(DISABLE_ENTRYPOINTS_ENV):
            for name, module, attribute in installed_plugins():
                if self.pm.get_plugin(name) is None and not self.pm.is_blocked(name):
                    self.pm.register(_load(module, attribute), name=name)
        for plugin in plugins:
            self.pm.register(plugin)
        if os.environ.get(TRACE_ENV):
            self.pm.trace.root.setwriter(sys.stderr.write)
            self.pm.enable_tracing()
        self.cache: dict = {}
        self._passes: list[Pass] | None = None
        self._backends: dict[str, Backend] | None = None

    @classmethod
    def default(cls) -> "PassManager":
        """The shared manager with the built-in and installed plugins."""
        global _DEFAULT
        if _DEFAULT is None:
            _DEFAULT = cls()
        return _DEFAULT

    @property
    def hook(self):
        return self.pm.hook

    def passes(self) -> list[Pass]:
        if self._passes is None:
            found = [p for batch in self.hook.af_register_passes() for p in batch]
            self._passes = sorted(found, key=lambda p: (STAGES.index(p.stage), p.order, p.name))
        return self._passes

    def backends(self) -> dict[str, Backend]:
        if self._backends is None:
            self._backends = {}
            for batch in self.hook.af_register_backends():
                for backend in batch:
                    if backend.name in self._backends:
                        raise ValueError(f"two plugins register the backend `{backend.name}`")
                    self._backends[backend.name] = backend
        return self._backends

    def run(self, spec: Spec, path: Path, last_stage: str | None = None) -> tuple[Spec, list[Diagnostic]]:
        """Run the stages on `spec` (up to `last_stage` when given); returns the final spec and
        all diagnostics."""
        ctx = CompileContext(manager=self, path=path, cache=self.cache)
        diagnostics: list[Diagnostic] = []
        for stage in STAGES:
            stage_diags: list[Diagnostic] = []
            for compiler_pass in (p for p in self.passes() if p.stage == stage):
                try:
                    result = compiler_pass.run(spec, ctx)
                except Exception as error:  # noqa: BLE001 - a pass bug is reported, never a traceback
                    diagnostics.extend(stage_diags)
                    diagnostics.append(internal_error(error, spec.span.file, f"in the `{compiler_pass.name}` pass"))
                    return spec, diagnostics
                spec = result.spec or spec
                stage_diags.extend(result.diagnostics)
            if stage == "validate":
                for batch in self.hook.af_validate_spec(spec=spec, ctx=ctx):
                    stage_diags.extend(batch or ())
            diagnostics.extend(stage_diags)
            # resolve and validate always both run (their findings are independent); the
            # analyses after them need a spec without errors.
            if stage == last_stage or (stage != "resolve" and has_errors(diagnostics)):
                break
        return spec, diagnostics


_DEFAULT: PassManager | None = None


def installed_plugins() -> list[tuple[str, str, str]]:
    """(name, module, attribute) of each plugin installed under the entry-point group
    `agent_factory`, as `importlib.metadata.entry_points` lists them.

    Finding them imports `importlib.metadata` and reads the metadata of every installed
    distribution, about a tenth of a check's start, and the answer changes only when a package
    is installed or removed, which changes the modification time of its folder on `sys.path`.
    So the list is kept in the user cache (`agent_factory.usercache`) under a hash of the
    Python version, every `sys.path` entry's `usercache.stamp` and that of the entry points file
    of every `*.egg-info` folder in them (setuptools' develop mode rewrites it in place, which
    leaves the folder as it was)."""
    key = _installed_key()
    found = usercache.read("plugins", key)
    if not _is_plugin_list(found):
        from importlib.metadata import entry_points

        found = [[ep.name, ep.module, ep.attr or ""] for ep in entry_points(group=hookspecs.PROJECT)]
        usercache.write("plugins", key, found)
    return [(name, module, attribute) for name, module, attribute in found]


def _installed_key() -> str:
    import hashlib

    stdlib = os.path.dirname(os.__file__)  # holds no plugin: not listed
    stamps = [sys.version]
    for entry in (path or os.getcwd() for path in sys.path):  # "": the working folder
        stamps.append(usercache.stamp(entry))
        if entry != stdlib:
            stamps += _egg_info_stamps(entry)
    return hashlib.sha256("\n".join(stamps).encode()).hexdigest()


def _egg_info_stamps(entry: str) -> list[str]:
    try:
        with os.scandir(entry) as found:
            return sorted(usercache.stamp(os.path.join(item.path, "entry_points.txt"))
                          for item in found if item.name.endswith(".egg-info") and item.is_dir())
    except OSError:
        return []


def _is_plugin_list(found: object) -> bool:
    return isinstance(found, list) and all(
        isinstance(item, list) and len(item) == 3 and all(isinstance(part, str) for part in item) for item in found
    )


def _load(module: str, attribute: str) -> object:
    """The object an entry point names (as `importlib.metadata.EntryPoint.load`)."""
    found = importlib.import_module(module)
    for name in filter(None, attribute.split(".")):
        found = getattr(found, name)
    return found


def internal_error(error: BaseException, path: str, where: str = "") -> Diagnostic:
    """E900: a compiler or plugin bug, reported as a diagnostic with where it happened."""
    import traceback

    from .. import __version__
    from .diagnostics import make
    from .span import Span

    frames = traceback.extract_tb(error.__traceback__)
    at = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
    place = f" {where}" if where else ""
    return make(
        "E900",
        f"internal compiler error{place} while compiling this spec: {type(error).__name__}: {error} (at {at})",
        Span.point(path, 1, 1),
        hint=f"this is a bug in agent-factory {__version__}; please report it with the spec that triggers it",
    )
