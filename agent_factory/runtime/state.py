"""The run state of a spec's graph, and the typed models of what its steps write.

`state_schema(plan, spec)` is the LangGraph state: one channel per input, declared output and
workflow output, plus the run's bookkeeping channels (node visits, steps done, tools called, the
team route, guard results, staged outputs) and `messages` (the conversation, for chat views).
Every channel keeps the last value written, and several nodes may write in one superstep
(parallel branches), so nothing depends on which finished first.

Declared outputs are *staged*: steps write them to `__staged__`, and only the guard node, once
the MUST invariants hold, copies them to the output channels, so an output that fails a guard
never leaves the graph (not in a stream, not in a thread's state). `input_schema` and
`output_schema` are what LangGraph's tooling shows: the declared inputs, and the declared outputs
plus the guard results.

`output_model(name, fields)` is the pydantic model of a step's structured output, built from the
declared types (`str int float bool url list enum`, ranges as minimum/maximum); its JSON schema is
the `response_format` the model is asked for, and the same model validates the answer.
"""

from __future__ import annotations

import copy
from functools import lru_cache

from decimal import Decimal
from typing import Annotated, Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field, create_model

from agent_factory.compiler import GraphPlan, Spec
from agent_factory.compiler.ir import FieldDecl, TypeRef

VISITS = "__visits__"
STEPS = "__steps__"
TOOLS = "__tools__"
GUARDS = "__guards__"
STAGED = "__staged__"
REFUSED = "__refused__"
MESSAGES = "messages"
ROUTE = "route"
RESET = "__reset__"
"""Written to a bookkeeping channel at the start of a run, it empties it (a thread's next run
starts counting again)."""


def _last(_old: Any, new: Any) -> Any:
    return new


def _count(old: dict[str, int] | None, new: dict[str, int] | str | None) -> dict[str, int]:
    if new == RESET:
        return {}
    merged = dict(old or {})
    for name, visits in (new or {}).items():  # type: ignore[union-attr]
        merged[name] = merged.get(name, 0) + visits
    return merged


def _merge(old: dict[str, Any] | None, new: dict[str, Any] | str | None) -> dict[str, Any]:
    if new == RESET:
        return {}
    return {**(old or {}), **(new or {})}  # type: ignore[dict-item]


def _append(old: list[Any] | None, new: list[Any] | str | None) -> list[Any]:
    if new == RESET:
        return []
    return [*(old or []), *(new or [])]


def field_names(plan: GraphPlan, spec: Spec) -> list[str]:
    """Every data channel: inputs, declared outputs, workflow step outputs, sorted."""
    names = set(plan.inputs) | set(plan.outputs)
    for node in plan.nodes:
        names.update(node.options.get("outputs", ()))
    if spec.kind == "team":
        names.add(ROUTE)
    return sorted(names)


BOOKKEEPING = (VISITS, STEPS, TOOLS, GUARDS, STAGED, REFUSED)
"""The channels that belong to one run: emptied when a run starts on a thread."""


def conversation(plan: GraphPlan, spec: Spec) -> bool:
    """Whether the graph keeps the conversation in `messages`: a spec field of that name wins
    (it is the spec's to write), and then there is no conversation channel."""
    return MESSAGES not in field_names(plan, spec)


def _channels(plan: GraphPlan, spec: Spec) -> dict[str, Any]:
    """Every channel of the state with its type and reducer."""
    from langgraph.graph.message import add_messages  # here: importing this module needs no langgraph

    fields: dict[str, Any] = {name: Annotated[Any, _last] for name in field_names(plan, spec)}
    fields[VISITS] = Annotated[dict, _count]
    fields[STEPS] = Annotated[list, _append]
    fields[TOOLS] = Annotated[list, _append]
    fields[GUARDS] = Annotated[list, _last]
    fields[STAGED] = Annotated[dict, _merge]
    fields[REFUSED] = Annotated[Any, _last]
    if conversation(plan, spec):
        fields[MESSAGES] = Annotated[list, add_messages]
    return fields


def state_keys(plan: GraphPlan, spec: Spec) -> list[str]:
    """Every channel's name: what `agent-factory run` reads back from a finished graph."""
    return list(_channels(plan, spec))


def _typed_dict(name: str, fields: dict[str, Any]) -> type:
    return TypedDict(name, fields, total=False)  # type: ignore[operator]


