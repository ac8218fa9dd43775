"""Silent construction of ``highspy.Highs`` objects.

HiGHS 1.16 prints its banner ("Running HiGHS ...") on the process's standard output when the
first ``Highs`` object of a process is constructed, before any option can silence it; that
would corrupt the command line's ``--json`` output and every quiet run. The first object is
therefore built with file descriptor 1 pointed at the null device; later objects print no
banner and are built as they are.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading

import highspy

__all__ = ["new_highs"]

_lock = threading.Lock()
_first = [True]


def _flush_c_stdio() -> None:
    """Flush the C library's stdout buffer (where HiGHS's banner waits), where possible."""
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError, TypeError):  # no C library handle (Windows)
        pass


def new_highs() -> highspy.Highs:
    """A new ``highspy.Highs`` (options untouched), its banner kept off stdout."""
    with _lock:
        if not _first[0]:
            highs = highspy.Highs()
        else:
            sys.stdout.flush()
            saved = os.dup(1)
            null = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(null, 1)
                highs = highspy.Highs()
                _flush_c_stdio()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(null)
            _first[0] = False
    return highs
