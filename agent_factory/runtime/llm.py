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
    _import_provider_clients()
    return module


def _import_provider_clients() -> None:
    """Import what litellm imports on its first OpenAI-style call: the `openai` client's resource
    classes (about 0.3-0.5 s of building pydantic models). Done here, with litellm, it happens before
    a run's clock starts; left to the first call, that call's recorded latency (and a latency guard
    judging it) would include it, and a worker's first hosted run would be slow by as much."""
    try:
        import openai.resources  # noqa: F401 - imported for its side effect on the first call's time
    except ImportError:  # an installation without the openai package: nothing to warm
        pass
