"""The `current_time` built-in: the context's clock, shown in an IANA time zone."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .model import ToolError

if TYPE_CHECKING:
    from .context import ToolContext


def zone(name: str) -> ZoneInfo:
    """The time zone called `name` ("UTC", "Europe/Paris"), or a `ToolError`."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # ValueError: names like "../x" or ""
        raise ToolError(f"unknown time zone {name!r}; use an IANA name such as 'UTC' or 'Europe/Paris'") from None


async def current_time_tool(args: dict[str, Any], ctx: ToolContext) -> dict[str, str]:
    """The current date and time in `timezone`: ISO 8601 text, UTC offset and weekday."""
    now = ctx.clock().astimezone(zone(args["timezone"]))
    offset = now.strftime("%z")
    return {
        "timezone": args["timezone"],
        "datetime": now.isoformat(timespec="seconds"),
        "utc_offset": f"{offset[:3]}:{offset[3:]}",
        "weekday": now.strftime("%A"),
    }
