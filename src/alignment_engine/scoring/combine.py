"""From KPI factors to scope scores, and from scope scores to employee factors (vectorised).

A scope's score is the weighted mean of its KPIs' payout factors: weights are divided by their
sum, so weights given as fractions (sum 1) and as percentages (sum 100) mean the same, and a KPI
left out (``missing: exclude``) hands its weight to the others. If every weight is zero the KPIs
count equally. A scope with no scored KPI has no score.

Components (company, department, shared, individual) combine with the policy's weights. When a
component has no score for a department (no company KPIs, a department without KPIs of its own,
a department in no shared goal, or all of them excluded), its weight is shared out among the
other components in proportion to their weights: people are then paid on what there is to pay
them on, as documented for departments without KPIs. If nothing is left the factor is 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from alignment_engine.scoring.amount_limits import ComponentLimits
from alignment_engine.scoring.gate_effects import IDENTITY, Modifier, apply_effects

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

COMPONENTS = ("company", "department", "shared", "individual")

NOISE_DECIMALS = 12


def denoise(values: FloatArray) -> FloatArray:
    """Factors rounded to 12 decimal places: sums of weights like 0.2 + 0.5 + 0.2 + 0.1 are
    0.9999999999999999 in binary floating point, and an on-target employee should read 1.0.
    (12 places is far below a cent on any bonus: 1e8 x 1e-12 = 1e-4.)"""
    cleaned: FloatArray = np.round(values, NOISE_DECIMALS)
    return cleaned


@dataclass(frozen=True)
class ScopeScores:
    score: FloatArray  # one per scope; NaN where the scope has no scored KPI
    kpi_weight: FloatArray  # each KPI's share of its scope (0 where not included)


def scope_scores(
    scope_of_kpi: IntArray,
    weight: FloatArray,
    factor: FloatArray,
    included: BoolArray,
    scope_count: int,
) -> ScopeScores:
    used_weight = np.where(included, weight, 0.0)
    totals = np.bincount(scope_of_kpi, weights=used_weight, minlength=scope_count)
    counts = np.bincount(scope_of_kpi, weights=included.astype(np.float64), minlength=scope_count)
    # All-zero weights: count the included KPIs equally.
    equal = (totals == 0) & (counts > 0)
    used_weight = np.where(equal[scope_of_kpi] & included, 1.0, used_weight)
    totals = np.where(equal, counts, totals)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(included, used_weight / totals[scope_of_kpi], 0.0)
    weighted = np.bincount(
        scope_of_kpi, weights=np.where(included, share * factor, 0.0), minlength=scope_count
    ).astype(np.float64)
    score = np.where(counts > 0, denoise(weighted), np.nan)
    return ScopeScores(score=score, kpi_weight=denoise(share))


def shared_scores(
    goal_factor: FloatArray,
    memberships: Sequence[tuple[int, int]],
    department_count: int,
) -> FloatArray:
    """Per department: the mean factor of the shared goals it belongs to that have a result.

    ``memberships`` are (department index, goal index) pairs."""
    if not memberships:
        return np.full(department_count, np.nan)
    pairs = np.array(memberships, dtype=np.int64)
    values = goal_factor[pairs[:, 1]]
    present = ~np.isnan(values)
    sums = np.bincount(pairs[present, 0], weights=values[present], minlength=department_count)
    counts = np.bincount(pairs[present, 0], minlength=department_count).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        result: FloatArray = np.where(counts > 0, denoise(sums / np.maximum(counts, 1)), np.nan)
    return result


@dataclass(frozen=True)
class DepartmentFactors:
    """Everything needed to turn an employee's individual score into their factor."""

    department_ids: tuple[str, ...]
    policy_weight: dict[str, float]  # the policy's component weights, normalised to sum 1
    weight: FloatArray  # (D, 4) effective component weights per department, COMPONENTS order
    company_score: float  # after company gates; NaN when there is none
    department_score: FloatArray  # (D,) NaN where none
    shared_score: FloatArray  # (D,) NaN where none
    modifier: tuple[Modifier, ...]  # (D,) gates on employee factors: `all` then department
    employee_cap: float | None

    @property
    def fixed_part(self) -> FloatArray:
        """Each department's factor before gates, without the individual component."""
        scores = np.column_stack(
            [
                np.full(len(self.department_ids), self.company_score),
                self.department_score,
                self.shared_score,
            ]
        )
        weighted: FloatArray = (self.weight[:, :3] * np.nan_to_num(scores, nan=0.0)).sum(axis=1)
        return weighted

    def employee_factors(
        self,
        department: IntArray,
        individual_score: FloatArray,
        *,
        limits: ComponentLimits | None = None,
        target_bonus: FloatArray | None = None,
    ) -> tuple[FloatArray, FloatArray, FloatArray, npt.NDArray[np.int8] | None]:
        """(before gates, after gates, final after ``caps.employee``) for each employee, and
        which components a money limit changed (``limits``, needs ``target_bonus``)."""
        fixed = self.fixed_part
        changed = None
        if limits is None or target_bonus is None:
            before = denoise(fixed[department] + self.weight[department, 3] * individual_score)
        else:
            scores = np.nan_to_num(
                np.column_stack(
                    [
                        np.full(len(self.department_ids), self.company_score),
                        self.department_score,
                        self.shared_score,
                    ]
                ),
                nan=0.0,
            )
            parts = np.column_stack(
                [
                    (self.weight[:, :3] * scores)[department],
                    self.weight[department, 3] * individual_score,
                ]
            )
            parts, changed = limits.apply(parts, target_bonus)
            before = denoise(parts.sum(axis=1))
        multiply = np.array([m.multiply for m in self.modifier], dtype=np.float64)
        add = np.array([m.add for m in self.modifier], dtype=np.float64)
        cap = np.array([np.inf if m.cap is None else m.cap for m in self.modifier], np.float64)
        zero = np.array([m.zero for m in self.modifier], dtype=np.bool_)
        after = denoise(
            apply_effects(
                before, multiply[department], add[department], cap[department], zero[department]
            )
        )
        final = after if self.employee_cap is None else np.minimum(after, self.employee_cap)
        return before, after, final, changed


