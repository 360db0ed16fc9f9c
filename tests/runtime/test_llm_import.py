"""The litellm loader imports what the first model call would import, so no call's latency includes it."""

from __future__ import annotations

import subprocess
import sys


def test_loading_litellm_also_imports_the_openai_resources_the_first_call_would_import():
    # a fresh interpreter: in this process another test may have imported them already
    code = ("import sys\n"
            "from agent_factory.runtime.llm import litellm\n"
            "assert 'openai.resources.chat' not in sys.modules\n"
            "litellm()\n"
            "print('openai.resources.chat' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "True\n"
