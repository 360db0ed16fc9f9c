"""`agent-factory graph SPEC`: the graph of an Agent or Team spec, as a Mermaid flowchart or
as plain text.

Registered in `agent_factory.cli.COMMANDS`. The Mermaid text
is the `mermaid` target's output, the same as `compile --target mermaid` writes.
"""

from __future__ import annotations

import sys

import click

from .exit import Exit

GRAPH_KINDS = ("agent", "team")


@click.command()
@click.argument("spec", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["mermaid", "text"]), default="mermaid", show_default=True,
              help="mermaid: a Mermaid flowchart (paste it into any Mermaid viewer); text: nodes and edges as lines.")
def graph(spec: str, fmt: str) -> None:
    """Print the graph of an Agent or Team SPEC: its nodes, edges, joins and conditions.

    Each node and edge names the spec line it comes from. Exit 1 when the spec has errors or
    has no graph (Component and Constitution specs).
    """
    from agent_factory.compiler import check, emit, plan_graph
    from agent_factory.compiler.render import render_text

    result = check(spec)
    if not result.ok:
        click.echo(render_text(result.diagnostics), err=True)
        sys.exit(Exit.ERRORS)
    if result.spec.kind not in GRAPH_KINDS:
        click.echo(f"error: {spec} is a {result.spec.kind} spec; only Agent and Team specs have a graph", err=True)
        sys.exit(Exit.ERRORS)
    if fmt == "text":
        click.echo(render_plan(plan_graph(result.spec)), nl=False)
        sys.exit(Exit.OK)
    try:
        (chart,) = emit(result.spec, "mermaid").values()
    except KeyError:
        click.echo("error: the `mermaid` target is not installed (see `agent-factory compile --list-targets`)", err=True)
        sys.exit(Exit.USAGE)
    click.echo(chart, nl=False)
    sys.exit(Exit.OK)


def render_plan(plan) -> str:
    """A `GraphPlan` as text: a title line, then the nodes and the edges, one a line, each
    ending with the spec line it comes from."""
    nodes = [(node.name, node.kind, node.line) for node in plan.nodes]
    edges = [(f"{' + '.join(edge.sources)} -> {edge.target}", "(waits for all)" if len(edge.sources) > 1 else "",
              edge.line) for edge in plan.edges]
    for branch in plan.branches:
        edges += [(f"{branch.source} -> {route.target}",
                   f"when {route.condition}" if route.condition is not None else "otherwise", route.line)
                  for route in branch.routes]
    lines = [f"{plan.spec_name} ({plan.kind} graph of {plan.spec_path})", "nodes:", *_table(nodes), "edges:",
             *_table(edges)]
    return "\n".join(lines) + "\n"


def _table(rows: list[tuple[str, str, int]]) -> list[str]:
    """Rows as aligned `  first  second  line N` lines."""
    first = max((len(row[0]) for row in rows), default=0)
    second = max((len(row[1]) for row in rows), default=0)
    return [f"  {a:<{first}}  {b:<{second}}  line {line}" for a, b, line in rows]
