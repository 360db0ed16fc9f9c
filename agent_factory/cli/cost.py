"""`agent-factory cost SPEC`: the static worst-case cost table of an Agent spec.

Registered in `agent_factory.cli.COMMANDS`.
"""

from __future__ import annotations

import json
import sys

import click

from .configs import note_unused_configs
from .exit import Exit


@click.command()
@click.argument("spec", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output format of the table.")
def cost(spec: str, fmt: str) -> None:
    """Estimate the worst-case cost of one run of an Agent SPEC, without running it.

    Prints, per step: LLM calls, prompt tokens, max output tokens, the cheapest and dearest
    model the routing allows and the dollars at each; then per execution path and the totals.
    Steps of a loop count once per run `max_iterations` allows. Prices come from
    agent-factory.toml in the working folder (never one beside the spec) or litellm's bundled
    cost map (offline); the budget compared is the
    spec's max_cost_per_run capped by its tier's. Exit 0 with the table, 1 when the spec has
    errors, 2 when it is not an Agent spec. See docs/plugins.md ("The built-in analyses
    plugins can read", Cost).
    """
    from agent_factory.compiler import check
    from agent_factory.compiler.render import render_text
    from agent_factory.plugins.cost import as_dict, estimate, render_table

    note_unused_configs([spec], "cost", has_option=False)
    result = check(spec)
    if not result.ok:
        click.echo(render_text(result.diagnostics), err=True)
        sys.exit(Exit.ERRORS)
    found = estimate(result.spec)
    if found is None:
        click.echo(f"error: {spec} is a {result.spec.kind}; cost estimates are for Agent specs", err=True)
        sys.exit(Exit.USAGE)
    if fmt == "json":
        click.echo(json.dumps(as_dict(found), indent=2, ensure_ascii=False))
    else:
        click.echo(render_table(found), nl=False)
    sys.exit(Exit.OK)
