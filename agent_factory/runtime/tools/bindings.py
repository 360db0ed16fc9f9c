"""From the spec's tool list to `ToolSpec`s: bound tools get a spec from their binding,
the others come from the registry (built-ins and plugins)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from .http_binding import http_binding_tool
from .mcp_binding import mcp_binding_tool
from .model import ToolSpec
from .python_binding import python_binding_tool

if TYPE_CHECKING:
    from agent_factory.compiler.ir import ToolRef

_BUILDERS = {"http": http_binding_tool, "mcp": mcp_binding_tool, "python": python_binding_tool}


def binding_tool(ref: ToolRef) -> ToolSpec:
    """The `ToolSpec` of a tool bound in the spec (`http:`, `python:`, `mcp:`); `ValueError`
    when the binding is malformed (the compiler reports these as diagnostics first)."""
    if ref.binding is None:
        raise ValueError(f"tool '{ref.name}' has no binding")
    return _BUILDERS[ref.binding.kind](ref)


def resolve_tools(refs: Iterable[ToolRef], registry: Mapping[str, ToolSpec] | None = None) -> dict[str, ToolSpec]:
    """The tools of a spec by name: bindings built, registry tools looked up (default: the
    built-ins). An unknown unbound tool is a `KeyError`, since `check` rejects such specs."""
    if registry is None:
        from .builtin import builtin_tools

        registry = builtin_tools()
    tools: dict[str, ToolSpec] = {}
    for ref in refs:
        if ref.binding is not None:
            tools[ref.name] = binding_tool(ref)
        elif ref.name in registry:
            tools[ref.name] = registry[ref.name]
        else:
            raise KeyError(f"tool '{ref.name}' is neither bound nor registered")
    return dict(sorted(tools.items()))
