"""The built-in tools as a plugin: `af_register_tools` returns the runtime's built-in
`ToolSpec`s (`agent_factory.runtime.tools.builtin_tools`), and `af_validate_spec` warns about
tools bound to code (W053).

The runtime's tool package owns the tools; this module only hands them to the registry.
Importing it stays cheap: the runtime package is imported inside the hook, which the names
pass calls once per pass manager, and building the table imports no HTTP or MCP library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent_factory.compiler import hookimpl
from agent_factory.compiler.diagnostics import make

if TYPE_CHECKING:
    from agent_factory.compiler.diagnostics import Diagnostic
    from agent_factory.compiler.ir import Spec, ToolRef
    from agent_factory.runtime.tools.model import ToolSpec


@hookimpl
def af_register_tools() -> list["ToolSpec"]:
    """Every built-in tool (web_search, wikipedia, http_fetch, current_time, calculator,
    read_file, write_file, list_directory), sorted by name."""
    from agent_factory.runtime.tools import builtin_tools

    return sorted(builtin_tools().values(), key=lambda tool: tool.name)


@hookimpl
def af_validate_spec(spec: "Spec", ctx: object) -> list["Diagnostic"]:
    """W053 for each `python:` or `mcp:` binding: a spec is data, but these run code with the
    permissions of whoever runs the spec, so they run only where the operator's configuration
    allows them (`[tools] allow_python` / `allow_mcp`)."""
    return [_code_binding(tool) for tool in spec.tools if _runs_code(tool)]


def _runs_code(tool: "ToolRef") -> bool:
    """A well-formed `python:` or `mcp:` binding (a malformed one is E051 already)."""
    if tool.binding is None or tool.binding.kind not in ("python", "mcp"):
        return False  # the binding modules (and asyncio) are imported only for specs that need them
    from agent_factory.runtime.tools import mcp_binding, python_binding

    parsers = {"python": python_binding.parse_target, "mcp": mcp_binding.parse_target}
    try:
        parsers[tool.binding.kind](tool.binding.target)
    except ValueError:
        return False
    return True


def _code_binding(tool: "ToolRef") -> "Diagnostic":
    binding = tool.binding
    assert binding is not None
    if binding.kind == "python":
        what, key, entry = f"calls `{binding.target}`", "allow_python", binding.target.partition(":")[0]
    else:
        server = binding.target.partition("/")[0]
        what, key, entry = f"calls MCP server `{server}`", "allow_mcp", server
    return make(
        "W053",
        f"tool `{tool.name}` {what}, which runs code with your permissions",
        binding.span,
        hint=f'it runs only where agent-factory.toml allows it: [tools] {key} = ["{entry}"]',
    )
