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

__all__ = ["CAPPED", "RAISED", "UNLIMITED", "AmountLimits", "ComponentLimits"]

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


COMPONENT_ORDER = ("company", "department", "shared", "individual")


@dataclass(frozen=True)
class ComponentLimits:
    """``caps.components`` and ``minimum.components``: the most and the least each payout
    component (company, department, shared, individual) pays one employee for a whole period.

    A component pays target bonus x its weight x its score (x proration); the limits, prorated
    the same way, come to ``amount / target bonus`` in factor terms, so they act on each
    component's share of the factor before gates (a minimum only where the component pays
    something). The employee's factor before gates is then the sum of the limited components.
    """

    caps: tuple[float, ...]  # per component, inf where none
    minimums: tuple[float, ...]  # per component, 0 where none

    @classmethod
    def of(cls, policy: Policy) -> ComponentLimits | None:
        caps = policy.caps.components
        least = None if policy.minimum is None else policy.minimum.components
        if caps is None and least is None:
            return None

        def amounts(given: object, default: float) -> tuple[float, ...]:
            return tuple(
                default if getattr(given, c, None) is None else float(getattr(given, c))
                for c in COMPONENT_ORDER
            )

        return cls(amounts(caps, np.inf), amounts(least, 0.0))

    def apply(self, parts: FloatArray, target_bonus: FloatArray) -> tuple[FloatArray, CodeArray]:
        """``parts`` (employees x 4, factor terms) within the limits, and a bitmask per employee
        of the components a limit changed (bit i: COMPONENT_ORDER[i])."""
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(target_bonus > 0, 1.0 / target_bonus, 0.0)[:, None]
        caps = np.array(self.caps)
        finite = np.isfinite(caps)
        high = np.where(finite, np.where(finite, caps, 0.0) * scale, np.inf)
        low = np.array(self.minimums) * scale
        raised = (parts > 0) & (parts < low)
        limited = np.where(raised, low, parts)
        capped = limited > high
        limited = np.where(capped, high, limited)
        changed = (raised | capped) & (target_bonus > 0)[:, None]
        bits = (changed * (1 << np.arange(len(COMPONENT_ORDER)))).sum(axis=1).astype(np.int8)
        return np.where(changed, limited, parts), bits
