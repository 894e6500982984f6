"""Facts from a plan (and a policy): what rules match on.

Every fact is a flat dict with a ``type`` and typed fields (numbers, text, true/false); a field
with no value (a KPI without a threshold) is absent, which rules test with ``== null``. List
fields (``kpi.objectives``) can be shown in messages but not matched; rules match the
one-per-member facts instead (``kpi_link``, ``goal_member``, ``allocation``).

Where each fact comes from (documented for users in docs/rules.md):

- straight from the plan/policy: objective, drive, metric, influence, kpi, kpi_link, department,
  goal_member, resource, allocation, policy;
- totals computed here in Python, because rules cannot sum across facts: weight_total,
  pool_total, rollup_total, pay_mix, and the count fields of objective/kpi/metric/department;
- aggregates computed here in Python, so that rules join per metric instead of per KPI pair:
  ``reach`` (influence chains, :mod:`alignment_engine.reach`) and ``kpi_group`` (the KPIs that
  push one metric one way, :func:`alignment_engine.conflicts.party_groups`);
- derived by rules (forward chaining in the engine): any fact a user's ``derive:`` rule
  declares.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from alignment_engine.alignment import objective_coverage, weight_totals
from alignment_engine.conflicts import (
    Party,
    PartyGroup,
    direction_sign,
    party_groups,
    pay_mix,
    pool_totals,
    rollup_totals,
)
from alignment_engine.model import Plan, Policy
from alignment_engine.reach import ReachTable, reach_table
from alignment_engine.ruleset.expressions import FieldType

__all__ = [
    "BASE_FACT_TYPES",
    "DERIVED_FACT_TYPES",
    "GROUP_KEY",
    "KPI_GROUP_FACT_TYPE",
    "REACH_FACT_TYPE",
    "Fact",
    "FactType",
    "facts_from_plan",
    "group_fact",
]

Fact = dict[str, Any]


@dataclass(frozen=True)
class FactType:
    """A kind of fact: its fields (name -> type), what it is, and where it comes from."""

    name: str
    description: str
    source: str  # "plan", "policy", "python" (totals) or "rules" (derived by a pack)
    fields: Mapping[str, FieldType]
    docs: Mapping[str, str]

    def field_names(self) -> list[str]:
        return list(self.fields)


def _type(
    name: str, description: str, source: str, fields: Iterable[tuple[str, FieldType, str]]
) -> FactType:
    listed = list(fields)
    return FactType(
        name,
        description,
        source,
        {field: kind for field, kind, _ in listed},
        {field: doc for field, _, doc in listed},
    )


_KPI_FIELDS: list[tuple[str, FieldType, str]] = [
    ("id", "text", "KPI id"),
    ("name", "text", "display name (the id when it has none)"),
    ("label", "text", "'id (name)', or the id alone when it has no name (for messages)"),
    ("scope", "text", "'company', 'department' or 'shared' (a shared goal)"),
    ("owner", "text", "'company', the department id, or the shared goal's own id"),
    ("department", "text", "the owning department (department KPIs only)"),
    ("metric", "text", "the metric it measures"),
    ("direction", "text", "'increase', 'decrease' or 'maintain' (the effective direction)"),
    ("sign", "number", "+1 increase, -1 decrease, 0 maintain"),
    ("verb", "text", "'raises', 'lowers' or 'holds' (for messages)"),
    ("aim", "text", "'raise', 'lower' or 'hold' (for messages)"),
    ("target", "number", "target level"),
    ("threshold", "number", "threshold level"),
    ("maximum", "number", "maximum (stretch) level"),
    ("baseline", "number", "latest known value"),
    ("weight", "number", "weight inside its scope"),
    ("horizon", "text", "'short' or 'long'"),
    ("rolls_up_to", "text", "the KPI it rolls up to"),
    ("rollup", "text", "how KPIs rolling up to this one combine: sum, mean, min, max"),
    ("objective_count", "number", "how many objectives it serves"),
    ("objectives", "list", "the objectives it serves"),
    ("departments", "list", "departments owning it (members, for a shared goal)"),
]

BASE_FACT_TYPES: dict[str, FactType] = {
    t.name: t
    for t in [
        _type(
            "objective",
            "A strategic objective, with the KPIs that serve it.",
            "plan",
            [
                ("id", "text", "objective id"),
                ("name", "text", "display name"),
                ("label", "text", "'id (name)', or the id alone"),
                ("perspective", "text", "financial, customer, internal_process, learning_growth"),
                ("horizon", "text", "'short' or 'long'"),
                ("kpi_count", "number", "KPIs and shared goals serving it (computed)"),
                ("short_kpi_count", "number", "of which short-horizon (computed)"),
                ("long_kpi_count", "number", "of which long-horizon (computed)"),
                ("kpis", "list", "the KPIs serving it"),
                ("departments", "list", "departments owning those KPIs (members, for goals)"),
            ],
        ),
        _type(
            "drive",
            "A strategy-map arrow: one objective drives another.",
            "plan",
            [("cause", "text", "the driving objective"), ("effect", "text", "the driven one")],
        ),
        _type(
            "metric",
            "A measurable quantity.",
            "plan",
            [
                ("id", "text", "metric id"),
                ("name", "text", "display name"),
                ("unit", "text", "unit"),
                ("better", "text", "'higher' or 'lower'"),
                ("has_formula", "bool", "computed from base measures"),
                ("kpi_count", "number", "KPIs measuring it (computed)"),
            ],
        ),
        _type(
            "influence",
            "A known cause-effect link between two metrics.",
            "plan",
            [
                ("cause", "text", "the metric that moves (the file's 'from')"),
                ("effect", "text", "the metric it moves (the file's 'to')"),
                ("sign", "number", "+1 same way, -1 opposite way"),
                ("strength", "number", "0 < strength <= 1"),
            ],
        ),
        _type("kpi", "A KPI: company, department or shared goal.", "plan", _KPI_FIELDS),
        _type(
            "kpi_link",
            "A KPI serving an objective (one per link).",
            "plan",
            [
                ("kpi", "text", "KPI id"),
                ("objective", "text", "objective id"),
                ("share", "number", "contribution share"),
                ("owner", "text", "the KPI's owner"),
                ("kpi_horizon", "text", "the KPI's horizon"),
                ("objective_horizon", "text", "the objective's horizon"),
            ],
        ),
        _type(
            "department",
            "A department.",
            "plan",
            [
                ("id", "text", "department id"),
                ("name", "text", "display name"),
                ("label", "text", "'id (name)', or the id alone"),
                ("kpi_count", "number", "its own KPIs (computed)"),
                ("goal_count", "number", "shared goals it belongs to (computed)"),
            ],
        ),
        _type(
            "goal_member",
            "A department belonging to a shared goal (one per member).",
            "plan",
            [
                ("goal", "text", "shared goal id"),
                ("department", "text", "department id"),
                ("metric", "text", "the goal's metric"),
                ("sign", "number", "the goal's direction sign"),
            ],
        ),
        _type(
            "resource",
            "A resource pool.",
            "plan",
            [
                ("id", "text", "resource id"),
                ("name", "text", "display name"),
                ("unit", "text", "unit"),
                ("capacity", "number", "capacity"),
                ("max_change", "number", "largest relative change per department"),
                ("integer", "bool", "whole units only"),
            ],
        ),
        _type(
            "allocation",
            "One department's share of a pool (one per department named in it).",
            "plan",
            [
                ("resource", "text", "resource id"),
                ("department", "text", "department id"),
                ("amount", "number", "today's allocation (0 if none)"),
                ("demand", "number", "what it asks for (its allocation if it states none)"),
                ("minimum", "number", "its floor, if any"),
            ],
        ),
        _type(
            "policy",
            "The incentive policy checked with the plan (only with --policy).",
            "policy",
            [
                ("id", "text", "policy id"),
                ("name", "text", "display name"),
                ("company_weight", "number", "normalised component weight"),
                ("department_weight", "number", "normalised component weight"),
                ("shared_weight", "number", "normalised component weight"),
                ("individual_weight", "number", "normalised component weight"),
                ("gate_count", "number", "number of gates"),
            ],
        ),
        _type(
            "weight_total",
            "The KPI weights of one scored scope added up (computed in Python).",
            "python",
            [
                ("scope", "text", "'company' or the department id"),
                ("department", "text", "the department (absent for the company)"),
                ("total", "number", "sum of the KPI weights"),
                ("kpi_count", "number", "number of KPIs"),
                ("normalised", "bool", "sums to 1, or to 100 (percentages)"),
                ("kpis", "list", "the KPIs"),
            ],
        ),
        _type(
            "pool_total",
            "What a resource pool is asked for (computed in Python).",
            "python",
            [
                ("resource", "text", "resource id"),
                ("name", "text", "display name"),
                ("unit", "text", "unit"),
                ("capacity", "number", "capacity"),
                ("allocated", "number", "sum of today's allocations"),
                ("demanded", "number", "sum of demands (allocation where none is stated)"),
                ("excess", "number", "demanded - capacity"),
                ("departments", "list", "departments asking for more than they have"),
                (
                    "unstated",
                    "list",
                    "departments with an allocation and no stated demand (counted at it)",
                ),
            ],
        ),
        _type(
            "rollup_total",
            "A KPI and the combined targets of the KPIs rolling up to it (computed in Python).",
            "python",
            [
                ("parent", "text", "the KPI rolled up to"),
                ("parent_owner", "text", "its owner"),
                ("metric", "text", "its metric"),
                ("rollup", "text", "sum, mean, min or max"),
                ("sign", "number", "the parent's direction: +1, -1, 0 (maintain)"),
                ("target", "number", "the parent's target"),
                ("combined", "number", "children's targets combined (absent if one has none)"),
                ("shortfall", "number", "how far combined falls short of target, 0 if not"),
                ("child_count", "number", "number of children"),
                ("children", "list", "the child KPIs"),
                ("departments", "list", "the children's owners"),
            ],
        ),
        _type(
            "pay_mix",
            "How the policy pays one department (computed in Python; only with --policy).",
            "python",
            [
                ("department", "text", "department id"),
                ("policy", "text", "policy id"),
                ("company_weight", "number", "share paid on company KPIs"),
                ("department_weight", "number", "share paid on its own KPIs"),
                ("shared_weight", "number", "share paid on its shared goals"),
                ("individual_weight", "number", "share paid on individual scores"),
                ("mostly_local", "bool", "department_weight > shared_weight"),
            ],
        ),
    ]
}

REACH_FACT_TYPE = _type(
    "reach",
    "Raising metric 'source' moves 'metric' the way 'sign' says, through a chain of 'hops' "
    "influences (computed in Python for every metric some KPI measures: one fact per source, "
    "metric and sign, with the shortest chain).",
    "python",
    [
        ("source", "text", "the metric that is moved first"),
        ("metric", "text", "a metric it reaches"),
        ("sign", "number", "+1: metric moves the same way as source; -1: the opposite"),
        ("hops", "number", "influences on the shortest chain (0: the source itself)"),
        ("paths", "number", "how many chains of 1 to 5 influences lead there with this sign"),
        ("strength", "number", "product of the strengths along the shortest chain"),
        ("path_up", "text", "the shortest chain when source rises, e.g. 'a -> b up -> c down'"),
        ("path_down", "text", "the same chain when source falls"),
    ],
)

KPI_GROUP_FACT_TYPE = _type(
    "kpi_group",
    "The department KPIs (scope 'department') or the shared goals (scope 'shared') that push "
    "one metric one way (computed in Python; one fact per metric, direction and scope). Two "
    "groups named in a finding's 'parties' conflict member by member, except two KPIs of one "
    "department and a department against a shared goal it belongs to.",
    "python",
    [
        ("metric", "text", "the metric they push"),
        ("sign", "number", "+1 they raise it, -1 they lower it"),
        ("direction", "text", "'increase', 'decrease' or 'maintain'"),
        ("verb", "text", "'raise', 'lower' or 'hold' (for messages)"),
        (
            "held",
            "number",
            "1: maintain KPIs, which any move of the metric works against; their group comes "
            "twice, with sign +1 and -1, so a move either way meets it once",
        ),
        ("scope", "text", "'department' (department KPIs) or 'shared' (shared goals)"),
        ("kpi_count", "number", "KPIs (or shared goals) in the group"),
        ("department_count", "number", "departments owning them (members, for goals)"),
        ("kpis", "list", "the KPIs (or shared goals)"),
        ("departments", "list", "the departments owning them (members, for goals)"),
        ("owners", "list", "the departments, or the shared goals"),
        ("labels", "list", "the owners as messages name them: 'sales', 'shared.x (a, b)'"),
        ("objectives", "list", "the objectives they serve"),
        ("target", "number", "their target, when they all have the same one"),
        ("raising_kpis", "list", "kpis, when they raise the metric (else empty)"),
        ("raising_labels", "list", "labels, when they raise the metric (else empty)"),
        ("lowering_kpis", "list", "kpis, when they lower the metric (else empty)"),
        ("lowering_labels", "list", "labels, when they lower the metric (else empty)"),
        ("holding_kpis", "list", "kpis, when they hold the metric (else empty)"),
        ("holding_labels", "list", "labels, when they hold the metric (else empty)"),
        (
            "bounded_kpis",
            "list",
            "the kpis that have a maximum other than their target (room to tighten)",
        ),
        ("unbounded_kpis", "list", "the kpis without a maximum"),
    ],
)

BASE_FACT_TYPES[REACH_FACT_TYPE.name] = REACH_FACT_TYPE
BASE_FACT_TYPES[KPI_GROUP_FACT_TYPE.name] = KPI_GROUP_FACT_TYPE

DERIVED_FACT_TYPES: dict[str, FactType] = {}
"""Fact types the shipped packs derive; every pack may match them."""

_VERBS = {1: ("raises", "raise"), -1: ("lowers", "lower"), 0: ("holds", "hold")}

GROUP_KEY = "_group"
"""Where a kpi_group fact keeps its PartyGroup (not a field: rules never see it)."""


def party_kind(group: PartyGroup) -> str:
    """What a group's members do to its metric: 'raise', 'lower' or 'hold'."""
    return _VERBS[0 if group.holds else group.sign][1]


