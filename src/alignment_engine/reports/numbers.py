"""Numbers as people read them: a mean of three months is 10.402, not 10.4020333333."""

from __future__ import annotations

import math

__all__ = ["readable"]


def readable(value: float, significant: int = 6) -> str:
    """``value`` with at most ``significant`` significant digits, thousands grouped, never in
    exponent form, trailing zeros dropped: 10.4020333 -> ``10.402``, 0.93299333 ->
    ``0.932993``, 1250000 -> ``1,250,000``. For display only: results keep every digit."""
    number = float(value)
    if number == 0 or not math.isfinite(number):
        return f"{number:g}"
    magnitude = math.floor(math.log10(abs(number)))
    decimals = max(0, significant - 1 - magnitude)
    text = f"{round(number, decimals):,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
