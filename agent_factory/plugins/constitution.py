"""Constitution discovery and merging (resolve stage).

The nearest `constitution.md` up the directory tree (or the file named by `extends:`)
applies to a spec: its invariants are added, its Model limits are ceilings (a missing
spec value inherits the ceiling), its Tools section is the allow-list. A spec may tighten
the constitution, never loosen it: a looser value is E500 naming both lines.
"""

from __future__ import annotations

import os
from pathlib import Path

from agent_factory.compiler import hookimpl
from agent_factory.compiler.diagnostics import Collector, Related, has_errors
from agent_factory.compiler.ir import ConstitutionRef, ModelConfig, Spec
from agent_factory.compiler.passes import CompileContext, Pass, PassResult
from agent_factory.compiler.span import Span

CONSTITUTION_FILE = "constitution.md"
TIER_ORDER = {"free": 0, "pro": 1, "enterprise": 2}
# Model settings that are ceilings: (IR field, setting key, how a value is shown)
CEILINGS = (
    ("max_cost_per_run", "max_cost_per_run", lambda v: f"${v}"),
    ("max_latency_s", "max_latency", lambda v: f"{v}s"),
    ("max_tokens", "max_tokens", str),
)


@hookimpl
def af_register_passes() -> list[Pass]:
    return [Pass(name="constitution", stage="resolve", order=10, run=run)]


@hookimpl(trylast=True)
def af_find_constitution(spec_path: Path, extends: str | None) -> Path | None:
    if extends:
        if Path(extends).is_absolute():
            return None
        candidate = (spec_path.parent / extends)
        return candidate if candidate.is_file() else None
    return nearest(spec_path)


def nearest(spec_path: Path) -> Path | None:
    """The nearest `constitution.md` in the spec's folder or above it (not the spec itself)."""
    folder = spec_path.resolve().parent
    for parent in (folder, *folder.parents):
        candidate = parent / CONSTITUTION_FILE
        if candidate.is_file() and candidate.resolve() != spec_path.resolve():
            return candidate
    return None


def run(spec: Spec, ctx: CompileContext) -> PassResult:
    if spec.kind == "constitution":
        return PassResult()
    out = Collector()
    found = ctx.manager.hook.af_find_constitution(spec_path=ctx.path, extends=spec.meta.extends)
    if found is None:
        if spec.meta.extends:
            entry = next(e for e in spec.meta.entries if e.key == "extends")
            problem = "must be a path relative to this spec" if Path(spec.meta.extends).is_absolute() else "does not exist"
            out.add("E501", f"constitution `{spec.meta.extends}` named by `extends:` {problem}", entry.value_span or entry.span,
                    hint="give a path relative to this spec, for example `extends: ../constitution.md`")
        return PassResult(diagnostics=tuple(out.items))
    # `extends:` adds a constitution; it never takes the spec out from under the one above it
    chain = [found]
    above = nearest(ctx.path) if spec.meta.extends else None  # without extends, `found` is the nearest
    if above is not None and above.resolve() != found.resolve():
        chain.append(above)
    merged = spec
    for path in chain:
        constitution = load(path, ctx)
        if constitution is None:
            out.add("E502", f"the constitution `{_display(path)}` that applies to this spec has errors",
                    Span.point(spec.path, 1, 1), hint=f"run `agent-factory check {_display(path)}` and fix it first")
            return PassResult(diagnostics=tuple(out.items))
        ctx.constitution = ctx.constitution or constitution
        merged = merge(merged, constitution, out)
    return PassResult(spec=merged, diagnostics=tuple(out.items))


def load(path: Path, ctx: CompileContext) -> Spec | None:
    """Check a constitution once per manager (cached by path and modification time)."""
    from agent_factory.compiler import check_text

    key = ("constitution", str(path.resolve()), path.stat().st_mtime_ns)
    if key not in ctx.cache:
        # checked, not only parsed: a ceiling with a bad value must not silently vanish
        result = check_text(path.read_text(encoding="utf-8-sig"), _display(path), ctx.manager)
        spec = result.spec
        if has_errors(result.diagnostics) or spec is None or spec.kind != "constitution":
            spec = None
        ctx.cache[key] = spec
    return ctx.cache[key]


