"""Name resolution (validate stage): tools, steps, rule tables, agent and member paths,
routing defaults and `tool:` step arguments resolve; unused tools and unwritten outputs warn.

Tools resolve against the registry (every plugin's `af_register_tools`, collected once per
pass manager and kept in its cache) or against the spec's own binding.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from agent_factory.compiler import hookimpl
from agent_factory.compiler.diagnostics import Collector, did_you_mean
from agent_factory.compiler.ir import Member, Spec, Step, ToolRef
from agent_factory.compiler.passes import CompileContext, Pass, PassResult
from agent_factory.compiler.span import Span
from agent_factory.compiler.typing_ import END, START, source_lines, word_span

TASKS = ("simple", "classification", "research", "complex_reasoning", "code_generation")
_URL_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_REGISTRY_KEY = "names.tool_registry"
IMPLICIT_INPUT = "query"  # the one input of a spec without an Inputs section (see compiler/plan.py)


@hookimpl
def af_register_passes() -> list[Pass]:
    return [Pass(name="names", stage="validate", order=20, run=run)]


def run(spec: Spec, ctx: CompileContext) -> PassResult:
    out = Collector()
    registry = tool_registry(ctx)
    tools(spec, registry, out)
    if spec.workflow is not None:
        steps(spec, ctx, registry, out)
        edges(spec, out)
        unused(spec, registry, out)
    members(spec, ctx, out)
    return PassResult(diagnostics=tuple(out.items))


# ---------------------------------------------------------------- registry


def tool_registry(ctx: CompileContext) -> dict[str, list[tuple[Any, str]]]:
    """Tool name -> [(ToolSpec, plugin name)] for every registered tool, collected once per
    pass manager (more than one entry means two plugins register the name)."""
    if _REGISTRY_KEY not in ctx.cache:
        found: dict[str, list[tuple[Any, str]]] = {}
        for impl in ctx.manager.hook.af_register_tools.get_hookimpls():
            for tool in impl.function() or ():
                found.setdefault(tool.name, []).append((tool, impl.plugin_name))
        ctx.cache[_REGISTRY_KEY] = found
    return ctx.cache[_REGISTRY_KEY]


def tools(spec: Spec, registry: dict, out: Collector) -> None:
    for tool in spec.tools:
        if tool.binding is not None:
            _binding(tool, out)
            continue
        entries = registry.get(tool.name)
        if not entries:
            out.add("E200", f"unknown tool `{tool.name}`: no plugin provides it and it has no binding", tool.span,
                    hint=did_you_mean(tool.name, registry) or
                    "bind it, e.g. `(http: GET https://host/path/{arg})`, or use a built-in: " + ", ".join(sorted(registry)))
        elif len(entries) > 1:
            plugins = " and ".join(f"`{name}`" for _, name in entries)
            out.add("E209", f"tool `{tool.name}` is registered by more than one plugin ({plugins})", tool.span,
                    hint="uninstall one of the plugins, or bind the tool in the spec to choose one")


def _binding(tool: ToolRef, out: Collector) -> None:
    """A binding that parses but cannot work (a URL without a scheme, a placeholder in the
    host, an unknown HTTP method) is refused here, not at run time."""
    from agent_factory.runtime.tools import binding_tool

    try:
        binding_tool(tool)
    except ValueError as error:
        message = str(error).removeprefix(f"tool '{tool.name}': ")
        out.add("E051", f"malformed tool binding of `{tool.name}`: {message}", tool.binding.span,
                hint="write `(http: GET https://host/path/{arg})`, `(python: package.module:function)` or `(mcp: server/tool)`")


def tool_params(tool: ToolRef, registry: dict) -> dict | None:
    """The JSON Schema of a spec tool's arguments, or None when it is not known statically
    (python and mcp bindings are only inspected at run time)."""
    if tool.binding is None:
        entries = registry.get(tool.name)
        return entries[0][0].parameters if entries else None
    if tool.binding.kind == "http":
        names = list(dict.fromkeys(_URL_PLACEHOLDER.findall(tool.binding.target)))
        return {"type": "object", "properties": {n: {} for n in names}, "required": names, "additionalProperties": True}
    return None


# ---------------------------------------------------------------- steps


def steps(spec: Spec, ctx: CompileContext, registry: dict, out: Collector) -> None:
    spec_tools = {t.name: t for t in spec.tools}
    for step in spec.workflow.steps:
        for name in step.tools:
            if name not in spec_tools:
                _not_a_spec_tool(spec, step, name, spec_tools, registry, out, "may call")
        if step.kind == "llm" and step.target not in TASKS:
            out.add("E213", f"step `{step.name}` names the unknown task `{step.target}`", _in_step(spec, step, step.target),
                    hint=did_you_mean(step.target, TASKS) or "tasks: " + ", ".join(TASKS))
        elif step.kind == "tool":
            if step.target not in spec_tools:
                _not_a_spec_tool(spec, step, step.target, spec_tools, registry, out, "runs")
            else:
                arguments(spec, step, spec_tools[step.target], registry, out)
        elif step.kind == "rules" and spec.rule_table(step.target) is None:
            tables = [t.name for t in spec.rules]
            out.add("E204", f"step `{step.name}` runs the rule table `{step.target}`, which the Rules section does not have",
                    _in_step(spec, step, step.target), hint=did_you_mean(step.target, tables) or
                    ("rule tables: " + ", ".join(tables) if tables else "add `## Rules` with `### " + step.target + "`"))
        elif step.kind == "agent":
            _nested_spec(spec, ctx, step.target, f"step `{step.name}` runs the agent spec", _in_step(spec, step, step.target), out)
            nested = _parsed((Path(ctx.path).parent / step.target).resolve(), ctx)
            if nested is not None:
                agent_inputs(spec, step, nested, out)


def _in_step(spec: Spec, step: Step, word: str) -> Span:
    """Where `word` is written in the step's block (its heading when not found)."""
    return word_span(step.span, word, spec.sha256, lines_after=40) if word else step.span


