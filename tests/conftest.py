"""Shared pytest options of the compiler test suites."""

from __future__ import annotations


def pytest_addoption(parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the expected outputs of golden/<case>/ (diagnostics.txt, ir.json) from the current compiler",
    )
