"""Run a job's acceptance commands in the workspace.

Each command runs through the shell with the workspace as its working directory, a
timeout, and its output captured (stdout and stderr together) and truncated for the
report. A command that times out or cannot start is a failed result, never an exception.
The interpreter running agent-factory comes first on PATH, as in an activated
virtualenv, so `python -m pytest` finds the same environment.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .job import AcceptanceCommand

OUTPUT_LIMIT = 4000


@dataclass(frozen=True)
class AcceptanceResult:
    """The outcome of one command: `exit_code` (None when it timed out or did not start),
    `passed`, `timed_out`, `duration_s` and the tail of its `output`."""

    command: str
    line: int
    exit_code: int | None
    passed: bool
    timed_out: bool
    duration_s: float
    output: str

    def to_json(self) -> dict[str, object]:
        """The result as report.json stores it."""
        return {
            "command": self.command,
            "line": self.line,
            "exit_code": self.exit_code,
            "passed": self.passed,
            "timed_out": self.timed_out,
            "duration_s": self.duration_s,
            "output": self.output,
        }


def run_acceptance(commands: tuple[AcceptanceCommand, ...], workspace: Path, timeout_s: float) -> list[AcceptanceResult]:
    """Run every command (all of them, even after a failure) and return their results."""
    return [run_command(c, workspace, timeout_s) for c in commands]


def run_command(command: AcceptanceCommand, workspace: Path, timeout_s: float) -> AcceptanceResult:
    """Run one command in `workspace`; failures of any kind come back as a failed result."""
    started = time.monotonic()
    try:
        code, output, timed_out = run_shell(command.command, workspace, timeout_s)
    except OSError as exc:
        return _result(command, None, False, started, f"[could not start: {exc}]")
    if timed_out:
        output += f"\n[timed out after {timeout_s:g} s]"
    return _result(command, code, timed_out, started, output)


def run_shell(command: str, cwd: Path, timeout_s: float) -> tuple[int | None, str, bool]:
    """Run `command` through the shell: (exit code or None, output, timed out).

    The command gets its own process group so a timeout kills everything it started;
    killing only the shell would leave children holding the output pipe open.
    """
    with subprocess.Popen(
        command, shell=True, cwd=cwd, env=command_env(), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    ) as proc:
        try:
            out, _ = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out, _ = proc.communicate()
            return None, _text(out), True
    return proc.returncode, _text(out), False


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (AttributeError, ProcessLookupError, PermissionError):
        proc.kill()  # no process groups (Windows), or the group is already gone


def _result(command: AcceptanceCommand, code: int | None, timed_out: bool, started: float, output: str) -> AcceptanceResult:
    return AcceptanceResult(
        command=command.command, line=command.line, exit_code=code, passed=code == 0,
        timed_out=timed_out, duration_s=round(time.monotonic() - started, 3), output=truncate(output),
    )


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data


def truncate(text: str, limit: int = OUTPUT_LIMIT) -> str:
    """The last `limit` characters of `text` (a failure's cause is usually at the end)."""
    if len(text) <= limit:
        return text
    return f"[… {len(text) - limit} characters cut …]\n" + text[-limit:]


_SECRET = re.compile(r"(API_?KEY|TOKEN|SECRET|PASSWORD|CREDENTIALS?)$", re.IGNORECASE)


def command_env() -> dict[str, str]:
    """The environment for workspace commands (acceptance and the coding agent's terminal): ours
    without anything that looks like a secret — the model can read it and would send it back to
    its provider — and with our interpreter's bin dir first on PATH."""
    env = {key: value for key, value in os.environ.items() if not _SECRET.search(key)}
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")]) if env.get("PATH") else bin_dir
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    return env
