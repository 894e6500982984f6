"""Checks across documents: does a policy fit the plan it is applied to?"""

from __future__ import annotations

from alignment_engine.model.common import ReferenceProblem, did_you_mean
from alignment_engine.model.plan import Plan
from alignment_engine.model.policy import Policy


def policy_plan_problems(policy: Policy, plan: Plan) -> list[ReferenceProblem]:
    """Paths are inside the policy; messages name the plan's ids that would fit."""
    problems: list[ReferenceProblem] = []
    kpis = {kpi.id: kpi for _, kpi in plan.kpis()}
    departments = {d.id for d in plan.departments}

    for kpi_id in policy.kpi_curves:
        if kpi_id not in kpis:
            problems.append(
                ReferenceProblem(
                    ("kpi_curves", kpi_id),
                    f"plan '{plan.id}' has no KPI '{kpi_id}'",
                    did_you_mean(kpi_id, kpis),
                )
            )

    for index, gate in enumerate(policy.gates):
        when = gate.when
        if when.kpi is not None and when.kpi not in kpis:
            problems.append(
                ReferenceProblem(
                    ("gates", index, "when", "kpi"),
                    f"plan '{plan.id}' has no KPI '{when.kpi}'",
                    did_you_mean(when.kpi, kpis),
                )
            )
        if when.department is not None and when.department not in departments:
            problems.append(
                ReferenceProblem(
                    ("gates", index, "when", "department"),
                    f"plan '{plan.id}' has no department '{when.department}'",
                    did_you_mean(when.department, departments),
                )
            )
        scope, _, ref = gate.applies_to.partition(":")
        if scope == "department" and ref not in departments:
            problems.append(
                ReferenceProblem(
                    ("gates", index, "applies_to"),
                    f"plan '{plan.id}' has no department '{ref}'",
                    did_you_mean(ref, departments),
                )
            )
        if scope == "kpi" and ref not in kpis:
            problems.append(
                ReferenceProblem(
                    ("gates", index, "applies_to"),
                    f"plan '{plan.id}' has no KPI '{ref}'",
                    did_you_mean(ref, kpis),
                )
            )

    for kpi_id, kpi in kpis.items():
        curve_name, curve = policy.curve_for(kpi_id)
        for level in curve.needed_levels():
            if getattr(kpi, level) is None:
                problems.append(
                    ReferenceProblem(
                        ("kpi_curves", kpi_id)
                        if kpi_id in policy.kpi_curves
                        else ("curves", curve_name),
                        f"curve '{curve_name}' pays on the KPI's {level}, but KPI '{kpi_id}' has no {level}",
                        f"add '{level}:' to KPI '{kpi_id}' in the plan, or map it to an attainment curve in kpi_curves",
                    )
                )
        if curve.basis.value == "attainment" and kpi.target is None:
            problems.append(
                ReferenceProblem(
                    ("curves", curve_name),
                    f"KPI '{kpi_id}' has no target to measure attainment against",
                    f"add 'target:' to KPI '{kpi_id}' in the plan",
                )
            )
    return problems
