"""Conflict detection helpers in plain Python: influence reach, pool and roll-up totals, pay mix.

The conflict rules themselves are declarative (``rules/conflicts.yaml``) and run in the rule
engine. This module holds what the engine cannot do, or what other code needs without the
engine:

- totals across facts (what each pool is asked for, what each roll-up's children add up to,
  how a policy splits pay), which become facts the rules read;
- :func:`metric_reach`, the reference implementation of the influence propagation that the
  rules derive by forward chaining (``reach`` facts). Tests compare the two, and the benchmark
  uses it as its plain-Python baseline.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from alignment_engine.model import Direction, Influence, Kpi, Plan, Policy, Rollup

__all__ = [
    "HOP_LIMIT",
    "PayMix",
    "PoolTotal",
    "Reach",
    "RollupTotal",
    "direction_sign",
    "metric_reach",
    "pay_mix",
    "pool_totals",
    "rollup_totals",
]

HOP_LIMIT = 5
"""Influence chains longer than this are not followed (the shipped ``reach-extend`` rule agrees)."""


def direction_sign(direction: Direction) -> int:
    """+1 for increase, -1 for decrease, 0 for maintain."""
    return {Direction.INCREASE: 1, Direction.DECREASE: -1, Direction.MAINTAIN: 0}[direction]


@dataclass(frozen=True)
class Reach:
    """Raising ``source`` moves ``metric`` the way ``sign`` says, through ``hops`` influences."""

    source: str
    metric: str
    sign: int
    hops: int
    strength: float
    path: tuple[str, ...]


def metric_reach(
    influences: Iterable[Influence], hop_limit: int = HOP_LIMIT, sources: Sequence[str] = ()
) -> list[Reach]:
    """Every (source, metric, sign, hops) reachable through influences, shortest walks first.

    A walk never returns to its source (that would say "raising X raises X"); other cycles are
    followed until ``hop_limit``. Each distinct (source, metric, sign, hops) appears once, with
    the first walk found breadth-first (the same set the ``reach`` rules derive). ``sources``
    limits the start metrics (all metrics named in an influence by default).
    """
    outgoing: dict[str, list[Influence]] = {}
    for influence in influences:
        outgoing.setdefault(influence.from_, []).append(influence)
    starts = list(sources) or sorted(
        {i.from_ for edges in outgoing.values() for i in edges}
        | {i.to for edges in outgoing.values() for i in edges}
    )
    found: list[Reach] = []
    for source in starts:
        seen: set[tuple[str, int, int]] = {(source, 1, 0)}
        start = Reach(source, source, 1, 0, 1.0, (source,))
        found.append(start)
        queue = deque([start])
        while queue:
            reach = queue.popleft()
            if reach.hops >= hop_limit:
                continue
            for influence in outgoing.get(reach.metric, ()):
                if influence.to == source:
                    continue
                key = (influence.to, reach.sign * influence.sign, reach.hops + 1)
                if key in seen:
                    continue
                seen.add(key)
                extended = Reach(
                    source,
                    influence.to,
                    reach.sign * influence.sign,
                    reach.hops + 1,
                    reach.strength * influence.strength,
                    (*reach.path, influence.to),
                )
                found.append(extended)
                queue.append(extended)
    return found


@dataclass(frozen=True)
class PoolTotal:
    """What one resource pool is asked for against what it holds.

    A department that states no demand is taken to want what it has today (its allocation).
    ``requesting`` lists the departments asking for more than they have; when none does (the
    allocations alone exceed the pool), every department holding some.
    """

    resource: str
    capacity: float
    allocated: float
    demanded: float
    requesting: tuple[str, ...]


def pool_totals(plan: Plan) -> list[PoolTotal]:
    order = {d.id: index for index, d in enumerate(plan.departments)}
    totals = []
    for resource in plan.resources:
        holders = sorted(
            set(resource.allocation) | set(resource.demand), key=lambda d: (order.get(d, 0), d)
        )
        wants = {d: resource.demand.get(d, resource.allocation.get(d, 0.0)) for d in holders}
        requesting = tuple(d for d in holders if wants[d] > resource.allocation.get(d, 0.0))
        if not requesting:
            requesting = tuple(d for d in holders if resource.allocation.get(d, 0.0) > 0)
        totals.append(
            PoolTotal(
                resource.id,
                resource.capacity,
                _against(math.fsum(resource.allocation.values()), resource.capacity),
                _against(math.fsum(wants.values()), resource.capacity),
                requesting,
            )
        )
    return totals


def _against(total: float, capacity: float) -> float:
    """A total that differs from the capacity only by float noise (2.7 + 0.6 against 3.3) is
    the capacity: a pool asked for exactly what it holds is not oversubscribed."""
    if math.isclose(total, capacity, rel_tol=1e-9, abs_tol=1e-12):
        return capacity
    return total


@dataclass(frozen=True)
class RollupTotal:
    """A KPI and the targets of the KPIs that roll up to it, combined its ``rollup`` way.

    ``combined`` is None when a child has no target. ``shortfall`` is how far the combined
    children fall short of the parent's target in the parent's direction (0 when they reach
    it; for ``maintain``, the distance either way).
    """

    parent: str
    rollup: Rollup
    target: float | None
    combined: float | None
    shortfall: float | None
    children: tuple[str, ...]
    child_owners: tuple[str, ...]


def _combine(rollup: Rollup, values: list[float]) -> float:
    if rollup is Rollup.SUM:
        return sum(values)
    if rollup is Rollup.MEAN:
        return sum(values) / len(values)
    if rollup is Rollup.MIN:
        return min(values)
    return max(values)


def _shortfall(parent: Kpi, combined: float | None) -> float | None:
    if parent.target is None or combined is None:
        return None
    gap = parent.target - combined
    if abs(gap) <= 1e-9 * max(1.0, abs(parent.target)):
        return 0.0  # 0.1 + 0.2 adds up to 0.3 here, whatever binary floats say
    direction = parent.effective_direction
    if direction is Direction.INCREASE:
        return max(0.0, gap)
    if direction is Direction.DECREASE:
        return max(0.0, -gap)
    return abs(gap)


def rollup_totals(plan: Plan) -> list[RollupTotal]:
    """One total per KPI that others roll up to, children in plan order."""
    owners = {kpi.id: scope for scope, kpi in plan.kpis()}
    children: dict[str, list[Kpi]] = {}
    parents: dict[str, Kpi] = {}
    for _, kpi in plan.kpis():
        parents[kpi.id] = kpi
        if kpi.rolls_up_to is not None:
            children.setdefault(kpi.rolls_up_to, []).append(kpi)
    totals = []
    for parent_id, kids in children.items():
        parent = parents[parent_id]
        targets = [k.target for k in kids]
        combined = (
            _combine(parent.rollup, [t for t in targets if t is not None])
            if all(t is not None for t in targets)
            else None
        )
        child_owners = tuple(dict.fromkeys(owners[k.id] for k in kids))
        totals.append(
            RollupTotal(
                parent_id,
                parent.rollup,
                parent.target,
                combined,
                _shortfall(parent, combined),
                tuple(k.id for k in kids),
                child_owners,
            )
        )
    return totals


@dataclass(frozen=True)
class PayMix:
    """How a policy splits every bonus between the four components (normalised to 1)."""

    company: float
    department: float
    shared: float
    individual: float

    @property
    def mostly_local(self) -> bool:
        """Paid more on the department's own KPIs than on the shared goals it belongs to."""
        return self.department > self.shared


def pay_mix(policy: Policy) -> PayMix:
    weights = policy.components.normalised()
    return PayMix(
        weights["company"], weights["department"], weights["shared"], weights["individual"]
    )
