"""`agent-factory admin create-team|set-password`: operator actions on the hosted API's database.

Registered in `agent_factory.cli.COMMANDS`.
"""

from __future__ import annotations

import json
import sys

import click

from .database import data_dir_option, opened


@click.group()
def admin() -> None:
    """Operator commands on the same database as `serve` (DATABASE_URL, or --data-dir).

    They work while `serve` is running on that database. See docs/operations.md.
    """


@admin.command("create-team")
@click.argument("name")
@click.option("--owner", "owner", required=True, help="The owner's e-mail (the user is created when new).")
@click.option("--plan", type=click.Choice(["free", "pro", "enterprise"]), default="free", show_default=True)
@data_dir_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def create_team(name: str, owner: str, plan: str, data_dir: str | None, fmt: str) -> None:
    """Create the team NAME owned by --owner and print its id and an owner API key (shown once)."""
    from agent_factory.platform.admin import create_team as create
    from agent_factory.platform.fields import storable

    _valid(name, owner)
    with opened(data_dir) as urls:
        created = create(urls, storable(name.strip()), owner.strip(), plan)
    team, key = created["team"], created["key"]
    if fmt == "json":
        click.echo(json.dumps({"team_id": str(team["id"]), "name": team["name"], "plan": team["plan"],
                               "owner": owner.strip(), "key": key["key"], "key_id": str(key["id"]), "scopes": key["scopes"]}))
    else:
        click.echo(f"team {team['name']} ({team['id']}), plan {team['plan']}, owner {owner.strip()}")
        click.echo(f"owner key (shown once): {key['key']}")


@admin.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of prompting.")
@data_dir_option
def set_password(email: str, password_stdin: bool, data_dir: str | None) -> None:
    """Set the password EMAIL logs in with (POST /v1/sessions)."""
    from agent_factory.platform.admin import set_password as set_

    password = sys.stdin.readline().rstrip("\n") if password_stdin else click.prompt("password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise click.UsageError("the password is empty")
    with opened(data_dir) as urls:
        set_(urls, email.strip(), password)
    click.echo(f"password set for {email.strip()}")


def _valid(name: str, owner: str) -> None:
    if not name.strip() or len(name) > 200 or "\x00" in name:
        raise click.UsageError("NAME must be 1 to 200 characters")
    if "@" not in owner or len(owner) > 320 or "\x00" in owner or any(c.isspace() for c in owner.strip()):
        raise click.UsageError(f"--owner must be an e-mail address, not {owner!r}")
