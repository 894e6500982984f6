"""The policy: HR's incentive design (docs/file-formats.md, "Policy")."""

from __future__ import annotations

import itertools
from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from alignment_engine.model.common import (
    AppliesTo,
    Document,
    Id,
    Number,
    ReferenceProblem,
    did_you_mean,
    raise_reference_problems,
)
from alignment_engine.model.decision_tables import DecisionTable, PayoutMatrix


class CurveBasis(StrEnum):
    LEVELS = "levels"  # the KPI's own threshold/target/maximum
    ATTAINMENT = "attainment"  # actual/target (target/actual when lower is better)


class Interpolation(StrEnum):
    LINEAR = "linear"
    STEP = "step"


class PoolMode(StrEnum):
    SCALE_DOWN = "scale_down"  # scale only when the payouts exceed the pool
    SCALE = "scale"  # always distribute exactly the pool
    NONE = "none"


class RoundingMode(StrEnum):
    HALF_UP = "half_up"
    HALF_EVEN = "half_even"
    DOWN = "down"


class Proration(StrEnum):
    DAYS = "days"
    NONE = "none"


class MissingActuals(StrEnum):
    ERROR = "error"
    ZERO = "zero"
    EXCLUDE = "exclude"


class Components(Document):
    company: Number = Field(default=0.0, ge=0)
    department: Number = Field(default=0.0, ge=0)
    shared: Number = Field(default=0.0, ge=0)
    individual: Number = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _sum_to_one(self) -> Components:
        total = self.company + self.department + self.shared + self.individual
        if abs(total - 1.0) > 1e-9 and abs(total - 100.0) > 1e-7:
            raise ValueError(f"component weights must sum to 1 (or 100), they sum to {total:g}")
        return self

    def normalised(self) -> dict[str, float]:
        total = self.company + self.department + self.shared + self.individual
        return {
            "company": self.company / total,
            "department": self.department / total,
            "shared": self.shared / total,
            "individual": self.individual / total,
        }


class LevelPoints(Document):
    threshold: Number | None = None
    target: Number = 1.0
    maximum: Number | None = None

    @model_validator(mode="after")
    def _monotone(self) -> LevelPoints:
        factors = [f for f in (self.threshold, self.target, self.maximum) if f is not None]
        if any(b < a for a, b in itertools.pairwise(factors)):
            raise ValueError("payout factors must not fall from threshold to target to maximum")
        return self


class Curve(Document):
    basis: CurveBasis = CurveBasis.LEVELS
    points: LevelPoints | list[tuple[Number, Number]]
    interpolation: Interpolation = Interpolation.LINEAR
    below_threshold: Number = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _points_match_basis(self) -> Curve:
        if self.basis is CurveBasis.LEVELS and not isinstance(self.points, LevelPoints):
            raise ValueError("a 'levels' curve takes points {threshold: f, target: f, maximum: f}")
        if self.basis is CurveBasis.ATTAINMENT:
            if not isinstance(self.points, list):
                raise ValueError("an 'attainment' curve takes points [[attainment, factor], ...]")
            if len(self.points) < 1:
                raise ValueError("an 'attainment' curve needs at least one point")
            xs = [x for x, _ in self.points]
            ys = [y for _, y in self.points]
            if any(b <= a for a, b in itertools.pairwise(xs)):
                raise ValueError("attainment points must be strictly increasing in attainment")
            if any(b < a for a, b in itertools.pairwise(ys)):
                raise ValueError("payout factors must not fall as attainment rises")
            if any(x < 0 or y < 0 for x, y in self.points):
                raise ValueError("attainment and payout factors must not be negative")
        return self

    def needed_levels(self) -> list[str]:
        """The KPI levels a 'levels' curve reads (a KPI scored on it must define them)."""
        if not isinstance(self.points, LevelPoints):
            return []
        needed = ["target"]
        if self.points.threshold is not None:
            needed.insert(0, "threshold")
        if self.points.maximum is not None:
            needed.append("maximum")
        return needed


class ComponentAmounts(Document):
    """An amount per payout component, in the policy's currency, for a whole period."""

    company: Number | None = Field(default=None, gt=0)
    department: Number | None = Field(default=None, gt=0)
    shared: Number | None = Field(default=None, gt=0)
    individual: Number | None = Field(default=None, gt=0)


class Caps(Document):
    kpi: Number | None = Field(default=None, ge=0)
    employee: Number | None = Field(default=None, ge=0)
    employee_amount: Number | None = Field(default=None, gt=0)
    components: ComponentAmounts | None = None


