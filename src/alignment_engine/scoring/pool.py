"""Fitting payouts to the bonus pool, to the cent.

Modes (the policy's ``pool.mode``):

- ``none``: every payout is rounded on its own; the pool is not consulted.
- ``scale_down``: payouts are rounded on their own; only if their total exceeds the pool are they
  scaled down so the total is exactly the pool.
- ``scale``: payouts are always scaled (up or down) so the total is exactly the pool.

Scaling uses the largest-remainder method: every scaled share is floored to whole units, and the
units still missing from the pool go one each to the largest fractional parts, ties going to the
smaller employee id (``tie_rank``). So the total equals the pool exactly, whatever the inputs, and
no one is more than one unit away from their exact share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

POOL_MODES = ("scale_down", "scale", "none")


@dataclass(frozen=True)
class PoolFit:
    units: IntArray  # final payouts in units (cents)
    scale: float  # the factor applied to the unrounded payouts (1.0 when not scaled)
    scaled: bool  # True when the largest-remainder allocation decided the amounts


def _sortable(keys: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Object arrays of ids sort much faster as fixed-width numpy strings."""
    return keys.astype(str) if keys.dtype == object else keys


def _largest(values: FloatArray, count: int, tie_order: npt.NDArray[Any]) -> IntArray:
    """Positions of the ``count`` largest values; among equal values, the first in tie order.

    A partition finds the cut-off value in linear time; only the values equal to it are sorted,
    so a million employees cost no full sort unless they all tie.
    """
    cut = np.partition(values, values.size - count)[values.size - count]
    above = np.flatnonzero(values > cut)
    tied = np.flatnonzero(values == cut)
    tied = tied[np.argsort(_sortable(tie_order[tied]), kind="stable")]
    chosen: IntArray = np.concatenate([above, tied[: count - above.size]]).astype(np.int64)
    return chosen


def largest_remainder(shares: FloatArray, total: int, tie_order: npt.NDArray[Any]) -> IntArray:
    """Whole units summing exactly to ``total``, each within one unit of its (non-negative) share.

    Equal remainders are broken by ``tie_order`` (employee ids, or ranks): smaller first. The
    shares should already sum to ``total`` up to float error; any difference is absorbed one unit
    at a time.
    """
    count = shares.shape[0]
    if count == 0:
        if total != 0:
            raise ValueError("cannot allocate a non-zero total among no one")
        return np.zeros(0, dtype=np.int64)
    whole = np.floor(shares)
    remainder = shares - whole
    units = whole.astype(np.int64)
    missing = int(total) - int(units.sum())
    if missing > 0:
        rounds, extra = divmod(missing, count)
        units += rounds
        if extra:
            units[_largest(remainder, extra, tie_order)] += 1
    while missing < 0:
        # Float error made the floors overshoot (shares a hair above a whole number): take units
        # back from the smallest remainders among those that have units to give, the last in
        # tie order first.
        eligible = np.flatnonzero(units > 0)
        if eligible.size == 0:
            raise ValueError("cannot allocate a negative total")
        rank = np.argsort(np.argsort(_sortable(tie_order[eligible]), kind="stable"))
        order = eligible[np.lexsort((-rank, remainder[eligible]))]
        take = min(-missing, order.size)
        units[order[:take]] -= 1
        missing += take
    return units


def fit_to_pool(
    amounts: FloatArray,
    rounded_units: IntArray,
    *,
    decimals: int,
    pool_units: int | None,
    mode: str,
    tie_order: npt.NDArray[Any] | Callable[[], npt.NDArray[Any]],
) -> PoolFit:
    """Fit payouts to the pool.

    ``amounts`` are the unrounded payouts (currency, non-negative) and ``rounded_units`` the same
    payouts rounded on their own by the policy's rounding mode; ``pool_units`` is the pool in
    units (None: no pool). With ``mode='scale'`` and nothing earned there is nothing to scale: the
    payouts stay zero and the pool is not distributed. ``tie_order`` (employee ids) breaks ties
    between equal remainders; it may be a function, called only when scaling needs it.
    """
    pool_mode = str(mode)
    if pool_mode not in POOL_MODES:
        raise ValueError(f"pool mode {pool_mode!r} is not one of {', '.join(POOL_MODES)}")
    if pool_units is None or pool_mode == "none":
        return PoolFit(units=rounded_units, scale=1.0, scaled=False)
    if pool_mode == "scale_down" and int(rounded_units.sum()) <= pool_units:
        return PoolFit(units=rounded_units, scale=1.0, scaled=False)
    exact_units = amounts * float(10**decimals)
    total = float(exact_units.sum())
    if total <= 0.0:
        return PoolFit(units=rounded_units, scale=1.0, scaled=False)
    ranks = tie_order() if callable(tie_order) else tie_order
    # Shares as fractions of the total first, so tiny totals cannot overflow the scale.
    units = largest_remainder(exact_units / total * pool_units, pool_units, ranks)
    return PoolFit(units=units, scale=pool_units / total, scaled=True)
