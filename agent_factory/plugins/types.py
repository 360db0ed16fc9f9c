"""Placeholder until the types plugin lands: registers nothing."""
