"""Paying people in their own currency: an FX table (``period, currency, rate``) converts each
employee's pay from the policy's currency, rounded in the pay currency by the policy's rule.

``rate`` is how many units of ``currency`` one unit of the policy's currency buys (a policy in
CNY paying in USD at 0.138: 10,000.00 CNY is 1,380.00 USD). Scoring, the pool, deferrals and
clawbacks stay in the policy's currency, where they are exact; the conversion is the last step,
of what is paid now, and the rates used are stored with the run (its ``fx`` input table).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from alignment_engine.errors import InputError
from alignment_engine.scoring.money import format_units, format_units_column, scaled_units
from alignment_engine.scoring.periods import Period
from alignment_engine.scoring.tables import (
    ProblemCollector,
    TableSource,
    numeric_column,
    require_columns,
    text_column,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PayCurrencies", "convert", "rates_for"]

IntArray = npt.NDArray[np.int64]


def rates_for(frame: pd.DataFrame, period: Period, policy_currency: str) -> dict[str, float]:
    """The rates of ``period`` by currency (upper case), every row checked; raises one
    InputError naming each bad row."""
    source = TableSource.of(frame, "fx")
    require_columns(frame, source, ["period", "currency", "rate"])
    collector = ProblemCollector(source, column_order=tuple(str(c) for c in frame.columns))
    periods = text_column(frame, "period")
    currencies = text_column(frame, "currency")
    rate, empty, bad = numeric_column(frame, "rate")
    collector.add_rows(empty, "rate", lambda _: ("empty", None))
    collector.add_rows(bad, "rate", lambda i: (f"{frame['rate'].iloc[i]!r} is not a number", None))
    with np.errstate(invalid="ignore"):
        collector.add_rows(
            ~empty & ~bad & ~(np.isfinite(rate) & (rate > 0)),
            "rate",
            lambda i: (f"{rate[i]:g} must be a positive number", None),
        )
    codes = np.array(
        [str(c).strip().upper() if c is not None and c == c else "" for c in currencies],
        dtype=object,
    )
    odd = np.array([len(c) != 3 or not c.isalpha() for c in codes], dtype=np.bool_)
    collector.add_rows(
        odd, "currency", lambda i: (f"{currencies[i]!r} is not a currency code", "e.g. USD")
    )
    labels = np.array([str(p).strip().upper() if p is not None else "" for p in periods])
    found: dict[str, float] = {}
    first_row: dict[str, int] = {}
    for index in np.flatnonzero((labels == period.label.upper()) & ~odd).tolist():
        code = str(codes[index])
        if code in first_row:
            collector.add(
                index,
                "currency",
                f"a second rate for {code} in {period.label} (first at row "
                f"{source.line(first_row[code])})",
            )
            continue
        first_row[code] = index
        found[code] = float(rate[index])
    if policy_currency.upper() in found and found[policy_currency.upper()] != 1.0:
        collector.add(
            first_row[policy_currency.upper()],
            "rate",
            f"the policy pays in {policy_currency.upper()}: its own rate is 1",
        )
    collector.raise_if_any()
    return found


@dataclass(frozen=True)
class PayCurrencies:
    """Each employee's pay in their currency (arrays in the employee table's order)."""

    decimals: int
    currency: npt.NDArray[np.object_]
    rate: npt.NDArray[np.float64]  # 1 where the employee is paid in the policy's currency
    units: IntArray  # what is paid now, in the pay currency's units

    def explanation(self, index: int) -> dict[str, Any]:
        return {
            "currency": str(self.currency[index]),
            "rate": float(self.rate[index]),
            "amount": int(self.units[index]) / 10**self.decimals,
        }

    def texts(self) -> list[str]:
        return format_units_column(self.units, self.decimals)

    def totals(self) -> dict[str, str]:
        """What is paid now in each currency, exact text, currencies in alphabetical order."""
        sums: dict[str, int] = {}
        for code, units in zip(self.currency.tolist(), self.units.tolist(), strict=True):
            sums[code] = sums.get(code, 0) + int(units)
        return {code: format_units(sums[code], self.decimals) for code in sorted(sums)}


def convert(
    paid_units: IntArray,
    currencies: npt.NDArray[np.object_],
    rates: Mapping[str, float],
    policy_currency: str,
    decimals: int,
    mode: str,
    period: str,
) -> PayCurrencies:
    """Convert what is paid now to each employee's currency (``currencies``, upper case;
    the policy's own currency converts at 1)."""
    home = policy_currency.upper()
    table = {home: 1.0, **{c: r for c, r in rates.items() if c != home}}
    missing = sorted({str(c) for c in currencies.tolist()} - set(table))
    if missing:
        raise InputError(
            f"no rate for {', '.join(missing)} in {period}: employees paid in it need one",
            key="fx",
            suggestion=f"add a row '{period},{missing[0]},RATE' to the fx table (RATE: "
            f"{missing[0]} per 1 {home})",
        )
    rate = np.array([table[str(c)] for c in currencies.tolist()], dtype=np.float64)
    units = np.asarray(paid_units, dtype=np.int64).copy()
    for value in np.unique(rate).tolist():
        if value != 1.0:  # the policy's own currency is paid as it is
            chosen = rate == value
            try:
                units[chosen] = _converted(units[chosen], value, mode)
            except ValueError as error:
                raise InputError(f"cannot convert the payouts: {error}", key="fx") from None
    return PayCurrencies(decimals=decimals, currency=currencies, rate=rate, units=units)


def _converted(units: IntArray, rate: float, mode: str) -> IntArray:
    """``units`` times ``rate`` rounded by ``mode``, exactly: the rate as the decimal written in
    the fx table (a double's shortest text is that decimal) is a ratio of integers, so no
    product is a double near a tie (doubles went wrong by a cent at 10^11 CNY)."""
    if not math.isfinite(rate) or rate < 0:
        raise ValueError(f"rate {rate} is not a non-negative number")
    numerator, denominator = Decimal(repr(rate)).as_integer_ratio()
    return scaled_units(units, numerator, denominator, mode)
