"""Builders shared by the scoring tests: a small plan, a policy and actuals, built in code.

Imported by name (``from scoring_builders import ...``): pytest puts this directory on
``sys.path`` for the test modules in it, which have no ``__init__.py``.
"""

from __future__ import annotations

import functools
from typing import Any

import pandas as pd

from alignment_engine.model.plan import Plan
from alignment_engine.model.policy import Policy
from alignment_engine.ruleset.gate_rules import rule_gate_outcomes
from alignment_engine.scoring import score_period as score_core


def make_plan(**overrides: Any) -> Plan:
    document: dict[str, Any] = {
        "kind": "plan",
        "id": "acme-2026",
        "currency": "CNY",
        "objectives": [{"id": "F1", "perspective": "financial"}],
        "metrics": [
            {"id": "revenue", "better": "higher", "aggregation": "sum"},
            {"id": "net_margin", "better": "higher"},
            {"id": "market_share", "better": "higher", "aggregation": "last"},
            {"id": "defect_rate", "better": "lower"},
            {"id": "gross_margin", "better": "higher", "formula": "gross_profit / revenue"},
        ],
        "company_kpis": [
            {
                "id": "company.net_margin",
                "metric": "net_margin",
                "target": 0.12,
                "threshold": 0.08,
                "maximum": 0.15,
                "weight": 0.5,
            },
            {
                "id": "company.revenue",
                "metric": "revenue",
                "target": 1000,
                "threshold": 900,
                "maximum": 1200,
                "weight": 0.5,
            },
        ],
        "departments": [
            {
                "id": "sales",
                "kpis": [
                    {
                        "id": "sales.market_share",
                        "metric": "market_share",
                        "target": 0.25,
                        "threshold": 0.22,
                        "maximum": 0.28,
                        "weight": 0.4,
                    },
                    {
                        "id": "sales.revenue",
                        "metric": "revenue",
                        "target": 300,
                        "threshold": 270,
                        "maximum": 360,
                        "weight": 0.6,
                    },
                ],
            },
            {
                "id": "production",
                "kpis": [
                    {
                        "id": "production.defect_rate",
                        "metric": "defect_rate",
                        "target": 0.02,
                        "threshold": 0.03,
                        "maximum": 0.01,
                        "weight": 1,
                    },
                ],
            },
            {"id": "finance", "kpis": []},
        ],
        "shared_goals": [
            {
                "id": "shared.gross_margin",
                "metric": "gross_margin",
                "target": 0.4,
                "threshold": 0.3,
                "maximum": 0.5,
                "departments": ["sales", "finance"],
            },
        ],
    }
    document.update(overrides)
    return Plan.model_validate(document)


def make_policy(**overrides: Any) -> Policy:
    document: dict[str, Any] = {
        "kind": "policy",
        "id": "annual-bonus-2026",
        "currency": "CNY",
        "components": {"company": 0.2, "department": 0.5, "shared": 0.2, "individual": 0.1},
        "curves": {
            "default": {
                "basis": "levels",
                "points": {"threshold": 0.5, "target": 1.0, "maximum": 2.0},
                "below_threshold": 0,
            },
        },
        "caps": {"kpi": 2.0, "employee": 2.0},
        "rounding": {"decimals": 2, "mode": "half_up"},
        "proration": "days",
    }
    document.update(overrides)
    return Policy.model_validate(document)


def actuals_frame(
    rows: list[tuple[str, str, str, float]], source: str = "actuals.csv"
) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["period", "scope", "kpi", "actual"])
    frame.attrs["source"] = source
    frame.attrs["row_offset"] = 2
    return frame


ON_TARGET = [
    ("2026-Q3", "company", "company.net_margin", 0.12),
    ("2026-Q3", "company", "company.revenue", 1000.0),
    ("2026-Q3", "sales", "sales.market_share", 0.25),
    ("2026-Q3", "sales", "sales.revenue", 300.0),
    ("2026-Q3", "production", "production.defect_rate", 0.02),
    ("2026-Q3", "shared.gross_margin", "shared.gross_margin", 0.4),
]


#: The scoring core with the product's gate decision (the rule engine's) and none of the
#: facade's refusals, so a test can score any plan it builds.
score_period = functools.partial(score_core, evaluate_gates=rule_gate_outcomes)
