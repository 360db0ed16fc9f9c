"""Lower a spec's IR to a code-generation `Job`.

A `# Component:` spec maps almost one to one: its requirements, interface and acceptance
commands. An `# Agent:` spec with `target: openhands` becomes a job that implements the
agent as code: its invariants and examples become requirements (so they keep traceable
ids), its inputs/outputs become a Python interface, and its tools, workflow and model are
given to the coding agent as context. Every ordering here is source order or sorted.
"""

from __future__ import annotations

import re

from agent_factory.compiler import ir
from agent_factory.compiler.provenance import provenance as spec_provenance

from . import job as j
from .errors import UnsupportedSpec

CODING_TOOLS = ("file_editor", "terminal")
CODE_TASK = "code_generation"
DEFAULT_MAX_ITERATIONS = 100
DEFAULT_ACCEPTANCE_TIMEOUT_S = 600
DEFAULT_AGENT_ACCEPTANCE = "python -m pytest -q"


def job_from_spec(spec: ir.Spec) -> j.Job:
    """The job for a Component spec, or an Agent spec with `target: openhands`."""
    if spec.kind == "component":
        return _component_job(spec)
    if spec.kind == "agent":
        return _agent_job(spec)
    raise UnsupportedSpec(
        f"{spec.path}: a {spec.kind} spec cannot compile to an OpenHands job; "
        "only `# Component:` specs and `# Agent:` specs with `target: openhands` can"
    )


def job_id(spec: ir.Spec) -> str:
    """The job's folder name: the front matter `id` when it is a plain name, else the id
    (or the spec name) in kebab case — never a path that could leave the output folder."""
    if spec.meta.id and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec.meta.id):
        return spec.meta.id
    return re.sub(r"[^a-z0-9]+", "-", (spec.meta.id or spec.name).lower()).strip("-") or "job"


def provenance(spec: ir.Spec) -> j.Provenance:
    """The spec's provenance as every target records it (spec and constitution hashes, generator)."""
    return j.Provenance.model_validate(spec_provenance(spec))


# ---------------------------------------------------------------- components


def _component_job(spec: ir.Spec) -> j.Job:
    model = spec.model
    return _job(
        spec,
        requirements=(
            *map(_requirement, spec.requirements),
            *(_invariant_requirement(i) for i in spec.invariants if i.origin == "spec"),
        ),
        interface=_interface(spec.interface) if spec.interface else None,
        acceptance=tuple(j.AcceptanceCommand(command=c.command, line=c.span.line) for c in spec.acceptance),
        context=_component_context(spec),
        model=_model_choice(model),
        max_cost=model.max_cost_per_run if model else None,
    )


def _requirement(req: ir.Requirement) -> j.Requirement:
    items = tuple(j.RequirementItem(modality=i.modality, text=i.text) for i in req.items)
    return j.Requirement(id=req.id, title=req.title, file=req.span.file, line=req.span.line, items=items)


def _invariant_requirement(inv: ir.Invariant) -> j.Requirement:
    """An invariant as a requirement; the constitution's carry their origin in the title."""
    title = inv.title or _first_words(inv.text)
    if inv.origin != "spec":
        title = f"{title} (from {inv.origin})"
    check = f" (check: `{inv.check.source}`)" if inv.check else ""
    item = j.RequirementItem(modality=inv.modality or "MUST", text=inv.text + check)
    return j.Requirement(id=inv.id, title=title, file=inv.span.file, line=inv.span.line, items=(item,))


def _first_words(text: str, count: int = 6) -> str:
    words = text.split()
    return " ".join(words[:count]) + (" …" if len(words) > count else "")


def _interface(interface: ir.Interface) -> j.Interface:
    code = tuple(j.CodeBlock(language=b.language, code=b.code) for b in interface.code)
    return j.Interface(text=interface.text, code=code)


