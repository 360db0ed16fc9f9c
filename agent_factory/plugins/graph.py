"""Flow-graph analysis (analyse stage; runs only on specs without errors).

Checks: START is the entry (E400) and only a source, END only a target (E408); every step is
reachable from START (E401) and reaches END (E402); a cycle has a conditional exit or a step
with `max_iterations` (E403); a branching step has exactly one `otherwise` (E404) and no
unconditional edges besides its branches (E405); a join's sources cannot be skipped by a
branch (W406); a value is written on every path before a prompt or a `when` uses it (E407).
"""

from __future__ import annotations

from agent_factory.compiler import hookimpl
from agent_factory.compiler.diagnostics import Collector
from agent_factory.compiler.ir import Edge, Spec, Workflow
from agent_factory.compiler.passes import CompileContext, Pass, PassResult
from agent_factory.compiler.typing_ import END, START, Flow, flow, placeholder_spans, placeholders, type_env, word_span

_ARROW = " → "


@hookimpl
def af_register_passes() -> list[Pass]:
    return [Pass(name="graph", stage="analyse", order=10, run=run)]


def run(spec: Spec, ctx: CompileContext) -> PassResult:
    wf = spec.workflow
    if wf is None or not wf.steps:
        return PassResult()
    out = Collector()
    if not entry(wf, spec.sha256, out):
        return PassResult(diagnostics=tuple(out.items))
    graph = flow(spec)
    reachability(wf, graph, out)
    branches(wf, out)
    cycles(wf, graph, out)
    joins(wf, graph, spec.sha256, out)
    before_use(spec, out)
    return PassResult(diagnostics=tuple(out.items))


def entry(wf: Workflow, sha256: str, out: Collector) -> bool:
    """START only as a source, END only as a target, and at least one START edge."""
    ok = True
    for edge in wf.edges:
        for name, side in ((START, edge.targets), (END, edge.sources)):
            if name in side:
                where = "target" if name == START else "source"
                out.add("E408", f"`{name}` cannot be the {where} of an edge", word_span(edge.span, name, sha256),
                        hint="flows start at `START` (`START → first_step`) and end at `END` (`last_step → END`)")
                ok = False
    if not any(START in e.sources for e in wf.edges):
        first = wf.steps[0].name
        out.add("E400", "the workflow has steps but no edge from `START`, so nothing would run", wf.span,
                hint=f"add `- START → {first}` under `### Flow`")
        ok = False
    return ok


def reachability(wf: Workflow, graph: Flow, out: Collector) -> None:
    from_start = graph.reach(START)
    to_end = graph.reach(END, forward=False)
    for step in wf.steps:
        if step.name not in from_start:
            out.add("E401", f"step `{step.name}` is unreachable: no path from `START` leads to it", step.span,
                    hint=f"add an edge into `{step.name}`, or remove the step")
        elif step.name not in to_end:
            out.add("E402", f"step `{step.name}` never reaches `END`: every path from it ends or loops without finishing",
                    step.span, hint=f"add `- {step.name} → END` or an edge to a step that reaches `END`")


def branches(wf: Workflow, out: Collector) -> None:
    by_source: dict[str, list[Edge]] = {}
    for edge in wf.edges:
        for source in edge.sources:
            by_source.setdefault(source, []).append(edge)
    for source, edges in by_source.items():
        conditional = [e for e in edges if e.when is not None]
        fallbacks = [e for e in edges if e.otherwise]
        plain = [e for e in edges if e.when is None and not e.otherwise]
        if not conditional and not fallbacks:
            continue
        if not fallbacks:
            out.add("E404", f"step `{source}` branches with `when` but has no `otherwise` edge", conditional[-1].span,
                    hint=f"add `- {source} → <step> otherwise` for the case no condition holds")
        for extra in fallbacks[1:]:
            out.add("E404", f"step `{source}` has more than one `otherwise` edge", extra.span,
                    hint="keep one `otherwise`; give the others a `when` condition")
        if fallbacks and not conditional:
            out.add("E404", f"step `{source}` has an `otherwise` edge but no `when` edge", fallbacks[0].span,
                    hint=f"make it a plain edge (`{source} → ...`) or add a `when` branch")
        for edge in plain:
            out.add("E405", f"step `{source}` has an unconditional edge besides its `when`/`otherwise` branches", edge.span,
                    hint="give this edge a `when` condition, or make it the `otherwise` branch")


