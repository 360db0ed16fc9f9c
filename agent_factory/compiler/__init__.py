"""The compiler's public face: `parse`, `check`, `compile`, `emit`.

The CLI, the runtime and the platform use only these functions (and the IR and diagnostic
types they return), never the modules behind them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .diagnostics import CODES, Diagnostic, Severity, article, has_errors, make
from .document import parse_document
from .hookspecs import hookimpl
from .ir import Spec
from .plan import GraphPlan, plan_graph
from .passes import Backend, CompileContext, Pass, PassManager, PassResult, internal_error
from .span import Span
from .transform import Transformer

__all__ = [
    "CODES", "Backend", "CheckResult", "CompileContext", "Diagnostic", "Pass", "PassManager", "PassResult",
    "GraphPlan", "Severity", "Span", "Spec", "check", "plan_graph", "check_text", "compile", "emit", "hookimpl", "parse", "parse_text",
    "spec_files",
]


@dataclass
class CheckResult:
    """The outcome for one file: the `spec` (None when it could not be built) and every diagnostic."""

    path: str
    spec: Spec | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        return self.spec is not None and not has_errors(self.diagnostics)


def parse_text(text: str, path: str = "<spec>") -> CheckResult:
    """Parse spec text into IR without running passes. Syntax problems only."""
    try:
        doc = parse_document(text, path)
        transformer = Transformer(doc, text)
        spec = transformer.build()
        diagnostics = [*doc.lexed.diagnostics.items, *transformer.diags.items]
    except Exception as error:  # noqa: BLE001 - a compiler bug must not become a traceback
        return CheckResult(path, None, [_internal(error, path)])
    return CheckResult(path, spec, _sorted(diagnostics))


def parse(path: str | Path) -> CheckResult:
    """Read and parse one file (no passes)."""
    text, error = _read(path)
    if error:
        return CheckResult(str(path), None, [error])
    return parse_text(text, str(path))


def check_text(text: str, path: str = "<spec>", manager: PassManager | None = None) -> CheckResult:
    """Parse `text` and run every pass; `path` is used for positions and constitution discovery."""
    result = parse_text(text, path)
    if result.spec is None:
        return result
    manager = manager or PassManager.default()
    # With syntax errors the IR lacks the lines that failed; resolve and validate still run so
    # every problem is reported at once, but analyses that would cascade from gaps do not.
    last_stage = "validate" if has_errors(result.diagnostics) else None
    try:
        spec, diagnostics = manager.run(result.spec, Path(path), last_stage=last_stage)
    except Exception as error:  # noqa: BLE001 - a compiler (or plugin) bug must not become a traceback
        return CheckResult(path, None, _sorted([*result.diagnostics, _internal(error, path)]))
    all_diags = _sorted([*result.diagnostics, *diagnostics])
    return CheckResult(path, None if has_errors(all_diags) else spec, all_diags)


def check(path: str | Path, manager: PassManager | None = None) -> CheckResult:
    """Read, parse and check one spec file with every pass."""
    text, error = _read(path)
    if error:
        return CheckResult(str(path), None, [error])
    return check_text(text, str(path), manager)


def spec_files(paths: list[str | Path]) -> tuple[list[Path], list[str]]:
    """Expand files and folders (recursively, `*.md`) into a sorted list of spec files.
    Returns the files and the paths that do not exist."""
    found: list[Path] = []
    missing: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.md") if p.is_file() and p.name.lower() != "readme.md"))
        elif path.is_file():
            found.append(path)
        else:
            missing.append(str(raw))
    unique = list(dict.fromkeys(found))
    return unique, missing


def emit(spec: Spec, target: str, manager: PassManager | None = None) -> dict[str, str]:
    """Emit a checked spec with the backend `target`: {relative file name: text}."""
    manager = manager or PassManager.default()
    backends = manager.backends()
    if target not in backends:
        raise KeyError(target)
    ctx = CompileContext(manager=manager, path=Path(spec.path), cache=manager.cache)
    return backends[target].emit(spec, ctx)


def compile(
    path: str | Path, target: str, manager: PassManager | None = None, *, skip_other_kinds: bool = False
) -> tuple[CheckResult, dict[str, str]]:
    """Check one file and, when it is clean, emit it with `target`.

    With `skip_other_kinds`, a clean spec of a kind the target does not compile (a
    constitution for `langgraph`, say) is skipped: `result.skipped` says why, no files."""
    result = check(path, manager)
    if not result.ok:
        return result, {}
    manager = manager or PassManager.default()
    backend = manager.backends().get(target)
    if skip_other_kinds and backend is not None:
        kind = result.spec.kind
        if kind not in backend.features:
            result.skipped = f"the `{target}` target does not compile {article(kind)} {kind}"
            return result, {}
        if kind in backend.opt_in_kinds and result.spec.meta.target != target:
            result.skipped = f"{article(kind)} {kind} compiles to `{target}` only when its front matter says `target: {target}`"
            return result, {}
    if backend is not None and target != result.spec.meta.target:  # the spec's own target was checked already
        problems = [d for batch in manager.hook.af_check_target(spec=result.spec, backend=backend) for d in batch or ()]
        if has_errors(problems):
            result.diagnostics = _sorted([*result.diagnostics, *problems])
            result.spec = None
            return result, {}
    try:
        return result, emit(result.spec, target, manager)
    except Exception as error:  # noqa: BLE001 - a backend bug must not become a traceback
        result.diagnostics.append(_internal(error, str(path)))
        result.spec = None
        return result, {}


def _read(path: str | Path) -> tuple[str, Diagnostic | None]:
    span = Span.point(str(path), 1, 1)
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        return "", make("E001", f"cannot read `{path}`: {error.strerror or error}", span)
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return "", make("E001", f"`{path}` is not UTF-8 (invalid byte 0x{data[error.start]:02x})",
                        Span.point(str(path), line, 1), hint="save the file as UTF-8")


def _internal(error: BaseException, path: str) -> Diagnostic:
    return internal_error(error, path)


def _sorted(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(diagnostics, key=Diagnostic.sort_key)
