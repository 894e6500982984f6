"""``optimise`` and ``fit`` on the example company, through the real command."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from alignment_engine.cli import main
from alignment_engine.loading import plan_from_yaml
from alignment_engine.storage import Store

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "scenarios" / "acme"
HISTORY = [
    "--history",
    str(ACME / "history-kpis.csv"),
    "--history",
    str(ACME / "history-allocations.csv"),
]


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def test_optimise_json_has_the_spec_shape_and_respects_every_bound() -> None:
    result = run("optimise", str(ACME / "plan.yaml"), "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert {"status", "objective", "allocations", "predicted"} <= set(document)
    assert document["objective"] >= document["objective_current"]
    plan = plan_from_yaml(ACME / "plan.yaml")
    for resource in plan.resources:
        rows = [a for a in document["allocations"] if a["resource"] == resource.id]
        assert sum(a["proposed"] for a in rows) <= resource.capacity * (1 + 1e-9)
        for row in rows:
            assert {"current", "proposed", "change", "marginal_value"} <= set(row)
            assert row["proposed"] >= 0
            if resource.max_change is not None:
                assert abs(row["change"]) <= resource.max_change * row["current"] + 1e-6
            if resource.integer:
                assert row["proposed"] == round(row["proposed"])


def test_keep_total_keeps_each_pool_total() -> None:
    document = json.loads(
        run("optimise", str(ACME / "plan.yaml"), "--keep-total", "--format", "json").output
    )
    for pool in document["resources"]:
        assert pool["total_proposed"] == pytest.approx(pool["total_current"], rel=1e-9)


@pytest.fixture
def fitted_plan(tmp_path: Path) -> Path:
    data = yaml.safe_load((ACME / "plan.yaml").read_text(encoding="utf-8"))
    for curve in data["response_curves"]:
        curve.pop("params")
        curve["fit"] = "history"
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_curves_fitted_from_history_give_intervals_and_direction_checks(fitted_plan: Path) -> None:
    result = run("optimise", str(fitted_plan), *HISTORY, "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    intervals = [p["change_interval"] for p in document["predicted"] if "change_interval" in p]
    assert intervals
    assert all(i["low"] <= i["estimate"] <= i["high"] and i["level"] == 0.9 for i in intervals)
    assert any(a["direction_agreement"] is not None for a in document["allocations"])


def test_fitted_curves_need_history(fitted_plan: Path) -> None:
    result = run("optimise", str(fitted_plan))
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_fit_writes_a_valid_plan_back(tmp_path: Path) -> None:
    out = tmp_path / "fitted.yaml"
    result = run("fit", str(ACME / "plan.yaml"), *HISTORY, "--write", str(out), "--format", "json")
    assert result.exit_code == 0, result.output
    fits = json.loads(result.output)["fits"]
    assert len(fits) == len(plan_from_yaml(ACME / "plan.yaml").response_curves)
    assert all(0 <= f["r_squared"] <= 1 for f in fits)
    assert all(c.params is not None for c in plan_from_yaml(out).response_curves)


def test_fit_with_only_one_kind_of_history_is_bad_input() -> None:
    result = run("fit", str(ACME / "plan.yaml"), "--history", str(ACME / "history-kpis.csv"))
    assert result.exit_code == 2
    assert "the history has no allocations" in result.output


def test_infeasible_minimums_name_the_constraint(tmp_path: Path) -> None:
    data = yaml.safe_load((ACME / "plan.yaml").read_text(encoding="utf-8"))
    headcount = next(r for r in data["resources"] if r["id"] == "headcount")
    headcount["minimum"] = {"sales": headcount["allocation"]["sales"] * 2}
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = run("optimise", str(path))
    assert result.exit_code == 2
    assert "headcount" in result.output and "sales" in result.output and "minimum" in result.output


def test_one_history_file_may_hold_both_kinds_of_rows(tmp_path: Path) -> None:
    results = (ACME / "history-kpis.csv").read_text(encoding="utf-8").splitlines()
    amounts = (ACME / "history-allocations.csv").read_text(encoding="utf-8").splitlines()
    lines = ["period,scope,kpi,actual,department,resource,amount"]
    lines += [f"{row},," + "," for row in results[1:]]
    lines += [f"{p},,,,{d},{r},{a}" for p, d, r, a in (row.split(",") for row in amounts[1:])]
    combined = tmp_path / "history.csv"
    combined.write_text("\n".join(lines) + "\n", encoding="utf-8")
    separate = json.loads(run("fit", str(ACME / "plan.yaml"), *HISTORY, "--format", "json").output)
    together = run("fit", str(ACME / "plan.yaml"), "--history", str(combined), "--format", "json")
    assert together.exit_code == 0, together.output
    assert json.loads(together.output) == separate


def test_a_history_row_of_neither_kind_is_named(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    path.write_text(
        "period,scope,kpi,actual,department,resource,amount\n2026-Q1,sales,,,,,\n", encoding="utf-8"
    )
    result = run("fit", str(ACME / "plan.yaml"), "--history", str(path))
    assert result.exit_code == 2
    assert "history.csv:row 2: a row needs a kpi" in result.output


def test_an_increment_shares_out_only_new_money_and_replays(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    result = run("optimise", str(ACME / "plan.yaml"), "--increment", "budget=10000000",
                 "--format", "json", "--db", db)  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    plan = plan_from_yaml(ACME / "plan.yaml")
    budget = plan.resource("budget")
    rows = [a for a in document["allocations"] if a["resource"] == "budget"]
    for row in rows:  # nobody gives anything up
        assert row["proposed"] >= budget.allocation[row["department"]] * (1 - 1e-12)
    added = sum(r["proposed"] for r in rows) - sum(budget.allocation.values())
    assert added == pytest.approx(10_000_000, rel=1e-9)
    others = [a for a in document["allocations"] if a["resource"] != "budget"]
    assert all(a["change"] == 0 for a in others)  # only the incremented resource moves
    with Store.open(db) as store:
        (summary,) = store.list_runs()
        assert store.get_run(summary.id).options["increments"] == {"budget": 10000000.0}
    replayed = run("runs", "replay", summary.id, "--db", db)
    assert replayed.exit_code == 0, replayed.output
    assert "identical" in replayed.output


@pytest.mark.parametrize(
    ("given", "says"),
    [
        (["--increment", "budget"], "is not RESOURCE=AMOUNT"),
        (["--increment", "budget=lots"], "is not RESOURCE=AMOUNT"),
        (["--increment", "budgt=5"], "did you mean 'budget'"),
        (["--increment", "budget=5", "--keep-total"], "give one of them"),
        (["--increment", "budget=-5"], "must be a number >= 0"),
    ],
)
def test_a_bad_increment_is_exit_2(given: list[str], says: str) -> None:
    result = run("optimise", str(ACME / "plan.yaml"), *given)
    assert result.exit_code == 2, result.output
    assert says in result.output


def test_a_target_gives_the_least_total_that_reaches_it_and_replays(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    result = run("optimise", str(ACME / "plan.yaml"), "--target", "shared.customer_satisfaction=86.5",
                 "--format", "json", "--db", db)  # fmt: skip
    assert result.exit_code == 0, result.output
    target = json.loads(result.output)["target"]
    assert target["resource"] == "budget" and target["direction"] == "at least"
    assert target["kpi_proposed"] == pytest.approx(86.5, rel=1e-9)
    assert target["total"] > target["total_today"]
    moved = [a for a in target["allocations"] if a["change"] != 0]
    assert [a["department"] for a in moved] == ["customer_service"]  # the curve's department
    with Store.open(db) as store:
        (summary,) = store.list_runs()
        assert store.get_run(summary.id).options["target"] == {
            "kpi": "shared.customer_satisfaction",
            "value": 86.5,
        }
    replayed = run("runs", "replay", summary.id, "--db", db)
    assert replayed.exit_code == 0 and "identical" in replayed.output, replayed.output
    table = run(
        "optimise", str(ACME / "plan.yaml"), "--target", "shared.customer_satisfaction=86.5"
    )
    assert "the least budget is" in table.output and "Least allocation" in table.output


@pytest.mark.parametrize(
    ("given", "says"),
    [
        (["--target", "sales.market_share"], "is not KPI=VALUE"),
        (["--target", "sales.market_share=0.208", "--increment", "budget=5"], "give one"),
        (["--target", "sales.market_share=0.5"], "reaches at most"),
        (["--target", "sales.nothing=1"], "not a KPI the optimiser predicts"),
        (["--target", "finance.roi=1"], "no response curve moves"),
    ],
)
def test_a_bad_target_is_exit_2(given: list[str], says: str) -> None:
    result = run("optimise", str(ACME / "plan.yaml"), *given)
    assert result.exit_code == 2, result.output
    assert says in result.output


def test_the_frontier_rises_is_charted_and_replays(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    db = f"sqlite:///{tmp_path / 'runs.db'}"
    chart = tmp_path / "frontier.svg"
    result = run("optimise", str(ACME / "plan.yaml"), "--frontier", "budget", "--frontier-points",
                 "5", "--chart", str(chart), "--format", "json", "--db", db)  # fmt: skip
    assert result.exit_code == 0, result.output
    frontier = json.loads(result.output)["frontier"]
    totals = [p["total"] for p in frontier["points"]]
    assert totals == sorted(totals) and frontier["total_today"] in totals
    values = [p["objective"] for p in frontier["points"]]
    assert all(b >= a - 1e-12 for a, b in itertools.pairwise(values))
    root = ET.fromstring(chart.read_text(encoding="utf-8"))
    tags = [element.tag.split("}")[-1] for element in root.iter()]
    assert tags.count("circle") == len(values) and "polyline" in tags
    with Store.open(db) as store:
        (summary,) = store.list_runs()
    replayed = run("runs", "replay", summary.id, "--db", db)
    assert replayed.exit_code == 0 and "identical" in replayed.output, replayed.output


@pytest.mark.parametrize(
    ("given", "says"),
    [
        (["--chart", "x.svg"], "give --frontier"),
        (["--frontier", "budget", "--keep-total"], "give one"),
        (["--frontier", "nothing"], "not a resource"),
    ],
)
def test_a_bad_frontier_is_exit_2(given: list[str], says: str) -> None:
    result = run("optimise", str(ACME / "plan.yaml"), *given)
    assert result.exit_code == 2, result.output
    assert says in result.output


def test_predicted_kpi_values_read_as_decimals_without_float_noise(tmp_path: Path) -> None:
    """0.88, not 0.8800000000000001 (a new user's report): computed values are shown to 12
    significant digits, as scoring shows them."""
    result = run(
        "optimise", str(ACME / "plan.yaml"), "--format", "json", "--db",
        f"sqlite:///{tmp_path / 'runs.db'}",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    predicted = json.loads(result.output)["predicted"]
    numbers = [
        p[key]
        for p in predicted
        for key in ("current", "proposed", "score_current", "score_proposed")
        if p[key] is not None
    ]
    assert numbers
    assert all(float(f"{v:.12g}") == v for v in numbers), [
        v for v in numbers if float(f"{v:.12g}") != v
    ]
