"""Is the direction of a proposed move robust to the uncertainty of fitted curves?

Fitted parameters are uncertain (notes/optimisation.md: the marginal return at today's level is
off by 11-46%, and for a quarter of departments fewer than 80% of parameter draws agreed on the
direction of the move). For every moved amount with at least one fitted curve, parameters are
drawn from each curve's covariance; under a draw the amount should grow when its marginal value at
today's level exceeds its pool's shadow price and shrink when below. The share of draws agreeing
with the proposal's direction is reported, and below 80% the move is flagged as unstable.

This is a first-order check: the KPI coefficients and the shadow price are held at the proposal
rather than re-optimised for every draw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alignment_engine.optimisation.objective import Objective, ObjectiveState
from alignment_engine.optimisation.response_curves import CurveArrays, FloatArray, ShapeCode, sum_by
from alignment_engine.optimisation.result import UNSTABLE_BELOW

_CHUNK = 256  # curves per block of draws, to bound memory


@dataclass(frozen=True, eq=False)
class DirectionCheck:
    agreement: FloatArray  # (R*D,), NaN where not assessed

    def unstable(self) -> np.ndarray:
        return np.nan_to_num(self.agreement, nan=1.0) < UNSTABLE_BELOW


def check_directions(
    objective: Objective,
    state: ObjectiveState,
    today: FloatArray,
    proposed: FloatArray,
    price_per_variable: FloatArray,
    *,
    draws: int,
    seed: int,
) -> DirectionCheck:
    agreement = np.full(objective.n, np.nan)
    covariance = objective.curve_covariance
    fitted = np.isfinite(covariance).all(axis=(1, 2))
    move = proposed - today
    moved = np.abs(move) > 1e-9 * np.maximum(1.0, np.abs(today))
    variables = objective.curve_variable
    assessed_curve = fitted & moved[variables] & (draws > 0)
    if not assessed_curve.any():
        return DirectionCheck(agreement)
    assessed = np.unique(variables[assessed_curve])
    local = np.full(objective.n, -1, dtype=np.int64)
    local[assessed] = np.arange(assessed.size)
    coefficient = state.kpi_coefficient[objective.curve_kpi]

    on_assessed = local[variables] >= 0
    point_curves = on_assessed & ~fitted
    _, point_slope, _ = objective.curves.evaluate(today[variables])
    base = sum_by(
        local[variables[point_curves]], (coefficient * point_slope)[point_curves], assessed.size
    )
    # One row per assessed amount, one column per draw.
    marginal = np.tile(base[:, None], (1, draws))
    invalid = np.zeros((assessed.size, draws), dtype=np.int64)
    rng = np.random.default_rng(seed)
    curves = objective.curves
    indices = np.flatnonzero(on_assessed & fitted)
    for start in range(0, indices.size, _CHUNK):
        chunk = indices[start : start + _CHUNK]
        a, b = _draw_parameters(curves, covariance[chunk], chunk, draws, rng)
        shape = np.broadcast_to(curves.shape[chunk], a.shape)
        ok = (shape == ShapeCode.LINEAR) | (b > 0)
        drawn = CurveArrays(shape.ravel(), a.ravel(), np.where(ok, b, 1.0).ravel())
        x = np.broadcast_to(today[variables[chunk]], a.shape).ravel()
        slope = drawn.evaluate(x)[1].reshape(a.shape) * coefficient[chunk]
        columns = local[variables[chunk]]
        np.add.at(marginal, columns, slope.T)
        np.add.at(invalid, columns, (~ok).T.astype(np.int64))
    direction = np.sign(move[assessed])[:, None]
    agrees = np.sign(marginal - price_per_variable[assessed][:, None]) == direction
    valid = invalid == 0
    counted = valid.sum(axis=1)
    share = np.where(counted > 0, (agrees & valid).sum(axis=1) / np.maximum(counted, 1), np.nan)
    agreement[assessed] = share
    return DirectionCheck(agreement)


def _draw_parameters(
    curves: CurveArrays,
    covariance: FloatArray,
    chunk: np.ndarray,
    draws: int,
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray]:
    """(draws, len(chunk)) samples of a and b from each curve's normal approximation."""
    var_a = np.maximum(covariance[:, 0, 0], 0.0)
    sd_a = np.sqrt(var_a)
    with np.errstate(divide="ignore", invalid="ignore"):
        loading = np.where(sd_a > 0, covariance[:, 0, 1] / sd_a, 0.0)
    residual = np.sqrt(np.maximum(covariance[:, 1, 1] - loading**2, 0.0))
    linear = curves.shape[chunk] == ShapeCode.LINEAR
    loading = np.where(linear, 0.0, loading)
    residual = np.where(linear, 0.0, residual)
    normal = rng.standard_normal((draws, chunk.size, 2))
    a = curves.a[chunk] + sd_a * normal[:, :, 0]
    b = curves.b[chunk] + loading * normal[:, :, 0] + residual * normal[:, :, 1]
    return a, b
