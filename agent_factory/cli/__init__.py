"""The `agent-factory` command line (entry point `agent_factory.cli:main`).

One module per command group, each imported only when its command runs (or when `--help`
lists the commands), so `agent-factory --version` and `check` never import the runtime,
code generation, litellm, langgraph or jinja2:

    check.py     check, compile        (the compiler's public functions only)
    new.py       new                   (scaffold a spec that checks clean)
    cost.py      cost                  (static worst-case cost of an Agent)
    graph.py     graph                 (Mermaid or text graph of an Agent or Team)
    run.py       run, test, brainfart  (the LangGraph runtime)
    codegen.py   codegen run|verify    (the OpenHands backend)
    serve.py     serve                 (the hosted API; agent_factory.platform)
    db.py        db upgrade|status     (the hosted API's migrations)
    admin.py     admin create-team|set-password
    database.py  the --data-dir option and database errors shared by serve, db and admin
    worker.py    worker                (takes hosted runs from the queue)
    exit.py      Exit                  (the exit-code enum every command uses)

To add a command group, write `agent_factory/cli/<group>.py` with a click command (or
group) in it and register it with one line in `COMMANDS` below, e.g.
`"serve": "agent_factory.cli.serve:serve",`. Import heavy libraries inside the command's
function body, never at module level, so listing the commands stays cheap.
"""

from __future__ import annotations

import click

from agent_factory import __version__

from .exit import Exit
from .lazy import LazyGroup

__all__ = ["COMMANDS", "Exit", "main"]

# command name -> "module:attribute" of the click command; imported on first use
COMMANDS: dict[str, str] = {
    "check": "agent_factory.cli.check:check",
    "compile": "agent_factory.cli.check:compile_cmd",
    "new": "agent_factory.cli.new:new",
    "cost": "agent_factory.cli.cost:cost",
    "graph": "agent_factory.cli.graph:graph",
    "run": "agent_factory.cli.run:run",
    "test": "agent_factory.cli.run:test",
    "brainfart": "agent_factory.cli.run:brainfart",
    "codegen": "agent_factory.cli.codegen:codegen",
    "serve": "agent_factory.cli.serve:serve",
    "db": "agent_factory.cli.db:db",
    "admin": "agent_factory.cli.admin:admin",
    "worker": "agent_factory.cli.worker:worker",
}


@click.group(cls=LazyGroup, lazy_commands=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="agent-factory")
def main() -> None:
    """Compile Markdown agent specs into checked, budgeted, testable agents.

    \b
    Typical use:
      agent-factory new "Market Research"     scaffold a commented spec
      agent-factory check specs/              report every problem, with file:line:col
      agent-factory compile specs/ -o out     write the compiled artifacts

    Exit codes: 0 clean (warnings allowed), 1 problems found, 2 usage error.
    Set AGENT_FACTORY_TRACE_HOOKS=1 to trace every plugin hook call on stderr.
    """
