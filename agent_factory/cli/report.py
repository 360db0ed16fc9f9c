"""How `check` and `compile` print diagnostics: text as each file is done, or one JSON / SARIF
document at the end, then a summary line on stderr (text only)."""

from __future__ import annotations

import os
import sys

import click


def use_color() -> bool:
    """Colour on a terminal, unless NO_COLOR is set (https://no-color.org)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


class Reporter:
    """Takes check results one by one. Text goes out at once, so memory stays bounded however
    many files are checked (a result's IR is dropped when it has been reported); JSON and SARIF
    keep only the diagnostics until `finish`."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.files = self.errors = self.warnings = 0
        self.failed = False
        self.kept: list = []
        self.printed = False
        self.color = use_color()

    def add(self, result) -> None:
        """Count `result` and print its diagnostics (text) or keep them (json, sarif)."""
        from agent_factory.compiler.render import render_text

        self.files += 1
        self.failed |= not result.ok
        self.errors += sum(d.severity == "error" for d in result.diagnostics)
        self.warnings += sum(d.severity == "warning" for d in result.diagnostics)
        if self.fmt != "text":
            self.kept.extend(result.diagnostics)
        elif result.diagnostics:
            # diagnostics are separated by one blank line, across files too
            click.echo(("\n" if self.printed else "") + render_text(result.diagnostics, color=self.color), nl=False)
            self.printed = True

    def finish(self) -> None:
        """The JSON or SARIF document, or the end of the text and the summary line."""
        from agent_factory.compiler.render import render_json, render_sarif

        if self.fmt == "json":
            click.echo(render_json(self.kept), nl=False)
        elif self.fmt == "sarif":
            click.echo(render_sarif(self.kept), nl=False)
        else:
            if self.printed:
                click.echo("")
            click.echo(f"checked {self.files} file{_s(self.files)}: {self.errors} error{_s(self.errors)}, "
                       f"{self.warnings} warning{_s(self.warnings)}", err=True)


def _s(count: int) -> str:
    return "" if count == 1 else "s"
