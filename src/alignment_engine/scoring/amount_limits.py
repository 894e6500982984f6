"""Caps and minimums in money: the most and the least one employee is paid for a period.

``caps.employee_amount`` caps a payout at an amount of the policy's currency, and
``minimum.employee_amount`` raises a payout to at least an amount (``applies: paid``, the
default: payouts above zero only, so a gate that zeroes a payout still zeroes it; ``everyone``:
every employee). Both are for a whole period and prorated like the target bonus (an employee
paid for half the period is capped at half the cap). They act on the formula amount (target
bonus x factor x proration) before rounding, and again on the rounded units, so a payout is
never a fraction of a unit over its cap or under its minimum; the pool is fitted afterwards (a
pool that scales the payouts scales the limited ones too).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from alignment_engine.model.policy import Policy

__all__ = ["CAPPED", "RAISED", "UNLIMITED", "AmountLimits"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
CodeArray = npt.NDArray[np.int8]

UNLIMITED, CAPPED, RAISED = 0, 1, 2
_EDGE = 1e-9  # units: a prorated limit that is a whole unit up to float noise stays that unit


@dataclass(frozen=True)
class AmountLimits:
    cap: float | None
    minimum: float | None
    minimum_for_everyone: bool

    @classmethod
    def of(cls, policy: Policy) -> AmountLimits | None:
        cap = policy.caps.employee_amount
        minimum = None if policy.minimum is None else policy.minimum.employee_amount
        if cap is None and minimum is None:
            return None
        everyone = policy.minimum is not None and policy.minimum.applies == "everyone"
        return cls(
            None if cap is None else float(cap),
            None if minimum is None else float(minimum),
            everyone,
        )

    def _raised(self, amount: FloatArray) -> npt.NDArray[np.bool_]:
        if self.minimum is None:
            return np.zeros(amount.shape, dtype=np.bool_)
        return np.ones(amount.shape, dtype=np.bool_) if self.minimum_for_everyone else amount > 0

    def amounts(self, amount: FloatArray, proration: FloatArray) -> tuple[FloatArray, CodeArray]:
        """The formula amounts within the limits, and which were changed (CAPPED, RAISED)."""
        code = np.zeros(amount.shape, dtype=np.int8)
        limited = amount
        if self.minimum is not None:
            low = self.minimum * proration
            raise_ = self._raised(amount) & (limited < low)
            limited = np.where(raise_, low, limited)
            code = np.where(raise_, RAISED, code).astype(np.int8)
        if self.cap is not None:
            high = self.cap * proration
            cap_ = limited > high
            limited = np.where(cap_, high, limited)
            code = np.where(cap_, CAPPED, code).astype(np.int8)
        return limited, code

    def units(
        self,
        units: IntArray,
        formula: FloatArray,
        proration: FloatArray,
        code: CodeArray,
        decimals: int,
    ) -> tuple[IntArray, CodeArray]:
        """Rounded units kept within the limits, and the codes of those changed here.

        Rounding can pass a limit by part of a unit (an amount of 98.5 cents under a cap of
        98.5 rounds half up to 99): a cap's own units are rounded down, a minimum's up.
        ``formula``: the amounts before the limits (who a ``paid`` minimum is for)."""
        scale = float(10**decimals)
        kept = units
        if self.minimum is not None:
            low = np.ceil(self.minimum * proration * scale - _EDGE).astype(np.int64)
            under = self._raised(formula) & (kept < low)
            kept = np.where(under, low, kept)
            code = np.where(under, RAISED, code).astype(np.int8)
        if self.cap is not None:
            high = np.floor(self.cap * proration * scale + _EDGE).astype(np.int64)
            over = kept > high
            kept = np.where(over, high, kept)
            code = np.where(over, CAPPED, code).astype(np.int8)
        return kept.astype(np.int64), code
