"""The built-in tools as a plugin: `af_register_tools` returns the runtime's built-in
`ToolSpec`s (`agent_factory.runtime.tools.builtin_tools`).

The runtime's tool package owns the tools; this module only hands them to the registry.
Importing it stays cheap: the runtime package is imported inside the hook, which the names
pass calls once per pass manager, and building the table imports no HTTP or MCP library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent_factory.compiler import hookimpl

if TYPE_CHECKING:
    from agent_factory.runtime.tools.model import ToolSpec


@hookimpl
def af_register_tools() -> list["ToolSpec"]:
    """Every built-in tool (web_search, wikipedia, http_fetch, current_time, calculator,
    read_file, write_file, list_directory), sorted by name."""
    from agent_factory.runtime.tools import builtin_tools

    return sorted(builtin_tools().values(), key=lambda tool: tool.name)
