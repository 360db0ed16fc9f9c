"""The one place litellm is imported: lazily (it takes seconds) and offline.

`LITELLM_LOCAL_MODEL_COST_MAP=True` is set before the import so litellm reads its bundled
cost map instead of fetching one; no test, and no run without provider keys, touches the network.
"""

from __future__ import annotations

import os
from functools import cache
from types import ModuleType


@cache
def litellm() -> ModuleType:
    """The litellm module, imported on first use, offline and without its help banners."""
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    import litellm as module

    module.suppress_debug_info = True  # errors are reported by our own exceptions
    return module
