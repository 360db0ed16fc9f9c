"""Placeholder until the tools_builtin plugin lands: registers nothing."""