def _not_a_spec_tool(spec: Spec, step: Step, name: str, spec_tools: dict, registry: dict, out: Collector, verb: str) -> None:
    hint = did_you_mean(name, spec_tools)
    if hint is None and name in registry:
        hint = f"add `- {name}` to the Tools section"
    out.add("E203" if verb == "runs" else "E202",
            f"step `{step.name}` {verb} the tool `{name}`, which is not in the spec's Tools section", _in_step(spec, step, name),
            hint=hint or ("the spec's tools: " + ", ".join(sorted(spec_tools)) if spec_tools else "list the tool under `## Tools`"))


def arguments(spec: Spec, step: Step, tool: ToolRef, registry: dict, out: Collector) -> None:
    schema = tool_params(tool, registry)
    if schema is None:
        return
    props = schema.get("properties", {})
    given = {a.name for a in step.args}
    missing = [name for name in schema.get("required", []) if name not in given]
    if missing:
        listed = ", ".join(f"`{m}`" for m in missing)
        out.add("E207", f"step `{step.name}` calls `{tool.name}` without the required argument{'s' if len(missing) > 1 else ''} {listed}",
                _in_step(spec, step, tool.name), hint="add `args: " + ", ".join(f"{m} = <expr>" for m in missing) + "`")
    if schema.get("additionalProperties", True) is not False:
        return
    for arg in step.args:
        if arg.name not in props:
            out.add("E208", f"tool `{tool.name}` has no argument `{arg.name}`", arg.span,
                    hint=did_you_mean(arg.name, props) or "its arguments: " + (", ".join(sorted(props)) or "none"))


def _nested_spec(spec: Spec, ctx: CompileContext, path: str, what: str, span: Span, out: Collector) -> None:
    """A member or `agent:` step must name an existing Agent or Team spec, and following the
    nesting from there must never lead back here (a run would recurse forever)."""
    if not _path_exists(ctx, path, what, span, out):
        return
    target = (Path(ctx.path).parent / path).resolve()
    nested = _outline(target, ctx)
    if nested is None:
        out.add("E215", f"{what} `{path}`, which is not an agent or team spec", span,
                hint="name a file whose title is `# Agent: …` or `# Team: …`")
        return
    home = Path(ctx.path).resolve()
    cycle = [home, home] if target == home else _cycle(target, home, ctx, [home, target])
    if cycle:
        shown = " → ".join(_relative(p, Path(ctx.path).resolve().parent) for p in cycle)
        out.add("E214", f"{what} `{path}`, which leads back to this spec: {shown}", span,
                hint="a team or agent step cannot contain itself; break the cycle")


