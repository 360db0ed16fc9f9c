"""Tools for running agents: the built-ins, spec bindings (`http:`, `python:`, `mcp:`) and
the runner that calls them.

```python
from agent_factory.runtime.tools import ToolConfig, ToolRunner, builtin_tools, resolve_tools

async with ToolRunner(resolve_tools(spec.tools), ToolConfig(workspace="work")) as runner:
    result = await runner.call("calculator", {"expression": "2 + 2"})
    result.ok, result.content, runner.tools_called  # True, 4, ["calculator"]
```

Importing this package imports none of its modules: each name above is imported from its
module on first use, so the compiler (which reads `builtin_tools()` and
`agent_factory.runtime.tools.model`) does not import the fetcher, the runner, asyncio or ssl.
httpx and the MCP SDK are imported only when a tool runs.
"""

from importlib import import_module

# exported name -> the module of this package that defines it
_EXPORTS = {
    "AllowList": "netpolicy",
    "FetchResponse": "fetch",
    "HttpConfig": "config",
    "McpServerConfig": "config",
    "Refused": "netpolicy",
    "SearchHit": "search",
    "SearchProvider": "search",
    "ToolCall": "runner",
    "ToolConfig": "config",
    "ToolContext": "context",
    "ToolError": "model",
    "ToolResult": "result",
    "ToolRunner": "runner",
    "ToolSpec": "model",
    "WebSearchConfig": "config",
    "WikipediaConfig": "config",
    "WikipediaProvider": "wikipedia",
    "binding_tool": "bindings",
    "builtin_tools": "builtin",
    "call_tool": "runner",
    "forbidden_reason": "netpolicy",
    "load_mcp_config": "config",
    "register_search_provider": "search",
    "register_wikipedia_provider": "wikipedia",
    "resolve_tools": "bindings",
    "safe_fetch": "fetch",
}

__all__ = [
    "AllowList",
    "FetchResponse",
    "HttpConfig",
    "McpServerConfig",
    "Refused",
    "SearchHit",
    "SearchProvider",
    "ToolCall",
    "ToolConfig",
    "ToolContext",
    "ToolError",
    "ToolResult",
    "ToolRunner",
    "ToolSpec",
    "WebSearchConfig",
    "WikipediaConfig",
    "WikipediaProvider",
    "binding_tool",
    "builtin_tools",
    "call_tool",
    "forbidden_reason",
    "load_mcp_config",
    "register_search_provider",
    "register_wikipedia_provider",
    "resolve_tools",
    "safe_fetch",
]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
