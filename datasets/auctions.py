"""Combinatorial auction instances (Leyton-Brown, Pearson & Shoham 2000)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from hybridsolve.mip import Problem

__all__ = ["combinatorial_auction"]


def combinatorial_auction(
    rng: np.random.Generator,
    items: int = 100,
    bids: int = 500,
    min_value: float = 1.0,
    max_value: float = 100.0,
    value_deviation: float = 0.5,
    add_item_prob: float = 0.65,
    max_sub_bids: int = 5,
    additivity: float = 0.2,
    budget_factor: float = 1.5,
    resale_factor: float = 0.5,
) -> Problem:
    """A winner determination problem with the "arbitrary relationships" bid distribution.

    Leyton-Brown, Pearson & Shoham (2000, CATS), in the simplified form of Gasse et al.
    (2019). Items have a common value and a symmetric compatibility matrix. Each bidder
    draws private values around the common ones, builds a bundle starting from one item and
    adding items, each with probability ``add_item_prob``, picked by interest times
    compatibility with the bundle; the bid is the bundle's private value plus
    ``size ** (1 + additivity)``. Substitutable bids of the same bidder start from each item
    of the bundle, grow to the same size, and are kept (best first, at most
    ``max_sub_bids``) when priced within ``budget_factor`` times the original bid and worth
    at least ``resale_factor`` of its common value. A bidder with more than two bids gets a
    dummy item shared by all its bids, so at most one of them wins (XOR). Prices are
    rounded to 4 decimals so that files store them exactly.

    ``max sum price_b x_b`` s.t. every item (and dummy item) is sold at most once,
    ``x`` binary. Selling nothing is always feasible.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness.
    items, bids : int
        Number of items and of bids (variables).
    min_value, max_value : float
        Range of the common item values.
    value_deviation : float
        Spread of private values around common ones, as a share of ``max_value``.
    add_item_prob : float
        Probability of adding one more item to a bundle.
    max_sub_bids : int
        Most substitutable bids per bidder.
    additivity : float
        Bundle complementarity: the bonus is ``size ** (1 + additivity)``.
    budget_factor, resale_factor : float
        Limits on substitutable bids relative to the bidder's first bid.

    Returns
    -------
    Problem

    References
    ----------
    K. Leyton-Brown, M. Pearson and Y. Shoham, "Towards a universal test suite for
    combinatorial auction algorithms", ACM EC 2000, 66-76.
    M. Gasse, D. Chételat, N. Ferroni, L. Charlin and A. Lodi, "Exact combinatorial
    optimization with graph convolutional neural networks", NeurIPS 2019.
    """
    values = min_value + (max_value - min_value) * rng.random(items)
    compat = np.triu(rng.random((items, items)), k=1)
    compat = compat + compat.T
    compat /= compat.sum(axis=1, keepdims=True)

    def grow(first: int, interests: np.ndarray, size: int | None) -> np.ndarray:
        """A bundle from ``first``: to ``size`` items, or by coin flips when ``size`` is None."""
        chosen = np.zeros(items, dtype=bool)
        chosen[first] = True
        while not chosen.all():
            if size is None and rng.random() >= add_item_prob:
                break
            if size is not None and chosen.sum() >= size:
                break
            weight = interests * compat[chosen].mean(axis=0)
            weight[chosen] = 0.0
            total = weight.sum()
            pick = rng.choice(items, p=weight / total) if total > 0 else int(np.argmin(chosen))
            chosen[pick] = True
        return np.flatnonzero(chosen)

    bundles: list[np.ndarray] = []
    prices: list[float] = []
    owners: list[int] = []
    bidder = 0
    while len(bundles) < bids:
        interests = rng.random(items)
        private = values + max_value * value_deviation * (2.0 * interests - 1.0)

        def price(bundle: np.ndarray, private=private) -> float:
            return float(private[bundle].sum() + len(bundle) ** (1.0 + additivity))

        bundle = grow(int(rng.choice(items, p=interests / interests.sum())), interests, None)
        first_price = price(bundle)
        if first_price < 0:
            continue
        mine = {tuple(bundle): first_price}
        candidates = []
        for item in bundle:
            sub = grow(int(item), interests, len(bundle))
            candidates.append((price(sub), tuple(sub)))
        candidates.sort(key=lambda pair: -pair[0])
        budget = budget_factor * first_price
        min_resale = resale_factor * values[bundle].sum()
        for sub_price, sub in candidates:
            if len(mine) >= max_sub_bids + 1 or len(bundles) + len(mine) >= bids:
                break
            if sub_price < 0 or sub_price > budget or sub in mine:
                continue
            if values[list(sub)].sum() < min_resale:
                continue
            mine[sub] = sub_price
        for sub, sub_price in mine.items():
            bundles.append(np.asarray(sub))
            prices.append(sub_price)
            owners.append(bidder if len(mine) > 2 else -1)
        bidder += 1

    owner = np.asarray(owners)
    xor_bidders = np.unique(owner[owner >= 0])
    dummy_row = np.full(bidder, -1)
    dummy_row[xor_bidders] = items + np.arange(xor_bidders.size)
    row_index = np.concatenate([bundle for bundle in bundles] + [dummy_row[owner[owner >= 0]]])
    col_index = np.concatenate(
        [np.full(len(bundle), b) for b, bundle in enumerate(bundles)] + [np.flatnonzero(owner >= 0)]
    )
    A = sp.csr_matrix(
        (np.ones(row_index.size), (row_index, col_index)),
        shape=(items + xor_bidders.size, len(bundles)),
    )
    used = np.diff(A.indptr) > 0  # items nobody bid on give empty rows: drop them
    return Problem.from_arrays(
        np.round(prices, 4), A[used], -np.inf, 1.0, 0.0, 1.0, True, sense="maximize",
        name=f"cauctions-{items}x{bids}",
    )  # fmt: skip
