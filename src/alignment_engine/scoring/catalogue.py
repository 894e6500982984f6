"""Every KPI a period is scored on, with its curve, as arrays (one row per KPI).

Rows are in plan order: company KPIs, then each department's KPIs, then shared goals. A KPI's
scope is ``company``, its department's id, or (a shared goal) its own id.

Which way is better: ``direction: increase``/``decrease`` decides (without one, the metric's own
``better``). For a lower-is-better KPI the levels run downwards (threshold > target > maximum);
they and the actuals are negated so that every curve is evaluated in a coordinate where bigger is
better.

``maintain`` holds the metric inside a band, [threshold, maximum] (each defaults to the target):
its attainment is 1 inside the band, actual/threshold below it and maximum/actual above it (docs/file-formats.md, "Curve"), so beating the target pays nothing more. On an attainment curve it is paid
at that attainment; on a levels curve at ``target x attainment`` on the curve's levels, so the
band pays the target's factor and the pay falls off on either side as an ``increase`` KPI's
falls off below its target.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from alignment_engine.errors import PolicyError, Problem
from alignment_engine.memo import ObjectMemo
from alignment_engine.model.consistency import policy_plan_problems
from alignment_engine.model.decision_tables import PayoutMatrix
from alignment_engine.model.plan import Kpi, Metric, Plan
from alignment_engine.model.policy import Curve, CurveBasis, LevelPoints, Policy
from alignment_engine.scoring.payout_curves import (
    CurvePoints,
    CurveSet,
    attainment_ratio,
    band_attainment,
    monotone_levels,
    monotone_values,
)
from alignment_engine.scoring.precision import round_significant

ScopeKind = Literal["company", "department", "shared"]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_LEVELS = ("threshold", "target", "maximum")


@dataclass(frozen=True)
class KpiEntry:
    scope: str
    kind: ScopeKind
    kpi: Kpi
    metric: Metric | None
    lower_is_better: bool
    curve_name: str
    curve: Curve
    point_names: tuple[str, ...]  # words for the curve's points, for explanations
    departments: tuple[str, ...] = ()  # a shared goal's member departments


@dataclass(frozen=True)
class MatrixBinding:
    """One set of KPIs paid together on a payout matrix: ``rows[i]`` is the catalogue row of
    the KPI on the matrix's axis ``i``."""

    name: str
    matrix: PayoutMatrix
    rows: tuple[int, ...]


@dataclass(frozen=True)
class KpiCatalogue:
    entries: tuple[KpiEntry, ...]
    row_of: dict[str, int]  # KPI id -> row
    scope_kinds: dict[str, ScopeKind]  # every scope an actual may name
    curves: CurveSet
    levels_basis: BoolArray
    lower_is_better: BoolArray
    target: FloatArray  # NaN where the KPI has no target
    weight: FloatArray
    maintain: BoolArray  # direction: maintain (attainment from the band below)
    band_low: FloatArray  # a maintain KPI's threshold (or target); NaN for the others
    band_high: FloatArray  # a maintain KPI's maximum (or target); NaN for the others
    matrices: tuple[MatrixBinding, ...] = ()

    def __len__(self) -> int:
        return len(self.entries)

    def kpis_of(self, scope: str) -> list[str]:
        return [e.kpi.id for e in self.entries if e.scope == scope]


def _maintains(kpi: Kpi) -> bool:
    return kpi.direction is not None and str(kpi.direction) == "maintain"


def _band(kpi: Kpi) -> tuple[float, float]:
    """A maintain KPI's band: between threshold and maximum (either may be the larger, as a
    lower-is-better metric writes them), each defaulting to the target."""
    if not _maintains(kpi) or kpi.target is None:
        return math.nan, math.nan
    edges = [float(v if v is not None else kpi.target) for v in (kpi.threshold, kpi.maximum)]
    return min(edges), max(edges)


def _band_levels(kpi: Kpi, values: list[float]) -> tuple[float, ...] | None:
    """A maintain KPI's levels where it is paid on a levels curve, at ``target x attainment``:
    as written when they rise; when they fall (all above zero), each level ``v`` moves to
    ``target**2 / v``, the position of the attainment ``target / v`` it stands for."""
    if all(b >= a for a, b in itertools.pairwise(values)):
        return tuple(values)
    target = kpi.target
    falling = all(b <= a for a, b in itertools.pairwise(values))
    if target is None or not falling or any(v <= 0 for v in values):
        return None
    return tuple(float(target) ** 2 / v for v in values)


def _lower_is_better(kpi: Kpi, metric: Metric | None) -> bool:
    if _maintains(kpi):
        return False  # scored on its band's attainment, where bigger is better
    direction = str(kpi.direction) if kpi.direction is not None else None
    if direction == "decrease":
        return True
    if direction == "increase":
        return False
    return metric is not None and str(metric.better) == "lower"


