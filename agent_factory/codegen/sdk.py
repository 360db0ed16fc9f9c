"""Import the OpenHands software-agent SDK (the optional `openhands` extra), quietly.

The SDK is heavy (seconds to import) and optional, so it is imported only when a job
runs. Before the import its start-up banner and its automatic root-logger set-up are
turned off (a library must not reconfigure the host's logging), and litellm is told to
use its bundled cost map instead of fetching one.
"""

from __future__ import annotations

import os
from types import ModuleType

from .errors import INSTALL_HINT, MissingExtra


def import_sdk() -> ModuleType:
    """`openhands.sdk`, or `MissingExtra` saying how to install it."""
    os.environ.setdefault("OPENHANDS_SUPPRESS_BANNER", "1")
    os.environ.setdefault("LOG_AUTO_CONFIG", "false")
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    try:
        import openhands.sdk as sdk
    except ImportError as exc:
        raise MissingExtra(missing_message(exc)) from None
    return sdk


def missing_message(exc: ImportError) -> str:
    """What to tell a user whose environment lacks the SDK (or has a broken one)."""
    return (
        "running a code-generation job needs the OpenHands software-agent SDK (the optional "
        f"`openhands` extra), which could not be imported: {exc}\n"
        f"Install it with: {INSTALL_HINT}   (Python 3.12 or newer)"
    )
