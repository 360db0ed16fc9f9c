"""`ToolContext`: what a tool call may use besides its arguments.

One context lives as long as one run: it holds the configuration, the clock and DNS
resolver (replaceable in tests), provider overrides, and the MCP server connections,
which it starts on first use and stops in `aclose`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .config import ToolConfig

if TYPE_CHECKING:
    from .mcp_binding import McpPool

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""Resolves (host, port) to IP address strings; the default uses the system resolver."""


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


@dataclass
class ToolContext:
    """Per-run state for tools: `config`, `clock`, `resolver` (None: system DNS),
    `providers` (provider objects by tool name, overriding the configured ones; used by
    plugins and tests), and the lazily started MCP connections."""

    config: ToolConfig = field(default_factory=ToolConfig)
    clock: Callable[[], datetime] = utc_now
    resolver: Resolver | None = None
    providers: dict[str, Any] = field(default_factory=dict)
    _mcp: McpPool | None = field(default=None, init=False, repr=False)

    def mcp(self) -> McpPool:
        """The MCP connections of this run, created on first use."""
        if self._mcp is None:
            from .mcp_binding import McpPool

            self._mcp = McpPool(self.config.mcp_servers)
        return self._mcp

    async def aclose(self) -> None:
        """Stop every MCP server this context started."""
        if self._mcp is not None:
            await self._mcp.aclose()
            self._mcp = None

    async def __aenter__(self) -> ToolContext:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
