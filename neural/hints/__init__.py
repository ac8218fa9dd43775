"""Learned solution hints (Predict-and-Search) for the exact solvers and the LNS.

- :mod:`.pools`: labels, the SCIP solution pools of training instances (parallel,
  cached, resumable, Dask);
- :mod:`.model`: the hint head on the FORGE encoder;
- :mod:`.train`: ``hybridsolve train hints``;
- :mod:`.predict`: :func:`~.predict.predict`, hints for one model.

:func:`hint_source` turns the front door's spelling (``hints="forge"``,
``"forge:NAME_OR_PATH"``) into the function :func:`hybridsolve.mip.solve` calls once the
model is read, so the prediction counts inside the time limit. This module imports no
torch; the first prediction does.
"""

from __future__ import annotations

from hybridsolve.mip import HintSettings, HintSource, Problem, UsageError

__all__ = ["DEFAULT_WEIGHTS", "hint_source", "weights_of"]

#: The shipped mixed-distribution hint weights.
DEFAULT_WEIGHTS = "forge-hints"


def weights_of(spec: str) -> str:
    """The weights named by a hints spelling.

    ``"forge"`` is :data:`DEFAULT_WEIGHTS`; ``"forge:NAME_OR_PATH"`` names other weights
    (a registry name or a registered ``.pt`` file); any other text is taken as such a
    name or file itself.

    Raises
    ------
    UsageError
        An empty name.
    """
    method, colon, weights = spec.partition(":")
    if method == "forge" and not colon:
        return DEFAULT_WEIGHTS
    if method == "forge":
        if not weights:
            raise UsageError("--hints forge: needs weights after the colon (forge:NAME_OR_PATH)")
        return weights
    if not spec.strip():
        raise UsageError("hints: empty weights name")
    return spec


def hint_source(spec: str, *, settings: HintSettings | None = None) -> HintSource:
    """The function that predicts hints for :func:`hybridsolve.mip.solve`.

    Parameters
    ----------
    spec : str
        ``"forge"``, ``"forge:NAME_OR_PATH"`` or a weights name / file
        (:func:`weights_of`).
    settings : HintSettings, optional
        How the solvers use the hints.

    Returns
    -------
    callable
        ``source(problem, deadline) -> Hints | None``; weights are read on its first
        call, so bad weights fail there, with one line. The prediction runs in numpy
        (:mod:`.inference`): no torch is imported.
    """
    weights = weights_of(spec)

    def source(problem: Problem, deadline: float | None):  # noqa: ANN202 (Hints | None)
        from .predict import predict

        return predict(problem, weights, settings=settings, deadline=deadline)

    return source
