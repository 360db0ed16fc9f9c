"""The process exit codes of every `agent-factory` command."""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    """Process exit codes, the same for every command."""

    OK = 0
    ERRORS = 1
    USAGE = 2