def state_schema(plan: GraphPlan, spec: Spec) -> type:
    """The LangGraph state TypedDict of `plan`."""
    return _typed_dict(f"{_ident(plan.spec_name)}State", _channels(plan, spec))


def input_schema(plan: GraphPlan, spec: Spec) -> type:
    """What a run starts with: the declared inputs, `messages` (a chat view sends those), and the
    channels a new run empties (`graph.fresh_run`). What callers are told they may send is the
    typed model `graph.io_models` builds; inputs are checked against it before a run starts."""
    channels = _channels(plan, spec)
    chat = (MESSAGES,) if conversation(plan, spec) else ()
    names = dict.fromkeys((*plan.inputs, *chat, *plan.outputs, *BOOKKEEPING))
    return _typed_dict(f"{_ident(plan.spec_name)}Input", {k: channels[k] for k in names})


def output_schema(plan: GraphPlan, spec: Spec) -> type:
    """What leaves the graph: the declared outputs, the guard results and the conversation."""
    channels = _channels(plan, spec)
    chat = (MESSAGES,) if conversation(plan, spec) else ()
    return _typed_dict(f"{_ident(plan.spec_name)}Output", {k: channels[k] for k in (*plan.outputs, GUARDS, *chat)})


def _ident(name: str) -> str:
    return "".join(part.capitalize() for part in "".join(c if c.isalnum() else " " for c in name).split()) or "Spec"


# ---------------------------------------------------------------- structured outputs


def field_decl(spec: Spec, name: str) -> FieldDecl | None:
    """The declared output (or input) called `name`; workflow-only outputs are undeclared (text)."""
    return spec.field(name)


def python_type(ref: TypeRef | None) -> tuple[Any, dict[str, Any]]:
    """The Python annotation and `Field` constraints of a declared type (text when undeclared)."""
    if ref is None:
        return str, {}
    kind = ref.kind
    if kind == "list":
        item, _ = python_type(ref.item)
        return list[item], {}  # type: ignore[valid-type]
    if kind == "enum":
        return Literal[tuple(ref.members)], {}  # type: ignore[return-value]
    if kind in ("int", "float"):
        return (int if kind == "int" else float), _bounds(ref, int if kind == "int" else float)
    if kind == "bool":
        return bool, {}
    if kind == "url":
        return str, {"pattern": r"^https?://\S+$"}
    return str, {}


def _bounds(ref: TypeRef, cast: type) -> dict[str, Any]:
    bounds: dict[str, Any] = {}
    if ref.minimum is not None:
        bounds["ge"] = cast(Decimal(ref.minimum))
    if ref.maximum is not None:
        bounds["le"] = cast(Decimal(ref.maximum))
    return bounds


def output_model(name: str, spec: Spec, outputs: list[str]) -> type[BaseModel]:
    """The pydantic model of the JSON object a step answers with: one field per output
    (built once per spec, step and outputs: building a model costs half a millisecond)."""
    # keyed by the spec's identity (path and hashes), not the spec: hashing a whole spec is slower
    key = (spec.path, spec.sha256, spec.constitution.sha256 if spec.constitution else None, name, tuple(outputs))
    model = _MODELS.get(key)
    if model is None:
        model = _MODELS[key] = _build_output_model(name, spec, outputs)
    return model


_MODELS: dict[tuple, type[BaseModel]] = {}


def _build_output_model(name: str, spec: Spec, outputs: list[str]) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for output in outputs:
        decl = field_decl(spec, output)
        annotation, constraints = python_type(decl.type if decl else None)
        description = decl.description if decl else ""
        optional = bool(decl and decl.type.optional)
        if optional:
            fields[output] = (annotation | None, Field(None, description=description, **constraints))
        else:
            fields[output] = (annotation, Field(..., description=description, **constraints))
    config = ConfigDict(extra="ignore")
    return create_model(f"{_ident(name)}Output", __config__=config, **fields)  # type: ignore[call-overload]


def response_format(name: str, model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAI `response_format` asking for `model`'s JSON schema (a fresh dict each call;
    the schema itself is computed once per model)."""
    return {"type": "json_schema", "json_schema": {"name": name, "schema": copy.deepcopy(_schema(model))}}


@lru_cache(maxsize=512)
def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()
