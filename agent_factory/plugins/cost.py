"""Placeholder until the cost plugin lands: registers nothing."""