def _component_context(spec: ir.Spec) -> tuple[j.ContextSection, ...]:
    """Background for a component. The constitution's invariants are rules for agents at
    run time (budgets, latency, tone), so here they guide the coding agent's conduct
    instead of becoming requirements the generated code is judged on."""
    house = [i for i in spec.invariants if i.origin != "spec"]
    sections = [
        _section(f"House rules ({house[0].origin})" if house else "", [_rule_text(i) for i in house]),
        _section("In scope", [s.text for s in spec.scope if s.included]),
        _section("Out of scope (do not build)", [s.text for s in spec.scope if not s.included]),
        _section("Success criteria", [_criterion(c) for c in spec.success_criteria]),
        *(_section(f"Notes: {n.title}", [n.text]) for n in spec.notes),
    ]
    return tuple(s for s in sections if s.items)


def _rule_text(inv: ir.Invariant) -> str:
    check = f" (check: `{inv.check.source}`)" if inv.check else ""
    title = f" {inv.title}:" if inv.title else ""
    return f"{inv.id}{title} {inv.modality or 'MUST'} {inv.text}{check}"


def _criterion(criterion: ir.Criterion) -> str:
    mark = "[x]" if criterion.done else "[ ]"
    group = f"{criterion.group}: " if criterion.group else ""
    return f"{mark} {group}{criterion.text}"


def _section(title: str, items: list[str]) -> j.ContextSection:
    return j.ContextSection(title=title, items=tuple(items))


# ---------------------------------------------------------------- agents


def _agent_job(spec: ir.Spec) -> j.Job:
    examples = tuple(_example_requirement(i, e) for i, e in enumerate(spec.examples, start=1))
    return _job(
        spec,
        requirements=(*map(_invariant_requirement, spec.invariants), *examples),
        interface=_agent_interface(spec),
        acceptance=(j.AcceptanceCommand(command=DEFAULT_AGENT_ACCEPTANCE, line=0),),
        context=_agent_context(spec),
        # The spec's Model section is the *agent's* runtime model; the coding agent that
        # writes it is a code_generation task with no per-run budget from this spec.
        model=_model_choice(None),
        max_cost=None,
    )


def _example_requirement(index: int, example: ir.Example) -> j.Requirement:
    given = example.input if example.input is not None else ", ".join(f"{k}: {v}" for k, v in example.fields)
    if example.transcript:
        given = " / ".join(f"{who}: {text}" for who, text in example.transcript)
    expect = example.expect.source if example.expect else ""
    if example.expected == "pass":
        text = f"pass this example: given `{given}`" + (f", expect `{expect}`" if expect else "")
    else:
        text = f"reject this example: given `{given}`" + (f", the result must not satisfy `{expect}`" if expect else "")
    item = j.RequirementItem(modality="MUST", text=text)
    return j.Requirement(
        id=f"EX-{index:03d}", title=example.title, file=example.span.file, line=example.span.line, items=(item,)
    )


_PY_SCALARS = {"str": "str", "url": "str", "int": "int", "float": "float", "bool": "bool"}


def py_type(t: ir.TypeRef) -> str:
    """The Python annotation for a spec type (`enum(a|b)` → `Literal["a", "b"]`)."""
    if t.kind == "list":
        text = f"list[{py_type(t.item) if t.item else 'object'}]"
    elif t.kind == "enum":
        text = "Literal[" + ", ".join(f'"{m}"' for m in t.members) + "]"
    else:
        text = _PY_SCALARS[t.kind]
    return f"{text} | None" if t.optional else text


def _agent_interface(spec: ir.Spec) -> j.Interface:
    inputs = spec.inputs or _default_fields(spec, "query")
    outputs = spec.outputs or _default_fields(spec, "answer")
    params = ", ".join(f"{f.name}: {py_type(f.type)}" + (" = None" if f.type.optional else "") for f in inputs)
    lines = ["from typing import Literal, TypedDict", "", "", "class Output(TypedDict):"]
    lines += [f"    {f.name}: {py_type(f.type)}" for f in outputs]
    lines += ["", "", f"def run({params}) -> Output: ..."]
    text = (
        f"Implement the agent `{spec.name}` as Python code in this workspace. "
        "Its entry point is `run`, taking the spec's inputs and returning its outputs."
    )
    return j.Interface(text=text, code=(j.CodeBlock(language="python", code="\n".join(lines)),))


def _default_fields(spec: ir.Spec, name: str) -> tuple[ir.FieldDecl, ...]:
    span = spec.span
    return (ir.FieldDecl(span=span, name=name, type=ir.TypeRef(span=span, kind="str")),)


