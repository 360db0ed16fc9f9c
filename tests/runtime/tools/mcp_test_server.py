"""A tiny MCP stdio server for the tool tests, written with the official SDK.

Run as `python mcp_test_server.py`. Works with mcp 1.x (`FastMCP`) and 2.x (`MCPServer`).
"""

from __future__ import annotations

import asyncio
import os

try:
    from mcp.server.mcpserver import MCPServer as Server  # mcp 2.x
except ImportError:
    from mcp.server.fastmcp import FastMCP as Server  # mcp 1.x
from mcp.types import CallToolResult

server = Server("demo")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def shout(text: str):
    """Upper-case a text (no return annotation: plain text content)."""
    return text.upper()


@server.tool()
def whoami() -> int:
    """The server's process id, to see that one process serves many calls."""
    return os.getpid()


@server.tool()
def env(name: str) -> str:
    """An environment variable of the server process."""
    return os.environ.get(name, "<unset>")


@server.tool()
def refuse(reason: str) -> CallToolResult:
    """Fail the way MCP tools report failures: a result with isError set."""
    return CallToolResult.model_validate({"content": [{"type": "text", "text": reason}], "isError": True})


@server.tool()
async def nap(seconds: float) -> str:
    """Sleep, for timeout tests."""
    await asyncio.sleep(seconds)
    return "rested"


if __name__ == "__main__":
    server.run("stdio")
