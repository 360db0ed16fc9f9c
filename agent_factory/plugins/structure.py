"""Structure checks: required and duplicate sections, front matter values, field names and
types, money/duration/number literals of the Model section, duplicate ids and names."""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal

from agent_factory.compiler import hookimpl
from agent_factory.compiler.diagnostics import Collector, Related, article, did_you_mean
from agent_factory.compiler.ir import FieldDecl, ModelConfig, Spec, TypeRef
from agent_factory.compiler.literals import LiteralError, duration_seconds, money, number
from agent_factory.compiler.passes import CompileContext, Pass, PassResult
from agent_factory.compiler.transform import FRONT_MATTER_KEYS, NOTE_SECTIONS, SECTION_KEYS, SECTIONS_BY_KIND
from agent_factory.compiler.typing_ import word_span

TYPE_NAMES = ("str", "int", "float", "bool", "url", "list", "enum")
MODEL_KEYS = ("task", "tier", "max_cost_per_run", "max_latency", "temperature", "max_tokens", "models", "fallback")
TASKS = ("simple", "classification", "research", "complex_reasoning", "code_generation")
TIERS = ("free", "pro", "enterprise")
_SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$")


@hookimpl
def af_register_passes() -> list[Pass]:
    return [Pass(name="structure", stage="validate", order=10, run=run)]


def run(spec: Spec, ctx: CompileContext) -> PassResult:
    out = Collector()
    sections(spec, out)
    front_matter(spec, out)
    target(spec, ctx, out)
    fields(spec.inputs, "input", out)
    fields(spec.outputs, "output", out)
    if spec.model is not None:
        model(spec.model, out)
    duplicates(spec, out)
    step_lists(spec, out)
    rule_tables(spec, out)
    return PassResult(diagnostics=tuple(out.items))


def sections(spec: Spec, out: Collector) -> None:
    seen: dict[str, object] = {}
    allowed = SECTIONS_BY_KIND[spec.kind]
    for ref in spec.sections:
        if ref.key is None:
            if " ".join(ref.title.lower().split()) not in NOTE_SECTIONS:
                out.add("W012", f"unknown section `{ref.title}` is kept as notes", ref.span,
                        hint=did_you_mean(ref.title, _section_titles()) or "known sections: " + ", ".join(sorted(_section_titles())))
            continue
        if ref.key in seen:
            first = seen[ref.key]
            out.add("E011", f"section `{ref.title}` appears twice; the first one (line {first.span.line}) is used",
                    ref.span, hint="merge the two sections into one", related=[Related(message="first appears here", span=first.span)])
            continue
        seen[ref.key] = ref
        if ref.key not in allowed:
            out.add("W013", f"{article(spec.kind)} {spec.kind} does not use a `{ref.title}` section; it is ignored", ref.span,
                    hint=f"sections of {article(spec.kind)} {spec.kind}: " + ", ".join(sorted(allowed)))
    if spec.kind != "constitution" and (spec.purpose is None or not spec.purpose.text.strip()):
        span = spec.purpose.span if spec.purpose else spec.span.model_copy(update={"end_line": 1, "end_column": 2})
        what = "is empty" if spec.purpose else "is missing"
        out.add("E010", f"the `Purpose` section {what}; every {spec.kind} needs one", span,
                hint="add `## Purpose` with a sentence or two saying what this " + spec.kind + " is for")
    for key, declared, items in (("Inputs", spec.inputs_declared, spec.inputs), ("Outputs", spec.outputs_declared, spec.outputs),
                                 ("Tools", spec.tools_declared, spec.tools)):
        ref = next((r for r in spec.sections if r.key == key.lower()), None)
        if declared and not items and ref is not None and ref.lines == 0:
            out.add("W014", f"the `{ref.title}` section is empty", ref.span, hint=f"list the {key.lower()} as bullets, or remove the section")


def _section_titles() -> list[str]:
    return sorted({title.title() for title in SECTION_KEYS})


