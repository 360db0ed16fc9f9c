"""What a tool call returns: `ToolResult`, a pydantic model (tool tapes are read back into it
and checked). Apart from `ToolSpec` so that reading the tools, as `check` does, imports no pydantic."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict


class ToolResult(BaseModel):
    """The outcome of one tool call: `ok`, the `content` on success (JSON-able), the `error`
    message on failure, and the wall-clock `latency_s`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ok: bool
    content: Any = None
    error: str | None = None
    latency_s: float = 0.0

    def text(self) -> str:
        """The result as the text handed back to a model: strings as they are, other
        content as JSON, failures as `error: <message>`."""
        if not self.ok:
            return f"error: {self.error}"
        if isinstance(self.content, str):
            return self.content
        return json.dumps(self.content, ensure_ascii=False, default=str)
