"""Shared fixtures of the runtime tests: litellm imported offline, quiet."""

from __future__ import annotations

import os

import pytest

# Before anything imports litellm: use the bundled cost map, never fetch it.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"


@pytest.fixture(scope="session")
def litellm():
    """The real litellm module, imported once, without its help banners on errors."""
    import litellm as module

    module.suppress_debug_info = True
    return module
