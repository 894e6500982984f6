"""alignment-engine: keeps departments pulling in the same direction and pays them fairly for it.

The library in a few lines::

    from alignment_engine import check_plan, plan_from_yaml

    plan = plan_from_yaml("scenarios/acme/plan.yaml")
    for finding in check_plan(plan).to_dict()["findings"]:
        print(finding["rule"], finding["message"])

Engine calls, loaders and tables are imported on first use (PEP 562), so ``import
alignment_engine`` stays cheap for the command line.
"""

from __future__ import annotations

import importlib
from typing import Any

from alignment_engine.errors import (
    AlignmentError,
    ConflictError,
    InfeasibleError,
    InputError,
    NotFoundError,
    OptimisationError,
    PolicyError,
    Problem,
    RuleError,
    ScenarioError,
    StorageError,
)
from alignment_engine.model import CheckResult, Finding, Plan, Policy, Scenario, did_you_mean
from alignment_engine.model.findings import Severity

__version__ = "0.1.0"

_LAZY = {
    "ReallocationResult": "alignment_engine.optimisation",
    "ScenarioResult": "alignment_engine.scenarios",
    "ScoreResult": "alignment_engine.engine",
    "Store": "alignment_engine.storage",
    "OptimiseOptions": "alignment_engine.engine",
    "check_plan": "alignment_engine.engine",
    "reallocation_document": "alignment_engine.engine",
    "score_period": "alignment_engine.engine",
    "scorecard": "alignment_engine.engine",
    "simulate_policy": "alignment_engine.engine",
    "suggest_reallocation": "alignment_engine.engine",
    "plan_from_yaml": "alignment_engine.loading",
    "policy_from_yaml": "alignment_engine.loading",
    "scenario_from_yaml": "alignment_engine.loading",
    "ACTUALS": "alignment_engine.tables",
    "EMPLOYEES": "alignment_engine.tables",
    "read_history": "alignment_engine.tables",
    "read_table": "alignment_engine.tables",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'alignment_engine' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "ACTUALS",
    "EMPLOYEES",
    "AlignmentError",
    "CheckResult",
    "ConflictError",
    "Finding",
    "InfeasibleError",
    "InputError",
    "NotFoundError",
    "OptimisationError",
    "OptimiseOptions",
    "Plan",
    "Policy",
    "PolicyError",
    "Problem",
    "ReallocationResult",
    "RuleError",
    "Scenario",
    "ScenarioError",
    "ScenarioResult",
    "ScoreResult",
    "Severity",
    "StorageError",
    "Store",
    "__version__",
    "check_plan",
    "did_you_mean",
    "plan_from_yaml",
    "policy_from_yaml",
    "read_history",
    "read_table",
    "reallocation_document",
    "scenario_from_yaml",
    "score_period",
    "scorecard",
    "simulate_policy",
    "suggest_reallocation",
]
