"""A click group whose commands live in modules imported only when a command is used.

`agent-factory --version` and `agent-factory check` must not pay for importing the runtime,
code generation or the LLM libraries, so the group knows each command by the dotted path of
the object that implements it and imports that module on first use.
"""

from __future__ import annotations

from importlib import import_module

import click


class LazyGroup(click.Group):
    """A `click.Group` resolving `name -> "package.module:attribute"` on demand."""

    def __init__(self, *args, lazy_commands: dict[str, str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands and cmd_name not in self.commands:
            self.add_command(_load(self.lazy_commands[cmd_name]), cmd_name)
        return super().get_command(ctx, cmd_name)


def _load(target: str) -> click.Command:
    """The command object named by `package.module:attribute`."""
    module, _, attribute = target.partition(":")
    command = getattr(import_module(module), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{target} is not a click command")
    return command
