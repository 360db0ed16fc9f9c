"""The one exception family of the codegen package.

Every problem a user can fix (a missing job folder, a missing extra, no model configured)
is a `CodegenError` with a message that says what was found and what to do; the click
commands turn it into a one-line error and an exit code, never a traceback.
"""

from __future__ import annotations

INSTALL_HINT = "pip install 'agent-factory[openhands]'"


class CodegenError(Exception):
    """A problem with a job, a workspace or the configuration, worded for the user."""


class MissingExtra(CodegenError):
    """The optional `openhands` extra (the OpenHands software-agent SDK) is not installed."""


class UnsupportedSpec(CodegenError, ValueError):
    """A spec that the OpenHands backend cannot turn into a job (a Team or a Constitution)."""
