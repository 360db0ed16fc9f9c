"""Without the `openhands` extra, `codegen run` says how to install it (and nothing else breaks)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from specs import component

# Runs in a fresh interpreter where importing `openhands` fails as if it were not installed.
BLOCKED = textwrap.dedent(
    """
    import sys

    class BlockOpenHands:
        def find_spec(self, name, path=None, target=None):
            if name == "openhands" or name.startswith("openhands."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, BlockOpenHands())
    from agent_factory.cli.codegen import codegen
    codegen(sys.argv[1:], prog_name="agent-factory codegen")
    """
)


def run_blocked(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKED, *args], capture_output=True, text=True, timeout=120, check=False,
    )


def test_run_without_the_sdk_says_how_to_install_it(tmp_path, write_job):
    job_dir = write_job(component())
    done = run_blocked("run", str(job_dir), "--workspace", str(tmp_path / "ws"), "--model", "openai/x")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "error: running a code-generation job needs the OpenHands software-agent SDK (the optional "
        "`openhands` extra), which could not be imported: No module named 'openhands'\n"
        "Install it with: pip install 'agent-factory[openhands]'   (Python 3.12 or newer)\n"
    )
    assert not (tmp_path / "ws").exists()  # nothing was touched


def test_verify_does_not_need_the_sdk(tmp_path, write_job):
    job_dir = write_job(component(acceptance=("true",)))
    (tmp_path / "ws").mkdir()
    done = run_blocked("verify", str(job_dir), "--workspace", str(tmp_path / "ws"))
    assert done.returncode == 1  # unmarked workspace, but no import error
    assert "reason: the workspace has no .agent-factory/job.json" in done.stdout
    assert "openhands" not in done.stderr