def _outline(path: Path, ctx: CompileContext) -> list[Path] | None:
    """The nested spec paths of the Agent/Team spec at `path` (None when it is not one)."""
    nested = _parsed(path, ctx)
    if nested is None:
        return None
    names = [m.path for m in nested.members]
    names += [s.target for s in (nested.workflow.steps if nested.workflow else ()) if s.kind == "agent"]
    return [(path.parent / name).resolve() for name in names]


def _parsed(path: Path, ctx: CompileContext) -> Spec | None:
    """The parsed (unchecked) Agent or Team spec at `path`, None when it is not one; parsed
    once per manager and file version."""
    from agent_factory.compiler import parse_text

    try:
        key = ("nested-spec", str(path), path.stat().st_mtime_ns)
    except OSError:
        return None
    if key not in ctx.cache:
        try:
            nested = parse_text(path.read_text(encoding="utf-8-sig"), str(path)).spec
        except (OSError, UnicodeDecodeError):
            nested = None
        ctx.cache[key] = nested if nested is not None and nested.kind in ("agent", "team") else None
    return ctx.cache[key]


def _cycle(at: Path, home: Path, ctx: CompileContext, trail: list[Path]) -> list[Path] | None:
    """The path from `at` back to `home` through nested specs, if there is one."""
    for child in _outline(at, ctx) or ():
        if child == home:
            return [*trail, home]
        if child not in trail and len(trail) < 32:
            found = _cycle(child, home, ctx, [*trail, child])
            if found:
                return found
    return None


