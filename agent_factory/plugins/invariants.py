"""Placeholder until the invariants plugin lands: registers nothing."""