def front_matter(spec: Spec, out: Collector) -> None:
    for entry in spec.meta.entries:
        key = entry.key.lower()
        if key not in FRONT_MATTER_KEYS:
            out.add("W007", f"unknown front matter key `{entry.key}`", entry.span,
                    hint=did_you_mean(key, FRONT_MATTER_KEYS) or "known keys: " + ", ".join(FRONT_MATTER_KEYS))
        elif key == "version" and not _SEMVER.match(entry.value.strip()):
            out.add("E004", f"version `{entry.value}` is not a semantic version", entry.value_span or entry.span, hint="write it as MAJOR.MINOR.PATCH, for example `1.0.0`")
        elif key == "status" and entry.value.strip().lower() not in ("draft", "review", "approved", "deprecated"):
            out.add("E004", f"status `{entry.value}` is not one of draft, review, approved, deprecated", entry.value_span or entry.span,
                    hint=did_you_mean(entry.value.strip(), ["draft", "review", "approved", "deprecated"]) or "write `status: draft`")
        elif key in ("id", "owner", "extends", "target") and not entry.value.strip():
            out.add("E004", f"front matter key `{key}` has no value", entry.span, hint=f"write `{key}: <value>` or remove the line")


def target(spec: Spec, ctx: CompileContext, out: Collector) -> None:
    """`target:` must name an installed backend."""
    entry = next((e for e in spec.meta.entries if e.key.lower() == "target"), None)
    if entry is None or not entry.value.strip():
        return
    backends = sorted(ctx.manager.backends())
    if entry.value.strip() not in backends:
        out.add("E004", f"target `{entry.value.strip()}` is not an installed backend", entry.value_span or entry.span,
                hint=did_you_mean(entry.value.strip(), backends) or "installed backends: " + ", ".join(backends))


def fields(decls: tuple[FieldDecl, ...], what: str, out: Collector) -> None:
    seen: dict[str, FieldDecl] = {}
    for decl in decls:
        if decl.name in seen:
            out.add("E021", f"{what} `{decl.name}` is declared twice", decl.span, hint="rename or remove one of them",
                    related=[Related(message="first declared here", span=seen[decl.name].span)])
        else:
            seen[decl.name] = decl
        type_ref(decl.type, out)


def type_ref(ref: TypeRef, out: Collector) -> None:
    if ref.kind == "unknown":
        out.add("E022", f"unknown type `{ref.name}`", ref.span,
                hint=did_you_mean(ref.name or "", TYPE_NAMES) or "types: str, int, float, bool, url, list[T], enum(a|b), int[0..100]")
        return
    if ref.item is not None:
        type_ref(ref.item, out)
    for value in _repeated(ref.members):
        out.add("E024", f"enum value `{value}` is listed twice in `{ref.render()}`", ref.span,
                hint="list each value once; a value listed twice cannot be told apart from itself")
    if ref.minimum is None and ref.maximum is None:
        return
    if ref.kind not in ("int", "float"):
        out.add("E023", f"a range does not apply to `{ref.kind}`", ref.span, hint="ranges are for numbers: `int[0..100]`, `float[0..1]`")
    elif ref.kind == "int" and any(b is not None and b != b.to_integral_value() for b in (ref.minimum, ref.maximum)):
        out.add("E023", "the bounds of an `int` range must be whole numbers", ref.span, hint="write for example `int[0..100]`")
    elif ref.minimum is not None and ref.maximum is not None and ref.minimum > ref.maximum:
        out.add("E023", f"range minimum {ref.minimum} is greater than its maximum {ref.maximum}", ref.span,
                hint=f"swap the bounds: `{ref.kind}[{ref.maximum}..{ref.minimum}]`")


