"""The plan: one company's Balanced Scorecard for a fiscal period (docs/file-formats.md, "Plan")."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from alignment_engine.model.common import (
    Document,
    Id,
    Number,
    ReferenceProblem,
    did_you_mean,
    duplicate_ids,
    raise_reference_problems,
)


class Perspective(StrEnum):
    FINANCIAL = "financial"
    CUSTOMER = "customer"
    INTERNAL_PROCESS = "internal_process"
    LEARNING_GROWTH = "learning_growth"


class Horizon(StrEnum):
    SHORT = "short"  # reviewed monthly
    LONG = "long"  # reviewed quarterly


class Better(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"


class Direction(StrEnum):
    INCREASE = "increase"
    DECREASE = "decrease"
    MAINTAIN = "maintain"


class Aggregation(StrEnum):
    """How sub-period values (months) make a longer period (a quarter, a year)."""

    SUM = "sum"
    MEAN = "mean"
    LAST = "last"
    MIN = "min"
    MAX = "max"


class Rollup(StrEnum):
    """How children that roll up to a KPI combine into it."""

    SUM = "sum"
    MEAN = "mean"
    MIN = "min"
    MAX = "max"


class CurveShape(StrEnum):
    LINEAR = "linear"
    SATURATING = "saturating"
    LOG = "log"
    POWER = "power"


class Objective(Document):
    id: Id
    name: str = ""
    perspective: Perspective
    horizon: Horizon = Horizon.LONG
    drives: list[Id] = Field(default_factory=list)
    description: str = ""


_FORMULA_NODES = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Name,
    ast.Constant,
    ast.Load,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.USub,
    ast.UAdd,
)


def formula_names(formula: str) -> list[str]:
    """The base measures a formula reads, in order of first use. Raises ValueError if unsafe."""
    try:
        tree = ast.parse(formula, mode="eval")
    except SyntaxError as exc:
        raise ValueError(
            f"formula {formula!r} is not an arithmetic expression: {exc.msg}"
        ) from None
    names: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, _FORMULA_NODES):
            raise ValueError(
                f"formula {formula!r} may only use names, numbers, + - * / and parentheses"
            )
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float):
            raise ValueError(f"formula {formula!r} has a constant that is not a number")
        if isinstance(node, ast.Name) and node.id not in names:
            names.append(node.id)
    return names


class Metric(Document):
    id: Id
    name: str = ""
    unit: str = ""
    better: Better = Better.HIGHER
    formula: str | None = None
    aggregation: Aggregation = Aggregation.MEAN
    description: str = ""

    @field_validator("formula")
    @classmethod
    def _formula_is_arithmetic(cls, value: str | None) -> str | None:
        if value is not None:
            formula_names(value)
        return value


def _parse_sign(value: Any) -> Any:
    if isinstance(value, str):
        mapping = {"+": 1, "-": -1, "positive": 1, "negative": -1, "+1": 1, "-1": -1}
        if value.strip() in mapping:
            return mapping[value.strip()]
    return value


class Influence(Document):
    from_: Id = Field(alias="from")
    to: Id
    sign: Literal[1, -1]
    strength: Number = Field(default=1.0, gt=0, le=1)
    note: str = ""

    @field_validator("sign", mode="before")
    @classmethod
    def _sign(cls, value: Any) -> Any:
        return _parse_sign(value)


def _parse_objective_links(value: Any) -> Any:
    # A bare list of objective ids shares the contribution equally.
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return {v: 1.0 / len(value) for v in value} if value else {}
    return value


class Kpi(Document):
    """A measurable target: owned by a department, by the company, or (SharedGoal) jointly."""

    id: Id
    name: str = ""
    metric: Id
    direction: Direction | None = None  # defaults to the metric's better direction
    target: Number | None = None
    threshold: Number | None = None
    maximum: Number | None = None
    baseline: Number | None = None
    weight: Number = Field(default=1.0, ge=0)
    objectives: dict[Id, Number] = Field(default_factory=dict)
    horizon: Horizon = Horizon.LONG
    rolls_up_to: Id | None = None
    rollup: Rollup = Rollup.SUM
    description: str = ""

    @field_validator("objectives", mode="before")
    @classmethod
    def _objective_links(cls, value: Any) -> Any:
        return _parse_objective_links(value)

    @property
    def effective_direction(self) -> Direction:
        return self.direction or Direction.INCREASE

    @property
    def lower_is_better(self) -> bool:
        return self.effective_direction is Direction.DECREASE


class Department(Document):
    id: Id
    name: str = ""
    parent: Id | None = None  # the department this one belongs to (org units; no cycles)
    kpis: list[Kpi] = Field(default_factory=list)
    description: str = ""


class SharedGoal(Kpi):
    departments: list[Id] = Field(min_length=1)


class Resource(Document):
    id: Id
    name: str = ""
    unit: str = ""
    capacity: Number = Field(ge=0)
    allocation: dict[Id, Number] = Field(default_factory=dict)
    demand: dict[Id, Number] = Field(default_factory=dict)
    minimum: dict[Id, Number] = Field(default_factory=dict)
    max_change: Number | None = Field(default=None, ge=0)
    integer: bool = False
    demand_is_limit: bool = False  # optimise never proposes a department more than its demand
    description: str = ""

    @field_validator("allocation", "demand", "minimum")
    @classmethod
    def _non_negative(cls, value: dict[str, float]) -> dict[str, float]:
        for department, amount in value.items():
            if amount < 0:
                raise ValueError(f"amount for '{department}' must not be negative, got {amount}")
        return value


_CURVE_PARAMS: dict[CurveShape, tuple[str, ...]] = {
    CurveShape.LINEAR: ("a",),
    CurveShape.SATURATING: ("a", "b"),
    CurveShape.LOG: ("a", "b"),
    CurveShape.POWER: ("a", "b"),
}


class ResponseCurve(Document):
    """How a KPI moves with one department's amount of one resource."""

    kpi: Id
    resource: Id
    department: Id | None = None  # defaults to the KPI's owner; required for shared goals
    shape: CurveShape
    params: dict[str, Number] | None = None
    fit: Literal["history"] | None = None
    intercept: bool = False  # fit: history also fits the KPI's level c (y = c + curve)

    @model_validator(mode="after")
    def _params_or_fit(self) -> ResponseCurve:
        if self.params is None and self.fit is None:
            raise ValueError("give either 'params' or 'fit: history'")
        if self.params is not None and self.fit is not None:
            raise ValueError("give 'params' or 'fit: history', not both")
        if self.params is not None:
            needed = _CURVE_PARAMS[self.shape]
            missing = [p for p in needed if p not in self.params]
            # c: the KPI's level where the amount is 0 (an intercept), for any shape.
            extra = [p for p in self.params if p not in needed and p != "c"]
            if missing:
                raise ValueError(
                    f"shape '{self.shape}' needs params {list(needed)}; missing {missing}"
                )
            if extra:
                raise ValueError(
                    f"shape '{self.shape}' takes params {[*needed, 'c']}; unknown {extra}"
                )
            if self.shape is CurveShape.POWER and not 0 < self.params["b"] < 1:
                raise ValueError("power curves need 0 < b < 1 (diminishing returns)")
            if self.shape in (CurveShape.SATURATING, CurveShape.LOG) and self.params["b"] <= 0:
                raise ValueError(f"'{self.shape}' curves need b > 0")
        return self


