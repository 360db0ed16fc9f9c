"""Placeholder until the graph plugin lands: registers nothing."""
