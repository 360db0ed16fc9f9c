"""Example inputs (validate stage): every Example gives the spec's inputs by their declared
names, each required input, and values of the declared types (E309), so `agent-factory test`
runs the example instead of failing on its input."""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation

from agent_factory.compiler import hookimpl
from agent_factory.compiler.diagnostics import Collector, did_you_mean
from agent_factory.compiler.ir import Example, FieldDecl, Spec, TypeRef
from agent_factory.compiler.passes import CompileContext, Pass, PassResult
from agent_factory.compiler.typing_ import word_span

_NAMED = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):\s+\S")
_BOOLS = {"true", "false", "yes", "no", "on", "off", "1", "0"}
_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)
_BLOCK_LINES = 30  # how far below its heading an example's input lines are looked for


@hookimpl
def af_register_passes() -> list[Pass]:
    return [Pass(name="examples", stage="validate", order=35, run=run)]


def run(spec: Spec, ctx: CompileContext) -> PassResult:
    out = Collector()
    if spec.kind in ("agent", "team"):
        inputs = spec.inputs or ()
        for example in spec.examples:
            if example.fields:
                fields(spec, example, inputs, out)
            elif example.input is not None:
                text(spec, example, inputs, out)
    return PassResult(diagnostics=tuple(out.items))


def fields(spec: Spec, example: Example, inputs: tuple[FieldDecl, ...], out: Collector) -> None:
    """`- name: value` inputs: known names, every required input, values that fit."""
    declared = {decl.name: decl for decl in inputs} or {"query": None}
    for name, value in example.fields:
        where = word_span(example.span, name, spec.sha256, lines_after=_BLOCK_LINES)
        if name not in declared:
            out.add("E309", f"example `{example.title}` gives `{name}`, which is not an input", where,
                    hint=did_you_mean(name, declared) or "inputs: " + ", ".join(declared))
        elif declared[name] is not None and (problem := misfit(declared[name].type, value)):
            out.add("E309", f"example `{example.title}` gives `{name}` the value `{value}`, {problem}", where,
                    hint=f"give `{name}` a value of its type `{declared[name].type.render()}`")
    given = {name for name, _ in example.fields}
    missing = [decl for decl in inputs if not decl.type.optional and decl.name not in given]
    if missing:
        listed = ", ".join(f"`{decl.name}: {decl.type.render()}`" for decl in missing)
        out.add("E309", f"example `{example.title}` does not give the required input{'s' if len(missing) > 1 else ''} "
                        f"{listed}", example.span, hint="add a `- name: value` line under `**Input:**` for each")


def text(spec: Spec, example: Example, inputs: tuple[FieldDecl, ...], out: Collector) -> None:
    """A one-line input: the text of a spec's only input, or a JSON object of several."""
    required = [decl for decl in inputs if not decl.type.optional]
    if len(inputs) <= 1 or _json_object(example.input):
        if len(inputs) == 1 and (problem := misfit(inputs[0].type, example.input)):
            out.add("E309", f"example `{example.title}` gives `{inputs[0].name}` the value `{example.input}`, {problem}",
                    example.span, hint=f"give a value of its type `{inputs[0].type.render()}`")
        return
    named = _NAMED.match(example.input)
    if named and named.group(1) not in {decl.name for decl in inputs}:
        message = f"example `{example.title}` gives `{named.group(1)}`, which is not an input"
        hint = did_you_mean(named.group(1), [decl.name for decl in inputs]) or "inputs: " + ", ".join(d.name for d in inputs)
    elif not named or len(required) > 1:
        names = ", ".join(f"`{decl.name}`" for decl in inputs)
        message = f"example `{example.title}` gives one text, but the spec takes several inputs ({names})"
        hint = "give each input on its own line: `**Input:**` followed by `- name: value` bullets"
    else:
        return
    out.add("E309", message, example.span, hint=hint)


def misfit(ref: TypeRef, value: str) -> str | None:
    """Why `value` (as written in an example) is not a value of `ref`, or None when it is."""
    if ref.kind == "enum":
        return None if value in ref.members else f"which is not one of {'|'.join(ref.members)}"
    if ref.kind == "bool":
        return None if value.lower() in _BOOLS else "which is not true or false"
    if ref.kind == "url":
        return None if _URL.match(value) else "which is not an http(s) URL"
    if ref.kind in ("int", "float"):
        return _number_misfit(ref, value)
    if ref.kind == "list":
        return None if _json_list(value) else "which is not a JSON list such as `[\"a\", \"b\"]`"
    return None


def _number_misfit(ref: TypeRef, value: str) -> str | None:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return f"which is not {'a whole number' if ref.kind == 'int' else 'a number'}"
    if not number.is_finite() or (ref.kind == "int" and number != number.to_integral_value()):
        return f"which is not {'a whole number' if ref.kind == 'int' else 'a number'}"
    if (ref.minimum is not None and number < ref.minimum) or (ref.maximum is not None and number > ref.maximum):
        return f"which is outside {ref.minimum if ref.minimum is not None else ''}..{ref.maximum if ref.maximum is not None else ''}"
    return None


def _json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def _json_list(text: str) -> bool:
    try:
        return isinstance(json.loads(text), list)
    except ValueError:
        return False
