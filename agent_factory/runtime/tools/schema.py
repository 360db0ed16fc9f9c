"""JSON Schema for tool arguments: small builders and a validator for the subset tools use.

Tool argument schemas are flat objects of scalar (or list/object) properties. Validating
them here, rather than with a full JSON Schema library, keeps the messages short and
meant for a model to act on ("missing required argument 'query'"), and keeps imports light.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

_NO_DEFAULT = object()

_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "array": "a list",
    "object": "an object",
    "null": "null",
}


def arg(type_: str | list[str], description: str, default: Any = _NO_DEFAULT, **extra: Any) -> dict[str, Any]:
    """One property schema: JSON `type_`, `description`, optional `default` and extra keywords
    (`enum`, `minimum`, `maximum`, `items`)."""
    prop: dict[str, Any] = {"type": type_, "description": description}
    if default is not _NO_DEFAULT:
        prop["default"] = default
    prop.update(extra)
    return prop


def object_schema(properties: dict[str, dict[str, Any]], *, open_: bool = False) -> dict[str, Any]:
    """An arguments object. Properties without a `default` are required; `open_` allows
    arguments beyond the listed ones."""
    required = [name for name, prop in properties.items() if "default" not in prop]
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": open_}


def validate_args(schema: Mapping[str, Any], args: Mapping[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """Check `args` against an object `schema`: every problem found (all of them, in argument
    order) and the arguments with defaults filled in."""
    properties: Mapping[str, Any] = schema.get("properties", {})
    problems = [f"missing required argument '{name}'" for name in schema.get("required", ()) if name not in args]
    clean: dict[str, Any] = {}
    for name, value in args.items():
        prop = properties.get(name)
        if prop is None:
            if schema.get("additionalProperties", True) is False:
                problems.append(_unknown(name, properties))
            else:
                clean[name] = value
            continue
        problem, clean[name] = _check_value(name, prop, value)
        if problem:
            problems.append(problem)
    for name, prop in properties.items():
        if name not in clean and "default" in prop:
            clean[name] = prop["default"]
    return problems, clean


def _unknown(name: str, properties: Mapping[str, Any]) -> str:
    """The message for an argument the schema does not know, with "did you mean"."""
    close = difflib.get_close_matches(name, list(properties), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    expected = ", ".join(properties) or "none"
    return f"unknown argument '{name}'{hint} (expected: {expected})"


def _check_value(name: str, prop: Mapping[str, Any], value: Any) -> tuple[str | None, Any]:
    """Check one value against its property schema; returns (problem, value as coerced)."""
    types = prop.get("type")
    if types is not None:
        allowed = [types] if isinstance(types, str) else list(types)
        matched = next((t for t in allowed if _is_type(value, t)), None)
        if matched is None:
            wanted = " or ".join(_TYPE_NAMES.get(t, t) for t in allowed)
            return f"argument '{name}' must be {wanted}, got {_json_type(value)}", value
        if matched == "integer" and isinstance(value, float):
            value = int(value)  # JSON has one number type; 5.0 is a fine integer
    if "enum" in prop and value not in prop["enum"]:
        options = ", ".join(str(option) for option in prop["enum"])
        return f"argument '{name}' must be one of {options}, got {value!r}", value
    return _check_range(name, prop, value), value


def _check_range(name: str, prop: Mapping[str, Any], value: Any) -> str | None:
    """`minimum` / `maximum` of numeric properties."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    if "minimum" in prop and value < prop["minimum"]:
        return f"argument '{name}' must be at least {prop['minimum']}, got {value}"
    if "maximum" in prop and value > prop["maximum"]:
        return f"argument '{name}' must be at most {prop['maximum']}, got {value}"
    return None


def _is_type(value: Any, json_type: str) -> bool:
    """Whether a Python value is of a JSON Schema type (bool is not a number here)."""
    if json_type == "string":
        return isinstance(value, str)
    if json_type == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if json_type == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if json_type == "boolean":
        return isinstance(value, bool)
    if json_type == "array":
        return isinstance(value, (list, tuple))
    if json_type == "object":
        return isinstance(value, Mapping)
    if json_type == "null":
        return value is None
    return True


def _json_type(value: Any) -> str:
    """The JSON name of a Python value's type, for messages."""
    for json_type in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _is_type(value, json_type):
            return json_type
    return type(value).__name__