def model(config: ModelConfig, out: Collector) -> None:
    seen: dict[str, object] = {}
    for setting in config.settings:
        if setting.key in seen:
            out.add("E062", f"model setting `{setting.key}` is given twice", setting.span, hint="keep one of them",
                    related=[Related(message="first given here", span=seen[setting.key].span)])
            continue
        seen[setting.key] = setting
        if setting.key not in MODEL_KEYS:
            out.add("E060", f"unknown model setting `{setting.key}`", setting.span,
                    hint=did_you_mean(setting.key, MODEL_KEYS) or "model settings: " + ", ".join(MODEL_KEYS))
            continue
        problem = _model_problem(setting.key, setting.value.strip())
        if problem:
            code, message, hint = problem
            out.add(code, message, setting.value_span or setting.span, hint=hint)


def _model_problem(key: str, value: str) -> tuple[str, str, str] | None:
    if key in ("task", "tier"):
        allowed = TASKS if key == "task" else TIERS
        if value not in allowed:
            return "E061", f"{key} `{value}` is not one of {', '.join(allowed)}", did_you_mean(value, allowed) or f"write `{key}: {allowed[0]}`"
        return None
    try:
        if key == "max_cost_per_run":
            money(value)
        elif key == "max_latency":
            duration_seconds(value)
        elif key == "temperature":
            if not Decimal(0) <= number(value) <= Decimal(2):
                return "E061", f"temperature {value} is outside 0..2", "write a temperature between 0 and 2, such as `0.2`"
    except LiteralError as error:
        code = {"max_cost_per_run": "E030", "max_latency": "E031"}.get(key, "E032")
        return code, f"{key}: {error}", error.hint
    if key == "max_tokens" and not (value.isdigit() and int(value) > 0):
        return "E061", f"max_tokens `{value}` is not a positive whole number", "write for example `max_tokens: 1024`"
    if key in ("models", "fallback") and not value:
        return "E061", f"{key} has no value", "name model aliases, for example `local → claude`"
    return None


def duplicates(spec: Spec, out: Collector) -> None:
    for label, items, key, code in (
        # the spec's own invariants: one redefining a constitution's id is E500 (constitution pass)
        ("invariant id", tuple(i for i in spec.invariants if i.origin == "spec"), lambda i: i.id, "E041"),
        ("tool", spec.tools, lambda t: t.name, "E052"),
        ("step", spec.workflow.steps if spec.workflow else (), lambda s: s.name, "E074"),
        ("member name", spec.members, lambda m: m.name, "E094"),
    ):
        first_of: dict[str, object] = {}
        counts = Counter(key(i) for i in items)
        for item in items:
            name = key(item)
            if counts[name] > 1 and name in first_of:
                out.add(code, f"{label} `{name}` is used twice", item.span, hint="give each one its own name",
                        related=[Related(message="first used here", span=first_of[name].span)])
            first_of.setdefault(name, item)


def _repeated(names: tuple[str, ...]) -> list[str]:
    """The names that occur more than once, each once, in order."""
    return [name for name, count in Counter(names).items() if count > 1]


def step_lists(spec: Spec, out: Collector) -> None:
    """A name given twice in a step's `outputs:` or `tools:` (E076)."""
    for step in spec.workflow.steps if spec.workflow else ():
        for key, names in (("outputs", step.outputs), ("tools", step.tools)):
            for name in _repeated(names):
                out.add("E076", f"`{name}` is listed twice in the `{key}:` of step `{step.name}`",
                        word_span(step.span, key, spec.sha256, lines_after=40), hint=f"list `{name}` once")


def rule_tables(spec: Spec, out: Collector) -> None:
    for table in spec.rules:
        fallbacks = [r for r in table.rules if r.otherwise]
        if not fallbacks:
            out.add("E081", f"rule table `{table.name}` has no `otherwise` row", table.span,
                    hint="end the table with `- otherwise <VERDICT>` so every input gets a verdict")
        for rule in fallbacks[1:]:
            out.add("E080", f"rule table `{table.name}` has more than one `otherwise` row", rule.span,
                    hint="keep one `otherwise` row, as the last one")
        if fallbacks and table.rules[-1] is not fallbacks[0]:
            out.add("E080", f"rows after `otherwise` in rule table `{table.name}` can never match", fallbacks[0].span,
                    hint="move the `otherwise` row to the end of the table")
