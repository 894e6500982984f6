"""Hand-made results in the SPEC JSON shapes (check, score, optimise) for report tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alignment_engine.loading import plan_from_yaml
from alignment_engine.model import Plan

ROOT = Path(__file__).resolve().parents[2]
ACME_PLAN = ROOT / "scenarios" / "acme" / "plan.yaml"


def acme_plan() -> Plan:
    return plan_from_yaml(ACME_PLAN)


def finding(
    rule: str,
    severity: str,
    departments: list[str],
    kpis: list[str] | None = None,
    *,
    kind: str = "conflict",
    objectives: list[str] | None = None,
    resources: list[str] | None = None,
    message: str = "",
) -> dict[str, Any]:
    return {
        "rule": rule,
        "kind": kind,
        "severity": severity,
        "departments": departments,
        "kpis": kpis or [],
        "objectives": objectives or [],
        "resources": resources or [],
        "message": message or f"{rule} between {', '.join(departments) or 'nobody'}",
        "suggestion": f"review {rule}",
    }


def sample_check() -> dict[str, Any]:
    findings = [
        finding(
            "opposing-targets",
            "high",
            ["sales", "finance"],
            ["sales.days_sales_outstanding", "finance.days_sales_outstanding"],
        ),
        finding(
            "trade-off",
            "medium",
            ["marketing", "finance"],
            ["marketing.promo_intensity", "finance.gross_margin"],
        ),
        finding(
            "trade-off",
            "medium",
            ["production", "quality"],
            ["production.unit_cost", "quality.defect_rate"],
        ),
        finding(
            "resource-oversubscription",
            "critical",
            ["rnd", "production", "it", "quality"],
            resources=["engineering_hours"],
        ),
        finding("cascade-gap", "medium", ["sales"], ["sales.revenue_north", "company.revenue"]),
        finding(
            "incentive-misalignment",
            "low",
            ["sales"],
            ["sales.days_sales_outstanding", "shared.net_margin"],
        ),
        finding(
            "uncovered-objective",
            "low",
            [],
            kind="alignment",
            objectives=["L2"],
            message="<script>alert('x')</script> & 知识共享",
        ),
    ]
    return {"findings": findings, "summary": {"findings": len(findings)}}


def sample_score(plan: Plan, employees_per_department: int = 12) -> dict[str, Any]:
    kpis = []
    for index, (scope, kpi) in enumerate(plan.kpis()):
        attainment = 0.86 + (index % 6) * 0.05
        factor = 0.0 if attainment < 0.9 else min(2.0, 0.5 + (attainment - 0.9) * 5)
        kpis.append(
            {
                "scope": scope,
                "kpi": kpi.id,
                "actual": (kpi.target or 1.0) * attainment,
                "target": kpi.target,
                "attainment": attainment,
                "payout_factor": factor,
                "curve": "default",
                "gates": [],
            }
        )
    departments = []
    employees = []
    for d_index, department in enumerate(plan.departments):
        factor = 0.7 + d_index * 0.06
        total = 0.0
        for e_index in range(employees_per_department):
            payout = round(8000 + 1500 * ((e_index * 7 + d_index * 3) % 11) * factor, 2)
            total += payout
            employees.append(
                {
                    "employee_id": f"E{d_index:02d}{e_index:03d}",
                    "department": department.id,
                    "payout": payout,
                    "factor": factor,
                    "explanation": None,
                }
            )
        departments.append(
            {
                "department": department.id,
                "score": 0.8 + d_index * 0.03,
                "payout_factor": factor,
                "employees": employees_per_department,
                "payout": round(total, 2),
            }
        )
    payout = round(sum(e["payout"] for e in employees), 2)
    return {
        "run_id": "run-sample",
        "period": "2026-Q3",
        "policy": "annual-bonus-2026",
        "kpis": kpis,
        "departments": departments,
        "employees": employees,
        "totals": {"payout": payout, "pool": 5_000_000.0, "scale": 1.0, "currency": "CNY"},
    }


def sample_optimise(plan: Plan) -> dict[str, Any]:
    allocations = []
    for resource in plan.resources:
        for index, (department, current) in enumerate(resource.allocation.items()):
            proposed = current * (1 + ((index % 5) - 2) * 0.05)
            allocations.append(
                {
                    "resource": resource.id,
                    "department": department,
                    "current": current,
                    "proposed": proposed,
                    "change": proposed - current,
                    "marginal_value": 0.001 * index,
                }
            )
    predicted = [
        {"kpi": curve.kpi, "current": 0.5, "proposed": 0.52} for curve in plan.response_curves
    ]
    return {
        "status": "optimal",
        "objective": 0.9731,
        "allocations": allocations,
        "predicted": predicted,
    }