def _agent_context(spec: ir.Spec) -> tuple[j.ContextSection, ...]:
    sections = [
        _section("Inputs", [_field(f) for f in spec.inputs]),
        _section("Outputs", [_field(f) for f in spec.outputs]),
        _section("In scope", [s.text for s in spec.scope if s.included]),
        _section("Out of scope (the agent must refuse)", [s.text for s in spec.scope if not s.included]),
        _section("Tools the agent uses", [_tool(t) for t in spec.tools]),
        _section("Workflow steps", _steps(spec.workflow)),
        _section("Step prompts", _prompts(spec.workflow)),
        _section("Workflow flow", _edges(spec.workflow)),
        _section("Decision rules", [_rule(t, r) for t in spec.rules for r in t.rules]),
        _section("Runtime model of the agent", [f"{s.key}: {s.value}" for s in spec.model.settings] if spec.model else []),
        _section("Success criteria", [_criterion(c) for c in spec.success_criteria]),
    ]
    return tuple(s for s in sections if s.items)


def _field(field: ir.FieldDecl) -> str:
    described = f" — {field.description}" if field.description else ""
    return f"{field.name}: {field.type.render()}{described}"


def _tool(tool: ir.ToolRef) -> str:
    parts = [tool.name]
    if tool.description:
        parts.append(f"— {tool.description}")
    if tool.optional:
        parts.append("(optional)")
    if tool.binding:
        method = f"{tool.binding.method} " if tool.binding.method else ""
        parts.append(f"({tool.binding.kind}: {method}{tool.binding.target})")
    return " ".join(parts)


def _steps(workflow: ir.Workflow | None) -> list[str]:
    if workflow is None:
        return []
    return [f"{s.name}: {s.kind} {s.target}" + (f" → {', '.join(s.outputs)}" if s.outputs else "") for s in workflow.steps]


def _prompts(workflow: ir.Workflow | None) -> list[str]:
    """Each step's prompt on one line (whitespace collapsed), so it fits a bullet."""
    if workflow is None:
        return []
    return [f"{s.name}: {' '.join(s.prompt.split())}" for s in workflow.steps if s.prompt]


def _edges(workflow: ir.Workflow | None) -> list[str]:
    if workflow is None:
        return []
    return [_edge(e) for e in workflow.edges]


def _edge(edge: ir.Edge) -> str:
    text = f"{', '.join(edge.sources)} → {', '.join(edge.targets)}"
    if edge.when:
        return f"{text} when {edge.when.source}"
    return f"{text} otherwise" if edge.otherwise else text


def _rule(table: ir.RuleTable, rule: ir.Rule) -> str:
    condition = f"when {rule.when.source}" if rule.when else "otherwise"
    message = f': "{rule.message}"' if rule.message else ""
    return f"{table.name}: {rule.verdict} {condition}{message}"


# ---------------------------------------------------------------- shared


def _model_choice(model: ir.ModelConfig | None) -> j.ModelChoice:
    """The coding agent's model as the spec asks for it. `alias` is the first model of the
    spec's allow-list; without one the runner picks an alias serving `task` (see llm_config)."""
    if model is None:
        return j.ModelChoice(task=CODE_TASK)
    return j.ModelChoice(
        alias=model.models[0] if model.models else None,
        task=model.task or CODE_TASK,
        tier=model.tier,
        models=model.models,
        fallback=model.fallback,
        temperature=model.temperature,
        max_tokens=model.max_tokens,
    )


def _job(spec: ir.Spec, *, requirements, interface, acceptance, context, model, max_cost) -> j.Job:
    return j.Job(
        job_id=job_id(spec),
        provenance=provenance(spec),
        spec=j.SpecInfo(id=job_id(spec), name=spec.name, kind=spec.kind, version=spec.meta.version),
        purpose=spec.purpose.text if spec.purpose else "",
        requirements=tuple(requirements),
        interface=interface,
        acceptance=tuple(acceptance),
        context=tuple(context),
        allowed_tools=CODING_TOOLS,
        budget=j.Budget(
            max_cost_usd=max_cost,
            max_iterations=DEFAULT_MAX_ITERATIONS,
            acceptance_timeout_s=DEFAULT_ACCEPTANCE_TIMEOUT_S,
        ),
        model=model,
    )
