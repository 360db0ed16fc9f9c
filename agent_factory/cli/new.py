"""`agent-factory new NAME`: scaffold a commented spec that checks clean."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from .exit import Exit


@click.command()
@click.argument("name")
@click.option("--kind", type=click.Choice(["agent", "team", "component"]), default="agent", show_default=True,
              help="What the spec describes.")
@click.option("--output", "-o", "output", type=click.Path(dir_okay=False),
              help="File to write (default: specs/<name>.md if a specs/ folder exists, else ./<name>.md).")
def new(name: str, kind: str, output: str | None) -> None:
    """Scaffold a commented spec that checks clean, ready to edit."""
    from agent_factory.scaffold import scaffold

    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if not slug:
        raise click.UsageError(f"the name {name!r} has no letters or digits; give the spec a name such as \"Market Research\"")
    target = Path(output) if output else (Path("specs") if Path("specs").is_dir() else Path(".")) / f"{slug}.md"
    if target.exists():
        click.echo(f"error: {target} already exists; choose another name or --output", err=True)
        sys.exit(Exit.USAGE)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(scaffold(name, kind), encoding="utf-8")
    click.echo(f"wrote {target}; check it with: agent-factory check {target}")
    member = target.parent / "general.md"
    if kind == "team" and not member.exists():
        # the team's default member, so the new team checks clean as it is
        member.write_text(scaffold("General", "agent"), encoding="utf-8")
        click.echo(f"wrote {member} (the team's first member)")
