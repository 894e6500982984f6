"""Conflict detection helpers in plain Python: party groups, pool and roll-up totals, pay mix.

The conflict rules themselves are declarative (``rules/conflicts.yaml``) and run in the rule
engine. This module holds what the engine cannot do, or what other code needs without the
engine:

- aggregates across facts (what each pool is asked for, what each roll-up's children add up
  to, how a policy splits pay, which KPIs push each metric each way), which become facts the
  rules read: rules join aggregates, so their work grows with the plan's metrics, not with pairs
  of KPIs;
- :func:`conflicting`: which members of two opposed party groups really conflict (two KPIs of
  one department do not, nor a department and a shared goal it belongs to).

Influence chains (``reach`` facts) are computed in :mod:`alignment_engine.reach`.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from dataclasses import dataclass

from alignment_engine.model import Direction, Kpi, Plan, Policy, Rollup

__all__ = [
    "Party",
    "PartyGroup",
    "PayMix",
    "PoolTotal",
    "RollupTotal",
    "conflicting",
    "direction_sign",
    "party_groups",
    "pay_mix",
    "pool_totals",
    "rollup_totals",
]


def direction_sign(direction: Direction) -> int:
    """+1 for increase, -1 for decrease, 0 for maintain."""
    return {Direction.INCREASE: 1, Direction.DECREASE: -1, Direction.MAINTAIN: 0}[direction]


@dataclass(frozen=True, slots=True)
class Party:
    """A department KPI or a shared goal, as a side in a conflict between departments."""

    kpi: str
    owner: str  # the department, or the shared goal's own id
    departments: tuple[str, ...]  # the department, or the goal's members
    shared: bool
    objectives: tuple[str, ...] = ()
    target: float | None = None
    bounded: bool = False  # the KPI has a maximum (suggestions tighten it, not add one)
    capped_at_target: bool = False  # its maximum is its target: nothing left to tighten

    def __hash__(self) -> int:
        # A KPI is one party: hashing the id alone agrees with equality (equal parties have
        # the same id) and spares hashing every field, 400,000 times in a large check.
        return hash(self.kpi)

    @property
    def label(self) -> str:
        """The owner as messages name it: a department, or a goal with its members."""
        return f"{self.owner} ({', '.join(self.departments)})" if self.shared else self.owner


@dataclass(frozen=True, eq=False)
class PartyGroup:
    """The department KPIs (or the shared goals) that push one metric one way.

    Conflicts are found between groups (one per metric, direction and kind), never between
    KPI pairs: which members of two opposed groups really conflict is counted here, per member,
    from tallies of the other group (see :func:`conflicting`).
    """

    metric: str
    sign: int
    scope: str  # "department" or "shared"
    parties: tuple[Party, ...]
    holds: bool = False  # maintain KPIs: any move of the metric, up or down, works against them

    @functools.cached_property
    def shared_parties(self) -> bool:
        return any(p.shared for p in self.parties)

    @functools.cached_property
    def owner_counts(self) -> Counter[str]:
        return Counter(p.owner for p in self.parties)

    @functools.cached_property
    def department_kpis_by_owner(self) -> Counter[str]:
        return Counter(p.owner for p in self.parties if not p.shared)

    @functools.cached_property
    def goals_by_member(self) -> Counter[str]:
        return Counter(d for p in self.parties if p.shared for d in p.departments)


def _exempt_partners(party: Party, other: PartyGroup) -> int:
    """How many members of ``other`` do not conflict with ``party``: its own department's (or
    goal's) KPIs, and a department's KPIs against a shared goal the department belongs to."""
    if party.shared:
        return other.owner_counts[party.owner] + sum(
            other.department_kpis_by_owner[d] for d in party.departments
        )
    return other.owner_counts[party.owner] + other.goals_by_member[party.owner]


def conflicting(side: PartyGroup, other: PartyGroup) -> tuple[Party, ...]:
    """The members of ``side`` with at least one member of ``other`` they conflict with."""
    size = len(other.parties)
    if not side.shared_parties and not other.shared_parties and len(other.owner_counts) > 1:
        return side.parties  # each department has KPIs of another department against it
    return tuple(p for p in side.parties if _exempt_partners(p, other) < size)


def party_groups(plan: Plan) -> list[PartyGroup]:
    """Department KPIs and shared goals grouped by metric, direction and kind, in plan order.

    Company KPIs are never parties. ``maintain`` KPIs push nothing, and whoever moves their
    metric either way works against them: their group comes twice, as if raising it and as if
    lowering it (``holds``), so that every move meets it once and never a copy of itself.
    """
    goals = {goal.id: tuple(goal.departments) for goal in plan.shared_goals}
    grouped: dict[tuple[str, int, str], list[Party]] = {}
    for scope, kpi in plan.kpis():
        if scope == "company":
            continue
        sign = direction_sign(kpi.effective_direction)
        shared = scope in goals
        party = Party(
            kpi.id,
            scope,
            goals[scope] if shared else (scope,),
            shared,
            tuple(kpi.objectives),
            kpi.target,
            kpi.maximum is not None,
            kpi.maximum is not None and kpi.maximum == kpi.target,
        )
        key = (kpi.metric, sign, "shared" if shared else "department")
        grouped.setdefault(key, []).append(party)
    groups: list[PartyGroup] = []
    for (metric, sign, kind), parties in grouped.items():
        if sign == 0:
            groups += [PartyGroup(metric, s, kind, tuple(parties), holds=True) for s in (1, -1)]
        else:
            groups.append(PartyGroup(metric, sign, kind, tuple(parties)))
    return groups


@dataclass(frozen=True)
class PoolTotal:
    """What one resource pool is asked for against what it holds.

    A department that states no demand is taken to want what it has today (its allocation).
    ``requesting`` lists the departments asking for more than they have; when none does (the
    allocations alone exceed the pool), every department holding some. ``unstated`` lists the
    departments holding some without a stated demand (counted at their allocation).
    """

    resource: str
    capacity: float
    allocated: float
    demanded: float
    requesting: tuple[str, ...]
    unstated: tuple[str, ...] = ()


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
                tuple(d for d in holders if d not in resource.demand and resource.allocation[d]),
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
