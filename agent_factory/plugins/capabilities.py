"""Backend capabilities (lower stage): which features a spec uses, and whether a target has them.

Each `Backend` declares `features`, a frozenset drawn from `FEATURES`. `required_features(spec)`
says what a spec needs; `check_capabilities(spec, backend)` turns every missing feature into an
E801 naming the feature and the first spec line that uses it, so `compile --target X` stops
with a diagnostic instead of writing a broken artifact. The lower-stage pass checks the spec's
front matter `target:` the same way when it names a registered backend.
"""

from __future__ import annotations

from pathlib import Path

from agent_factory.compiler import hookimpl
from agent_factory.compiler.diagnostics import Diagnostic, make
from agent_factory.compiler.ir import Spec
from agent_factory.compiler.passes import Backend, CompileContext, Pass, PassResult
from agent_factory.compiler.span import Span

# feature -> what it means (docs/plugins.md shows this table)
FEATURES: dict[str, str] = {
    "agent": "an `# Agent:` document",
    "team": "a `# Team:` document (members behind a router)",
    "component": "a `# Component:` document (code generation)",
    "constitution": "a `# Constitution:` document",
    "react": "an agent without a Workflow: one tool-using LLM loop",
    "workflow": "a `## Workflow` with steps and a flow",
    "fan_out": "an edge to several steps that run in parallel (`START → a, b`)",
    "join": "an edge from several steps (`a, b → c`: c waits for all)",
    "conditional_edges": "`when` / `otherwise` edges",
    "loops": "an edge back to an earlier step",
    "llm_step": "an `llm:` step",
    "llm_tools": "an `llm:` step with `tools:` (a tool-calling loop)",
    "tool_step": "a `tool:` step",
    "agent_step": "an `agent:` step (another spec as a sub-graph)",
    "rules": "a `rules:` step (a decision table)",
    "invariant_checks": "an invariant with a `check:` (a run-time guard)",
    "tool_bindings.http": "a tool bound with `(http: ...)`",
    "tool_bindings.python": "a tool bound with `(python: ...)`",
    "tool_bindings.mcp": "a tool bound with `(mcp: ...)`",
}
ALL_FEATURES = frozenset(FEATURES)


@hookimpl
def af_register_passes() -> list[Pass]:
    return [Pass(name="capabilities", stage="lower", order=10, run=run)]


def run(spec: Spec, ctx: CompileContext) -> PassResult:
    target = spec.meta.target
    backend = ctx.manager.backends().get(target) if target else None
    if backend is None:  # no target, or one the names pass reports
        return PassResult()
    return PassResult(diagnostics=tuple(check_capabilities(spec, backend)))


@hookimpl
def af_check_target(spec: Spec, backend: Backend) -> list[Diagnostic]:
    return check_capabilities(spec, backend)


def check_capabilities(spec: Spec, backend: Backend) -> list[Diagnostic]:
    """E801 for each feature `spec` uses that `backend` lacks, at the first line using it."""
    found = []
    for feature, span in sorted(feature_uses(spec).items()):
        if feature not in backend.features:
            found.append(make("E801", f"target `{backend.name}` does not support {feature} ({FEATURES.get(feature, feature)}),"
                              " which this spec uses here", span,
                              hint=f"`{backend.name}` supports: " + (", ".join(sorted(backend.features)) or "nothing")
                              + "; choose another --target or remove the feature"))
    return sorted(found, key=Diagnostic.sort_key)


def required_features(spec: Spec) -> set[str]:
    """The features `spec` uses (keys of `FEATURES`)."""
    return set(feature_uses(spec))


def feature_uses(spec: Spec) -> dict[str, Span]:
    """Each feature the spec uses, with the span of its first use."""
    uses: dict[str, Span] = {}

    def use(feature: str, span: Span) -> None:
        uses.setdefault(feature, span)

    title = _title_span(spec)
    use(spec.kind, title)
    for tool in spec.tools:
        if tool.binding is not None:
            use(f"tool_bindings.{tool.binding.kind}", tool.binding.span)
    for inv in spec.invariants:
        if inv.check is not None and inv.origin == "spec":
            use("invariant_checks", inv.check.span)
    if spec.kind == "agent" and spec.workflow is None:
        use("react", title)
    if spec.workflow is not None:
        _workflow_uses(spec, use)
    return uses


def _title_span(spec: Spec) -> Span:
    """The `# Agent: Name` line (the document's kind is decided there), else the spec's start."""
    try:
        lines = Path(spec.path).read_text(encoding="utf-8-sig").split("\n")
    except (OSError, UnicodeDecodeError):
        lines = []
    for number, line in enumerate(lines, 1):
        if line.startswith("# "):
            return Span.point(spec.path, number, 1, len(line.rstrip()))
    return Span.point(spec.path, spec.span.line, spec.span.column)


def _workflow_uses(spec: Spec, use) -> None:
    workflow = spec.workflow
    use("workflow", workflow.span)
    kinds = {"llm": "llm_step", "tool": "tool_step", "agent": "agent_step", "rules": "rules"}
    for step in workflow.steps:
        use(kinds[step.kind], step.span)
        if step.kind == "llm" and step.tools:
            use("llm_tools", step.span)
    order = {s.name: i for i, s in enumerate(workflow.steps)}
    for edge in workflow.edges:
        if len(edge.targets) > 1:
            use("fan_out", edge.span)
        if len(edge.sources) > 1:
            use("join", edge.span)
        if edge.when is not None or edge.otherwise:
            use("conditional_edges", edge.span)
        if any(t in order and s in order and order[t] <= order[s] for s in edge.sources for t in edge.targets):
            use("loops", edge.span)
