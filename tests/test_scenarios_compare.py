"""Comparing two runs, a pure function of the SPEC JSON shapes (hand-made results here)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from alignment_engine.scenarios import compare_results


def finding(
    rule: str,
    departments: list[str],
    kpis: list[str],
    severity: str = "high",
    objectives: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "rule": rule,
        "kind": "conflict",
        "severity": severity,
        "departments": departments,
        "kpis": kpis,
        "objectives": objectives or [],
        "resources": [],
        "message": f"{rule}: {departments}",
        "suggestion": None,
    }


def run(findings: list[dict[str, Any]] | None = None, **parts: Any) -> dict[str, Any]:
    return {"check": {"findings": findings or [], "summary": {}}, **parts}


MARGIN = finding("trade-off", ["marketing", "finance"], ["marketing.promo", "finance.margin"])
TERMS = finding("opposing-targets", ["sales", "finance"], ["sales.dso", "finance.dso"])
GAP = finding("cascade-gap", ["sales"], ["sales.revenue_north", "company.revenue"], "medium")


def test_the_shape_is_the_spec_shape() -> None:
    result = compare_results(run(), run())
    assert {"findings", "scores", "payouts", "allocations"} <= set(result)
    assert {"added", "resolved"} <= set(result["findings"])
    assert result["findings"]["added"] == [] and result["findings"]["resolved"] == []


def test_a_fixed_conflict_is_resolved_and_nothing_is_added() -> None:
    result = compare_results(run([MARGIN, TERMS, GAP]), run([TERMS, GAP]))
    assert result["findings"]["resolved"] == [MARGIN]
    assert result["findings"]["added"] == []
    assert result["findings"]["unchanged"] == 2


def test_new_findings_are_added() -> None:
    result = compare_results(run([TERMS]), run([TERMS, MARGIN]))
    assert result["findings"]["added"] == [MARGIN]
    assert result["findings"]["resolved"] == []


def test_matching_ignores_the_order_of_departments_and_kpis_and_the_message() -> None:
    moved = {
        **TERMS,
        "departments": ["finance", "sales"],
        "kpis": ["finance.dso", "sales.dso"],
        "message": "worded differently",
    }
    result = compare_results(run([TERMS]), run([moved]))
    assert result["findings"]["added"] == [] and result["findings"]["resolved"] == []


def test_a_severity_change_is_reported_as_changed_not_added() -> None:
    lower = {**TERMS, "severity": "low"}
    result = compare_results(run([TERMS]), run([lower]))
    assert result["findings"]["added"] == [] and result["findings"]["resolved"] == []
    assert result["findings"]["changed"] == [
        {
            "rule": "opposing-targets",
            "departments": ["finance", "sales"],
            "kpis": ["finance.dso", "sales.dso"],
            "severity_before": "high",
            "severity_after": "low",
            "message": TERMS["message"],
        }
    ]


def test_findings_with_the_same_key_pair_on_their_objectives() -> None:
    f2 = finding("uncovered-objective", [], [], "low", ["F2"])
    f3 = finding("uncovered-objective", [], [], "low", ["F3"])
    l1 = finding("uncovered-objective", [], [], "low", ["L1"])
    result = compare_results(run([f2, f3]), run([f3, l1]))
    assert result["findings"]["resolved"] == [f2]
    assert result["findings"]["added"] == [l1]


def test_repeated_findings_count_as_many_times_as_they_occur() -> None:
    result = compare_results(run([GAP, GAP]), run([GAP]))
    assert result["findings"]["resolved"] == [GAP]
    assert result["findings"]["added"] == []


def score(
    departments: dict[str, tuple[float, float]], payouts: dict[str, list[float]]
) -> dict[str, Any]:
    return {
        "period": "2026-Q3",
        "kpis": [
            {
                "scope": "sales",
                "kpi": "sales.x",
                "actual": 1.0,
                "target": 1.0,
                "attainment": 1.0,
                "payout_factor": departments.get("sales", (0, 0))[1],
                "curve": "default",
                "gates": [],
            }
        ],
        "departments": [
            {"department": d, "score": s, "payout_factor": f} for d, (s, f) in departments.items()
        ],
        "employees": [
            {
                "employee_id": f"{d}{i}",
                "department": d,
                "payout": p,
                "factor": 1.0,
                "explanation": None,
            }
            for d, amounts in payouts.items()
            for i, p in enumerate(amounts)
        ],
        "totals": {
            "payout": round(sum(sum(a) for a in payouts.values()), 2),
            "pool": None,
            "scale": 1.0,
        },
    }


def test_score_and_payout_deltas() -> None:
    before = run(
        score=score(
            {"sales": (0.9, 0.8), "finance": (1.0, 1.0)}, {"sales": [0.1, 0.2], "finance": [100.0]}
        )
    )
    after = run(
        score=score({"sales": (1.1, 1.2), "hr": (0.5, 0.5)}, {"sales": [0.3, 0.3], "hr": [50.0]})
    )
    result = compare_results(before, after)
    scores = {row["department"]: row for row in result["scores"]}
    assert scores["sales"]["delta"] == 0.2  # rounded: no 0.20000000000000007
    assert scores["sales"]["payout_factor_delta"] == 0.4
    assert scores["finance"]["after"] is None and scores["finance"]["delta"] is None
    assert scores["hr"]["before"] is None
    assert [row["department"] for row in result["scores"]] == ["sales", "finance", "hr"]
    payouts = {row["department"]: row for row in result["payouts"]}
    # money is summed exactly: 0.1 + 0.2 is 0.3, and 0.6 - 0.3 is 0.3
    assert payouts["sales"]["before"] == 0.3 and payouts["sales"]["after"] == 0.6
    assert payouts["sales"]["delta"] == 0.3
    assert payouts["finance"] == {
        "department": "finance",
        "before": 100.0,
        "after": None,
        "delta": None,
        "employees_before": 1,
        "employees_after": 0,
    }
    assert result["totals"]["payout_delta"] == 0.3 + 50.0 - 100.0 + 0.0
    kpi = result["kpis"][0]
    assert kpi["payout_factor_before"] == 0.8 and kpi["payout_factor_after"] == 1.2


def test_payouts_fall_back_to_department_totals_without_employee_rows() -> None:
    before = run(score={"departments": [{"department": "sales", "payout": 10.0, "employees": 2}]})
    after = run(score={"departments": [{"department": "sales", "payout": 12.5, "employees": 2}]})
    assert compare_results(before, after)["payouts"][0]["delta"] == 2.5


def test_allocation_deltas_from_the_optimiser_and_the_plan() -> None:
    before = run(
        optimise={
            "status": "optimal",
            "objective": 1.0,
            "allocations": [
                {
                    "resource": "budget",
                    "department": "sales",
                    "current": 10.0,
                    "proposed": 12.0,
                    "change": 2.0,
                    "marginal_value": 0.1,
                }
            ],
            "predicted": [],
        },
    )
    after = run(
        optimise={
            "status": "optimal",
            "objective": 1.1,
            "allocations": [
                {
                    "resource": "budget",
                    "department": "sales",
                    "current": 11.0,
                    "proposed": 11.5,
                    "change": 0.5,
                    "marginal_value": 0.1,
                }
            ],
            "predicted": [],
        },
    )
    row = compare_results(before, after)["allocations"][0]
    assert row == {
        "resource": "budget",
        "department": "sales",
        "current_before": 10.0,
        "current_after": 11.0,
        "current_delta": 1.0,
        "proposed_before": 12.0,
        "proposed_after": 11.5,
        "proposed_delta": -0.5,
    }
    plan_only = compare_results(
        run(allocations=[{"resource": "budget", "department": "hr", "amount": 5}]),
        run(allocations=[{"resource": "budget", "department": "hr", "amount": 7}]),
    )
    assert plan_only["allocations"][0]["current_delta"] == 2.0
    assert plan_only["allocations"][0]["proposed_delta"] is None


def test_missing_parts_compare_as_empty() -> None:
    result = compare_results({}, {"check": None, "score": None, "optimise": None})
    assert result["scores"] == [] and result["payouts"] == [] and result["allocations"] == []


RULES = st.sampled_from(["trade-off", "opposing-targets", "cascade-gap"])
DEPARTMENTS = st.lists(st.sampled_from(["sales", "finance", "hr"]), max_size=2, unique=True)
FINDINGS = st.lists(
    st.builds(lambda r, d: finding(r, d, [f"{x}.k" for x in d]), RULES, DEPARTMENTS), max_size=6
)


@settings(max_examples=150, deadline=None)
@given(before=FINDINGS, after=FINDINGS)
def test_added_and_resolved_account_for_every_finding(
    before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> None:
    result = compare_results(run(before), run(after))["findings"]
    matched = len(before) - len(result["resolved"])
    assert matched == len(after) - len(result["added"])
    assert matched == result["unchanged"] + len(result["changed"])
    backwards = compare_results(run(after), run(before))["findings"]
    assert len(backwards["added"]) == len(result["resolved"])
    assert len(backwards["resolved"]) == len(result["added"])
    same = compare_results(run(before), run(list(reversed(before))))["findings"]
    assert same["added"] == [] and same["resolved"] == []
