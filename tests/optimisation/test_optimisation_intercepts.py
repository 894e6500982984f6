"""Response curves that fall and start somewhere: a negative ``a`` (more staff, shorter waits),
an intercept ``c`` (the KPI's level at amount 0), fitted from history with ``intercept: true``;
a warning when a curve's level today is far from the KPI's baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alignment_engine.errors import InputError, OptimisationError
from alignment_engine.loading import model_from_data, plan_from_yaml, yaml_from_text
from alignment_engine.model import Plan
from alignment_engine.optimisation import Shape, fit_response_curve, suggest_reallocation
from alignment_engine.optimisation.from_plan import problem_from_plan

ACME = Path(__file__).resolve().parents[2] / "scenarios" / "acme"
PLAN = plan_from_yaml(ACME / "plan.yaml")


@settings(max_examples=40, deadline=None)
@given(
    c=st.floats(5, 100),
    share=st.floats(0.2, 0.8),
    b=st.floats(0.1, 0.5),
    noise=st.floats(0, 0.002),
    seed=st.integers(0, 1000),
)
def test_a_falling_curve_with_an_intercept_is_recovered(
    c: float, share: float, b: float, noise: float, seed: int
) -> None:
    """The KPI falls by ``share`` of its level over the history (a visible effect)."""
    rng = np.random.default_rng(seed)
    x = np.linspace(1, 30, 12)
    a = -share * c / (1 - np.exp(-b * x[-1]))
    y = c + a * (1 - np.exp(-b * x))
    y = y * (1 + noise * rng.standard_normal(x.size))
    fit = fit_response_curve(x, y, Shape.SATURATING, intercept=True)
    assert fit.a < 0  # it falls
    # a, b and c trade off against each other over a short history; the level and the
    # curve through the data are what is identified.
    assert fit.c == pytest.approx(c, rel=0.1)
    predicted = fit.c + fit.curve().value(x)
    assert np.allclose(predicted, y, rtol=0.01)


def test_a_straight_falling_line_with_an_intercept() -> None:
    x = np.array([10.0, 12, 15, 18, 20, 25])
    fit = fit_response_curve(x, 50 - 2 * x, Shape.LINEAR, intercept=True)
    assert fit.a == pytest.approx(-2, rel=1e-9) and fit.c == pytest.approx(50, rel=1e-9)
    # Through the origin (no intercept) a falling line from 50 cannot be fitted at all.
    with pytest.raises(OptimisationError, match="fits the history poorly"):
        fit_response_curve(x, 50 - 2 * x, Shape.LINEAR)


def _plan_with(curve_update: dict[str, Any], baseline: float | None) -> Plan:
    data = PLAN.model_dump(mode="json", exclude_none=True)
    for department in data["departments"]:
        for kpi in department["kpis"]:
            if kpi["id"] == "customer_service.first_contact_resolution":
                if baseline is None:
                    kpi.pop("baseline", None)
                else:
                    kpi["baseline"] = baseline
    for curve in data["response_curves"]:
        if curve["kpi"] == "customer_service.first_contact_resolution":
            curve.update(curve_update)
    return Plan.model_validate(data)


def test_an_intercept_sets_the_kpi_level_where_there_is_no_baseline() -> None:
    curve = next(
        c for c in PLAN.response_curves if c.kpi == "customer_service.first_contact_resolution"
    )
    assert curve.params is not None
    params = {**curve.params, "c": 0.5}
    plan = _plan_with({"params": params}, baseline=None)
    result = suggest_reallocation(problem_from_plan(plan))
    prediction = next(p for p in result.predicted if p.kpi == curve.kpi)
    today = plan.resource(curve.resource).allocation["customer_service"]
    level = 0.5 + params["a"] * np.log1p(params["b"] * today)
    assert prediction.current == pytest.approx(level, rel=1e-12)


def test_a_curve_far_from_the_baseline_is_warned_about() -> None:
    curve = next(
        c for c in PLAN.response_curves if c.kpi == "customer_service.first_contact_resolution"
    )
    assert curve.params is not None
    far = _plan_with({"params": {**curve.params, "c": 5.0}}, baseline=0.72)
    notes = suggest_reallocation(problem_from_plan(far)).notes
    assert any("customer_service.first_contact_resolution" in n and "baseline" in n for n in notes)
    near = _plan_with({"params": {**curve.params, "c": 0.72 - 0.336 * np.log1p(0.05 * 160)}}, 0.72)
    assert not any("predict" in n for n in suggest_reallocation(problem_from_plan(near)).notes)


def test_a_curve_param_other_than_c_is_still_refused(tmp_path: Path) -> None:
    text = (ACME / "plan.yaml").read_text(encoding="utf-8")
    bad = text.replace("params: {a: 0.336, b: 0.05}", "params: {a: 0.336, b: 0.05, d: 1}", 1)
    assert bad != text
    with pytest.raises(InputError, match=r"unknown \['d'\]"):
        model_from_data(Plan, yaml_from_text(bad, "plan.yaml"))
