"""End to end on the bundled company: every shipped scenario runs through the real engine, and
the scenarios that fix planted problems show them resolved with nothing added."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from alignment_engine.cli import main
from alignment_engine.reports import render_report
from alignment_engine.reports.conflict_graph import graph_findings
from alignment_engine.scenarios import compare_paths, run_scenario

ACME = Path(__file__).resolve().parent.parent / "scenarios" / "acme"
PLAN = ACME / "plan.yaml"
SCENARIOS = sorted(
    path
    for path in ACME.glob("*.yaml")
    if (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("kind") == "scenario"
)
EXPECTED = json.loads((ACME / "expected-findings.json").read_text(encoding="utf-8"))


def keys(findings: list[dict[str, Any]]) -> list[tuple[str, list[str], list[str]]]:
    return sorted((f["rule"], sorted(f["departments"]), sorted(f["kpis"])) for f in findings)


def expected_keys(entries: list[dict[str, Any]]) -> list[tuple[str, list[str], list[str]]]:
    return sorted((e["rule"], sorted(e["departments"]), sorted(e["kpis"])) for e in entries)


def uses_a_policy(name: str) -> bool:
    data = yaml.safe_load((ACME / f"{name}.yaml").read_text(encoding="utf-8"))
    return bool(data.get("policy"))


def test_the_fixing_scenarios_are_shipped() -> None:
    names = {path.stem for path in SCENARIOS}
    assert {"fix-margin-conflict", "discount-push"} <= names


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_shipped_scenario_runs(path: Path) -> None:
    result = run_scenario(path)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["scenario"] == path.stem
    assert len(data["table"]) == len(result.variants) >= 1
    for variant in result.variants:
        assert variant.check is not None and isinstance(variant.check["findings"], list)
        assert variant.optimise is not None  # the plan has resources
        assert variant.compare is not None
        if variant.policy is not None:
            assert variant.score is not None
            assert variant.score["period"] == variant.period
        page = render_report(
            plan=variant.plan,
            check=variant.check,
            score=variant.score,
            optimise=variant.optimise,
            compare=variant.compare,
        )
        edges = len(graph_findings(variant.plan, variant.check["findings"]))
        assert page.count('<g class="finding-edge ') == edges


FIXES = [
    name
    for name, expected in (EXPECTED.get("scenarios") or {}).items()
    if expected.get("resolved") and not uses_a_policy(name)
]


@pytest.mark.parametrize("name", FIXES)
def test_a_fixing_scenario_resolves_its_conflict_and_adds_nothing(name: str) -> None:
    expected = EXPECTED["scenarios"][name]
    comparison = compare_paths(PLAN, ACME / f"{name}.yaml").to_dict()
    assert keys(comparison["findings"]["resolved"]) == expected_keys(expected["resolved"])
    assert comparison["findings"]["added"] == []
    assert {"scores", "payouts", "allocations"} <= set(comparison)


def test_scenario_compare_command_json() -> None:
    result = CliRunner().invoke(
        main,
        [
            "scenario",
            "compare",
            str(PLAN),
            str(ACME / "fix-margin-conflict.yaml"),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data["findings"]) >= {"added", "resolved"}
    assert data["findings"]["added"] == []
    assert ("trade-off", ["finance", "marketing"]) in [
        (f["rule"], sorted(f["departments"])) for f in data["findings"]["resolved"]
    ]


def test_scenario_run_command_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    path = ACME / "discount-push.yaml"
    result = CliRunner().invoke(main, ["scenario", "run", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    sweep = yaml.safe_load(path.read_text(encoding="utf-8"))["sweep"]
    pages = sorted(p.name for p in out.glob("*.html"))
    assert pages == ["report.html"] + [f"variant-{i + 1}.html" for i in range(len(sweep["values"]))]
    data = json.loads((out / "scenario.json").read_text(encoding="utf-8"))
    assert [row["value"] for row in data["table"]] == sweep["values"]
    assert all(v["score"] is not None for v in data["variants"])
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("<svg ") == 5


def test_a_scenario_with_actuals_shows_its_forecast_scorecard_beside_the_base() -> None:
    from alignment_engine import engine
    from alignment_engine.tables import ACTUALS, read_table

    result = run_scenario(ACME / "discount-push.yaml")
    actuals = read_table(ACME / "actuals-2026-q3.csv", ACTUALS)
    for variant in result.variants:
        # Each variant's scorecard is the scorecard of its changed plan on the same actuals.
        expected = engine.scorecard(variant.plan, actuals, "2026-Q3").to_dict()
        assert variant.scorecard == expected
        assert variant.summary()["scorecard"] == expected["overall"]["score"]
    base = result.base
    assert base is not None and base.scorecard is not None
    compared = result.variants[0].compare
    assert compared is not None
    overall = compared["scorecard"]["overall"]
    assert overall["before"] == base.scorecard["overall"]["score"]
    assert overall["after"] == result.variants[0].scorecard["overall"]["score"]
    assert [p["perspective"] for p in compared["scorecard"]["perspectives"]] == [
        "financial",
        "customer",
        "internal_process",
        "learning_growth",
    ]
    # A higher market-share target lowers the customer perspective's forecast.
    customer = compared["scorecard"]["perspectives"][1]
    assert customer["after"] < customer["before"] and customer["delta"] < 0


def test_a_run_in_chinese_keeps_english_results_and_carries_the_texts_beside_them() -> None:
    from alignment_engine.scenarios import read_inputs, run_inputs

    inputs = read_inputs(ACME / "fix-margin-conflict.yaml")
    english = run_inputs(inputs)
    chinese = run_inputs(inputs, language="zh-CN")
    assert chinese.to_dict() == english.to_dict()  # what JSON and the store keep
    for side in (chinese.base, *chinese.variants):
        assert side is not None
        findings = (side.check or {})["findings"]
        assert len(side.translations) == len(findings) > 0
        assert all(t is not None and t["language"] == "zh-CN" for t in side.translations)
        assert all("translation" not in f for f in findings)
    assert not english.variants[0].translations
