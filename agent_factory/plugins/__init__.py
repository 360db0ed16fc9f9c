"""Built-in plugins. They are loaded exactly like third-party plugins, from this list;
nothing else in the core imports them by name."""

DEFAULT_PLUGINS = (
    "agent_factory.plugins.constitution",
    "agent_factory.plugins.structure",
    "agent_factory.plugins.backend_ir",
    "agent_factory.plugins.backend_openhands",
    "agent_factory.plugins.backend_langgraph",
    "agent_factory.plugins.backend_mermaid",
    "agent_factory.plugins.tools_builtin",
    "agent_factory.plugins.names",
    "agent_factory.plugins.types",
    "agent_factory.plugins.examples",
    "agent_factory.plugins.graph",
    "agent_factory.plugins.invariants",
    "agent_factory.plugins.cost",
    "agent_factory.plugins.capabilities",
)