def _curve_points(
    entry_kpi: Kpi, curve: Curve, lower_is_better: bool, curve_name: str
) -> tuple[CurvePoints | None, tuple[str, ...], list[str]]:
    """The curve in the KPI's monotone coordinate, its point names, and any problems."""
    step = str(curve.interpolation) == "step"
    below = float(curve.below_threshold)
    if _maintains(entry_kpi) and entry_kpi.target is not None:
        levels_given = [
            (name, float(v)) for name in _LEVELS if (v := getattr(entry_kpi, name)) is not None
        ]
        if any(v <= 0 for _, v in levels_given):
            shown = ", ".join(f"{n} {v:g}" for n, v in levels_given)
            return (
                None,
                (),
                [
                    f"curve '{curve_name}' pays maintain KPI '{entry_kpi.id}' on the ratio of "
                    "its result to its band, which needs its target, threshold and maximum "
                    f"above zero, but they are {shown}"
                ],
            )
    if isinstance(curve.points, LevelPoints):
        names = tuple(level for level in _LEVELS if getattr(curve.points, level) is not None)
        values = [getattr(entry_kpi, level) for level in names]
        if any(v is None for v in values):
            return None, names, []  # reported by policy_plan_problems
        factors = [float(getattr(curve.points, level)) for level in names]
        levels = monotone_levels([float(v) for v in values], lower_is_better)
        if _maintains(entry_kpi):
            held = _band_levels(entry_kpi, [float(v) for v in values])
            if held is None:
                shown = ", ".join(f"{n} {v:g}" for n, v in zip(names, values, strict=True))
                return (
                    None,
                    names,
                    [
                        f"curve '{curve_name}' needs maintain KPI '{entry_kpi.id}' to hold a "
                        "band, threshold <= target <= maximum (or, all above zero, the "
                        f"reverse), but they are {shown}"
                    ],
                )
            return CurvePoints(held, tuple(factors), step=step, below=below), names, []
        if any(b < a for a, b in itertools.pairwise(levels)):
            order = " >= ".join(names) if lower_is_better else " <= ".join(names)
            shown = ", ".join(f"{n} {v:g}" for n, v in zip(names, values, strict=True))
            way = "lower" if lower_is_better else "higher"
            return (
                None,
                names,
                [
                    f"curve '{curve_name}' needs KPI '{entry_kpi.id}' levels in order "
                    f"{order} ({way} is better), but they are {shown}"
                ],
            )
        return CurvePoints(levels, tuple(factors), step=step, below=below), names, []
    xs = tuple(float(x) for x, _ in curve.points)
    ys = tuple(float(y) for _, y in curve.points)
    problems = []
    # Attainment is a ratio of actual to target: with a target of 0 it is undefined, and with a
    # negative one it runs backwards (a better result reads as a lower attainment).
    if entry_kpi.target is not None and float(entry_kpi.target) <= 0.0:
        problems.append(
            f"curve '{curve_name}' pays on attainment, but KPI '{entry_kpi.id}' has target "
            f"{float(entry_kpi.target):g}, so attainment (actual/target) is "
            + ("undefined" if float(entry_kpi.target) == 0.0 else "meaningless")
            + "; give a positive target or score it on a levels curve"
        )
    point_names = tuple(f"attainment {x:g}" for x in xs)
    return CurvePoints(xs, ys, step=step, below=below), point_names, problems


def on_band(catalogue: KpiCatalogue, held: FloatArray, otherwise: FloatArray) -> FloatArray:
    """Where each KPI sits on its curve: a ``maintain`` KPI at its band's attainment ``held``
    (on a levels curve at ``target x held``: the band pays the target's level), every other KPI
    at ``otherwise``. Broadcasts over rows of draws."""
    placed: FloatArray = np.where(
        catalogue.maintain,
        np.where(catalogue.levels_basis, catalogue.target * held, held),
        otherwise,
    )
    return placed


@dataclass(frozen=True)
class Placement:
    """Where results sit on their KPIs' curves (one row of results, or one per draw)."""

    attained: FloatArray  # attainment, 12 significant digits (what gates and tables read)
    exact: FloatArray  # attainment before that rounding
    position: FloatArray  # the curve coordinate that decides the segment
    placed: FloatArray  # the exact coordinate that places it inside the segment


def place(catalogue: KpiCatalogue, actual: FloatArray, read: BoolArray | None = None) -> Placement:
    """Each result's attainment and curve coordinates (``actual``: ``(K,)`` or ``(N, K)``).
    ``read``: the KPIs whose attainment something uses (others get NaN: a rounding per value is
    the costliest step over many draws); None: every KPI."""
    exact = np.full(actual.shape, np.nan)
    columns = (slice(None),) * (actual.ndim - 1)
    chosen = np.ones(len(catalogue), dtype=np.bool_) if read is None else read
    if chosen.any():
        exact[(*columns, chosen)] = attainment_ratio(
            actual[(*columns, chosen)],
            catalogue.target[chosen],
            catalogue.lower_is_better[chosen],
        )
    attained = round_significant(exact)
    levels = monotone_values(actual, catalogue.lower_is_better)
    position = np.where(catalogue.levels_basis, levels, attained)
    placed = np.where(catalogue.levels_basis, levels, exact)
    if catalogue.maintain.any():
        held_exact = band_attainment(actual, catalogue.band_low, catalogue.band_high, rounded=False)
        held = round_significant(held_exact)
        attained = np.where(catalogue.maintain, held, attained)
        exact = np.where(catalogue.maintain, held_exact, exact)
        position = on_band(catalogue, held, position)
        placed = on_band(catalogue, held_exact, placed)
    return Placement(attained=attained, exact=exact, position=position, placed=placed)


