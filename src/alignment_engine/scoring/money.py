"""Money: floats (payout arithmetic) to exact integer minor units (cents), and back to text.

Scores and factors are floats; final amounts are integers counting ``10**-decimals`` of the
currency ("units": cents when ``decimals`` is 2). Rounding happens once, here, vectorised.

Why a guard step: ``2.675`` is stored as ``2.67499999999999982236431605997495353221893310546875``,
so ``2.675 * 100`` is ``267.49999999999997`` and a naive half-up gives 267, while the amount the
user wrote (and Decimal arithmetic) gives 268. Before applying the rounding mode the scaled amount
is rounded to 6 decimal places (a millionth of a cent); that moves every amount that is exact in
decimal back onto its true value (``267.5``), which a double can hold exactly. The price: an amount
within 5e-7 of a unit of an exact half is treated as that half. From a billion units up (ten
million in the currency at cents) a double has fewer digits to spare, so the guard keeps 15
significant digits, what a double holds of any decimal: 2,124,161.8255 at three decimals is
``2124161825.4999998`` units, rounded to 5 places ``2124161825.5``, and half-up pays .826.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from alignment_engine.model.policy import PAYABLE_UNITS

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_GUARD_DECIMALS = 6
_GUARD_LIMIT = 1e9
_SIGNIFICANT_DIGITS = 15
_WHOLE_FROM = 2.0**52
_UNITS_LIMIT = float(PAYABLE_UNITS)  # beyond this a double no longer holds every whole unit


ROUNDING_MODES = ("half_up", "half_even", "down")


def to_units(amounts: npt.ArrayLike, decimals: int, mode: str) -> IntArray:
    """Round amounts (in the currency) to integer units of ``10**-decimals`` by ``mode``.

    ``half_up`` rounds halves away from zero, ``half_even`` to the even unit, ``down`` towards
    zero: the meanings of Python's ``decimal.ROUND_HALF_UP``, ``ROUND_HALF_EVEN``, ``ROUND_DOWN``.
    """
    values = np.asarray(amounts, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError("cannot round amounts that are not finite numbers")
    scaled = values * float(10**decimals)
    if np.any(np.abs(scaled) >= _UNITS_LIMIT):
        raise ValueError(
            f"amounts of {_UNITS_LIMIT / 10**decimals:g} or more cannot be paid exactly"
        )
    guarded = _guarded(scaled)
    # ``str()`` also accepts the policy model's StrEnum members.
    rounding = str(mode)
    if rounding == "half_up":
        # From 2**52 up a double holds only whole numbers, and adding 0.5 could round up to the
        # next even one: those are already rounded.
        whole = np.abs(guarded) >= _WHOLE_FROM
        rounded = np.where(whole, guarded, np.sign(guarded) * np.floor(np.abs(guarded) + 0.5))
    elif rounding == "half_even":
        rounded = np.rint(guarded)
    elif rounding == "down":
        rounded = np.trunc(guarded)
    else:
        raise ValueError(f"rounding mode {rounding!r} is not one of {', '.join(ROUNDING_MODES)}")
    return rounded.astype(np.int64)


def scaled_units(units: IntArray, numerator: int, denominator: int, mode: str) -> IntArray:
    """``units * numerator / denominator`` rounded to whole units by ``mode`` (the meanings of
    :func:`to_units`), exactly: integer arithmetic, in int64 while every product fits and in
    Python's integers beyond (a currency conversion at a rate written 0.138 is 138/1000)."""
    rounding = str(mode)
    if rounding not in ROUNDING_MODES:
        raise ValueError(f"rounding mode {rounding!r} is not one of {', '.join(ROUNDING_MODES)}")
    values = np.asarray(units, dtype=np.int64)
    largest = int(np.abs(values).max(initial=0))
    # Room for doubling the remainder; object arrays hold Python integers of any size.
    exact: Any = values if largest * numerator < 2**61 else values.astype(object)
    size = np.abs(exact) * numerator
    whole = size // denominator
    twice_rest = 2 * (size - whole * denominator)
    if rounding == "half_up":
        whole = whole + (twice_rest >= denominator)
    elif rounding == "half_even":
        whole = whole + (
            (twice_rest > denominator) | ((twice_rest == denominator) & (whole % 2 == 1))
        )
    if int(np.abs(whole).max(initial=0)) >= PAYABLE_UNITS:
        raise ValueError(f"amounts of {PAYABLE_UNITS:,} units or more cannot be paid exactly")
    signed: IntArray = np.where(exact < 0, -whole, whole).astype(np.int64)
    return signed


def _guarded(scaled: FloatArray) -> FloatArray:
    """Scaled amounts rounded to 6 decimals, or to 15 significant digits where that is fewer."""
    size = np.abs(scaled)
    guarded = np.where(size < _GUARD_LIMIT, np.round(scaled, _GUARD_DECIMALS), scaled)
    digits = 10  # whole digits of the smallest amount past the limit
    while digits < _SIGNIFICANT_DIGITS and np.any(size >= 10.0 ** (digits - 1)):
        band = (size >= 10.0 ** (digits - 1)) & (size < 10.0**digits)
        guarded = np.where(band, np.round(scaled, _SIGNIFICANT_DIGITS - digits), guarded)
        digits += 1
    return guarded


def units_to_float(units: npt.ArrayLike, decimals: int) -> FloatArray:
    """Units as currency floats. Each is the double nearest the exact decimal amount (one
    correctly rounded division), so ``repr`` and JSON print it with at most ``decimals`` digits."""
    return np.asarray(units, dtype=np.int64).astype(np.float64) / float(10**decimals)


def units_to_decimal(units: int, decimals: int) -> Decimal:
    """Exact amount: ``units_to_decimal(26750, 2) == Decimal("267.50")``."""
    return Decimal(int(units)).scaleb(-decimals)


def format_units_column(units: npt.ArrayLike, decimals: int) -> list[str]:
    """:func:`format_units` of a whole column at once (a million payouts in a fraction of a
    second, where a Python loop over Decimals takes seconds)."""
    values = np.asarray(units, dtype=np.int64)
    if values.size == 0:
        return []
    whole = np.abs(values) // 10**decimals
    signs = np.where(values < 0, "-", "").astype(object)
    texts = signs + whole.astype(str).astype(object)
    if decimals:
        fraction = np.char.zfill((np.abs(values) % 10**decimals).astype(str), decimals)
        texts = texts + "." + fraction.astype(object)
    return list(texts.tolist())


def format_units(units: int, decimals: int, *, grouped: bool = False) -> str:
    """Exact text with exactly ``decimals`` digits: ``format_units(-5, 2) == "-0.05"``;
    ``grouped``: with thousands separators, for people (``"7,131.85"``)."""
    sign = "-" if units < 0 else ""
    whole, fraction = divmod(abs(int(units)), 10**decimals)
    shown = f"{whole:,}" if grouped else f"{whole}"
    if decimals == 0:
        return f"{sign}{shown}"
    return f"{sign}{shown}.{fraction:0{decimals}d}"
