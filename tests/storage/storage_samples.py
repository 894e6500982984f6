"""Sample runs for the storage tests (and the concurrent writer script): small, deterministic."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from alignment_engine.storage import RunRecord

PLAN = {
    "kind": "plan",
    "id": "acme-2026",
    "name": "ACME 2026 · 销售",
    "currency": "CNY",
    "fiscal_year": 2026,
    "departments": [{"id": "sales", "kpis": []}, {"id": "finance", "kpis": []}],
}
POLICY = {"kind": "policy", "id": "annual-bonus-2026", "rounding": {"decimals": 2}}


def employees(count: int = 5, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "employee_id": [f"E{i:06d}" for i in range(count)],
            "department": np.where(np.arange(count) % 2 == 0, "sales", "finance"),
            "target_bonus": np.round(rng.uniform(1000, 20000, count), 2),
            "individual_score": np.round(rng.uniform(0.5, 1.5, count), 3),
        }
    )


def actuals(market_share: float = 0.26) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "period": ["2026-Q3", "2026-Q3"],
            "scope": ["sales", "company"],
            "kpi": ["sales.market_share", "company.revenue"],
            "actual": [market_share, 1050.0],
        }
    )


def score_record(
    *,
    period: str = "2026-Q3",
    market_share: float = 0.26,
    count: int = 5,
    options: dict[str, Any] | None = None,
) -> RunRecord:
    return RunRecord.create(
        "score",
        period=period,
        documents={"plan": PLAN, "policy": POLICY},
        tables={"actuals": actuals(market_share), "employees": employees(count)},
        options=options or {},
        actor="tester",
    )


def payouts_for(record: RunRecord, factor: float = 1.0) -> pd.DataFrame:
    """Payouts as the score engine would compute them: target bonus x factor, in cents."""
    staff = employees(next(t.row_count for t in record.tables if t.role == "employees"))
    units = np.round(staff["target_bonus"].to_numpy() * factor * 100).astype(np.int64)
    return pd.DataFrame(
        {
            "employee_id": staff["employee_id"],
            "department": staff["department"],
            "payout": units / 100,
            "factor": np.full(len(staff), factor),
        }
    )


def score_output(record: RunRecord, payouts: pd.DataFrame) -> str:
    """The score command's JSON text for these payouts (indented, non-ASCII kept)."""
    document = {
        "run_id": record.run_id,
        "period": record.period,
        "kpis": [],
        "departments": [],
        "employees": [
            {
                "employee_id": row.employee_id,
                "department": row.department,
                "payout": row.payout,
                "factor": row.factor,
                "explanation": "目标奖金 × 系数",
            }
            for row in payouts.itertuples()
        ],
        "totals": {"payout": float(payouts["payout"].sum()), "pool": None, "scale": 1.0},
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def check_record(findings: list[dict[str, Any]]) -> tuple[RunRecord, str]:
    record = RunRecord.create(
        "check", documents={"plan": PLAN}, options={"rules": ["shipped"], "n": len(findings)}
    )
    output = json.dumps(
        {"findings": findings, "summary": {"total": len(findings)}}, indent=2, ensure_ascii=False
    )
    return record, output


def finding(rule: str, severity: str = "high", departments: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "rule": rule,
        "kind": "conflict",
        "severity": severity,
        "departments": list(departments),
        "kpis": [],
        "objectives": [],
        "resources": [],
        "message": f"{rule} between {', '.join(departments)}",
        "suggestion": None,
    }
