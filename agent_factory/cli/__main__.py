"""`python -m agent_factory.cli`: the same as the `agent-factory` command."""

from agent_factory.cli import main

main(prog_name="agent-factory")
