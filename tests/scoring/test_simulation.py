"""``policy simulate``: every draw costs what ``score`` pays for its results (before the pool),
cent for cent and department by department, with the gates and tables decided on arrays of
draws agreeing with the rule engine's decisions; the same seed repeats exactly; quantiles are
ordered; past periods are resampled whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alignment_engine import engine
from alignment_engine.errors import InputError
from alignment_engine.loading import plan_from_yaml, policy_from_yaml
from alignment_engine.model import Plan, Policy
from alignment_engine.scoring.actuals import check_actual_rows
from alignment_engine.scoring.catalogue import build_catalogue
from alignment_engine.scoring.distributions import check_distributions, draw_results
from alignment_engine.scoring.simulation import _centre, _planned_period
from alignment_engine.tables import ACTUALS, DISTRIBUTIONS, EMPLOYEES, read_table

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "scenarios" / "acme"

DISTRIBUTIONS_CSV = """\
kpi,distribution,mean,sd,low,mode,high
company.revenue,normal,250,20,,,
company.net_margin,normal,,0.012,0,,
sales.revenue_north,triangular,,,60,72,80
sales.revenue_south,lognormal,66,5,,,
sales.customer_retention,uniform,,,0.8,,0.95
customer_service.net_promoter_score,uniform,,,30,,50
customer_service.first_response_hours,normal,5,1.5,1,,
customer_service.first_contact_resolution,uniform,,,0.6,,0.85
customer_service.complaint_resolution_days,uniform,,,3,,9
production.lost_time_injury_rate,normal,0.8,0.25,0,,
quality.defect_rate,normal,0.013,0.002,0.005,,
shared.net_margin,normal,0.08,0.01,,,
"""


@pytest.fixture(scope="module")
def acme() -> dict[str, object]:
    return {
        "plan": plan_from_yaml(ACME / "plan.yaml"),
        "actuals": read_table(ACME / "actuals-2026-q3.csv", ACTUALS),
        "employees": read_table(ACME / "employees.csv", EMPLOYEES),
        "history": read_table(ACME / "history-kpis.csv", ACTUALS),
    }


def _distributions(tmp_path: Path, text: str = DISTRIBUTIONS_CSV) -> pd.DataFrame:
    path = tmp_path / "distributions.csv"
    path.write_text(text, encoding="utf-8")
    return read_table(path, DISTRIBUTIONS)


def _drawn(
    plan: Plan,
    policy: Policy,
    actuals: pd.DataFrame,
    distributions: pd.DataFrame,
    n: int,
    seed: int,
) -> np.ndarray:
    """The draws the simulation makes, rebuilt from its parts (to score them one by one)."""
    catalogue = build_catalogue(plan, policy)
    rows = check_actual_rows([actuals], plan, catalogue)
    specs = check_distributions(distributions, catalogue)
    centre = _centre(plan, catalogue, rows, _planned_period("2026-Q3", rows), specs)
    return draw_results(specs, centre, catalogue, n, seed)


def _scored(
    plan: Plan, policy: Policy, results: np.ndarray, employees: pd.DataFrame
) -> engine.ScoreResult:
    catalogue = build_catalogue(plan, policy)
    frame = pd.DataFrame(
        {
            "period": "2026-Q3",
            "scope": [e.scope for e in catalogue.entries],
            "kpi": [e.kpi.id for e in catalogue.entries],
            "actual": results,
        }
    )
    unpooled = policy.model_copy(update={"pool": None})
    return engine.score_period(plan, unpooled, frame, employees, "2026-Q3", accept_findings=True)


def _held_to_score(
    plan: Plan,
    policy: Policy,
    actuals: pd.DataFrame,
    employees: pd.DataFrame,
    tmp_path: Path,
    draws: int,
    seed: int,
) -> tuple[Any, np.ndarray, dict[str, set[object]]]:
    """Simulate, then score every eighth draw through `score`: each must cost, in total and per
    department, what `score` pays for it. Returns the simulation, the draws and the states each
    gate and table took in the scored draws."""
    distributions = _distributions(tmp_path)
    simulated = engine.simulate_policy(
        plan, policy, actuals, employees, period="2026-Q3", distributions=distributions,
        draws=draws, seed=seed,
    )  # fmt: skip
    drawn = _drawn(plan, policy, actuals, distributions, draws, seed)
    fired: dict[str, set[object]] = {}
    for number in range(0, draws, 8):
        result = _scored(plan, policy, drawn[number], employees)
        assert result.totals.payout_units == simulated.totals[number], number
        assert [d.payout_units for d in result.departments] == (
            simulated.department_totals[number].tolist()
        )
        for gate in result.gates:
            # a gate fires or not; a table matches one set of rows or another
            state = gate.triggered if gate.rows is None else gate.rows
            fired.setdefault(gate.gate_id, set()).add(state)
    return simulated, drawn, fired


@pytest.mark.parametrize(
    "policy_name", ["annual-bonus-2026", "collaboration-2026", "matrix-bonus-2026"]
)
def test_every_draw_costs_what_score_pays_for_its_results_to_the_cent(
    acme: dict[str, object], policy_name: str, tmp_path: Path
) -> None:
    plan, actuals, employees = acme["plan"], acme["actuals"], acme["employees"]
    assert isinstance(plan, Plan)
    assert isinstance(actuals, pd.DataFrame) and isinstance(employees, pd.DataFrame)
    policy = policy_from_yaml(ROOT / "policies" / f"{policy_name}.yaml")
    draws, seed = 120, 7
    simulated, drawn, fired = _held_to_score(
        plan, policy, actuals, employees, tmp_path, draws, seed
    )
    sample = range(0, draws, 8)
    sample_mean = np.mean([simulated.totals[n] for n in sample])
    scored_mean = np.mean(
        [_scored(plan, policy, drawn[n], employees).totals.payout_units for n in sample]
    )
    assert sample_mean == scored_mean
    # The draws move the gates and tables both ways, so the agreement covers their decisions.
    assert all(len(states) >= 2 for states in fired.values()), fired


def test_the_same_seed_repeats_exactly_and_another_seed_differs(
    acme: dict[str, object], tmp_path: Path
) -> None:
    policy = policy_from_yaml(ROOT / "policies" / "annual-bonus-2026.yaml")
    distributions = _distributions(tmp_path)

    def run(seed: int) -> dict[str, object]:
        return engine.simulate_policy(
            acme["plan"], policy, acme["actuals"], acme["employees"],  # type: ignore[arg-type]
            period="2026-Q3", distributions=distributions, draws=500, seed=seed,
        ).to_dict()  # fmt: skip

    assert run(11) == run(11)
    assert run(11)["total"] != run(12)["total"]


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**32), draws=st.integers(min_value=1, max_value=300)
)
def test_quantiles_are_ordered_and_the_pool_share_counts_the_draws_over_it(
    seed: int, draws: int
) -> None:
    plan = plan_from_yaml(ACME / "plan.yaml")
    policy = policy_from_yaml(ROOT / "policies" / "annual-bonus-2026.yaml")
    employees = read_table(ACME / "employees.csv", EMPLOYEES)
    history = read_table(ACME / "history-kpis.csv", ACTUALS)
    result = engine.simulate_policy(
        plan, policy, history, employees, period="2026-Q3", draws=draws, seed=seed
    )
    document = result.to_dict()
    total = document["total"]
    assert isinstance(total, dict)
    low, high = result.totals.min() / 100, result.totals.max() / 100
    assert low <= total["p10"] <= total["p50"] <= total["p90"] <= high
    assert low - 0.01 <= total["mean"] <= high + 0.01
    pool = round(float(policy.pool.amount) * 100) if policy.pool else 0
    assert total["p_over_pool"] == pytest.approx(float(np.mean(result.totals > pool)))
    departments = document["departments"]
    assert isinstance(departments, list)
    for row in departments:
        assert row["p10"] <= row["p50"] <= row["p90"]
    histogram = document["histogram"]
    assert isinstance(histogram, list)
    assert sum(b["draws"] for b in histogram) == draws


def test_past_periods_are_resampled_whole_each_costing_what_score_pays(
    acme: dict[str, object],
) -> None:
    plan, employees, history = acme["plan"], acme["employees"], acme["history"]
    assert isinstance(plan, Plan) and isinstance(history, pd.DataFrame)
    assert isinstance(employees, pd.DataFrame)
    policy = policy_from_yaml(ROOT / "policies" / "annual-bonus-2026.yaml")
    result = engine.simulate_policy(
        plan, policy, history, employees, period="2026-Q3", draws=2_000, seed=5
    )
    periods = dict(result.periods)
    assert len(periods) == 12
    # Every draw is one whole past period: its total is one of the periods' totals.
    assert set(result.totals.tolist()) <= set(periods.values())
    # A past period costs what `score` pays for that period's results to these employees.
    unpooled = policy.model_copy(update={"pool": None})
    rows = history[history["period"] == "2025-Q2"].assign(period="2026-Q3")
    scored = engine.score_period(plan, unpooled, rows, employees, "2026-Q3", accept_findings=True)
    assert scored.totals.payout_units == periods["2025-Q2"]


def test_bad_distribution_rows_are_all_named_with_their_row_and_column(tmp_path: Path) -> None:
    plan = plan_from_yaml(ACME / "plan.yaml")
    policy = policy_from_yaml(ROOT / "policies" / "annual-bonus-2026.yaml")
    employees = read_table(ACME / "employees.csv", EMPLOYEES)
    distributions = _distributions(
        tmp_path,
        "kpi,distribution,mean,sd,low,mode,high\n"
        "company.revenu,normal,250,20,,,\n"
        "company.net_margin,gaussian,,0.01,,,\n"
        "sales.revenue_north,triangular,,,60,90,80\n"
        "sales.revenue_south,uniform,,,,,70\n",
    )
    with pytest.raises(InputError) as raised:
        engine.simulate_policy(
            plan, policy, None, employees, period="2026-Q3", distributions=distributions
        )
    found = [(p.row, p.key, p.message, p.suggestion) for p in raised.value.problems]
    assert found == [
        (2, "kpi", "unknown KPI 'company.revenu'", "did you mean 'company.revenue'?"),
        (
            3,
            "distribution",
            "'gaussian' is not a distribution; expected one of: normal, lognormal, uniform, "
            "triangular, fixed",
            None,
        ),
        (4, "mode", "mode 90 is not between low 60 and high 80", None),
        (5, "low", "a uniform distribution needs low", None),
    ]


def test_nothing_to_draw_from_or_too_many_draws_is_refused() -> None:
    plan = plan_from_yaml(ACME / "plan.yaml")
    policy = policy_from_yaml(ROOT / "policies" / "annual-bonus-2026.yaml")
    employees = read_table(ACME / "employees.csv", EMPLOYEES)
    with pytest.raises(InputError, match="give past results"):
        engine.simulate_policy(plan, policy, None, employees, period="2026-Q3")
    history = read_table(ACME / "history-kpis.csv", ACTUALS)
    with pytest.raises(InputError, match="draws must be between 1 and 1,000,000"):
        engine.simulate_policy(plan, policy, history, employees, draws=0)
    with pytest.raises(InputError, match="reports no month"):
        engine.simulate_policy(plan, policy, history, employees, period="2026-09")


def test_money_limits_kpi_and_company_effects_cost_what_score_pays(
    acme: dict[str, object], tmp_path: Path
) -> None:
    plan, actuals, employees = acme["plan"], acme["actuals"], acme["employees"]
    assert isinstance(plan, Plan)
    assert isinstance(actuals, pd.DataFrame) and isinstance(employees, pd.DataFrame)
    base = policy_from_yaml(ROOT / "policies" / "annual-bonus-2026.yaml")
    document = base.model_dump(mode="json", exclude_none=True)
    document["caps"] = {
        "kpi": 1.8,
        "employee": 1.9,
        "employee_amount": 60_000,
        "components": {"department": 30_000},
    }
    document["minimum"] = {"employee_amount": 500, "components": {"company": 200}}
    document["gates"] = [
        *document["gates"],
        {
            "id": "revenue-kpi-gate",
            "when": {"kpi": "sales.revenue_north", "actual": {"lt": 70}},
            "effect": {"multiply": 0.5},
            "applies_to": "kpi:sales.revenue_north",
        },
        {
            "id": "company-gate",
            "when": {"scope": "company", "score": {"lt": 0.7}},
            "effect": {"cap": 0.6},
            "applies_to": "company",
        },
    ]
    document["tables"] = [
        {
            "id": "nps-kpi-table",
            "inputs": [{"kpi": "customer_service.net_promoter_score"}],
            "hit": "first",
            "effect": "multiply",
            "applies_to": "kpi:customer_service.net_promoter_score",
            "rules": [{"when": [">= 1.2"], "then": 1.1}, {"when": ["-"], "then": 1.0}],
        }
    ]
    policy = Policy.model_validate(document)
    _simulated, _drawn_results, fired = _held_to_score(
        plan, policy, actuals, employees, tmp_path, draws=80, seed=3
    )
    assert all(len(states) >= 2 for states in fired.values()), fired


def test_department_totals_add_up_when_only_some_departments_have_employees(
    acme: dict[str, object], tmp_path: Path
) -> None:
    """Simulating one department's staff: its total is the draw's total (the last department
    with employees lost its last employee when later ones had none)."""
    plan, actuals, employees = acme["plan"], acme["actuals"], acme["employees"]
    assert isinstance(plan, Plan) and isinstance(employees, pd.DataFrame)
    assert isinstance(actuals, pd.DataFrame)
    policy = policy_from_yaml(ROOT / "policies" / "annual-bonus-2026.yaml")
    for only in ("sales", "production"):
        staff = employees[employees["department"] == only].copy()
        staff.attrs = dict(employees.attrs)
        result = engine.simulate_policy(
            plan, policy, actuals, staff, period="2026-Q3",
            distributions=_distributions(tmp_path), draws=40, seed=2,
        )  # fmt: skip
        assert (result.department_totals.sum(axis=1) == result.totals).all()
        position = [d.id for d in plan.departments].index(only)
        assert (result.department_totals[:, position] == result.totals).all()


def test_past_periods_the_policy_cannot_score_are_skipped_and_listed(
    acme: dict[str, object],
) -> None:
    """The example history starts in 2023-Q4 and ends in 2026-Q3: by the year, 2023 and 2026
    are incomplete, so the outcomes are 2024 and 2025."""
    policy = policy_from_yaml(ROOT / "policies" / "annual-bonus-2026.yaml")
    result = engine.simulate_policy(
        acme["plan"], policy, acme["history"], acme["employees"],  # type: ignore[arg-type]
        period="2026", draws=100,
    ).to_dict()  # fmt: skip
    assert [p["period"] for p in result["periods"]] == ["2024", "2025"]
    assert result["skipped_periods"] == ["2023", "2026"]


def test_a_policy_in_another_currency_is_refused_as_score_refuses_it(
    acme: dict[str, object],
) -> None:
    from alignment_engine.errors import PolicyError

    policy = policy_from_yaml(ROOT / "policies" / "annual-bonus-2026.yaml")
    dollars = policy.model_copy(update={"currency": "USD"})
    with pytest.raises(PolicyError, match="pays in USD but plan 'acme-2026' is in CNY"):
        engine.simulate_policy(
            acme["plan"], dollars, acme["history"], acme["employees"],  # type: ignore[arg-type]
            period="2026-Q3", draws=10,
        )  # fmt: skip
