"""Request bodies for the service tests: the tiny plan and policy of tests/data, and rows."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
DATA = ROOT / "tests" / "data" / "valid"
ACME = ROOT / "scenarios" / "acme"
ROLES = ("admin", "hr", "planner", "service")


def _yaml(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


PLAN = _yaml(DATA / "minimal-plan.yaml")
POLICY = _yaml(DATA / "minimal-policy.yaml")
ACTUALS = [
    {"period": "2026-Q3", "scope": "company", "kpi": "company.revenue", "actual": 1040},
    {"period": "2026-Q3", "scope": "sales", "kpi": "sales.market_share", "actual": 0.26},
    {"period": "2026-Q3", "scope": "sales", "kpi": "sales.revenue", "actual": 1040},
    {"period": "2026-Q3", "scope": "finance", "kpi": "finance.gross_margin", "actual": 0.33},
    {"period": "2026-Q3", "scope": "shared.margin", "kpi": "shared.margin", "actual": 0.34},
]
EMPLOYEES = [
    {
        "employee_id": f"E{i:03d}",
        "department": "sales" if i % 2 else "finance",
        "target_bonus": 10000 + 100 * i,
        "individual_score": 1.0,
    }
    for i in range(1, 11)
]


def plan() -> dict[str, Any]:
    return copy.deepcopy(PLAN)


def policy() -> dict[str, Any]:
    return copy.deepcopy(POLICY)


def acme_plan() -> dict[str, Any]:
    return _yaml(ACME / "plan.yaml")


def check_body() -> dict[str, Any]:
    return {"plan": plan()}


def score_body() -> dict[str, Any]:
    return {
        "plan": plan(),
        "policy": policy(),
        "actuals": copy.deepcopy(ACTUALS),
        "employees": copy.deepcopy(EMPLOYEES),
        "period": "2026-Q3",
    }


def optimise_body() -> dict[str, Any]:
    return {"plan": plan(), "options": {"balance": 0.1}}


def scenario_body() -> dict[str, Any]:
    return {
        "plan": plan(),
        "scenario": {
            "kind": "scenario",
            "id": "push-share",
            "extends": "minimal-plan.yaml",
            "set": [{"path": "departments[sales].kpis[sales.market_share].target", "value": 0.27}],
        },
    }


# Each decision endpoint with a valid body, and the action (permission) it needs.
DECISIONS: dict[str, tuple[str, Any]] = {
    "/v1/check": ("check", check_body),
    "/v1/score": ("score", score_body),
    "/v1/optimise": ("optimise", optimise_body),
    "/v1/scenarios/run": ("scenario", scenario_body),
}
