"""Agent Factory: compile Markdown agent specifications into checked, runnable agents."""

__version__ = "0.1.0"


def __getattr__(name: str):
    # `from agent_factory import hookimpl` for plugin authors, without importing the compiler eagerly
    if name == "hookimpl":
        from agent_factory.compiler.hookspecs import hookimpl

        return hookimpl
    raise AttributeError(name)
