"""A plan the rules were not written against (tests/data/checks/planted-plan.yaml): every kind of
planted problem is found and its aligned look-alikes are not; check is deterministic and safe to
call from many threads at once."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from alignment_engine.checking import check_plan
from alignment_engine.conflicts import pay_mix, pool_totals, rollup_totals
from alignment_engine.loading import plan_from_yaml, policy_from_yaml
from alignment_engine.model import Plan, Policy
from alignment_engine.model.findings import CheckResult
from reach_oracle import metric_reach

DATA = Path(__file__).resolve().parent / "data" / "checks"
EXPECTED = yaml.safe_load((DATA / "planted-expected.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def plan() -> Plan:
    return plan_from_yaml(DATA / "planted-plan.yaml")


@pytest.fixture(scope="module")
def policy() -> Policy:
    return policy_from_yaml(DATA / "department-heavy.yaml")


def identities(result: CheckResult) -> list[dict[str, Any]]:
    return sorted(
        (
            {"rule": f.rule, "departments": sorted(f.departments), "kpis": sorted(f.kpis)}
            for f in result.findings
        ),
        key=lambda f: (f["rule"], f["departments"], f["kpis"]),
    )


def ordered(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda f: (f["rule"], f["departments"], f["kpis"]))


def test_every_planted_problem_is_found_and_nothing_else(plan: Plan) -> None:
    assert identities(check_plan(plan)) == ordered(EXPECTED["expected"])


def test_the_policy_adds_the_incentive_finding(plan: Plan, policy: Policy) -> None:
    result = check_plan(plan, policy)
    assert identities(result) == ordered(EXPECTED["expected"] + EXPECTED["with_policy"])


def test_aligned_look_alikes_are_not_reported(plan: Plan, policy: Policy) -> None:
    found = check_plan(plan, policy)
    named = {k for f in found.findings if f.kind.value == "conflict" for k in f.kpis}
    # accurate picking -> fewer returns -> happier customers: aligned, however many hops
    assert not named & {"warehouse.pick_accuracy", "service.returns", "service.satisfaction"}
    # a stock-level <-> stockouts cycle managed the same way round, and training
    assert not named & {"warehouse.stock_level", "procurement.stockouts", "hr.training"}
    # the budget pool fits; company.satisfaction's children (mean 82) reach its 80
    assert {r for f in found.findings for r in f.resources} == {"trucks"}
    assert "company.satisfaction" not in named
    # finance raises the margin the shared goal also raises
    assert not [
        f
        for f in found.findings
        if f.rule == "incentive-misalignment" and "finance" in f.departments
    ]


def test_findings_are_sorted_most_severe_first_then_by_rule(plan: Plan) -> None:
    findings = check_plan(plan).findings
    assert findings == sorted(findings, key=lambda f: f.sort_key())
    assert findings[0].severity.value == "critical"
    ranks = [f.severity.rank for f in findings]
    assert ranks == sorted(ranks, reverse=True)


def test_summary_counts(plan: Plan, policy: Policy) -> None:
    summary = check_plan(plan, policy).to_dict()["summary"]
    assert summary["total"] == 13
    assert summary["by_kind"] == {"alignment": 6, "conflict": 7}
    assert summary["by_severity"] == {"critical": 1, "high": 7, "medium": 4, "low": 1}
    assert summary["by_rule"]["trade-off"] == 3
    assert summary["plan"] == "northwind-2026"
    assert summary["policy"] == "department-heavy"


def test_json_shape_is_the_spec_shape(plan: Plan) -> None:
    data = check_plan(plan).to_dict()
    assert list(data) == ["findings", "summary"]
    for finding in data["findings"]:
        assert list(finding) == [
            "rule",
            "kind",
            "severity",
            "departments",
            "kpis",
            "objectives",
            "resources",
            "message",
            "suggestion",
        ]
        assert finding["kind"] in ("alignment", "conflict")
        assert finding["severity"] in ("low", "medium", "high", "critical")


def test_check_from_many_threads_at_once_gives_the_same_answer(plan: Plan, policy: Policy) -> None:
    reference = json.dumps(check_plan(plan, policy).to_dict(), ensure_ascii=False)
    acme = plan_from_yaml(Path(__file__).resolve().parent.parent / "scenarios/acme/plan.yaml")
    acme_reference = json.dumps(check_plan(acme).to_dict(), ensure_ascii=False)
    results: list[tuple[str, str]] = []
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            for _ in range(3):
                if index % 2:
                    results.append(
                        ("p", json.dumps(check_plan(plan, policy).to_dict(), ensure_ascii=False))
                    )
                else:
                    results.append(
                        ("a", json.dumps(check_plan(acme).to_dict(), ensure_ascii=False))
                    )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 24
    for kind, text in results:
        assert text == (reference if kind == "p" else acme_reference)


# ---------------------------------------------------------------------------------------------
# The Python helpers the rules build on


def test_metric_reach_follows_chains_and_stops_at_cycles_and_the_hop_limit(plan: Plan) -> None:
    reach = metric_reach(plan.influences, sources=["free_shipping_share", "stock_level"])
    found = {(r.source, r.metric, r.sign, r.hops): r.path for r in reach}  # shortest chains
    assert found[("free_shipping_share", "operating_margin", -1, 3)] == (
        "free_shipping_share",
        "shipping_cost",
        "logistics_cost",
        "operating_margin",
    )
    # the cycle stock_level -> stockouts -> stock_level never comes back to its start
    assert {(r.metric, r.hops) for r in reach if r.source == "stock_level"} == {
        ("stock_level", 0),
        ("stockouts", 1),
    }
    assert max(r.hops for r in metric_reach(plan.influences, hop_limit=2)) == 2


def test_pool_rollup_and_pay_totals(plan: Plan, policy: Policy) -> None:
    pools = {p.resource: p for p in pool_totals(plan)}
    assert (pools["trucks"].demanded, pools["trucks"].requesting) == (
        135,
        ("logistics", "warehouse"),
    )
    assert pools["budget"].demanded == 3_800_000  # it states no demand: its allocation counts
    rollups = {r.parent: r for r in rollup_totals(plan)}
    assert (rollups["company.orders"].combined, rollups["company.orders"].shortfall) == (950, 50)
    assert rollups["company.satisfaction"].shortfall == 0
    assert pay_mix(policy).mostly_local
