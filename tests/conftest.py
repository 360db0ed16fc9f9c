"""Shared pytest options of the compiler test suites."""

from __future__ import annotations

import os

# Tests never touch the internet: litellm (imported by the runtime and by the OpenHands SDK) must
# read its bundled price map instead of fetching one, whichever test imports it first.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ.setdefault("OPENHANDS_SUPPRESS_BANNER", "1")


def pytest_addoption(parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the expected outputs of golden/<case>/ (diagnostics.txt, ir.json) from the current compiler",
    )