class ScorecardSettings(Document):
    """How results roll up into the Balanced Scorecard (docs/cli.md, `scorecard`)."""

    cap: Number = Field(default=1.2, ge=1)  # no KPI scores above this
    amber: Number = Field(default=0.9, gt=0, lt=1)  # amber from here, green from 1
    # A perspective missing here weighs 1 in the overall score.
    perspective_weights: dict[Perspective, Number] = Field(default_factory=dict)

    @field_validator("perspective_weights")
    @classmethod
    def _non_negative_weights(cls, value: dict[Perspective, float]) -> dict[Perspective, float]:
        for perspective, weight in value.items():
            if weight < 0:
                raise ValueError(
                    f"the weight of '{perspective}' must not be negative, got {weight}"
                )
        return value

    def weight_of(self, perspective: Perspective) -> float:
        return float(self.perspective_weights.get(perspective, 1.0))


class Plan(Document):
    """One company's strategy for a fiscal period (docs/file-formats.md, "Plan"): objectives,
    metrics and their influences, company KPIs, departments with their KPIs, shared goals,
    resources and response curves. Validated when built: every id it refers to is defined."""

    kind: Literal["plan"] = "plan"
    id: Id
    name: str = ""
    currency: str = Field(default="CNY", min_length=3, max_length=3)
    fiscal_year: int | None = None
    description: str = ""
    objectives: list[Objective] = Field(default_factory=list)
    metrics: list[Metric] = Field(default_factory=list)
    influences: list[Influence] = Field(default_factory=list)
    company_kpis: list[Kpi] = Field(default_factory=list)
    departments: list[Department] = Field(default_factory=list)
    shared_goals: list[SharedGoal] = Field(default_factory=list)
    resources: list[Resource] = Field(default_factory=list)
    response_curves: list[ResponseCurve] = Field(default_factory=list)
    scorecard: ScorecardSettings = Field(default_factory=ScorecardSettings)

    @model_validator(mode="before")
    @classmethod
    def _default_directions(cls, data: Any) -> Any:
        """A KPI's direction defaults to its metric's better direction."""
        if not isinstance(data, dict):
            return data
        metrics = data.get("metrics")
        better: dict[str, str] = {}
        if isinstance(metrics, list):
            for metric in metrics:
                if isinstance(metric, dict) and isinstance(metric.get("id"), str):
                    better[metric["id"]] = str(metric.get("better", "higher"))
                elif isinstance(metric, Metric):
                    better[metric.id] = metric.better.value

        def fill(kpis: Any) -> Any:
            if not isinstance(kpis, list):
                return kpis
            filled = []
            for kpi in kpis:
                if (
                    isinstance(kpi, dict)
                    and kpi.get("direction") is None
                    and isinstance(kpi.get("metric"), str)
                    and kpi["metric"] in better
                ):
                    default = "decrease" if better[kpi["metric"]] == "lower" else "increase"
                    kpi = {**kpi, "direction": default}
                filled.append(kpi)
            return filled

        data = dict(data)
        data["company_kpis"] = fill(data.get("company_kpis", []))
        data["shared_goals"] = fill(data.get("shared_goals", []))
        departments = data.get("departments")
        if isinstance(departments, list):
            data["departments"] = [
                {**d, "kpis": fill(d["kpis"])} if isinstance(d, dict) and "kpis" in d else d
                for d in departments
            ]
        return data

    @model_validator(mode="after")
    def _references(self) -> Plan:
        raise_reference_problems(plan_reference_problems(self))
        return self

    # Lookups used across the engine -------------------------------------------------------

    def kpis(self) -> Iterator[tuple[str, Kpi]]:
        """Every KPI with its scope: 'company', a department id, or the shared goal's own id."""
        for kpi in self.company_kpis:
            yield "company", kpi
        for department in self.departments:
            for kpi in department.kpis:
                yield department.id, kpi
        for goal in self.shared_goals:
            yield goal.id, goal

    def kpi(self, kpi_id: str) -> Kpi:
        for _, kpi in self.kpis():
            if kpi.id == kpi_id:
                return kpi
        raise KeyError(kpi_id)

    def owner(self, kpi_id: str) -> str:
        for scope, kpi in self.kpis():
            if kpi.id == kpi_id:
                return scope
        raise KeyError(kpi_id)

    def metric(self, metric_id: str) -> Metric:
        for metric in self.metrics:
            if metric.id == metric_id:
                return metric
        raise KeyError(metric_id)

    def department_names(self) -> dict[str, str]:
        """Each department's display name by id (its id where the plan gives no name): what
        people read in reports and statements."""
        return {d.id: d.name or d.id for d in self.departments}

    def department(self, department_id: str) -> Department:
        for department in self.departments:
            if department.id == department_id:
                return department
        raise KeyError(department_id)

    def subtree(self, department_id: str) -> list[str]:
        """The department and every department below it (through ``parent``), in plan order."""
        children: dict[str, list[str]] = {}
        for department in self.departments:
            if department.parent is not None:
                children.setdefault(department.parent, []).append(department.id)
        found = {department_id}
        todo = [department_id]
        while todo:
            for child in children.get(todo.pop(), []):
                if child not in found:
                    found.add(child)
                    todo.append(child)
        return [d.id for d in self.departments if d.id in found]

    def resource(self, resource_id: str) -> Resource:
        for resource in self.resources:
            if resource.id == resource_id:
                return resource
        raise KeyError(resource_id)