_ON_MATRIX = Curve(basis=CurveBasis.ATTAINMENT, points=[(0.0, 0.0)])
"""The curve entry of a KPI paid on a payout matrix (the matrix, not this, gives its factor)."""

_UNPAID = Curve(basis=CurveBasis.ATTAINMENT, points=[(1.0, 1.0)])
"""The curve of a catalogue built without a policy (the scorecard's): nothing reads its factors."""


_CATALOGUES: ObjectMemo[KpiCatalogue] = ObjectMemo(32)


def build_catalogue(plan: Plan, policy: Policy | None) -> KpiCatalogue:
    """The catalogue of a plan under a policy, built once per pair of document objects (the
    service hands the same objects to every request with the same content); its arrays are
    read-only, so a caller that would change one fails loudly instead of changing the next
    request's. See :func:`make_catalogue`."""
    return _CATALOGUES.get((plan, policy), None, lambda: make_catalogue(plan, policy))


def make_catalogue(plan: Plan, policy: Policy | None) -> KpiCatalogue:
    """Raises PolicyError naming every KPI the policy cannot score (missing levels, levels out
    of order, zero or negative targets on attainment curves, unknown KPIs or departments in the policy).

    Without a policy (the scorecard) every KPI is listed, none is refused, and no curve pays."""
    problems = (
        []
        if policy is None
        else [
            Problem(
                message=p.message,
                file=f"policy '{policy.id}'",
                key=".".join(str(part) for part in p.path),
                suggestion=p.suggestion,
            )
            for p in policy_plan_problems(policy, plan)
        ]
    )
    metrics = {m.id: m for m in plan.metrics}
    goal_members = {g.id: tuple(g.departments) for g in plan.shared_goals}
    scope_kinds: dict[str, ScopeKind] = {"company": "company"}
    scope_kinds.update({d.id: "department" for d in plan.departments})
    scope_kinds.update({g.id: "shared" for g in plan.shared_goals})

    entries: list[KpiEntry] = []
    points: list[CurvePoints] = []
    on_matrix = {} if policy is None else policy.matrix_of()
    for scope, kpi in plan.kpis():
        kind = scope_kinds.get(scope, "department")
        metric = metrics.get(kpi.metric)
        lower = _lower_is_better(kpi, metric)
        if policy is None:
            curve_name, curve = "", _UNPAID
            curve_points: CurvePoints | None = CurvePoints((1.0,), (1.0,))
            names: tuple[str, ...] = ()
        elif kpi.id in on_matrix:
            curve_name, curve = f"matrix:{on_matrix[kpi.id][0]}", _ON_MATRIX
            curve_points, names = CurvePoints((0.0,), (0.0,)), ()
        else:
            curve_name, curve = policy.curve_for(kpi.id)
            curve_points, names, messages = _curve_points(kpi, curve, lower, curve_name)
            problems.extend(
                Problem(message=m, file=f"policy '{policy.id}'", key=f"curves.{curve_name}")
                for m in messages
            )
        entries.append(
            KpiEntry(
                scope=scope,
                kind=kind,
                kpi=kpi,
                metric=metric,
                lower_is_better=lower,
                curve_name=curve_name,
                curve=curve,
                point_names=names,
                departments=goal_members.get(kpi.id, ()),
            )
        )
        points.append(curve_points or CurvePoints((0.0,), (0.0,)))
    if problems:
        raise PolicyError(problems=problems)

    row_of = {e.kpi.id: row for row, e in enumerate(entries)}
    bindings = tuple(
        MatrixBinding(name, matrix, tuple(row_of[binding[a.name]] for a in matrix.axes))
        for name, matrix in ({} if policy is None else policy.matrices).items()
        for binding in matrix.kpis
    )
    catalogue = KpiCatalogue(
        entries=tuple(entries),
        row_of=row_of,
        scope_kinds=scope_kinds,
        curves=CurveSet.from_points(points),
        levels_basis=np.array([isinstance(e.curve.points, LevelPoints) for e in entries], bool),
        lower_is_better=np.array([e.lower_is_better for e in entries], dtype=np.bool_),
        target=np.array(
            [np.nan if e.kpi.target is None else float(e.kpi.target) for e in entries],
            dtype=np.float64,
        ),
        weight=np.array([float(e.kpi.weight) for e in entries], dtype=np.float64),
        maintain=np.array([_maintains(e.kpi) for e in entries], dtype=np.bool_),
        band_low=np.array([_band(e.kpi)[0] for e in entries], dtype=np.float64),
        band_high=np.array([_band(e.kpi)[1] for e in entries], dtype=np.float64),
        matrices=bindings,
    )
    for value in vars(catalogue).values():
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
    return catalogue