def _relative(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return path.as_posix()


def _path_exists(ctx: CompileContext, path: str, what: str, span: Span, out: Collector) -> bool:
    folder = Path(ctx.path).parent
    if (folder / path).is_file():
        return True
    own = Path(ctx.path).name
    siblings = sorted(p.name for p in folder.glob("*.md") if p.name != own) if folder.is_dir() else []
    if "\\" in path:
        hint = f"write paths with `/`, on every system: `{path.replace(chr(92), '/')}`"
    else:
        hint = did_you_mean(Path(path).name, siblings) or "paths are relative to this spec's folder"
    out.add("E205", f"{what} `{path}`, which does not exist (looked in `{folder.as_posix() or '.'}`)", span, hint=hint)
    return False


# ---------------------------------------------------------------- flow


def edges(spec: Spec, out: Collector) -> None:
    names = list(dict.fromkeys(s.name for s in spec.workflow.steps))
    known = {*names, START, END}
    for edge in spec.workflow.edges:
        for name in (*edge.sources, *edge.targets):
            if name not in known and not _heading_of(spec, name):
                out.add("E201", f"flow edge names the step `{name}`, which the Workflow does not declare",
                        word_span(edge.span, name, spec.sha256),
                        hint=did_you_mean(name, [*names, START, END]) or (
                            "steps: " + ", ".join(names) if names else "the Workflow declares no step yet"))


def _heading_of(spec: Spec, name: str) -> bool:
    """Whether the spec has a `### name` step heading: such a step is declared, but its own
    errors kept it out of the IR, and they are reported already."""
    heading = re.compile(r"^ {0,3}###[ \t]+" + re.escape(name) + r"[ \t]*#*[ \t]*$")
    for line in source_lines(spec.path, spec.sha256)[spec.workflow.span.line:]:
        if re.match(r"^ {0,3}##[ \t]", line):
            return False  # the next section: the Workflow ends here
        if heading.match(line):
            return True
    return False


def unused(spec: Spec, registry: dict, out: Collector) -> None:
    used = {name for step in spec.workflow.steps for name in step.tools}
    used |= {step.target for step in spec.workflow.steps if step.kind == "tool"}
    for tool in spec.tools:
        if not tool.optional and tool.name not in used and (tool.binding or tool.name in registry):
            out.add("W210", f"tool `{tool.name}` is declared but no step uses it", tool.span,
                    hint="add it to a step's `tools:`, run it with a `tool:` step, mark it `(optional)` or remove it")
    written = {name for step in spec.workflow.steps for name in step.outputs}
    for decl in spec.outputs:
        if decl.name not in written:
            out.add("W211", f"output `{decl.name}` is never written: no step lists it in `outputs:`", decl.span,
                    hint="add it to the `outputs:` of the step that produces it, or remove it")


# ---------------------------------------------------------------- teams


def members(spec: Spec, ctx: CompileContext, out: Collector) -> None:
    for member in spec.members:
        _nested_spec(spec, ctx, member.path, f"member `{member.name}` is the spec", member.span, out)
        nested = _parsed((Path(ctx.path).parent / member.path).resolve(), ctx)
        if nested is not None:
            member_inputs(spec, member, nested, out)
    if spec.routing is None or spec.routing.strategy == "keyword":
        shared_keywords(spec, out)
    routing = spec.routing
    if routing is not None and routing.default and routing.default not in {m.name for m in spec.members}:
        names = [m.name for m in spec.members]
        out.add("E206", f"routing default `{routing.default}` is not a member",
                word_span(routing.span, routing.default, spec.sha256, lines_after=40),
                hint=did_you_mean(routing.default, names) or "members: " + (", ".join(names) or "none"))


def member_inputs(team: Spec, member: Member, nested: Spec, out: Collector) -> None:
    """Every required input of a member must reach it (E216): a team input of the same name
    passes its value; a member with one input and no name in common gets the team's text."""
    given = {decl.name for decl in team.inputs} or {IMPLICIT_INPUT}
    required = [decl for decl in nested.inputs if not decl.type.optional]
    if any(decl.name in given for decl in nested.inputs):
        missing = [decl for decl in required if decl.name not in given]
    elif len(nested.inputs) == 1 and nested.inputs[0].type.kind in ("str", "url", "unknown"):
        missing = []  # the team's inputs reach it as one text
    else:
        missing = required
    if not missing:
        return
    names = ", ".join(f"`{decl.name}: {decl.type.render()}`" for decl in missing)
    takes = ", ".join(f"`{name}`" for name in sorted(given))
    out.add("E216", f"member `{member.name}` ({member.path}) requires {names}, which the team does not pass: "
                    f"the team takes {takes}", member.span,
            hint="declare the same inputs on the team (a member gets each team input of the same name), "
                 "or make them optional in the member")


def agent_inputs(spec: Spec, step: Step, nested: Spec, out: Collector) -> None:
    """An `agent:` step passes the nested spec each value of the same name this spec has (an
    input, or an output some step writes); a nested spec with one input and no name in common
    gets this spec's inputs as one text. A required input reached neither way is E219."""
    have = {decl.name for decl in spec.inputs} or {IMPLICIT_INPUT}
    have |= {name for other in spec.workflow.steps for name in other.outputs}
    required = [decl for decl in nested.inputs if not decl.type.optional]
    if not any(decl.name in have for decl in nested.inputs) and len(nested.inputs) == 1 \
            and nested.inputs[0].type.kind in ("str", "url", "unknown"):
        return  # this spec's inputs reach it as one text
    missing = [decl for decl in required if decl.name not in have]
    if missing:
        names = ", ".join(f"`{decl.name}: {decl.type.render()}`" for decl in missing)
        out.add("E219", f"step `{step.name}` runs `{step.target}`, which requires {names}; no input or output of "
                        "this spec has that name", _in_step(spec, step, step.target),
                hint="an agent step passes each input or output of the same name; declare it, or write it in an "
                     "earlier step's `outputs:`")


def shared_keywords(team: Spec, out: Collector) -> None:
    """A keyword that routes to more than one member (W217): keyword routing gives ties to the
    member listed first, so the later members never get that word's messages alone."""
    first: dict[str, Member] = {}
    for member in team.members:
        for word in dict.fromkeys(w.lower() for w in member.routes):
            owner = first.setdefault(word, member)
            if owner.name != member.name:
                out.add("W217", f"keyword `{word}` routes to both `{owner.name}` and `{member.name}`; "
                                f"a message whose best match is `{word}` goes to `{owner.name}`, listed first",
                        member.span, hint=f"give `{word}` to one member only")
