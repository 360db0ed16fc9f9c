"""Reading and writing the files of a tool tape: one recorded tool result per file, beside the
LLM cassettes (`<dir>/tools/<tool>-<key>.json`).

A tape is a local file anyone can edit, truncate or replace, so reading one never ends in a
traceback: anything that is not a recorded result is a `ToolTapeError` naming the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent_factory.runtime.errors import AgentRuntimeError

from .result import ToolResult

_RECORD_AGAIN = "record it again with --record"


class ToolTapeError(AgentRuntimeError):
    """A tool tape file cannot be read or written; the message names the file."""


def read_recorded(path: Path) -> ToolResult:
    """The tool result recorded in `path`."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise ToolTapeError(f"cannot read the tool tape {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ToolTapeError(f"the tool tape {path} is not UTF-8 text (byte {exc.start}); {_RECORD_AGAIN}") from None
    except json.JSONDecodeError as exc:
        raise ToolTapeError(f"the tool tape {path} is not valid JSON ({exc}); {_RECORD_AGAIN}") from None
    except RecursionError:
        raise ToolTapeError(f"the tool tape {path} is nested too deeply to read; {_RECORD_AGAIN}") from None
    if not isinstance(data, dict) or "result" not in data:
        raise ToolTapeError(f"the tool tape {path} has no 'result' object; {_RECORD_AGAIN}")
    try:
        return ToolResult.model_validate(data["result"])
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'result'}: {e['msg']}" for e in exc.errors())
        raise ToolTapeError(f"the tool tape {path} holds an invalid result ({problems}); {_RECORD_AGAIN}") from None


def write_recorded(path: Path, body: dict[str, Any]) -> None:
    """Write one recorded call (keys in their order: the result's text must replay byte for byte)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ToolTapeError(f"cannot write the tool tape {path}: {exc.strerror or exc}") from None
