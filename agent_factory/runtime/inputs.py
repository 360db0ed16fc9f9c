"""A run's inputs: given as a mapping, JSON object text, plain text (a one-input spec) or a chat
message; checked against the spec's Inputs and converted to their declared types before anything
runs. Every problem is an `InputError` (a `ValueError`) naming the field, the same wherever the
run starts: `agent-factory run`, `graph.invoke`, LangGraph's server, the hosted API.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from agent_factory.compiler import GraphPlan, Spec

from .state import MESSAGES


class InputError(ValueError):
    """The inputs do not fit the spec; the message names each field and what is wrong."""


def graph_input(value: Any, plan: GraphPlan, spec: Spec) -> dict[str, Any]:
    """What a compiled graph was invoked with, as checked, typed inputs: a mapping of inputs
    (`messages` alone stands for the only input of a chat-shaped spec), or text."""
    if isinstance(value, Mapping):
        given = {k: v for k, v in value.items() if k != MESSAGES or MESSAGES in plan.inputs}
        if not given and value.get(MESSAGES):
            given = {plan.inputs[0]: _last_human_text(value[MESSAGES])} if len(plan.inputs) == 1 else {}
        return typed_inputs(spec, normalise_inputs(given, plan, spec=spec))
    if isinstance(value, str):
        return typed_inputs(spec, normalise_inputs(value, plan, spec=spec))
    raise InputError(f"the input must be an object with {', '.join(plan.inputs)}, not {type(value).__name__}")


def _last_human_text(messages: Any) -> str:
    """The text of the last message a person sent (LangChain messages, their dict form, or text)."""
    for message in reversed(messages if isinstance(messages, (list, tuple)) else [messages]):
        if isinstance(message, str):
            return message
        if isinstance(message, Mapping):
            role, content = message.get("role") or message.get("type"), message.get("content")
        else:
            role, content = getattr(message, "type", None), getattr(message, "content", None)
        if role in ("human", "user") and isinstance(content, str):
            return content
    raise InputError("messages: no message from the user to answer")


def normalise_inputs(inputs: Mapping[str, Any] | str | None, plan: GraphPlan, *, resuming: bool = False,
                     spec: Spec | None = None) -> dict[str, Any]:
    """Inputs as a dict: a mapping as it is, JSON object text parsed, other text given to the
    spec's only input. Every required input must be present (unless resuming a thread with none);
    inputs declared optional (`?`) may be left out."""
    if inputs is None or inputs == "" or (isinstance(inputs, Mapping) and not inputs):
        if resuming:
            return {}
        raise InputError(f"no inputs given; this spec takes: {', '.join(plan.inputs)}")
    values = dict(inputs) if isinstance(inputs, Mapping) else _from_text(str(inputs), plan)
    optional = {f.name for f in spec.inputs if f.type.optional} if spec is not None else set()
    missing = [name for name in plan.inputs if values.get(name) in (None, "") and name not in optional]
    unknown = [name for name in values if name not in plan.inputs]
    if missing or unknown:
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + ([f"unknown {', '.join(unknown)}"] if unknown else [])
        raise InputError(f"inputs do not match the spec ({'; '.join(parts)}); it takes: {', '.join(plan.inputs)}")
    return values


def typed_inputs(spec: Spec, values: dict[str, Any]) -> dict[str, Any]:
    """The inputs converted to their declared types (`"3"` → 3 for an `int`), or an InputError
    naming each input that does not fit (`count: int[0..10]` given 42)."""
    from pydantic import ValidationError

    from .state import output_model

    if not values:
        return values
    model = output_model("inputs", spec, sorted(values))
    try:
        return model.model_validate(values).model_dump()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise InputError(f"inputs do not fit their declared types: {problems}") from None


def _from_text(text: str, plan: GraphPlan) -> dict[str, Any]:
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise InputError(f"the input looks like JSON but is not valid: {exc}") from None
        except RecursionError:
            raise InputError("the input JSON is nested too deeply to read") from None
        if isinstance(data, dict):
            return data
    if len(plan.inputs) == 1:
        return {plan.inputs[0]: text}
    raise InputError(f"this spec takes several inputs ({', '.join(plan.inputs)}); give them as a JSON object")


