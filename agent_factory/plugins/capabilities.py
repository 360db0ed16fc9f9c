"""Placeholder until the capabilities plugin lands: registers nothing."""
