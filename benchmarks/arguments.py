"""Command-line pieces the benchmark scripts share: a parser, integer argument types and
the ``main`` that turns errors into one line and an exit code."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from hybridsolve.mip.errors import HybridsolveError, UsageError

__all__ = ["Parser", "non_negative", "positive", "run_main"]


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


def run_main(
    prog: str,
    parse: Callable[[Sequence[str] | None], argparse.Namespace],
    run: Callable[[argparse.Namespace], int],
    argv: Sequence[str] | None,
) -> int:
    """Parse ``argv`` and run; hybridsolve's errors and unwritable outputs as one line.

    Returns
    -------
    int
        ``run``'s code; the parser's on ``--help`` or a usage error (already printed);
        the error's exit code; 2 for an ``OSError`` (an output that cannot be written).
    """
    try:
        args = parse(argv)
    except SystemExit as exc:  # --help, or a usage error already printed on one line
        return int(exc.code or 0)
    try:
        return run(args)
    except HybridsolveError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # an output file or folder that cannot be written
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return UsageError.exit_code