def group_fact(
    group: PartyGroup,
    parties: tuple[Party, ...] | None = None,
    kinds: Mapping[Party, str] | None = None,
) -> Fact:
    """The kpi_group fact of ``group``, or of the subset ``parties`` of it; ``kinds`` says what
    each member does to the metric (by default what the group does: :func:`party_kind`)."""
    members = group.parties if parties is None else parties
    kind_of = kinds or {}
    departments = list(dict.fromkeys(d for p in members for d in p.departments))
    subset = (
        group
        if parties is None
        else PartyGroup(group.metric, group.sign, group.scope, members, holds=group.holds)
    )
    fact: Fact = {
        "type": "kpi_group",
        "metric": group.metric,
        "sign": float(group.sign),
        "direction": "maintain" if group.holds else "increase" if group.sign > 0 else "decrease",
        "verb": _VERBS[0 if group.holds else group.sign][1],
        "held": 1.0 if group.holds else 0.0,
        "scope": group.scope,
        "kpi_count": float(len(members)),
        "department_count": float(len(departments)),
        "kpis": [p.kpi for p in members],
        "departments": departments,
        "owners": list(dict.fromkeys(p.owner for p in members)),
        "labels": list(dict.fromkeys(p.label for p in members)),
        "objectives": list(dict.fromkeys(o for p in members for o in p.objectives)),
        GROUP_KEY: subset,
    }
    # Who raises, lowers or holds the metric: a grouped finding merges the groups of its
    # matches, and its message still tells them apart.
    default = party_kind(group)
    for kind, field in (("raise", "raising"), ("lower", "lowering"), ("hold", "holding")):
        chosen = [p for p in members if kind_of.get(p, default) == kind]
        fact[f"{field}_kpis"] = [p.kpi for p in chosen]
        fact[f"{field}_labels"] = list(dict.fromkeys(p.label for p in chosen))
    fact["bounded_kpis"] = [p.kpi for p in members if p.bounded and not p.capped_at_target]
    fact["unbounded_kpis"] = [p.kpi for p in members if not p.bounded]
    targets = {p.target for p in members}
    if len(targets) == 1 and None not in targets:
        fact["target"] = float(next(iter(targets)))  # type: ignore[arg-type]
    return fact