class Minimum(Document):
    """The least one employee is paid for a period, in the policy's currency."""

    employee_amount: Number | None = Field(default=None, gt=0)
    applies: Literal["paid", "everyone"] = "paid"
    components: ComponentAmounts | None = None

    @model_validator(mode="after")
    def _something(self) -> Minimum:
        if self.employee_amount is None and self.components is None:
            raise ValueError("give employee_amount or components")
        return self


class Comparison(Document):
    lt: Number | None = None
    lte: Number | None = None
    gt: Number | None = None
    gte: Number | None = None
    eq: Number | None = None

    @model_validator(mode="after")
    def _one_at_least(self) -> Comparison:
        if all(v is None for v in (self.lt, self.lte, self.gt, self.gte, self.eq)):
            raise ValueError("give a comparison: lt, lte, gt, gte or eq")
        return self

    def holds(self, value: float) -> bool:
        return (
            (self.lt is None or value < self.lt)
            and (self.lte is None or value <= self.lte)
            and (self.gt is None or value > self.gt)
            and (self.gte is None or value >= self.gte)
            and (self.eq is None or value == self.eq)
        )


class GateCondition(Document):
    """What a gate looks at: a KPI's result, a department's score, or the company score."""

    kpi: Id | None = None
    department: Id | None = None
    scope: Literal["company"] | None = None
    attainment: Comparison | None = None
    actual: Comparison | None = None
    score: Comparison | None = None

    @model_validator(mode="after")
    def _one_subject_one_measure(self) -> GateCondition:
        subjects = [s for s in (self.kpi, self.department, self.scope) if s is not None]
        if len(subjects) != 1:
            raise ValueError("a gate looks at exactly one of: kpi, department, scope: company")
        measures = [m for m in (self.attainment, self.actual, self.score) if m is not None]
        if len(measures) != 1:
            raise ValueError("a gate compares exactly one of: attainment, actual, score")
        if self.kpi is None and self.score is None:
            raise ValueError("departments and the company are compared on 'score'")
        if self.kpi is not None and self.score is not None:
            raise ValueError("a KPI is compared on 'attainment' or 'actual'")
        return self


class GateEffect(Document):
    cap: Number | None = Field(default=None, ge=0)
    zero: bool | None = None
    multiply: Number | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _exactly_one(self) -> GateEffect:
        chosen = [e for e in (self.cap, self.multiply) if e is not None] + (
            [True] if self.zero else []
        )
        if len(chosen) != 1:
            raise ValueError("a gate has exactly one effect: cap, zero: true or multiply")
        return self


class Gate(Document):
    id: Id
    description: str = ""
    when: GateCondition
    effect: GateEffect
    applies_to: AppliesTo = "all"


PAYABLE_UNITS = 2**53
"""Payouts are counted in whole units of the rounding (cents): beyond this many units a double
no longer holds every whole unit, so amounts at or above it cannot be paid exactly."""


class Pool(Document):
    amount: Number = Field(ge=0)
    mode: PoolMode = PoolMode.SCALE_DOWN
    # Manual adjustments (`score --adjustments`): paid on top of the pool, or out of it.
    adjustments: Literal["outside", "inside"] = "outside"


class Deferral(Document):
    """A share of each payout held back and released ``periods`` periods later (a payout of
    2026-Q1 deferred for 4 periods is released in the run of 2027-Q1 or the first one after)."""

    share: Number = Field(gt=0, le=1)
    periods: int = Field(ge=1, le=120)


class Clawback(Document):
    """A restatement that lowers a paid amount is recovered from the payouts of the ``lookback``
    periods after the restated one (never below zero in a period; what is left when the
    look-back ends is written off, and reported)."""

    lookback: int = Field(ge=1, le=120)


class Advances(Document):
    """Each period shorter than a year pays ``share`` of its result as an advance, for its part
    of the year (target bonuses are annual: a quarter's result x its days / the year's days);
    the year's run pays the annual result minus what the year advanced, never below ``floor``."""

    share: Number = Field(gt=0, le=1)
    floor: Number = Field(default=0.0, ge=0)


class Rounding(Document):
    decimals: int = Field(default=2, ge=0, le=6)
    mode: RoundingMode = RoundingMode.HALF_UP


