"""The note `check`, `compile`, `run` and `test` print when a spec's folder holds an
`agent-factory.toml` that is not the one in use.

The configuration is read from `--config FILE` or the working folder, never from beside a
spec: a spec's folder (a cloned repository, a shared folder of specs) may hold files from
anyone, and a configuration is trusted (it names keys and hosts, starts MCP servers, lets
`python:` bindings run). A user who expected the file beside the spec to apply is told once
per file which one is used instead and how to choose that one.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import click

from agent_factory.runtime.config_view import CONFIG_FILENAME
_noted: set[Path] = set()


def note_unused_configs(specs: Iterable[str | Path], command: str, named: str | None = None,
                        has_option: bool = True) -> None:
    """Print the note once for each `agent-factory.toml` beside `specs` that `command` does not use.

    `named` is the `--config` file given; `has_option` says whether `command` takes `--config`
    (check and compile do not: they read the working folder's file for the cost estimate)."""
    in_use = _in_use(named)
    for folder in dict.fromkeys(Path(spec).resolve().parent for spec in specs):
        beside = folder / CONFIG_FILENAME
        if beside.is_file() and beside != in_use and beside not in _noted:
            _noted.add(beside)
            click.echo(_note(beside, in_use, command, has_option), err=True)


def _in_use(named: str | None) -> Path | None:
    """The file the command reads: the one named, else the working folder's; None for the built-in defaults."""
    path = Path(named) if named else Path.cwd() / CONFIG_FILENAME
    return path.resolve() if path.is_file() else None


def _note(beside: Path, in_use: Path | None, command: str, has_option: bool) -> str:
    shown = _shown(beside)
    used = _shown(in_use) if in_use else "the built-in defaults"
    where = "--config FILE or the working folder" if has_option else "the working folder only"
    choose = f"pass --config {shown}" if has_option else f"run `agent-factory {command}` from {_shown(beside.parent)}/"
    return (f"note: {shown} is not used: {command} reads {CONFIG_FILENAME} from {where}, never from beside a spec\n"
            f"  (a spec's folder may hold files from anyone, and a configuration runs with your permissions);\n"
            f"  this {command} uses {used}: {choose} to use that file")


def _shown(path: Path) -> str:
    """`path` relative to the working folder when it is inside it, else absolute."""
    try:
        return str(path.relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(path)
