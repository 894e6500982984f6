"""Results computed from decimal inputs, rounded back to read as decimals.

Actuals are given in decimal (``7.8486``, ``8.5503``, ``9.1011``), but binary floating point sums
them to ``25.500000000000004`` and divides ``0.0765 / 0.085`` to ``0.8999999999999999``. Values
the engine computes itself (sums and means of sub-periods, formula results, attainment) are
therefore rounded to :data:`SIGNIFICANT_DIGITS` significant digits where they are computed: they
then print as the decimals people expect, in JSON and in explanations, and a result that is
exactly on a curve point or a gate's threshold in decimal is on it in the engine too.

Twelve digits is far below the precision of any KPI (no one reports revenue to a part in 10^12)
and far above the noise, which sits in the 16th-17th digit. The rounding is plain arithmetic on
the value alone, so the same inputs still give the same outputs, byte for byte.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

SIGNIFICANT_DIGITS = 12

# 10**decimals must stay finite: below ~1e-290 a value is left as it is (no KPI is that small).
_MAX_DECIMALS = 300


def round_significant(values: npt.ArrayLike, digits: int = SIGNIFICANT_DIGITS) -> FloatArray:
    """``values`` rounded to ``digits`` significant digits; NaN, infinities and zero unchanged.

    Vectorised: values are grouped by their decimal exponent, and each group is rounded by
    ``np.round`` to the matching number of decimal places (negative for large values).
    """
    array = np.asarray(values, dtype=np.float64)
    result = array.copy()
    finite = np.isfinite(array) & (array != 0)
    if not finite.any():
        return result
    magnitude = np.floor(np.log10(np.abs(array[finite]))).astype(np.int64)
    decimals = digits - 1 - magnitude
    rounded = array[finite]
    for places in np.unique(decimals):
        if places > _MAX_DECIMALS:
            continue
        group = decimals == places
        rounded[group] = np.round(rounded[group], int(places))
    result[finite] = rounded
    return result