def _display(path: Path) -> str:
    """A path relative to the working directory when it is below it (stable in goldens)."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def merge(spec: Spec, constitution: Spec, out: Collector) -> Spec:
    """The spec with the constitution's invariants, ceilings and allow-list applied."""
    model = merge_model(spec, constitution.model, out)
    check_tools(spec, constitution, out)
    check_redefinitions(spec, constitution, out)
    origin = constitution.path
    inherited = tuple(inv.model_copy(update={"origin": origin}) for inv in constitution.invariants)
    return spec.model_copy(update={
        "model": model,
        "invariants": (*spec.invariants, *inherited),
        "constitution": spec.constitution or ConstitutionRef(span=constitution.span, path=origin, sha256=constitution.sha256),
    })


def merge_model(spec: Spec, ceiling: ModelConfig | None, out: Collector) -> ModelConfig | None:
    if ceiling is None:
        return spec.model
    own = spec.model
    update: dict[str, object] = {}
    for field, key, show in CEILINGS:
        limit = getattr(ceiling, field)
        if limit is None:
            continue
        value = getattr(own, field) if own else None
        if value is None:
            update[field] = limit
        elif value > limit:
            _loosened(out, own, ceiling, key, f"{key} {show(value)} is above the constitution's ceiling of {show(limit)}",
                      f"lower it to {show(limit)} or less")
    _tier(own, ceiling, update, out)
    _models(own, ceiling, update, out)
    if ceiling.fallback and not (own and own.fallback):
        update["fallback"] = ceiling.fallback
    if own is None:
        return ceiling.model_copy(update={**update, "settings": ()})
    return own.model_copy(update=update)


def _tier(own: ModelConfig | None, ceiling: ModelConfig, update: dict, out: Collector) -> None:
    if ceiling.tier is None:
        return
    if own is None or own.tier is None:
        update["tier"] = ceiling.tier
    elif TIER_ORDER[own.tier] > TIER_ORDER[ceiling.tier]:
        _loosened(out, own, ceiling, "tier", f"tier `{own.tier}` is above the constitution's tier `{ceiling.tier}`",
                  f"use tier `{ceiling.tier}` or a lower one")


def _models(own: ModelConfig | None, ceiling: ModelConfig, update: dict, out: Collector) -> None:
    if not ceiling.models:
        return
    if own is None or not own.models:
        update["models"] = ceiling.models
        return
    extra = [m for m in own.models if m not in ceiling.models]
    if extra:
        _loosened(out, own, ceiling, "models", f"models {', '.join(extra)} are not in the constitution's allow-list",
                  "allowed models: " + ", ".join(ceiling.models))


def _loosened(out: Collector, own: ModelConfig, ceiling: ModelConfig, key: str, message: str, hint: str) -> None:
    here = own.setting(key)
    there = ceiling.setting(key)
    there_span = (there.value_span or there.span) if there else ceiling.span
    here_span = (here.value_span or here.span) if here else own.span
    out.add("E500", f"{message} ({there_span.file}:{there_span.line})", here_span,
            hint=f"a spec may tighten its constitution, never loosen it: {hint}",
            related=[Related(message="the constitution's limit is set here", span=there_span)])


def check_redefinitions(spec: Spec, constitution: Spec, out: Collector) -> None:
    """A spec may add invariants, never replace one of its constitution's: a redefinition
    could only be a way round it (a SHOULD for a MUST, a higher bound)."""
    inherited = {inv.id: inv for inv in constitution.invariants}
    for inv in spec.invariants:
        if inv.origin == "spec" and inv.id_given and inv.id in inherited:
            there = inherited[inv.id].span
            out.add("E500", f"invariant {inv.id} redefines the constitution's invariant {inv.id} ({there.file}:{there.line})",
                    inv.span, hint="a spec may tighten its constitution, never loosen it: give a stricter rule an id "
                    "of its own; the constitution's rule applies anyway",
                    related=[Related(message="the constitution's invariant is here", span=there)])


def check_tools(spec: Spec, constitution: Spec, out: Collector) -> None:
    if not constitution.tools_declared:
        return
    allowed = {t.name: t for t in constitution.tools}
    section = next((r for r in constitution.sections if r.key == "tools"), None)
    for tool in spec.tools:
        if tool.name not in allowed:
            where = section.span if section else constitution.span
            out.add("E503", f"tool `{tool.name}` is not in the constitution's tool allow-list ({where.file}:{where.line})",
                    tool.span, hint="allowed tools: " + (", ".join(sorted(allowed)) or "none"),
                    related=[Related(message="the allow-list is here", span=where)])