def plan_reference_problems(plan: Plan) -> list[ReferenceProblem]:
    """Every broken cross-reference in a plan, each with its key path and a suggestion."""
    problems: list[ReferenceProblem] = []

    def check(ref: str, known: set[str], path: tuple[str | int, ...], what: str) -> None:
        if ref not in known:
            problems.append(
                ReferenceProblem(path, f"unknown {what} '{ref}'", did_you_mean(ref, known))
            )

    objective_ids = {o.id for o in plan.objectives}
    metric_ids = {m.id for m in plan.metrics}
    department_ids = {d.id for d in plan.departments}
    resource_ids = {r.id for r in plan.resources}

    problems += duplicate_ids(plan.objectives, ("objectives",), {})
    problems += duplicate_ids(plan.metrics, ("metrics",), {})
    problems += duplicate_ids(plan.departments, ("departments",), {})
    problems += duplicate_ids(plan.resources, ("resources",), {})
    kpi_seen: dict[str, tuple[str | int, ...]] = {}
    problems += duplicate_ids(plan.company_kpis, ("company_kpis",), kpi_seen)
    for d_index, department in enumerate(plan.departments):
        problems += duplicate_ids(department.kpis, ("departments", d_index, "kpis"), kpi_seen)
    problems += duplicate_ids(plan.shared_goals, ("shared_goals",), kpi_seen)
    kpi_ids = set(kpi_seen)

    for index, objective in enumerate(plan.objectives):
        for d_index, driven in enumerate(objective.drives):
            check(driven, objective_ids, ("objectives", index, "drives", d_index), "objective")

    for index, influence in enumerate(plan.influences):
        check(influence.from_, metric_ids, ("influences", index, "from"), "metric")
        check(influence.to, metric_ids, ("influences", index, "to"), "metric")
        if influence.from_ == influence.to:
            problems.append(
                ReferenceProblem(("influences", index, "to"), "a metric cannot influence itself")
            )

    def check_kpi(kpi: Kpi, path: tuple[str | int, ...]) -> None:
        check(kpi.metric, metric_ids, (*path, "metric"), "metric")
        for objective_id in kpi.objectives:
            check(objective_id, objective_ids, (*path, "objectives", objective_id), "objective")
        if kpi.rolls_up_to is not None:
            check(kpi.rolls_up_to, kpi_ids, (*path, "rolls_up_to"), "KPI")
            if kpi.rolls_up_to == kpi.id:
                problems.append(
                    ReferenceProblem((*path, "rolls_up_to"), "a KPI cannot roll up to itself")
                )

    for index, kpi in enumerate(plan.company_kpis):
        check_kpi(kpi, ("company_kpis", index))
    for d_index, department in enumerate(plan.departments):
        for k_index, kpi in enumerate(department.kpis):
            check_kpi(kpi, ("departments", d_index, "kpis", k_index))
    for index, goal in enumerate(plan.shared_goals):
        check_kpi(goal, ("shared_goals", index))
        for m_index, member in enumerate(goal.departments):
            check(
                member,
                department_ids,
                ("shared_goals", index, "departments", m_index),
                "department",
            )
        if len(set(goal.departments)) != len(goal.departments):
            problems.append(
                ReferenceProblem(
                    ("shared_goals", index, "departments"), "a department is listed twice"
                )
            )

    parents = {d.id: d.parent for d in plan.departments}
    in_reported_cycle: set[str] = set()
    for index, department in enumerate(plan.departments):
        if department.parent is None:
            continue
        at = ("departments", index, "parent")
        if department.parent == department.id:
            problems.append(ReferenceProblem(at, "a department cannot be its own parent"))
            continue
        check(department.parent, department_ids, at, "department")
        # Walk up: coming back to this department is a cycle (reported once, on its first
        # department in the file).
        chain = [department.id]
        above: str | None = department.parent
        while above is not None and above != department.id and len(chain) <= len(parents):
            chain.append(above)
            above = parents.get(above)
        if above == department.id and department.id not in in_reported_cycle:
            in_reported_cycle.update(chain)
            problems.append(
                ReferenceProblem(
                    at,
                    "departments' parents form a cycle: " + " -> ".join([*chain, department.id]),
                    "one department of the cycle must have no parent (or one outside it)",
                )
            )

    for index, resource in enumerate(plan.resources):
        for field in ("allocation", "demand", "minimum"):
            for department_id in getattr(resource, field):
                check(
                    department_id,
                    department_ids,
                    ("resources", index, field, department_id),
                    "department",
                )

    owners = {kpi.id: scope for scope, kpi in plan.kpis()}
    shared_ids = {g.id for g in plan.shared_goals}
    for index, curve in enumerate(plan.response_curves):
        path: tuple[str | int, ...] = ("response_curves", index)
        check(curve.kpi, kpi_ids, (*path, "kpi"), "KPI")
        check(curve.resource, resource_ids, (*path, "resource"), "resource")
        if curve.department is not None:
            check(curve.department, department_ids, (*path, "department"), "department")
        elif curve.kpi in shared_ids:
            problems.append(
                ReferenceProblem(
                    (*path, "department"),
                    "a curve on a shared goal must name the department whose amount moves it",
                )
            )
        elif owners.get(curve.kpi) == "company":
            problems.append(
                ReferenceProblem(
                    (*path, "department"),
                    "a curve on a company KPI must name the department whose amount moves it",
                )
            )
    return problems