class Policy(Document):
    """HR's incentive design (docs/file-formats.md, "Policy"): component weights, payout
    curves, gates, caps, the bonus pool, rounding and proration."""

    kind: Literal["policy"] = "policy"
    id: Id
    name: str = ""
    currency: str = Field(default="CNY", min_length=3, max_length=3)
    description: str = ""
    components: Components
    curves: dict[Id, Curve] = Field(default_factory=dict)
    kpi_curves: dict[Id, Id] = Field(default_factory=dict)
    matrices: dict[Id, PayoutMatrix] = Field(default_factory=dict)
    caps: Caps = Field(default_factory=Caps)
    gates: list[Gate] = Field(default_factory=list)
    tables: list[DecisionTable] = Field(default_factory=list)
    minimum: Minimum | None = None
    pool: Pool | None = None
    rounding: Rounding = Field(default_factory=Rounding)
    proration: Proration = Proration.DAYS
    missing: MissingActuals = MissingActuals.ERROR
    deferral: Deferral | None = None
    clawback: Clawback | None = None
    advances: Advances | None = None

    @model_validator(mode="after")
    def _references(self) -> Policy:
        problems: list[ReferenceProblem] = []
        if "default" not in self.curves:
            problems.append(
                ReferenceProblem(
                    ("curves",),
                    "a policy needs a 'default' curve",
                    did_you_mean("default", self.curves),
                )
            )
        for kpi_id, curve_name in self.kpi_curves.items():
            if curve_name not in self.curves:
                problems.append(
                    ReferenceProblem(
                        ("kpi_curves", kpi_id),
                        f"unknown curve '{curve_name}'",
                        did_you_mean(curve_name, self.curves),
                    )
                )
        if self.pool is not None:
            decimals = self.rounding.decimals
            largest = PAYABLE_UNITS / 10**decimals
            if self.pool.amount * 10**decimals >= PAYABLE_UNITS:
                problems.append(
                    ReferenceProblem(
                        ("pool", "amount"),
                        f"a pool of {self.pool.amount:,.12g} cannot be paid exactly to "
                        f"{decimals} decimals (amounts must stay below {largest:,.0f})",
                        "state the pool in a larger unit (thousands), or round to fewer decimals",
                    )
                )
        cap, least = self.caps.employee_amount, self.minimum
        if (
            cap is not None
            and least is not None
            and least.employee_amount is not None
            and least.employee_amount > cap
        ):
            problems.append(
                ReferenceProblem(
                    ("minimum", "employee_amount"),
                    f"the minimum payout {least.employee_amount:,.12g} is above the cap "
                    f"caps.employee_amount {cap:,.12g}",
                    "lower the minimum or raise the cap",
                )
            )
        seen: set[str] = set()
        for index, gate in enumerate(self.gates):
            if gate.id in seen:
                problems.append(
                    ReferenceProblem(("gates", index, "id"), f"duplicate gate id '{gate.id}'")
                )
            seen.add(gate.id)
        for index, table in enumerate(self.tables):
            if table.id in seen:
                problems.append(
                    ReferenceProblem(
                        ("tables", index, "id"),
                        f"duplicate id '{table.id}' (gates and tables share their ids)",
                    )
                )
            seen.add(table.id)
            problems.extend(table.problems(("tables", index)))
        problems.extend(self._matrix_problems())
        raise_reference_problems(problems)
        return self

    def _matrix_problems(self) -> list[ReferenceProblem]:
        problems: list[ReferenceProblem] = []
        paid_on: dict[str, str] = {}
        for name, matrix in self.matrices.items():
            for index, binding in enumerate(matrix.kpis):
                for axis, kpi_id in binding.items():
                    where = ("matrices", name, "kpis", index, axis)
                    if kpi_id in self.kpi_curves:
                        problems.append(
                            ReferenceProblem(
                                where,
                                f"KPI '{kpi_id}' is paid on matrix '{name}' and on curve "
                                f"'{self.kpi_curves[kpi_id]}' (kpi_curves)",
                                "pay it on one of them",
                            )
                        )
                    if kpi_id in paid_on:
                        problems.append(
                            ReferenceProblem(
                                where,
                                f"KPI '{kpi_id}' is already paid on {paid_on[kpi_id]}",
                                "a KPI is paid on one matrix, once",
                            )
                        )
                    paid_on[kpi_id] = f"matrix '{name}' (kpis[{index}])"
        return problems

    def matrix_of(self) -> dict[str, tuple[str, int, str]]:
        """KPI id -> (matrix name, binding number, axis name) for every KPI paid on a matrix."""
        return {
            kpi_id: (name, index, axis)
            for name, matrix in self.matrices.items()
            for index, binding in enumerate(matrix.kpis)
            for axis, kpi_id in binding.items()
        }

    def curve_for(self, kpi_id: str) -> tuple[str, Curve]:
        name = self.kpi_curves.get(kpi_id, "default")
        return name, self.curves[name]
