"""Command-line pieces the benchmark scripts share: a parser and integer argument types."""

from __future__ import annotations

import argparse
from typing import NoReturn

__all__ = ["Parser", "non_negative", "positive"]


class Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _integer(text: str, lowest: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = lowest - 1
    if value < lowest:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return value


def positive(text: str) -> int:
    """An ``argparse`` type: an integer >= 1."""
    return _integer(text, 1, "a positive integer")


def non_negative(text: str) -> int:
    """An ``argparse`` type: an integer >= 0."""
    return _integer(text, 0, "a count >= 0")
