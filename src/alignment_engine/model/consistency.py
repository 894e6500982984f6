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

    for index, table in enumerate(policy.tables):
        for number, table_input in enumerate(table.inputs):
            where = ("tables", index, "inputs", number)
            if table_input.kpi is not None and table_input.kpi not in kpis:
                problems.append(
                    ReferenceProblem(
                        (*where, "kpi"),
                        f"plan '{plan.id}' has no KPI '{table_input.kpi}'",
                        did_you_mean(table_input.kpi, kpis),
                    )
                )
            if table_input.department is not None and table_input.department not in departments:
                problems.append(
                    ReferenceProblem(
                        (*where, "department"),
                        f"plan '{plan.id}' has no department '{table_input.department}'",
                        did_you_mean(table_input.department, departments),
                    )
                )
        scope, _, ref = table.applies_to.partition(":")
        known = departments if scope == "department" else kpis if scope == "kpi" else None
        if known is not None and ref not in known:
            problems.append(
                ReferenceProblem(
                    ("tables", index, "applies_to"),
                    f"plan '{plan.id}' has no {scope.replace('kpi', 'KPI')} '{ref}'",
                    did_you_mean(ref, known),
                )
            )

    on_matrix = policy.matrix_of()
    for kpi_id, (name, index, axis) in on_matrix.items():
        on_axis: tuple[str | int, ...] = ("matrices", name, "kpis", index, axis)
        if kpi_id not in kpis:
            problems.append(
                ReferenceProblem(
                    on_axis, f"plan '{plan.id}' has no KPI '{kpi_id}'", did_you_mean(kpi_id, kpis)
                )
            )
            continue
        kpi = kpis[kpi_id]
        target = kpi.target
        edges = [v for v in (kpi.threshold, kpi.maximum) if v is not None]
        if (
            kpi.direction is not None
            and str(kpi.direction) == "maintain"
            and any(float(v) <= 0 for v in edges)
        ):
            problems.append(
                ReferenceProblem(
                    on_axis,
                    f"matrix '{name}' pays maintain KPI '{kpi_id}' on the ratio of its result "
                    "to its band, which needs its threshold and maximum above zero",
                    f"give KPI '{kpi_id}' a band above zero",
                )
            )
        if target is None or float(target) <= 0:
            problems.append(
                ReferenceProblem(
                    on_axis,
                    f"matrix '{name}' pays on attainment, but KPI '{kpi_id}' has "
                    + ("no target" if target is None else f"target {float(target):g}"),
                    f"give KPI '{kpi_id}' a positive target",
                )
            )

    for kpi_id, kpi in kpis.items():
        if kpi_id in on_matrix:
            continue
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
