"""Built-in plugins. They are loaded exactly like third-party plugins, from this list;
nothing else in the core imports them by name."""

DEFAULT_PLUGINS = (
    "agent_factory.plugins.constitution",
    "agent_factory.plugins.structure",
    "agent_factory.plugins.backend_ir",
)
