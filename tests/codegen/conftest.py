"""Fixtures of the codegen tests: offline, isolated from ~/.openhands, jobs written to tmp.

Every test here runs with HTTP(S) proxies pointing at a dead local port (only 127.0.0.1 is
exempt), so a request to the internet fails at once instead of leaving the machine, and
with the OpenHands SDK's user folder (OH_PERSISTENCE_DIR, read when the SDK is imported)
in a fresh temporary directory.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ.setdefault("OH_PERSISTENCE_DIR", tempfile.mkdtemp(prefix="af-openhands-"))
os.environ.setdefault("OPENHANDS_SUPPRESS_BANNER", "1")

sys.path.insert(0, str(Path(__file__).parent))  # the hand-built specs in specs.py

REPO = Path(__file__).resolve().parents[2]
STUB_KEY_ENV = "AF_CODEGEN_STUB_KEY"
DEAD_PROXY = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No test reaches the internet: proxies point at a closed port, except for 127.0.0.1."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, DEAD_PROXY)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv(STUB_KEY_ENV, "stub-key")


@pytest.fixture
def write_job(tmp_path):
    """Emit a spec's job folder under tmp_path/out and return the job folder's path."""
    from agent_factory.plugins.backend_openhands import emit_job

    def write(spec, out: Path | None = None) -> Path:
        out = out or tmp_path / "out"
        files = emit_job(spec)
        for name, text in files.items():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            (out / name).write_text(text, encoding="utf-8")
        return (out / next(iter(files))).parent

    return write
