"""A progress display for long training and labelling loops: tqdm when installed, else lines.

tqdm is not a dependency of hybridsolve; when it is importable a bar is shown, otherwise a
line ``step 1200/5000  loss 0.4312`` is printed every few seconds.
"""

from __future__ import annotations

import time
from typing import Any

__all__ = ["Progress"]


class Progress:
    """Count steps and show them; silent when disabled.

    Parameters
    ----------
    total : int
        Steps expected.
    initial : int
        Steps already done (a resumed run).
    enabled : bool
        Show anything at all.
    unit : str, default "step"
        What is counted.
    every : float, default 5.0
        Seconds between printed lines when tqdm is missing.
    """

    def __init__(
        self, total: int, initial: int, enabled: bool, unit: str = "step", every: float = 5.0
    ) -> None:
        self.total, self.count, self.enabled, self.unit = total, initial, enabled, unit
        self.every = every
        self.bar: Any = None
        self.last = time.perf_counter()
        if enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                pass
            else:
                self.bar = tqdm(total=total, initial=initial, unit=unit, dynamic_ncols=True)

    def update(self, loss: float | None = None) -> None:
        """One more step done, with the running loss to show (if any)."""
        self.count += 1
        if self.bar is not None:
            self.bar.update(1)
            if loss is not None:
                self.bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
        elif self.enabled and time.perf_counter() - self.last >= self.every:
            self.last = time.perf_counter()
            tail = "" if loss is None else f"  loss {loss:.4f}"
            print(f"{self.unit} {self.count}/{self.total}{tail}", flush=True)

    def write(self, text: str) -> None:
        """Print a line without breaking the bar."""
        if self.bar is not None:
            self.bar.write(text)
        elif self.enabled:
            print(text, flush=True)

    def close(self) -> None:
        """Finish the bar."""
        if self.bar is not None:
            self.bar.close()