def cycles(wf: Workflow, graph: Flow, out: Collector) -> None:
    limited = {s.name for s in wf.steps if s.max_iterations}
    for component in _components(graph, [s.name for s in wf.steps]):
        if component & limited:
            continue
        exits = [e for e in wf.edges if (e.when is not None or e.otherwise)
                 and set(e.sources) & component and not set(e.targets) <= component]
        if exits:
            continue
        loop = _cycle(graph, component, next(s.name for s in wf.steps if s.name in component))
        closing = next(e for e in reversed(wf.edges) if set(e.sources) & component and set(e.targets) & component)
        out.add("E403", f"the cycle {_ARROW.join(loop)} has no exit condition and no `max_iterations`", closing.span,
                hint="add a `when` edge that leaves the cycle (with an `otherwise`), or `max_iterations: N` on a step in it")


def _components(graph: Flow, names: list[str]) -> list[set[str]]:
    """Strongly connected components that form cycles (size > 1, or a self-loop)."""
    found: list[set[str]] = []
    seen: set[str] = set()
    for name in names:
        if name in seen:
            continue
        component = graph.reach(name) & graph.reach(name, forward=False)
        seen |= component
        if len(component) > 1 or name in graph.succ.get(name, ()):
            found.append(component)
    return found


def _cycle(graph: Flow, component: set[str], start: str) -> list[str]:
    """One simple cycle through `start` inside `component`, as a list of names ending at `start`."""
    parent: dict[str, str] = {}
    todo = [start]
    while todo:
        node = todo.pop(0)
        for nxt in graph.succ.get(node, ()):
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return [*reversed(path), start]
            if nxt in component and nxt not in parent:
                parent[nxt] = node
                todo.append(nxt)
    return [start, start]


def joins(wf: Workflow, graph: Flow, sha256: str, out: Collector) -> None:
    branching = {s for e in wf.edges if e.when is not None or e.otherwise for s in e.sources}
    for edge in wf.edges:
        if len(edge.sources) < 2:
            continue
        for source in edge.sources:
            skipper = _skipped_by(wf, graph, source, set(edge.sources) - {source}, branching)
            if skipper:
                branch, other = skipper
                target = ", ".join(edge.targets)
                out.add("W406", f"join source `{source}` can be skipped: when `{branch}` takes the branch to `{other}`, "
                        f"`{source}` never runs and `{target}` waits for it forever", word_span(edge.span, source, sha256),
                        hint=f"join only steps that always run together, or move the join after the branches of `{branch}` meet")


def _skipped_by(wf: Workflow, graph: Flow, source: str, others: set[str], branching: set[str]) -> tuple[str, str] | None:
    """A branching step and one of its branch targets from which another join source runs
    but `source` never does (None when `source` cannot be skipped that way)."""
    for branch in sorted(branching):
        # One branch is one edge: all its targets run together.
        arms = [e.targets for e in wf.edges if branch in e.sources and (e.when is not None or e.otherwise)]
        leads = [arm for arm in arms if any(source in graph.reach(t) for t in arm)]
        skips = [arm for arm in arms if arm not in leads]
        avoid = frozenset(t for arm in leads for t in arm)
        # Another source still runs when the branch goes elsewhere: the join would wait.
        if leads and skips and others & graph.reach(START, avoid=avoid):
            return branch, ", ".join(skips[0])
    return None


# ---------------------------------------------------------------- definite assignment


def before_use(spec: Spec, out: Collector) -> None:
    """Every value a prompt or a `when` uses is written on every path that reaches it."""
    env = type_env(spec)
    wf = spec.workflow
    avail = _available(wf, set(env.written))
    reached = flow(spec).reach(START)  # unreachable steps already have E401
    for step in wf.steps:
        if not step.prompt or step.prompt_span is None or step.name not in reached:
            continue
        for name, where in placeholder_spans(step.prompt, step.prompt_span, spec.sha256):
            value = name.split(".")[0]
            if value in env.steps and "." in name:
                value = name.split(".")[1]
            if value in env.written and value not in env.inputs and value not in avail["in"].get(step.name, set()):
                _report(wf, avail, env.written[value], value, step.name, f"`{{{name}}}` in the prompt of `{step.name}`", where, out)
    for step in wf.steps:
        if step.kind == "rules" and step.name in reached:
            _rule_reads(spec, step, env, avail, out)
    for edge in wf.edges:
        if edge.when is None:
            continue
        # After a join every source has run, so what any of them wrote is available.
        written = set().union(*(avail["out"].get(s, set()) for s in edge.sources))
        for value in sorted(_paths(edge.when.tree, env.steps)):
            if value in env.written and value not in env.inputs and value not in written:
                source = edge.sources[0]
                _report(wf, avail, env.written[value], value, source,
                        f"`{value}` in the condition after `{source}`", edge.when.span, out)