class _ReachFact(dict[str, Any]):
    """A reach fact whose chain texts are spelled out when first read: a large plan has
    100,000 reaches and shows a few hundred."""

    __slots__ = ("row", "table")
    _LAZY = ("path_up", "path_down")

    def __init__(self, fields: dict[str, Any], table: ReachTable, row: int) -> None:
        super().__init__(fields)
        self.table = table
        self.row = row

    def __missing__(self, key: str) -> Any:
        if key not in self._LAZY:
            raise KeyError(key)
        # Only the chain asked for: a finding shows the one its cause's direction makes.
        flip = 1 if key == "path_up" else -1
        steps = self.table.steps(self.row)
        text = " -> ".join(
            [steps[0][0]]
            + [f"{metric} {'up' if sign * flip > 0 else 'down'}" for metric, sign in steps[1:]]
        )
        self[key] = text
        return text

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        return key in self._LAZY or dict.__contains__(self, key)


def _label(item_id: str, name: str) -> str:
    return f"{item_id} ({name})" if name and name != item_id else item_id


def _put(fact: Fact, key: str, value: Any) -> None:
    """Absent, not None: the engine then sees 'no value', which rules test with == null."""
    if value is not None:
        fact[key] = (
            float(value)
            if isinstance(value, int | float) and not isinstance(value, bool)
            else value
        )


