"""Prompts: the system prompt of a spec, a step's user prompt, and the repair request.

The system prompt says, in order: the Purpose; the in-scope tasks; the out-of-scope items as
refusal rules; the rules the model must follow — the spec's invariants without a `check:` (a
check is enforced by a guard, not by asking) and every invariant inherited from the constitution;
and the shape of the answer (a JSON object with the step's output fields).

A step prompt's `{name}` / `{a.b}` placeholders are filled from the run state (text as it is,
anything else as JSON); `{{` and `}}` stand for literal braces. An optional field (`name: type?`)
that has no value is empty text: the compiler accepts `{name}` for it, so the run must too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from typing import Any

from agent_factory.compiler import Spec

from .errors import AgentRuntimeError

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\}")


class PromptError(AgentRuntimeError):
    """A prompt template names a value the run does not have."""


def system_prompt(spec: Spec, outputs: list[str] | None = None) -> str:
    """The system prompt of `spec`; with `outputs`, ends with the JSON answer instruction."""
    parts = [f"You are {spec.name}."]
    if spec.purpose and spec.purpose.text.strip():
        parts.append(spec.purpose.text.strip())
    in_scope = [item.text for item in spec.scope if item.included]
    out_scope = [item.text for item in spec.scope if not item.included]
    if in_scope:
        parts.append("You help with:\n" + "\n".join(f"- {text}" for text in in_scope))
    if out_scope:
        parts.append("Politely refuse any request to do the following, and say that it is out of scope:\n"
                     + "\n".join(f"- {text}" for text in out_scope))
    rules = [inv for inv in spec.invariants if inv.check is None or inv.origin != "spec"]
    if rules:
        parts.append("Rules you always follow:\n" + "\n".join(
            f"- {inv.id} {inv.title}: {inv.modality or 'MUST'} {inv.text}".replace("  ", " ") for inv in rules))
    if outputs:
        parts.append(answer_instruction(outputs))
    return "\n\n".join(parts)


def answer_instruction(outputs: list[str]) -> str:
    """How the final answer must look."""
    names = ", ".join(outputs)
    return f"When you give your final answer, reply with one JSON object only, with the fields: {names}."


def optional_fields(spec: Spec) -> frozenset[str]:
    """The inputs and outputs of `spec` declared optional (`name: type?`)."""
    return frozenset(f.name for f in (*spec.inputs, *spec.outputs) if f.type.optional)


def fill(template: str, values: Mapping[str, Any], *, step: str, where: str,
         optional: Collection[str] = ()) -> str:
    """`template` with its placeholders filled from `values`; a field named in `optional` that
    has no value is empty text; `PromptError` names any other missing one."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        value = _lookup(values, match.group(1))
        if value is None and match.group(1).split(".")[0] in optional:
            return ""
        if value is None:
            known = ", ".join(sorted(k for k in values if not k.startswith("__"))) or "none"
            raise PromptError(f"step '{step}' ({where}): the prompt names {{{match.group(1)}}}, "
                              f"which has no value yet (values: {known})")
        return render_value(value)

    return _PLACEHOLDER.sub(replace, template)


def _lookup(values: Mapping[str, Any], dotted: str) -> Any:
    value: Any = values
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else getattr(value, part, None)
        if value is None:
            return None
    return value


def render_value(value: Any) -> str:
    """A value as prompt text: text as it is, numbers without noise, the rest as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def inputs_prompt(inputs: Mapping[str, Any], names: tuple[str, ...]) -> str:
    """The user message of a step without a prompt: the input text, or `name: value` lines."""
    present = [name for name in names if inputs.get(name) is not None]
    if len(present) == 1:
        return render_value(inputs[present[0]])
    return "\n".join(f"{name}: {render_value(inputs[name])}" for name in present)


def repair_message(problem: str) -> str:
    """The user message sent back once when an answer was not valid structured output."""
    return (f"Your answer could not be used: {problem}\n"
            "Reply again with one JSON object only, matching the requested schema exactly.")
