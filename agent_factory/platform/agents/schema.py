"""JSON Schema of a spec's declared inputs or outputs, from the runtime's own type mapping."""

from __future__ import annotations

from typing import Any

from pydantic import Field, create_model

from agent_factory.compiler.ir import FieldDecl
from agent_factory.runtime.state import python_type


def fields_schema(fields: tuple[FieldDecl, ...]) -> dict[str, Any]:
    """An object schema with one property per field; optional (`?`) fields are not required."""
    definitions: dict[str, Any] = {}
    for decl in fields:
        annotation, constraints = python_type(decl.type)
        if decl.type.optional:
            definitions[decl.name] = (annotation | None, Field(None, description=decl.description or None, **constraints))
        else:
            definitions[decl.name] = (annotation, Field(..., description=decl.description or None, **constraints))
    model = create_model("Fields", **definitions)  # type: ignore[call-overload]
    schema = model.model_json_schema()
    schema.pop("title", None)
    return schema
