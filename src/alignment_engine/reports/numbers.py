"""Numbers as people read them: a mean of three months is 10.402, not 10.4020333333."""

from __future__ import annotations

import math
import re

__all__ = ["grouped_numbers", "readable"]

_LONG_INTEGER = re.compile(r"(?<![\w.\-])(\d{4,})(?![\w\-])")


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


def grouped_numbers(text: str) -> str:
    """``text`` with the integer part of each plain number of 4 digits or more grouped in
    thousands (``9500 x ... = 7131.847037`` -> ``9,500 x ... = 7,131.847037``); digits inside
    ids (E00002), dates and periods (2026-Q3) and after a decimal point stay as they are."""
    return _LONG_INTEGER.sub(lambda found: f"{int(found.group(1)):,}", text)
