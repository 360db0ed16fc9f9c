"""Start-up bench: whole `agent-factory` processes against bare Python, in the same run.

Run from the repository root:

    .venv/bin/python bench/bench_startup.py            # 15 runs of each command
    .venv/bin/python bench/bench_startup.py --runs 5   # quicker

Each command is started as a new process, one after the other, interleaved round by round so
a change in machine load affects every command alike. For each it reports the median wall time
and the median CPU time of the child (user + system), and both as ratios to the two baselines
measured in the same rounds: `python -c pass` (the interpreter alone) and
`python -c "import pydantic; pydantic.BaseModel"` (the library every spec model is built on).

Commands: `agent-factory --version`, `agent-factory check` of one shipped spec, and `check` of
the whole `specs/` folder. One check runs before timing, so the children find their bytecode
written (`PYTHONDONTWRITEBYTECODE` is dropped from their environment), as an installed package
has it, and the user cache filled (the validated configuration view, the installed plugins,
the model prices: `agent_factory/usercache.py`). `--cold` turns that cache off, which is what
the first check after editing `agent-factory.toml`, installing a package or upgrading litellm
costs.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
CLI = [PYTHON, "-m", "agent_factory.cli"]
SPEC = "specs/market_research.md"
COMMANDS = {
    "python -c pass": [PYTHON, "-c", "pass"],
    "python -c 'import pydantic'": [PYTHON, "-c", "import pydantic; pydantic.BaseModel"],
    "agent-factory --version": [*CLI, "--version"],
    f"agent-factory check {SPEC}": [*CLI, "check", SPEC],
    "agent-factory check specs/": [*CLI, "check", "specs/"],
}
BASELINES = ("python -c pass", "python -c 'import pydantic'")
TARGETS = {"agent-factory --version": 0.100, f"agent-factory check {SPEC}": 0.150}


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, child CPU seconds) of one run of `command`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(runs: int, env: dict[str, str]) -> dict[str, tuple[float, float]]:
    """Median (wall, cpu) of each command over `runs` interleaved rounds."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, command in COMMANDS.items():
            samples[name].append(timed(command, env))
    return {name: (statistics.median(w for w, _ in got), statistics.median(c for _, c in got))
            for name, got in samples.items()}


def report(medians: dict[str, tuple[float, float]]) -> None:
    width = max(map(len, COMMANDS))
    print(f"{'command':<{width}}  {'wall ms':>8}  {'cpu ms':>7}  {'x pass':>7}  {'x pydantic':>10}  target")
    for name, (wall, cpu) in medians.items():
        ratios = [wall / medians[base][0] for base in BASELINES]
        target = TARGETS.get(name)
        verdict = "" if target is None else f"{target * 1000:.0f} ms {'met' if wall <= target else 'missed'}"
        print(f"{name:<{width}}  {wall * 1000:8.1f}  {cpu * 1000:7.1f}  {ratios[0]:7.2f}  {ratios[1]:10.2f}  {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--cold", action="store_true", help="turn the user cache off (AGENT_FACTORY_NO_CACHE=1)")
    args = parser.parse_args()
    env = {**os.environ, "NO_COLOR": "1"}
    if args.cold:
        env["AGENT_FACTORY_NO_CACHE"] = "1"
    # an installed package has its bytecode; without it every start compiles the sources again
    # (more than 100 ms), so the warm-up run below writes it even where the shell says not to
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    timed(COMMANDS[f"agent-factory check {SPEC}"], env)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, load average "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}, {args.runs} runs, user cache {'off' if args.cold else 'warm'}")
    report(measure(args.runs, env))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
