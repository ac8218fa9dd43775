"""``python -m hybridsolve.neural.bq [--size 50 ...] [--resume]``: train the BQ-NCO TSP policy.

Every field of :class:`~hybridsolve.neural.bq.train.TrainConfig` is an option; see
:func:`hybridsolve.neural.bq.train.main`.
"""

from __future__ import annotations

__all__: list[str] = []

if __name__ == "__main__":  # not when label worker processes re-import the main module
    from hybridsolve.neural.bq.train import main

    raise SystemExit(main())