def _rule_reads(spec: Spec, step, env, avail: dict, out: Collector) -> None:
    """A rules step reads the fields its table's conditions and messages name when it runs."""
    table = spec.rule_table(step.target)
    for rule in table.rules if table is not None else ():
        reads = _paths(rule.when.tree, env.steps) if rule.when is not None else set()
        reads |= {name.split(".")[0] for name, _, _ in placeholders(rule.message or "")}
        for value in sorted(reads):
            if value in env.written and value not in env.inputs and value not in avail["in"].get(step.name, set()):
                _report(spec.workflow, avail, env.written[value], value, step.name,
                        f"`{value}` in rule `{rule.verdict}` of `{table.name}`, run by `{step.name}`,",
                        rule.when.span if rule.when is not None else rule.span, out)


def _paths(node, steps: dict) -> set[str]:
    """The values an expression reads (`step.output` and `output.x` read the output)."""
    kind = node.node
    if kind == "path":
        parts = node.parts
        if len(parts) > 1 and (parts[0] in steps or parts[0] in ("input", "inputs", "output", "outputs")):
            return {parts[1]}
        return {parts[0]} if parts[0] != "run" else set()
    children = {"unary": lambda: [node.operand], "binary": lambda: [node.left, node.right],
                "call": lambda: list(node.args), "list": lambda: list(node.items)}.get(kind, lambda: [])()
    return set().union(*(_paths(c, steps) for c in children)) if children else set()


def _available(wf: Workflow, universe: set[str]) -> dict[str, dict[str, set[str]]]:
    """Must-be-written analysis: `in[s]` are values written on every path reaching step s,
    `out[s]` adds what s writes. A join edge contributes the union of its sources."""
    writes = {s.name: set(s.outputs) for s in wf.steps}
    incoming: dict[str, list[tuple[str, ...]]] = {}
    for edge in wf.edges:
        for target in edge.targets:
            incoming.setdefault(target, []).append(edge.sources)
    out_sets = {START: set()} | {name: set(universe) for name in writes}
    in_sets: dict[str, set[str]] = {}
    changed = True
    while changed:
        changed = False
        for name in writes:
            groups = incoming.get(name, [])
            new_in = set.intersection(*(set().union(*(out_sets.get(s, set()) for s in g)) for g in groups)) if groups else set()
            new_out = new_in | writes[name]
            if new_in != in_sets.get(name) or new_out != out_sets[name]:
                in_sets[name], out_sets[name] = new_in, new_out
                changed = True
    return {"in": in_sets, "out": out_sets}


def _report(wf: Workflow, avail: dict, writers: list[str], value: str, at: str, what: str, where, out: Collector) -> None:
    shown = _ARROW.join(_counter_example(wf, avail, value, at))
    by = ", ".join(f"`{w}`" for w in writers)
    out.add("E407", f"{what} may be used before it is written: on the path {shown} no step writes `{value}` (written by {by})",
            where, hint=f"make every path to `{at}` pass through {by}, for example with an edge `{writers[0]} → {at}`")


def _counter_example(wf: Workflow, avail: dict, value: str, at: str) -> list[str]:
    """A path START → … → `at` on which `value` is never written (ends at `at` itself)."""
    incoming: dict[str, list[tuple[str, ...]]] = {}
    for edge in wf.edges:
        for target in edge.targets:
            incoming.setdefault(target, []).append(edge.sources)
    path, node, seen = [at], at, {at}
    while node != START:
        group = next((g for g in incoming.get(node, []) if all(value not in avail["out"].get(s, set()) for s in g)), None)
        if group is None:
            break
        node = next((s for s in group if s not in seen), group[0])
        if node in seen:
            break
        seen.add(node)
        path.append(node)
    return list(reversed(path)) if path[-1] == START else [START, "…", *reversed(path)]
