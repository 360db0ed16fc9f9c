"""Placeholder until the names plugin lands: registers nothing."""
