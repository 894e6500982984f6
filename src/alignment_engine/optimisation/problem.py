"""The reallocation problem as plain arrays (docs/cli.md, ``optimise``).

Departments are indexed 0..D-1 and resources 0..R-1; one variable per (resource, department).
KPIs (department KPIs and shared goals alike) are indexed 0..K-1 and response curves 0..C-1.
``problem_from_records`` builds a problem from id-based records; large callers (benchmarks, the
plan adapter) may fill the arrays directly. Every array is made read-only on construction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from alignment_engine.errors import OptimisationError
from alignment_engine.optimisation.response_curves import (
    CODE_BY_SHAPE,
    SHAPE_BY_CODE,
    FloatArray,
    ResponseCurve,
    Shape,
    check_curve_parameters,
)

IntArray = NDArray[np.int64]


def _frozen(values: ArrayLike, dtype: Any = np.float64) -> Any:
    array = np.array(values, dtype=dtype)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class Pools:
    """Resources: capacity, today's amounts and the limits on moving them (arrays over (R, D))."""

    ids: tuple[str, ...]
    capacity: FloatArray  # (R,)
    current: FloatArray  # (R, D)
    minimum: FloatArray  # (R, D), 0 where none
    max_change: FloatArray  # (R,), relative; NaN where none
    step: FloatArray  # (R,), smallest unit (1 for whole units); 0 for continuous amounts
    # (R, D): the most a department may be given (its demand, where the plan makes demand a
    # limit); None: no such limit anywhere.
    limit: FloatArray | None = None

    def __post_init__(self) -> None:
        for name in ("capacity", "current", "minimum", "max_change", "step"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        if self.limit is not None:
            object.__setattr__(self, "limit", _frozen(self.limit))


@dataclass(frozen=True, eq=False)
class Kpis:
    """Every KPI the objective reads: department KPIs and shared goals (arrays over K)."""

    ids: tuple[str, ...]
    target: FloatArray
    baseline: FloatArray  # NaN: the sum of its curves at today's amounts
    lower_is_better: NDArray[np.bool_]

    def __post_init__(self) -> None:
        object.__setattr__(self, "target", _frozen(self.target))
        object.__setattr__(self, "baseline", _frozen(self.baseline))
        object.__setattr__(self, "lower_is_better", _frozen(self.lower_is_better, np.bool_))


@dataclass(frozen=True, eq=False)
class CurveTable:
    """Response curves: curve i moves KPI ``kpi[i]`` with amount (``resource[i]``, ``department[i]``)."""

    kpi: IntArray
    resource: IntArray
    department: IntArray
    shape: NDArray[np.int8]  # ShapeCode values
    a: FloatArray
    b: FloatArray
    covariance: FloatArray  # (C, 2, 2) covariance of (a, b); NaN where unknown
    # (C,) each curve's intercept: the KPI's level where the amount is 0; NaN where the curve
    # gives none (it then says only how the KPI changes). None: no curve gives one.
    c: FloatArray | None = None

    def __post_init__(self) -> None:
        for name in ("kpi", "resource", "department"):
            object.__setattr__(self, name, _frozen(getattr(self, name), np.int64))
        object.__setattr__(self, "shape", _frozen(self.shape, np.int8))
        for name in ("a", "b"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        covariance = np.array(self.covariance, dtype=np.float64).reshape(-1, 2, 2)
        covariance.setflags(write=False)
        object.__setattr__(self, "covariance", covariance)

    def __len__(self) -> int:
        return int(self.kpi.shape[0])


@dataclass(frozen=True, eq=False)
class Membership:
    """Which KPIs make up a group's performance, and with what weight (one row per pair)."""

    ids: tuple[str, ...]  # group ids
    group: IntArray
    kpi: IntArray
    weight: FloatArray

    def __post_init__(self) -> None:
        object.__setattr__(self, "group", _frozen(self.group, np.int64))
        object.__setattr__(self, "kpi", _frozen(self.kpi, np.int64))
        object.__setattr__(self, "weight", _frozen(self.weight))


@dataclass(frozen=True, eq=False)
class ReallocationProblem:
    """Everything the optimiser needs; validated on construction (OptimisationError)."""

    departments: tuple[str, ...]
    pools: Pools
    kpis: Kpis
    curves: CurveTable
    department_kpis: Membership  # group ids are the departments
    shared_goals: Membership
    notes: tuple[str, ...] = ()  # what building the problem left out or assumed, for the result

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def n_departments(self) -> int:
        return len(self.departments)

    @property
    def n_resources(self) -> int:
        return len(self.pools.ids)

    def curve(self, index: int) -> ResponseCurve:
        """Curve ``index`` as an object (for messages and reports)."""
        c = self.curves
        covariance = c.covariance[index]
        return ResponseCurve(
            SHAPE_BY_CODE[int(c.shape[index])],
            float(c.a[index]),
            float(c.b[index]),
            None
            if np.isnan(covariance).any()
            else (
                (float(covariance[0, 0]), float(covariance[0, 1])),
                (float(covariance[1, 0]), float(covariance[1, 1])),
            ),
        )


def _fail(message: str) -> None:
    raise OptimisationError(message)


def _validate(problem: ReallocationProblem) -> None:
    d = problem.n_departments
    pools, kpis, curves = problem.pools, problem.kpis, problem.curves
    r = len(pools.ids)
    k = len(kpis.ids)
    if d == 0:
        _fail("there are no departments to allocate resources to")
    if len(set(problem.departments)) != d:
        _fail("department ids must be unique")
    if len(set(pools.ids)) != r:
        _fail("resource ids must be unique")
    if len(set(kpis.ids)) != k:
        _fail("KPI ids must be unique")
    expected = {
        "capacity": (r,),
        "current": (r, d),
        "minimum": (r, d),
        "max_change": (r,),
        "step": (r,),
    }
    for name, shape in expected.items():
        if getattr(pools, name).shape != shape:
            _fail(f"pools.{name} has shape {getattr(pools, name).shape}, expected {shape}")
    for name in ("target", "baseline", "lower_is_better"):
        if getattr(kpis, name).shape != (k,):
            _fail(f"kpis.{name} must have one entry per KPI")
    n_curves = len(curves)
    for name in ("resource", "department", "shape", "a", "b"):
        if getattr(curves, name).shape != (n_curves,):
            _fail(f"curves.{name} must have one entry per curve")
    if curves.covariance.shape != (n_curves, 2, 2):
        _fail("curves.covariance must have shape (curves, 2, 2)")

    for i, resource in enumerate(pools.ids):
        if not (np.isfinite(pools.capacity[i]) and pools.capacity[i] >= 0):
            _fail(f"resource '{resource}': capacity must be a finite amount >= 0")
        for name in ("current", "minimum"):
            row = getattr(pools, name)[i]
            bad = np.flatnonzero(~np.isfinite(row) | (row < 0))
            if bad.size:
                what = "amount" if name == "current" else "minimum"
                _fail(
                    f"resource '{resource}': department '{problem.departments[bad[0]]}' has "
                    f"{what} {row[bad[0]]}; amounts must be finite and >= 0"
                )
        change = pools.max_change[i]
        if not np.isnan(change) and not (np.isfinite(change) and change >= 0):
            _fail(f"resource '{resource}': max_change must be >= 0, got {change}")
        if not (np.isfinite(pools.step[i]) and pools.step[i] >= 0):
            _fail(f"resource '{resource}': step must be >= 0, got {pools.step[i]}")

    for i, kpi in enumerate(kpis.ids):
        if not (np.isfinite(kpis.target[i]) and kpis.target[i] > 0):
            _fail(
                f"KPI '{kpi}': target {kpis.target[i]} cannot be scored; attainment "
                "(value/target) needs a positive target"
            )
        if np.isinf(kpis.baseline[i]):
            _fail(f"KPI '{kpi}': baseline must be finite")

    for name, size in (("kpi", k), ("resource", r), ("department", d)):
        index = getattr(curves, name)
        if n_curves and (index.min() < 0 or index.max() >= size):
            _fail(f"curves.{name} refers to a {name} that does not exist")
    if n_curves and (curves.shape.min() < 0 or curves.shape.max() >= len(SHAPE_BY_CODE)):
        _fail("curves.shape holds an unknown shape code")
    invalid = ~(np.isfinite(curves.a) & np.isfinite(curves.b)) | (
        (curves.shape != CODE_BY_SHAPE[Shape.LINEAR]) & ~(curves.b > 0)
    )
    for i in np.flatnonzero(invalid)[:1]:
        try:
            check_curve_parameters(
                SHAPE_BY_CODE[int(curves.shape[i])], float(curves.a[i]), float(curves.b[i])
            )
        except OptimisationError as exc:
            _fail(
                f"curve of KPI '{kpis.ids[curves.kpi[i]]}' on resource "
                f"'{pools.ids[curves.resource[i]]}' for department "
                f"'{problem.departments[curves.department[i]]}': {exc.message}"
            )

    for label, membership, groups in (
        ("department_kpis", problem.department_kpis, d),
        ("shared_goals", problem.shared_goals, len(problem.shared_goals.ids)),
    ):
        if membership.group.shape != membership.kpi.shape or (
            membership.weight.shape != membership.kpi.shape
        ):
            _fail(f"{label}: group, kpi and weight must have the same length")
        if membership.kpi.size:
            if membership.kpi.min() < 0 or membership.kpi.max() >= k:
                _fail(f"{label} refers to a KPI that does not exist")
            if membership.group.min() < 0 or membership.group.max() >= groups:
                _fail(f"{label} refers to a group that does not exist")
            if not (np.isfinite(membership.weight).all() and (membership.weight >= 0).all()):
                _fail(f"{label}: weights must be finite and >= 0")
    if problem.department_kpis.ids != problem.departments:
        _fail("department_kpis groups must be the departments, in the same order")


# Records: a readable way to build small problems ------------------------------------------------


@dataclass(frozen=True)
class ResourceRecord:
    id: str
    capacity: float
    current: Mapping[str, float]
    minimum: Mapping[str, float] = field(default_factory=dict)
    max_change: float | None = None
    integer: bool = False
    step: float | None = None  # overrides ``integer`` (e.g. 0.01 for cents)


@dataclass(frozen=True)
class KpiRecord:
    """A KPI in the objective: a department's (``department`` set) or a shared goal's."""

    id: str
    target: float
    baseline: float | None = None
    lower_is_better: bool = False
    department: str | None = None
    weight: float = 1.0
    shared_goal: bool = False


@dataclass(frozen=True)
class CurveRecord:
    kpi: str
    resource: str
    department: str
    curve: ResponseCurve


def _index(ids: Sequence[str]) -> dict[str, int]:
    return {value: i for i, value in enumerate(ids)}


def _lookup(table: Mapping[str, int], key: str, what: str) -> int:
    if key not in table:
        raise OptimisationError(f"unknown {what} '{key}'")
    return table[key]


def problem_from_records(
    departments: Sequence[str],
    resources: Sequence[ResourceRecord],
    kpis: Sequence[KpiRecord],
    curves: Sequence[CurveRecord] = (),
) -> ReallocationProblem:
    """Build a problem from id-based records (unknown ids raise OptimisationError)."""
    department_index = _index(departments)
    resource_index = _index([r.id for r in resources])
    kpi_index = _index([k.id for k in kpis])
    d, r = len(departments), len(resources)

    current = np.zeros((r, d))
    minimum = np.zeros((r, d))
    for i, resource in enumerate(resources):
        for name, table in (("current", current), ("minimum", minimum)):
            for department, amount in getattr(resource, name).items():
                table[i, _lookup(department_index, department, "department")] = amount
    pools = Pools(
        ids=tuple(res.id for res in resources),
        capacity=np.array([res.capacity for res in resources], dtype=np.float64),
        current=current,
        minimum=minimum,
        max_change=np.array(
            [np.nan if res.max_change is None else res.max_change for res in resources]
        ),
        step=np.array(
            [
                res.step if res.step is not None else (1.0 if res.integer else 0.0)
                for res in resources
            ],
            dtype=np.float64,
        ),
    )
    kpi_table = Kpis(
        ids=tuple(k.id for k in kpis),
        target=np.array([k.target for k in kpis], dtype=np.float64),
        baseline=np.array([np.nan if k.baseline is None else k.baseline for k in kpis]),
        lower_is_better=np.array([k.lower_is_better for k in kpis], dtype=np.bool_),
    )
    owned = [
        (-1 if k.department is None else department_index.get(k.department, -1), i, k)
        for i, k in enumerate(kpis)
    ]
    for group, _, kpi in owned:
        if kpi.department is not None and group < 0:
            raise OptimisationError(f"KPI '{kpi.id}': unknown department '{kpi.department}'")
    department_rows = [(g, i, k.weight) for g, i, k in owned if g >= 0 and not k.shared_goal]
    shared = [(i, k) for i, k in enumerate(kpis) if k.shared_goal]
    department_kpis = Membership(
        ids=tuple(departments),
        group=np.array([row[0] for row in department_rows], dtype=np.int64),
        kpi=np.array([row[1] for row in department_rows], dtype=np.int64),
        weight=np.array([row[2] for row in department_rows], dtype=np.float64),
    )
    shared_goals = Membership(
        ids=tuple(k.id for _, k in shared),
        group=np.arange(len(shared), dtype=np.int64),
        kpi=np.array([i for i, _ in shared], dtype=np.int64),
        weight=np.array([k.weight for _, k in shared], dtype=np.float64),
    )
    curve_table = CurveTable(
        kpi=np.array([_lookup(kpi_index, c.kpi, "KPI") for c in curves], dtype=np.int64),
        resource=np.array(
            [_lookup(resource_index, c.resource, "resource") for c in curves], dtype=np.int64
        ),
        department=np.array(
            [_lookup(department_index, c.department, "department") for c in curves],
            dtype=np.int64,
        ),
        shape=np.array([CODE_BY_SHAPE[c.curve.shape] for c in curves], dtype=np.int8),
        a=np.array([c.curve.a for c in curves], dtype=np.float64),
        b=np.array([c.curve.b for c in curves], dtype=np.float64),
        covariance=np.array(
            [
                np.full((2, 2), np.nan) if c.curve.covariance is None else c.curve.covariance
                for c in curves
            ],
            dtype=np.float64,
        ).reshape(-1, 2, 2),
    )
    return ReallocationProblem(
        departments=tuple(departments),
        pools=pools,
        kpis=kpi_table,
        curves=curve_table,
        department_kpis=department_kpis,
        shared_goals=shared_goals,
    )
