"""Reading scenarios: extends chains with relative paths, cycles, inheritance, sweeps, periods."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from alignment_engine.errors import ScenarioError
from alignment_engine.scenarios import (
    LocatedOverride,
    latest_period,
    plan_with_overrides,
    read_inputs,
    sweep_variants,
)

VALID = Path(__file__).resolve().parent / "data" / "valid"
ACTUALS = "period,scope,kpi,actual\n2026-Q3,sales,sales.market_share,0.24\n"


@pytest.fixture
def company(tmp_path: Path) -> Path:
    """base/plan.yaml, base/policy.yaml, data/forecast.csv; scenarios go in tmp_path/what-if."""
    (tmp_path / "base").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "what-if").mkdir()
    shutil.copy(VALID / "minimal-plan.yaml", tmp_path / "base" / "plan.yaml")
    shutil.copy(VALID / "minimal-policy.yaml", tmp_path / "base" / "policy.yaml")
    (tmp_path / "data" / "forecast.csv").write_text(ACTUALS, encoding="utf-8")
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_plan_reads_as_inputs_without_changes(company: Path) -> None:
    inputs = read_inputs(company / "base" / "plan.yaml")
    assert not inputs.is_scenario
    assert inputs.id == "tiny-2026"
    assert inputs.overrides == ()
    assert inputs.files == (str(company / "base" / "plan.yaml"),)
    assert [v.label for v in inputs.variants()] == ["tiny-2026"]


def test_a_chain_resolves_paths_relative_to_each_file(company: Path) -> None:
    write(
        company / "what-if" / "first.yaml",
        "kind: scenario\nid: first\nextends: ../base/plan.yaml\n"
        "policy: ../base/policy.yaml\nactuals: ../data/forecast.csv\n"
        "set:\n"
        "  - {path: 'departments[sales].kpis[sales.market_share].target', value: 0.26}\n"
        "  - {path: 'resources[budget].allocation.finance', value: 1100000}\n",
    )
    (company / "what-if" / "deeper").mkdir()
    second = write(
        company / "what-if" / "deeper" / "second.yaml",
        "kind: scenario\nid: second\nname: 第二 Second\nextends: ../first.yaml\nperiod: 2026-Q3\n"
        "set:\n  - {path: 'departments[sales].kpis[sales.market_share].target', value: 0.27}\n",
    )
    inputs = read_inputs(second)
    assert inputs.id == "second"
    assert inputs.name == "第二 Second"
    assert inputs.files == (
        str(second),
        str(company / "what-if" / "first.yaml"),
        str(company / "base" / "plan.yaml"),
    )
    # the policy and actuals come from the inner scenario, found beside it
    assert inputs.policy is not None and inputs.policy.id == "tiny-bonus"
    assert inputs.actuals is not None and len(inputs.actuals) == 1
    assert inputs.period == "2026-Q3"
    # inner changes first, outer ones after: the outer one wins
    assert [o.path for o in inputs.overrides] == [
        "departments[sales].kpis[sales.market_share].target",
        "resources[budget].allocation.finance",
        "departments[sales].kpis[sales.market_share].target",
    ]
    plan = plan_with_overrides(inputs.plan, inputs.overrides)
    assert plan.kpi("sales.market_share").target == 0.27
    assert plan.resource("budget").allocation["finance"] == 1_100_000
    # each override remembers where it was written
    assert inputs.overrides[2].file == str(second)
    assert inputs.overrides[2].line == 7


def test_an_outer_scenario_replaces_the_policy_and_sweep_it_extends(company: Path) -> None:
    shutil.copy(VALID / "minimal-policy.yaml", company / "what-if" / "other-policy.yaml")
    write(
        company / "base" / "inner.yaml",
        "kind: scenario\nid: inner\nextends: plan.yaml\npolicy: policy.yaml\n"
        "sweep: {path: 'departments[sales].kpis[sales.market_share].target', values: [0.2]}\n",
    )
    outer = write(
        company / "what-if" / "outer.yaml",
        "kind: scenario\nid: outer\nextends: ../base/inner.yaml\npolicy: other-policy.yaml\n"
        "sweep: {path: 'resources[budget].capacity', values: [4000000, 6000000]}\n",
    )
    inputs = read_inputs(outer)
    assert inputs.sweep is not None and inputs.sweep.path == "resources[budget].capacity"
    assert inputs.sweep.file == str(outer)
    assert inputs.sweep_values == (4_000_000, 6_000_000)
    variants = inputs.variants()
    assert [v.label for v in variants] == [
        "resources[budget].capacity=4000000",
        "resources[budget].capacity=6000000",
    ]
    assert all(v.swept for v in variants)


def test_a_cycle_is_refused_naming_the_files(company: Path) -> None:
    write(company / "what-if" / "a.yaml", "kind: scenario\nid: a\nextends: b.yaml\n")
    write(company / "what-if" / "b.yaml", "kind: scenario\nid: b\nextends: c.yaml\n")
    write(company / "what-if" / "c.yaml", "kind: scenario\nid: c\nextends: a.yaml\n")
    with pytest.raises(ScenarioError) as raised:
        read_inputs(company / "what-if" / "a.yaml")
    problem = raised.value.problems[0]
    assert "goes round in a circle" in problem.message
    for name in ("a.yaml", "b.yaml", "c.yaml"):
        assert name in problem.message
    assert problem.file is not None and problem.file.endswith("c.yaml")
    assert (problem.line, problem.key) == (3, "extends")


def test_a_scenario_extending_itself_is_a_cycle(company: Path) -> None:
    path = write(company / "what-if" / "self.yaml", "kind: scenario\nid: s\nextends: self.yaml\n")
    with pytest.raises(ScenarioError, match="circle"):
        read_inputs(path)


def test_a_missing_extends_file_suggests_a_sibling(company: Path) -> None:
    path = write(company / "base" / "typo.yaml", "kind: scenario\nid: t\nextends: plann.yaml\n")
    with pytest.raises(ScenarioError) as raised:
        read_inputs(path)
    problem = raised.value.problems[0]
    assert "file 'plann.yaml' does not exist" in problem.message
    assert problem.suggestion == "did you mean 'plan.yaml'?"
    assert (problem.line, problem.column, problem.key) == (3, 1, "extends")


def test_a_missing_policy_file_is_located(company: Path) -> None:
    path = write(
        company / "base" / "nopolicy.yaml",
        "kind: scenario\nid: t\nextends: plan.yaml\npolicy: polcy.yaml\n",
    )
    with pytest.raises(ScenarioError) as raised:
        read_inputs(path)
    assert raised.value.problems[0].key == "policy"
    assert raised.value.problems[0].suggestion == "did you mean 'policy.yaml'?"


def test_extending_a_policy_is_refused(company: Path) -> None:
    path = write(company / "base" / "bad.yaml", "kind: scenario\nid: t\nextends: policy.yaml\n")
    with pytest.raises(ScenarioError, match="is a policy file; a scenario extends a plan"):
        read_inputs(path)


def test_a_missing_start_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such file"):
        read_inputs(tmp_path / "nothing.yaml")


def test_an_invalid_scenario_file_is_an_input_error(company: Path) -> None:
    path = write(company / "base" / "bad.yaml", "kind: scenario\nid: t\nextend: plan.yaml\n")
    with pytest.raises(Exception, match="did you mean 'extends'") as raised:
        read_inputs(path)
    assert getattr(raised.value, "exit_code", None) == 2


def test_sweep_variants_apply_the_sweep_after_set() -> None:
    base = [LocatedOverride("a.b", 1)]
    sweep = LocatedOverride("a.c", None, "s.yaml", 9, 3)
    variants = sweep_variants("s", base, sweep, [0.05, 0.1, "15%"])
    assert [v.label for v in variants] == ["a.c=0.05", "a.c=0.1", "a.c=15%"]
    assert [v.value for v in variants] == [0.05, 0.1, "15%"]
    assert variants[1].overrides == (base[0], LocatedOverride("a.c", 0.1, "s.yaml", 9, 3))
    assert sweep_variants("s", base, None) == [sweep_variants("s", base, None)[0]]
    assert sweep_variants("s", base, None)[0].overrides == tuple(base)


def test_a_bad_sweep_path_is_located_at_the_sweep(company: Path) -> None:
    path = write(
        company / "base" / "sweep.yaml",
        "kind: scenario\nid: t\nextends: plan.yaml\n"
        "sweep: {path: 'departments[sale].kpis[sales.market_share].target', values: [1]}\n",
    )
    inputs = read_inputs(path)
    with pytest.raises(ScenarioError) as raised:
        plan_with_overrides(inputs.plan, inputs.variants()[0].overrides)
    assert raised.value.problems[0].line == 4
    assert "did you mean 'sales'" in str(raised.value)


@pytest.mark.parametrize(
    ("periods", "expected"),
    [
        (["2026-Q3", "2026-07", "2026-08", "2026-09"], "2026-Q3"),
        (["2026-07", "2026-08"], "2026-08"),
        (["2026-Q2", "2026-Q3"], "2026-Q3"),
        (["2026-Q4", "2026"], "2026"),
        (["2025-Q4", "2026-01"], "2026-01"),
    ],
)
def test_latest_period_is_the_longest_of_those_ending_last(
    periods: list[str], expected: str
) -> None:
    frame = pd.DataFrame({"period": periods})
    assert latest_period(frame) == expected


def test_latest_period_of_nothing_is_an_error() -> None:
    with pytest.raises(ScenarioError, match="no periods"):
        latest_period(pd.DataFrame({"period": []}))


@pytest.mark.parametrize(
    ("extends", "expected"),
    [
        ("/dev/zero", "'/dev/zero' is not a regular file"),
        ("/etc/passwd", "'/etc/passwd' is not a YAML document with a 'kind:'"),
    ],
)
def test_extends_naming_something_that_is_not_a_plan_says_what_it_is(
    tmp_path: Path, extends: str, expected: str
) -> None:
    from click.testing import CliRunner

    from alignment_engine.cli import main

    scenario = tmp_path / "s.yaml"
    scenario.write_text(f"kind: scenario\nid: s\nextends: {extends}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["scenario", "run", str(scenario)])
    assert result.exit_code == 2
    assert expected in result.output and "None" not in result.output
    assert "does not exist" not in result.output