def department_factors(
    *,
    department_ids: Sequence[str],
    policy_weight: Mapping[str, float],  # the policy's component weights (any positive scale)
    company_score: float,
    department_score: FloatArray,
    shared_score: FloatArray,
    modifiers: Mapping[str, Modifier],
    employee_cap: float | None,
) -> DepartmentFactors:
    count = len(department_ids)
    available = np.column_stack(
        [
            np.full(count, not np.isnan(company_score)),
            ~np.isnan(department_score),
            ~np.isnan(shared_score),
            np.ones(count, dtype=np.bool_),
        ]
    )
    raw = [float(policy_weight.get(c, 0.0)) for c in COMPONENTS]
    base = np.array(raw, dtype=np.float64) / math.fsum(raw) if math.fsum(raw) > 0 else np.zeros(4)
    # One row per pattern of available components (at most 16), each summed exactly.
    weight = np.zeros((count, len(COMPONENTS)), dtype=np.float64)
    patterns, inverse = np.unique(available, axis=0, return_inverse=True)
    for number, pattern in enumerate(patterns):
        kept = [float(w) if on else 0.0 for w, on in zip(base, pattern, strict=True)]
        total = math.fsum(kept)
        if total > 0:
            weight[inverse.ravel() == number] = np.array(kept) / total
    everyone = modifiers.get("all", IDENTITY)
    per_department = tuple(
        everyone.then(modifiers.get(f"department:{d}", IDENTITY)) for d in department_ids
    )
    return DepartmentFactors(
        department_ids=tuple(department_ids),
        policy_weight={c: float(w) for c, w in zip(COMPONENTS, base, strict=True)},
        weight=weight,
        company_score=company_score,
        department_score=department_score,
        shared_score=shared_score,
        modifier=per_department,
        employee_cap=employee_cap,
    )
