"""Property: model -> YAML -> model gives the same model, for generated plans and policies."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from alignment_engine.loading import document_to_yaml, model_from_data, yaml_from_text
from alignment_engine.model import Plan, Policy

ids = st.text(alphabet="abcdefghij_销售财务", min_size=1, max_size=8)
finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False)
# Control characters and line separators are left out: YAML itself treats them as line breaks.
names = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=20)


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    metric_ids = draw(st.lists(ids, min_size=2, max_size=5, unique=True))
    objective_ids = draw(st.lists(ids.map(lambda s: "O" + s), min_size=1, max_size=4, unique=True))
    department_ids = draw(st.lists(ids.map(lambda s: "d" + s), min_size=1, max_size=4, unique=True))
    metrics = [
        {
            "id": m,
            "name": draw(names),
            "better": draw(st.sampled_from(["higher", "lower"])),
            "aggregation": draw(st.sampled_from(["sum", "mean", "last"])),
        }
        for m in metric_ids
    ]
    objectives = [
        {
            "id": o,
            "perspective": draw(
                st.sampled_from(["financial", "customer", "internal_process", "learning_growth"])
            ),
            "horizon": draw(st.sampled_from(["short", "long"])),
            "drives": draw(st.lists(st.sampled_from(objective_ids), max_size=2, unique=True)),
        }
        for o in objective_ids
    ]
    departments = []
    for d in department_ids:
        kpis = []
        for index in range(draw(st.integers(0, 3))):
            kpis.append(
                {
                    "id": f"{d}.k{index}",
                    "metric": draw(st.sampled_from(metric_ids)),
                    "target": draw(finite),
                    "threshold": draw(st.none() | finite),
                    "weight": draw(st.floats(0, 100, allow_nan=False)),
                    "objectives": draw(
                        st.dictionaries(st.sampled_from(objective_ids), positive, max_size=2)
                    ),
                    "horizon": draw(st.sampled_from(["short", "long"])),
                }
            )
        departments.append({"id": d, "name": draw(names), "kpis": kpis})
    influences = []
    if draw(st.booleans()):
        influences.append(
            {
                "from": metric_ids[0],
                "to": metric_ids[1],
                "sign": draw(st.sampled_from(["+", "-"])),
                "strength": draw(st.floats(0.01, 1.0)),
            }
        )
    resources = [
        {
            "id": "budget",
            "capacity": draw(positive),
            "allocation": {d: draw(positive) for d in department_ids},
            "max_change": draw(st.none() | st.floats(0, 1)),
            "integer": draw(st.booleans()),
        }
    ]
    return Plan.model_validate(
        {
            "id": draw(ids),
            "name": draw(names),
            "objectives": objectives,
            "metrics": metrics,
            "influences": influences,
            "departments": departments,
            "resources": resources,
        }
    )


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    weights = draw(
        st.lists(st.integers(0, 10), min_size=4, max_size=4).filter(lambda w: sum(w) > 0)
    )
    total = sum(weights)
    xs = sorted(draw(st.lists(st.floats(0.5, 1.5), min_size=2, max_size=5, unique=True)))
    ys = sorted(draw(st.lists(st.floats(0, 3), min_size=len(xs), max_size=len(xs))))
    return Policy.model_validate(
        {
            "id": draw(ids),
            "components": dict(
                zip(
                    ["company", "department", "shared", "individual"],
                    [w / total for w in weights],
                    strict=True,
                )
            ),
            "curves": {
                "default": {
                    "basis": "levels",
                    "points": {"threshold": 0.5, "target": 1, "maximum": 2},
                },
                "steep": {
                    "basis": "attainment",
                    "points": [[x, y] for x, y in zip(xs, ys, strict=True)],
                    "interpolation": draw(st.sampled_from(["linear", "step"])),
                },
            },
            "rounding": {
                "decimals": draw(st.integers(0, 4)),
                "mode": draw(st.sampled_from(["half_up", "half_even", "down"])),
            },
            "pool": {
                "amount": draw(positive),
                "mode": draw(st.sampled_from(["scale", "scale_down", "none"])),
            },
        }
    )


@settings(max_examples=100, deadline=None)
@given(plans())
def test_plan_round_trips_through_yaml(plan: Plan) -> None:
    text = document_to_yaml(plan)
    again = model_from_data(Plan, yaml_from_text(text, "generated.yaml"))
    assert again == plan


@settings(max_examples=100, deadline=None)
@given(policies())
def test_policy_round_trips_through_yaml(policy: Policy) -> None:
    text = document_to_yaml(policy)
    again = model_from_data(Policy, yaml_from_text(text, "generated.yaml"))
    assert again == policy
