"""`agent-factory new NAME`: scaffold a commented spec that checks clean."""

from __future__ import annotations

import re
import sys
import unicodedata
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

    slug = file_slug(name)
    if not slug:
        raise click.UsageError(f"the name {name!r} has no letters or digits; give the spec a name such as \"Market Research\"")
    target = Path(output) if output else (Path("specs") if Path("specs").is_dir() else Path(".")) / f"{slug}.md"
    if target.exists():
        click.echo(f"error: {target} already exists; choose another name or --output", err=True)
        sys.exit(Exit.USAGE)
    member = target.parent / f"{target.stem}_general.md"
    if kind == "team" and member.exists():
        click.echo(f"error: {member}, the new team's first member, already exists; choose another name or --output",
                   err=True)
        sys.exit(Exit.USAGE)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(scaffold(name, kind, member=member.name), encoding="utf-8")
    click.echo(f"wrote {target}; check it with: agent-factory check {target}")
    if kind == "team":
        # the team's own first member (never another spec that happens to share a name), so
        # the new team checks clean as it is
        member.write_text(scaffold(f"{name.strip()} General", "agent"), encoding="utf-8")
        click.echo(f"wrote {member} (the team's first member)")


def file_slug(name: str) -> str:
    """A file name for a spec called `name`: lower case ASCII words joined by `_`, accents
    dropped (`Ünïcode Name!` → `unicode_name`)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")