def facts_from_plan(
    plan: Plan, policy: Policy | None = None, types: Collection[str] | None = None
) -> list[Fact]:
    """The base and Python-computed facts of a plan, in a fixed order (determinism).

    ``types`` limits them to the fact types some rule reads (building 40,000 KPI links nobody
    matches costs time); by default every type is built.
    """
    wanted = set(BASE_FACT_TYPES) if types is None else set(types)
    builder = _Builder(plan, policy)
    facts: list[Fact] = []
    for name, build in builder.builders():
        if name in wanted:
            facts.extend(build())
    return facts


class _Builder:
    def __init__(self, plan: Plan, policy: Policy | None) -> None:
        self.plan = plan
        self.policy = policy
        self.members = {goal.id: list(goal.departments) for goal in plan.shared_goals}
        self.scoped = list(plan.kpis())

    def builders(self) -> list[tuple[str, Callable[[], list[Fact]]]]:
        return [
            ("objective", self.objectives),
            ("drive", self.drives),
            ("metric", self.metrics),
            ("influence", self.influences),
            ("kpi", self.kpis),
            ("kpi_link", self.kpi_links),
            ("department", self.departments),
            ("goal_member", self.goal_members),
            ("resource", self.resources),
            ("allocation", self.allocations),
            ("weight_total", self.weight_totals),
            ("pool_total", self.pool_totals),
            ("rollup_total", self.rollup_totals),
            ("policy", self.policy_facts),
            ("pay_mix", self.pay_mixes),
            ("reach", self.reaches),
            ("kpi_group", self.kpi_groups),
        ]

    def objectives(self) -> list[Fact]:
        coverage = objective_coverage(self.plan)
        kpi_departments = {
            kpi.id: self.members.get(scope, [] if scope == "company" else [scope])
            for scope, kpi in self.scoped
        }
        facts = []
        for objective in self.plan.objectives:
            covered = coverage[objective.id]
            facts.append(
                {
                    "type": "objective",
                    "id": objective.id,
                    "name": objective.name or objective.id,
                    "label": _label(objective.id, objective.name),
                    "perspective": objective.perspective.value,
                    "horizon": objective.horizon.value,
                    "kpi_count": float(len(covered.kpis)),
                    "short_kpi_count": float(len(covered.short)),
                    "long_kpi_count": float(len(covered.long)),
                    "kpis": list(covered.kpis),
                    "departments": list(
                        dict.fromkeys(d for k in covered.kpis for d in kpi_departments[k])
                    ),
                }
            )
        return facts

    def drives(self) -> list[Fact]:
        return [
            {"type": "drive", "cause": objective.id, "effect": driven}
            for objective in self.plan.objectives
            for driven in objective.drives
        ]

    def metrics(self) -> list[Fact]:
        counts: dict[str, int] = {}
        for _, kpi in self.scoped:
            counts[kpi.metric] = counts.get(kpi.metric, 0) + 1
        return [
            {
                "type": "metric",
                "id": metric.id,
                "name": metric.name or metric.id,
                "unit": metric.unit,
                "better": metric.better.value,
                "has_formula": metric.formula is not None,
                "kpi_count": float(counts.get(metric.id, 0)),
            }
            for metric in self.plan.metrics
        ]

    def influences(self) -> list[Fact]:
        return [
            {
                "type": "influence",
                "cause": influence.from_,
                "effect": influence.to,
                "sign": float(influence.sign),
                "strength": float(influence.strength),
            }
            for influence in self.plan.influences
        ]

    def kpis(self) -> list[Fact]:
        facts = []
        for scope, kpi in self.scoped:
            kind = (
                "company"
                if scope == "company"
                else "shared"
                if scope in self.members
                else "department"
            )
            sign = direction_sign(kpi.effective_direction)
            fact: Fact = {
                "type": "kpi",
                "id": kpi.id,
                "name": kpi.name or kpi.id,
                "label": _label(kpi.id, kpi.name),
                "scope": kind,
                "owner": scope,
                "metric": kpi.metric,
                "direction": kpi.effective_direction.value,
                "sign": float(sign),
                "verb": _VERBS[sign][0],
                "aim": _VERBS[sign][1],
                "weight": float(kpi.weight),
                "horizon": kpi.horizon.value,
                "rollup": kpi.rollup.value,
                "objective_count": float(len(kpi.objectives)),
                "objectives": list(kpi.objectives),
                "departments": self.members.get(scope, [scope] if kind == "department" else []),
            }
            if kind == "department":
                fact["department"] = scope
            for level in ("target", "threshold", "maximum", "baseline"):
                _put(fact, level, getattr(kpi, level))
            _put(fact, "rolls_up_to", kpi.rolls_up_to)
            facts.append(fact)
        return facts

    def kpi_links(self) -> list[Fact]:
        horizons = {o.id: o.horizon.value for o in self.plan.objectives}
        return [
            {
                "type": "kpi_link",
                "kpi": kpi.id,
                "objective": objective_id,
                "share": float(share),
                "owner": scope,
                "kpi_horizon": kpi.horizon.value,
                "objective_horizon": horizons.get(objective_id, ""),
            }
            for scope, kpi in self.scoped
            for objective_id, share in kpi.objectives.items()
        ]

    def departments(self) -> list[Fact]:
        goal_counts: dict[str, int] = {}
        for goal in self.plan.shared_goals:
            for department_id in goal.departments:
                goal_counts[department_id] = goal_counts.get(department_id, 0) + 1
        return [
            {
                "type": "department",
                "id": department.id,
                "name": department.name or department.id,
                "label": _label(department.id, department.name),
                "kpi_count": float(len(department.kpis)),
                "goal_count": float(goal_counts.get(department.id, 0)),
            }
            for department in self.plan.departments
        ]

    def goal_members(self) -> list[Fact]:
        return [
            {
                "type": "goal_member",
                "goal": goal.id,
                "department": department_id,
                "metric": goal.metric,
                "sign": float(direction_sign(goal.effective_direction)),
            }
            for goal in self.plan.shared_goals
            for department_id in goal.departments
        ]

    def resources(self) -> list[Fact]:
        facts = []
        for resource in self.plan.resources:
            fact: Fact = {
                "type": "resource",
                "id": resource.id,
                "name": resource.name or resource.id,
                "unit": resource.unit,
                "capacity": float(resource.capacity),
                "integer": resource.integer,
            }
            _put(fact, "max_change", resource.max_change)
            facts.append(fact)
        return facts

    def allocations(self) -> list[Fact]:
        facts = []
        for resource in self.plan.resources:
            for department_id in dict.fromkeys([*resource.allocation, *resource.demand]):
                amount = resource.allocation.get(department_id, 0.0)
                fact: Fact = {
                    "type": "allocation",
                    "resource": resource.id,
                    "department": department_id,
                    "amount": float(amount),
                    "demand": float(resource.demand.get(department_id, amount)),
                }
                _put(fact, "minimum", resource.minimum.get(department_id))
                facts.append(fact)
        return facts

    def weight_totals(self) -> list[Fact]:
        facts = []
        for total in weight_totals(self.plan):
            fact: Fact = {
                "type": "weight_total",
                "scope": total.scope,
                "total": float(total.total),
                "kpi_count": float(len(total.kpis)),
                "normalised": total.normalised,
                "kpis": list(total.kpis),
            }
            if total.scope != "company":
                fact["department"] = total.scope
            facts.append(fact)
        return facts

    def pool_totals(self) -> list[Fact]:
        resources = {r.id: r for r in self.plan.resources}
        return [
            {
                "type": "pool_total",
                "resource": pool.resource,
                "name": resources[pool.resource].name or pool.resource,
                "unit": resources[pool.resource].unit,
                "capacity": float(pool.capacity),
                "allocated": float(pool.allocated),
                "demanded": float(pool.demanded),
                "excess": float(pool.demanded - pool.capacity),
                "departments": list(pool.requesting),
                "unstated": list(pool.unstated),
            }
            for pool in pool_totals(self.plan)
        ]

    def rollup_totals(self) -> list[Fact]:
        owners = {kpi.id: scope for scope, kpi in self.scoped}
        parents = {kpi.id: kpi for _, kpi in self.scoped}
        facts = []
        for rollup in rollup_totals(self.plan):
            parent = parents[rollup.parent]
            fact: Fact = {
                "type": "rollup_total",
                "parent": rollup.parent,
                "parent_owner": owners[rollup.parent],
                "metric": parent.metric,
                "rollup": rollup.rollup.value,
                "sign": float(direction_sign(parent.effective_direction)),
                "child_count": float(len(rollup.children)),
                "children": list(rollup.children),
                "departments": list(rollup.child_owners),
            }
            _put(fact, "target", rollup.target)
            _put(fact, "combined", rollup.combined)
            _put(fact, "shortfall", rollup.shortfall)
            facts.append(fact)
        return facts

    def _weights(self) -> dict[str, float]:
        assert self.policy is not None
        mix = pay_mix(self.policy)
        return {
            "company_weight": mix.company,
            "department_weight": mix.department,
            "shared_weight": mix.shared,
            "individual_weight": mix.individual,
        }

    def policy_facts(self) -> list[Fact]:
        if self.policy is None:
            return []
        return [
            {
                "type": "policy",
                "id": self.policy.id,
                "name": self.policy.name or self.policy.id,
                **self._weights(),
                "gate_count": float(len(self.policy.gates)),
            }
        ]

    def reaches(self) -> list[Fact]:
        measured = list(dict.fromkeys(kpi.metric for _, kpi in self.scoped))
        table = reach_table(self.plan.influences, sources=measured)
        sources, metrics = table.source.tolist(), table.metric.tolist()
        signs, hops = table.sign.tolist(), table.hops.tolist()
        strengths, paths = table.strength.tolist(), table.paths.tolist()
        source_names, metric_names = table.source_names, table.metric_names
        return [
            _ReachFact(
                {
                    "type": "reach",
                    "source": source_names[sources[i]],
                    "metric": metric_names[metrics[i]],
                    "sign": float(signs[i]),
                    "hops": float(hops[i]),
                    "paths": float(paths[i]),
                    "strength": strengths[i],
                },
                table,
                i,
            )
            for i in range(len(table))
        ]

    def kpi_groups(self) -> list[Fact]:
        return [group_fact(group) for group in party_groups(self.plan)]

    def pay_mixes(self) -> list[Fact]:
        if self.policy is None:
            return []
        weights = self._weights()
        mostly_local = pay_mix(self.policy).mostly_local
        return [
            {
                "type": "pay_mix",
                "department": department.id,
                "policy": self.policy.id,
                **weights,
                "mostly_local": mostly_local,
            }
            for department in self.plan.departments
        ]
