"""What the LNS bandit carries from one run to the next: ``options={"bandit_state": FILE}``.

"Learning to Relax" (the idea of learning solver choices online across a *sequence* of
instances of one distribution) asks each run to start from what the earlier runs learned
instead of from a blank bandit. A :class:`BanditState` file holds:

- the bandit's observations (arm name, reward, context vector for contextual policies),
  the latest :data:`KEEP` of them: a new run replays those of its own arms into its
  bandit before its first choice, so a warm bandit exploits from the first iteration;
- per-arm totals over the earlier runs (pulls, improvements, seconds, gap closed by
  solutions and by bounds)
  and each arm's last neighbourhood scale: a new run starts its arms at those scales and
  counts the per-run average of the totals as a prior in the time shares of the trees.

Arms are matched by name (``mutation-0.2@scip``, ``tree@highs``), so a state written by a
run with other operators or backends still warms the arms both share. The file is JSON,
written atomically at the end of a run; a missing file is a cold start, a corrupt one an
:class:`~hybridsolve.mip.InputError`.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hybridsolve.mip import InputError

__all__ = ["FORMAT", "KEEP", "BanditState"]

#: The ``format`` field of a state file.
FORMAT = "hybridsolve-lns-bandit"
#: Observations kept in a state file (the latest).
KEEP = 2000
#: Per-arm totals kept in a state file.
TOTALS = ("pulls", "improvements", "seconds", "gain", "progress")


@dataclass
class BanditState:
    """The bandit's memory across runs.

    Attributes
    ----------
    runs : int
        Runs that wrote this state.
    observations : list of tuple
        ``(arm, reward, context)`` per bandit update, oldest first; ``context`` is a list
        of floats for a contextual policy, else ``None``.
    totals : dict of str to dict of str to float
        Per arm: the sums of :data:`TOTALS` over all runs.
    scales : dict of str to float
        Per arm: its neighbourhood scale at the end of the last run that pulled it.
    """

    runs: int = 0
    observations: list[tuple[str, float, list[float] | None]] = field(default_factory=list)
    totals: dict[str, dict[str, float]] = field(default_factory=dict)
    scales: dict[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> BanditState:
        """The state in ``path``; an empty state when the file does not exist.

        Raises
        ------
        InputError
            When the file exists but is not a bandit state (the message says why).
        """
        path = Path(path)
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text())
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError(f"no {FORMAT!r} format field")
            if data.get("version") != 1:
                raise ValueError(f"unknown version {data.get('version')!r}")
            state = cls(
                runs=int(data["runs"]),
                observations=[_observation(item) for item in data["observations"]],
                totals={
                    str(arm): {key: float(values[key]) for key in TOTALS}
                    for arm, values in data["totals"].items()
                },  # fmt: skip
                scales={str(arm): float(scale) for arm, scale in data["scales"].items()},
            )
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as e:
            raise InputError(f"{path}: not an LNS bandit state ({e})") from None
        scales = list(state.scales.values())
        if state.runs < 0 or not all(s > 0 and math.isfinite(s) for s in scales):
            raise InputError(f"{path}: not an LNS bandit state (bad runs or scales)")
        return state

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the state to ``path`` atomically (a temporary file, then a rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "format": FORMAT,
            "version": 1,
            "runs": self.runs,
            "observations": [list(item) for item in self.observations[-KEEP:]],
            "totals": self.totals,
            "scales": self.scales,
        }
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(handle, "w") as out:
                json.dump(data, out)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def prior(self, arm: str) -> dict[str, float]:
        """An arm's per-run average of :data:`TOTALS` (zeros for an unknown arm)."""
        totals = self.totals.get(arm)
        if totals is None or self.runs == 0:
            return dict.fromkeys(TOTALS, 0.0)
        return {key: totals[key] / self.runs for key in TOTALS}

    def record(self, totals: dict[str, dict[str, float]], scales: dict[str, float],
               observations: list[tuple[str, float, list[float] | None]]) -> None:  # fmt: skip
        """Add one finished run: its per-arm totals, final scales and observations."""
        self.runs += 1
        for arm, values in totals.items():
            mine = self.totals.setdefault(arm, dict.fromkeys(TOTALS, 0.0))
            for key in TOTALS:
                mine[key] += float(values[key])
        self.scales.update(scales)
        self.observations = (self.observations + observations)[-KEEP:]


def _observation(item: Any) -> tuple[str, float, list[float] | None]:
    arm, reward, context = item
    reward = float(reward)
    if not isinstance(arm, str) or not math.isfinite(reward):
        raise ValueError(f"bad observation {item!r}")
    if context is not None:
        context = [float(v) for v in context]
    return arm, reward, context
