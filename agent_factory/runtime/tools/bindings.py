"""From the spec's tool list to `ToolSpec`s: bound tools get a spec from their binding,
the others come from the registry (built-ins and plugins)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib import import_module
from typing import TYPE_CHECKING

from .model import ToolSpec

if TYPE_CHECKING:
    from agent_factory.compiler.ir import ToolRef

# each kind's builder, imported when a binding of that kind is built: `check` builds bindings
# to read their schemas and must not import the fetcher (asyncio, ssl) or the MCP client with them
_BUILDERS = {"http": "http_binding:http_binding_tool", "mcp": "mcp_binding:mcp_binding_tool",
             "python": "python_binding:python_binding_tool"}


def binding_tool(ref: ToolRef) -> ToolSpec:
    """The `ToolSpec` of a tool bound in the spec (`http:`, `python:`, `mcp:`); `ValueError`
    when the binding is malformed (the compiler reports these as diagnostics first)."""
    if ref.binding is None:
        raise ValueError(f"tool '{ref.name}' has no binding")
    module, name = _BUILDERS[ref.binding.kind].split(":")
    return getattr(import_module(f".{module}", __package__), name)(ref)


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
