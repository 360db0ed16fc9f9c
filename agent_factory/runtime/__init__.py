"""The runtime: LLM router, budgets and cost ledger, replay, tools.

Modules are imported directly (`agent_factory.runtime.router`, `.config`, `.budget`, `.replay`,
`.pricing`, `.errors`, `.tools`); nothing is imported here, so importing one part never pulls in
litellm (seconds to import) or the others.
"""
