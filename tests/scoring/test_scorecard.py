"""The Balanced Scorecard (SPEC "Balanced Scorecard"): the engine against SPEC's formulas
written out plainly (tests/scorecard_oracle.py), edge cases one by one, and invariants."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.scorecard_oracle import scorecard as oracle_scorecard
from tests.scorecard_oracle import scorecard_from_files

from alignment_engine.errors import InputError
from alignment_engine.loading import plan_from_yaml
from alignment_engine.model import Plan
from alignment_engine.scoring.periods import parse_period
from alignment_engine.scoring.scorecard import preceding_period, score_scorecard

ACME = Path(__file__).resolve().parents[2] / "scenarios" / "acme"


def _actuals(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["period", "scope", "kpi", "actual"])


def _same(engine: dict[str, Any], oracle: dict[str, Any]) -> None:
    """Every score agrees to 1e-9 and every status exactly."""

    def close(a: float | None, b: float | None, where: str) -> None:
        assert (a is None) == (b is None), where
        if a is not None and b is not None:
            assert math.isclose(a, b, rel_tol=0, abs_tol=1e-9), (where, a, b)

    close(engine["overall"]["score"], oracle["overall"]["score"], "overall")
    assert engine["overall"]["status"] == oracle["overall"]["status"]
    for kind, key in (("perspectives", "perspective"), ("objectives", "objective")):
        assert [e[key] for e in engine[kind]] == [o[key] for o in oracle[kind]]
        for e, o in zip(engine[kind], oracle[kind], strict=True):
            close(e["score"], o["score"], f"{kind} {e[key]}")
            assert e["status"] == o["status"], (kind, e[key], e["status"], o["status"])
    assert [(k["scope"], k["kpi"]) for k in engine["kpis"]] == [
        (k["scope"], k["kpi"]) for k in oracle["kpis"]
    ]
    for e, o in zip(engine["kpis"], oracle["kpis"], strict=True):
        close(e["score"], o["score"], e["kpi"])
        assert e["status"] == o["status"], (e["kpi"], e["status"], o["status"])
    objectives = {o["objective"]: o["kpis"] for o in oracle["objectives"]}
    assert {o["objective"]: o["kpis"] for o in engine["objectives"]} == objectives


def _engine(plan: Plan, actuals: pd.DataFrame, period: str, **options: Any) -> dict[str, Any]:
    return score_scorecard(plan, [actuals], period, **options).to_dict()


@pytest.mark.parametrize("period", ["2026-Q3", "2026-07", "2026-09"])
@pytest.mark.parametrize("department", [None, "sales", "finance"])
def test_the_example_company_agrees_with_the_formulas(period: str, department: str | None) -> None:
    plan = plan_from_yaml(ACME / "plan.yaml")
    actuals = pd.read_csv(ACME / "actuals-2026-q3.csv", dtype=str, keep_default_na=False)
    engine = _engine(plan, actuals, period, department=department)
    oracle = scorecard_from_files(
        ACME / "plan.yaml", ACME / "actuals-2026-q3.csv", period, department
    )
    _same(engine, oracle)


def test_the_example_company_quarter_pinned() -> None:
    plan = plan_from_yaml(ACME / "plan.yaml")
    actuals = pd.read_csv(ACME / "actuals-2026-q3.csv", dtype=str, keep_default_na=False)
    card = _engine(plan, actuals, "2026-Q3")
    assert card["overall"] == {"score": 0.932997102714, "status": "amber"}
    assert [(p["perspective"], p["status"]) for p in card["perspectives"]] == [
        ("financial", "amber"),
        ("customer", "amber"),
        ("internal_process", "amber"),
        ("learning_growth", "red"),
    ]
    cash = next(k for k in card["kpis"] if k["kpi"] == "company.operating_cash_flow")
    # From July, August and September, summed (the metric's aggregation).
    assert cash == {
        "scope": "company",
        "kpi": "company.operating_cash_flow",
        "actual": 25.5,
        "target": 30.0,
        "attainment": 0.85,
        "score": 0.85,
        "status": "amber",
    }


def test_the_example_company_month_pinned() -> None:
    plan = plan_from_yaml(ACME / "plan.yaml")
    actuals = pd.read_csv(ACME / "actuals-2026-q3.csv", dtype=str, keep_default_na=False)
    card = _engine(plan, actuals, "2026-07")
    assert card["overall"] == {"score": 0.882922530445, "status": "red"}
    assert [
        (o["objective"], o["status"]) for o in card["objectives"] if o["score"] is not None
    ] == [
        ("F3", "red"),
        ("C2", "green"),
        ("P1", "amber"),
        ("P2", "amber"),
        ("L2", "red"),
    ]
    # Only the monthly rows count: the quarter's own rows are not July's.
    assert sum(1 for k in card["kpis"] if k["status"] == "no-data") == 30


def test_a_month_leaves_long_horizon_objectives_not_due() -> None:
    plan = plan_from_yaml(ACME / "plan.yaml")
    actuals = pd.read_csv(ACME / "actuals-2026-q3.csv", dtype=str, keep_default_na=False)
    card = _engine(plan, actuals, "2026-07")
    horizons = {o.id: o.horizon.value for o in plan.objectives}
    for objective in card["objectives"]:
        if horizons[objective["objective"]] == "long":
            assert objective["status"] == "not-due" and objective["score"] is None
        else:
            assert objective["status"] != "not-due"


def _plan(**changes: Any) -> Plan:
    data: dict[str, Any] = {
        "kind": "plan",
        "id": "p",
        "objectives": [
            {"id": "F1", "perspective": "financial", "horizon": "short"},
            {"id": "C1", "perspective": "customer", "horizon": "long"},
            {"id": "L1", "perspective": "learning_growth"},
        ],
        "metrics": [
            {"id": "revenue"},
            {"id": "defects", "better": "lower"},
            {"id": "temperature"},
        ],
        "company_kpis": [{"id": "co.revenue", "metric": "revenue", "target": 100, "weight": 1}],
        "departments": [
            {
                "id": "ops",
                "kpis": [
                    {
                        "id": "ops.defects",
                        "metric": "defects",
                        "target": 10,
                        "threshold": 12,
                        "weight": 0.5,
                        "objectives": {"F1": 1.0},
                    },
                    {
                        "id": "ops.temperature",
                        "metric": "temperature",
                        "direction": "maintain",
                        "target": 20,
                        "threshold": 18,
                        "maximum": 22,
                        "weight": 0.5,
                        "objectives": {"C1": 2.0, "F1": 1.0},
                    },
                ],
            },
            {"id": "ops_north", "parent": "ops", "kpis": []},
        ],
        "shared_goals": [
            {
                "id": "shared.revenue",
                "metric": "revenue",
                "target": 200,
                "departments": ["ops_north"],
                "objectives": {"C1": 1.0},
            }
        ],
    }
    data.update(changes)
    return Plan.model_validate(data)


def _kpi(card: dict[str, Any], kpi: str) -> dict[str, Any]:
    return next(k for k in card["kpis"] if k["kpi"] == kpi)


@pytest.mark.parametrize(
    ("actual", "score", "status"),
    [(0.0, 1.2, "green"), (-3.0, 1.2, "green"), (11.0, 10 / 11, "amber"), (13.0, 10 / 13, "red")],
)
def test_a_lower_is_better_kpi(actual: float, score: float, status: str) -> None:
    card = _engine(_plan(), _actuals([("2026-Q3", "ops", "ops.defects", actual)]), "2026-Q3")
    found = _kpi(card, "ops.defects")
    assert math.isclose(found["score"], score, abs_tol=1e-9) and found["status"] == status


@pytest.mark.parametrize(
    ("actual", "attainment", "status"),
    [(20.0, 1.0, "green"), (18.0, 1.0, "green"), (17.0, 17 / 18, "amber"), (30.0, 22 / 30, "red")],
)
def test_a_maintain_kpi_scores_its_band(actual: float, attainment: float, status: str) -> None:
    rows = [("2026-Q3", "ops", "ops.temperature", actual)]
    found = _kpi(_engine(_plan(), _actuals(rows), "2026-Q3"), "ops.temperature")
    assert math.isclose(found["attainment"], attainment, abs_tol=1e-9)
    assert found["status"] == status


def test_missing_actuals_and_empty_objectives_are_no_data() -> None:
    card = _engine(_plan(), _actuals([("2026-Q3", "company", "co.revenue", 90.0)]), "2026-Q3")
    assert _kpi(card, "ops.defects")["status"] == "no-data"
    assert _kpi(card, "shared.revenue") == {
        "scope": "shared.revenue",
        "kpi": "shared.revenue",
        "actual": None,
        "target": 200.0,
        "attainment": None,
        "score": None,
        "status": "no-data",
    }
    objectives = {o["objective"]: o for o in card["objectives"]}
    assert objectives["L1"]["status"] == "no-data" and objectives["L1"]["kpis"] == []
    assert objectives["F1"]["status"] == "no-data"  # its KPIs have no results
    # company.revenue serves no objective: no perspective is scored.
    assert card["overall"] == {"score": None, "status": "no-data"}
    assert [p["status"] for p in card["perspectives"]] == ["no-data"] * 4


def test_a_zero_or_negative_target_is_no_data() -> None:
    plan = _plan(company_kpis=[{"id": "co.revenue", "metric": "revenue", "target": 0}])
    card = _engine(plan, _actuals([("2026-Q3", "company", "co.revenue", 5.0)]), "2026-Q3")
    assert _kpi(card, "co.revenue")["status"] == "no-data"


def test_a_department_covers_its_subtree_and_its_shared_goals() -> None:
    rows = [
        ("2026-Q3", "company", "co.revenue", 90.0),
        ("2026-Q3", "ops", "ops.defects", 10.0),
        ("2026-Q3", "shared.revenue", "shared.revenue", 100.0),
    ]
    card = _engine(_plan(), _actuals(rows), "2026-Q3", department="ops")
    assert [k["kpi"] for k in card["kpis"]] == ["ops.defects", "ops.temperature", "shared.revenue"]
    north = _engine(_plan(), _actuals(rows), "2026-Q3", department="ops_north")
    assert [k["kpi"] for k in north["kpis"]] == ["shared.revenue"]


def test_an_unknown_department_or_period_is_named() -> None:
    rows = _actuals([("2026-Q3", "company", "co.revenue", 90.0)])
    with pytest.raises(InputError, match="unknown department 'opz'") as caught:
        _engine(_plan(), rows, "2026-Q3", department="opz")
    assert caught.value.suggestion is not None and "ops" in caught.value.suggestion
    with pytest.raises(InputError, match="period"):
        _engine(_plan(), rows, "2026-Q5")


def test_perspective_weights_and_the_trend() -> None:
    plan = _plan(scorecard={"perspective_weights": {"financial": 3, "customer": 1}})
    rows = _actuals(
        [("2026-Q3", "ops", "ops.defects", 10.0), ("2026-Q3", "ops", "ops.temperature", 25.0)]
    )
    card = score_scorecard(plan, [rows], "2026-Q3", previous={"overall": 0.5, "kpi:ops.defects": 1})
    document = card.to_dict()
    financial, customer = document["perspectives"][0]["score"], document["perspectives"][1]["score"]
    assert math.isclose(document["overall"]["score"], (3 * financial + customer) / 4, abs_tol=1e-9)
    assert document["overall"]["previous"] == 0.5
    assert math.isclose(document["overall"]["change"], document["overall"]["score"] - 0.5)
    assert _kpi(document, "ops.defects")["change"] == 0
    assert _kpi(document, "ops.temperature")["previous"] is None
    assert _kpi(document, "ops.temperature")["change"] is None


@pytest.mark.parametrize(
    ("period", "before"),
    [
        ("2026-Q3", "2026-Q2"),
        ("2026-Q1", "2025-Q4"),
        ("2026-07", "2026-06"),
        ("2026-01", "2025-12"),
    ],
)
def test_the_preceding_period(period: str, before: str) -> None:
    assert preceding_period(parse_period(period)).label == before


# -- invariants -------------------------------------------------------------------------------

_levels = st.floats(min_value=0.01, max_value=1e6, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(
    target=_levels,
    actuals=st.lists(
        st.floats(min_value=-1e6, max_value=1e7, allow_nan=False), min_size=2, max_size=6
    ),
    lower=st.booleans(),
    cap=st.floats(min_value=1.0, max_value=3.0),
)
def test_kpi_scores_are_monotone_and_bounded(
    target: float, actuals: list[float], lower: bool, cap: float
) -> None:
    plan = _plan(
        scorecard={"cap": cap},
        company_kpis=[
            {
                "id": "co.x",
                "metric": "defects" if lower else "revenue",
                "target": target,
                "objectives": {"F1": 1.0},
            }
        ],
    )
    ordered = sorted(set(actuals), reverse=lower)  # from worst to best
    scores = []
    for actual in ordered:
        card = _engine(plan, _actuals([("2026-Q3", "company", "co.x", actual)]), "2026-Q3")
        score = _kpi(card, "co.x")["score"]
        assert 0.0 <= score <= cap
        scores.append(score)
    assert all(b >= a - 1e-12 for a, b in itertools.pairwise(scores))


@settings(max_examples=40, deadline=None)
@given(
    shares=st.lists(st.floats(min_value=0.01, max_value=5.0), min_size=1, max_size=5),
    results=st.lists(st.floats(min_value=0.0, max_value=500.0), min_size=5, max_size=5),
    month=st.booleans(),
)
def test_roll_ups_agree_with_the_formulas(
    shares: list[float], results: list[float], month: bool
) -> None:
    kpis = [
        {
            "id": f"d.k{i}",
            "metric": "revenue",
            "target": 100,
            "objectives": {"F1": share, "C1": 1.0} if i % 2 else {"F1": share},
        }
        for i, share in enumerate(shares)
    ]
    data = yaml.safe_load(_plan().model_dump_json())
    data["company_kpis"], data["shared_goals"] = [], []
    data["departments"] = [{"id": "d", "kpis": kpis}]
    plan = Plan.model_validate(data)
    period = "2026-07" if month else "2026-Q3"
    rows = _actuals([(period, "d", k["id"], results[i]) for i, k in enumerate(kpis)])
    engine = _engine(plan, rows, period)
    oracle = oracle_scorecard(data, {k["id"]: results[i] for i, k in enumerate(kpis)}, period)
    _same(engine, oracle)
    scored = [k["score"] for k in engine["kpis"] if k["score"] is not None]
    f1 = engine["objectives"][0]["score"]
    assert min(scored) - 1e-9 <= f1 <= max(scored) + 1e-9  # a weighted mean


def test_a_roll_up_on_the_amber_boundary_is_amber() -> None:
    """0.85 and 0.95 average to 0.8999999999999999 in binary floating point; rounded like
    attainment, the objective scores 0.9 and is amber, as a person adding them up finds."""
    kpis = [
        {"id": f"d.k{i}", "metric": "revenue", "target": 100, "objectives": {"F1": 1.0}}
        for i in range(2)
    ]
    plan = _plan(company_kpis=[], shared_goals=[], departments=[{"id": "d", "kpis": kpis}])
    rows = _actuals([("2026-Q3", "d", "d.k0", 85.0), ("2026-Q3", "d", "d.k1", 95.0)])
    objective = _engine(plan, rows, "2026-Q3")["objectives"][0]
    assert objective == {
        "objective": "F1",
        "perspective": "financial",
        "score": 0.9,
        "status": "amber",
        "kpis": ["d.k0", "d.k1"],
    }


def test_actuals_naming_an_unknown_kpi_are_a_located_error() -> None:
    rows = _actuals([("2026-Q3", "ops", "ops.defect", 10.0)])
    rows.attrs["source"], rows.attrs["row_offset"] = "actuals.csv", 2
    with pytest.raises(InputError) as caught:
        _engine(_plan(), rows, "2026-Q3")
    text = str(caught.value)
    assert "actuals.csv:row 2" in text and "ops.defect" in text and "ops.defects" in text
