"""Tools for running agents: the built-ins, spec bindings (`http:`, `python:`, `mcp:`) and
the runner that calls them.

```python
from agent_factory.runtime.tools import ToolConfig, ToolRunner, builtin_tools, resolve_tools

async with ToolRunner(resolve_tools(spec.tools), ToolConfig(workspace="work")) as runner:
    result = await runner.call("calculator", {"expression": "2 + 2"})
    result.ok, result.content, runner.tools_called  # True, 4, ["calculator"]
```

Importing this package is cheap: httpx and the MCP SDK are imported when a tool runs.
"""

from .bindings import binding_tool, resolve_tools
from .builtin import builtin_tools
from .config import HttpConfig, McpServerConfig, ToolConfig, WebSearchConfig, WikipediaConfig, load_mcp_config
from .context import ToolContext
from .fetch import FetchResponse, safe_fetch
from .model import ToolError, ToolResult, ToolSpec
from .netpolicy import AllowList, Refused, forbidden_reason
from .runner import ToolCall, ToolRunner, call_tool
from .search import SearchHit, SearchProvider, register_search_provider
from .wikipedia import WikipediaProvider, register_wikipedia_provider

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
