"""Every invalid fixture is rejected with exactly the message a user sees."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from alignment_engine.cli import main
from alignment_engine.errors import InputError
from alignment_engine.loading import document_from_file
from alignment_engine.validation import validate_paths

INVALID = Path(__file__).parent / "data" / "invalid"

EXPECTED = {
    "bad-sign.yaml": "bad-sign.yaml:9:11: not valid YAML: sequence entries are not allowed here "
    "(a lone '-' starts a list; quote it, e.g. sign: \"-\")",
    "duplicate-key.yaml": "duplicate-key.yaml:6:5: metrics.0.unit: duplicate key 'unit' "
    "(first at line 5) (remove one of them)",
    "empty.yaml": "empty.yaml: file is empty (start with 'kind:' and 'id:')",
    "misspelt-key.yaml": "misspelt-key.yaml:13:9: departments[sales].kpis[sales.m].treshold: "
    "unknown key 'treshold' (did you mean 'threshold'?)",
    "not-utf8.yaml": "not-utf8.yaml:2:8: not UTF-8 text (byte 0xe9 at offset 18) "
    "(save the file as UTF-8)",
    "policy-bad-weights.yaml": "policy-bad-weights.yaml:3:1: components: component weights "
    "must sum to 1 (or 100), they sum to 0.7",
    "policy-unknown-curve.yaml": "policy-unknown-curve.yaml:7:14: kpi_curves.sales.revenue: "
    "unknown curve 'revnue' (did you mean 'revenue'?)",
    "unknown-department.yaml": "unknown-department.yaml:9:63: "
    "shared_goals[shared.m].departments[1]: unknown department 'finanse' "
    "(did you mean 'finance'?)",
    "unknown-enum.yaml": "unknown-enum.yaml:4:14: objectives[F1].perspective: 'finance' is not "
    "allowed here; expected 'financial', 'customer', 'internal_process' or 'learning_growth' "
    "(did you mean 'financial'?)",
    "wrong-kind.yaml": "wrong-kind.yaml:1:1: kind: unknown kind 'polcy' (did you mean 'policy'?)",
    "yaml-bomb.yaml": "yaml-bomb.yaml:3:16: aliases expand to more than 200,000 values "
    "(aliases nested inside aliases?) (write the values out instead of nesting aliases)",
    "parent-cycle.yaml": "parent-cycle.yaml:6:22: departments[commercial].parent: departments' "
    "parents form a cycle: commercial -> sales -> commercial (one department of the cycle must "
    "have no parent (or one outside it))",
    "unknown-parent.yaml": "unknown-parent.yaml:7:17: departments[sales].parent: unknown "
    "department 'comercial' (did you mean 'commercial'?)",
    "scorecard-amber.yaml": "scorecard-amber.yaml:7:3: scorecard.amber: Input should be less "
    "than 1",
    "scenario/missing-extends.yaml": "missing-extends.yaml:3:1: extends: file 'plann.yaml' does "
    "not exist (looked in {dir}) (did you mean 'plan.yaml'?)",
}


def test_every_invalid_fixture_has_a_pinned_message() -> None:
    fixtures = {str(p.relative_to(INVALID)) for p in INVALID.rglob("*.yaml")} - {
        "scenario/plan.yaml"
    }
    assert fixtures == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_invalid_file_message(name: str) -> None:
    path = INVALID / name
    report = validate_paths([path])
    assert not report.valid
    rendered = [p.render() for p in report.files[0].problems]
    expected = str(path.parent / EXPECTED[name].format(dir=path.parent))
    assert rendered == [expected]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cli_rejects_invalid_file_with_exit_2_and_no_traceback(name: str) -> None:
    result = CliRunner().invoke(main, ["validate", str(INVALID / name)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "invalid" in result.output


def test_misspelt_key_names_line_and_suggestion() -> None:
    with pytest.raises(InputError) as caught:
        document_from_file(INVALID / "misspelt-key.yaml")
    error = caught.value
    assert (error.line, error.column) == (13, 9)
    assert error.key == "departments[sales].kpis[sales.m].treshold"
    assert error.suggestion == "did you mean 'threshold'?"
    assert error.exit_code == 2
    assert error.status == 422


def test_wrong_kind_for_the_expected_document(data_dir: Path) -> None:
    from alignment_engine.loading import plan_from_yaml

    with pytest.raises(InputError, match="expected a plan file, found kind 'policy'"):
        plan_from_yaml(data_dir / "valid" / "minimal-policy.yaml")


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        document_from_file(tmp_path / "nope.yaml")


def test_several_problems_are_reported_together(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(
        "kind: plan\nid: p\nmetrics: [{id: m}]\nobjectives: [{id: F1, perspective: financial}]\n"
        "departments:\n  - id: d\n    kpis:\n      - {id: d.k, metric: mm, objectives: {F2: 1}}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        document_from_file(path)
    messages = [p.message for p in caught.value.problems]
    assert messages == ["unknown metric 'mm'", "unknown objective 'F2'"]
    assert caught.value.problems[0].suggestion == "did you mean 'm'?"


def test_cycle_through_aliases_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cycle.yaml"
    path.write_text("kind: plan\nid: p\nx: &a [1, *a]\n", encoding="utf-8")
    with pytest.raises(InputError, match="cycle"):
        document_from_file(path)


def test_several_documents_in_one_file(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    path.write_text("kind: plan\nid: a\n---\nkind: plan\nid: b\n", encoding="utf-8")
    with pytest.raises(InputError, match="several YAML documents"):
        document_from_file(path)


def test_validate_resolves_scenario_overrides(tmp_path: Path) -> None:
    (tmp_path / "plan.yaml").write_text(
        (Path(__file__).parent / "data" / "valid" / "minimal-plan.yaml").read_text(
            encoding="utf-8"
        ),
        encoding="utf-8",
    )
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "kind: scenario\nid: s\nextends: plan.yaml\nset:\n"
        '  - {path: "departments[sales].kpis[sales.market_shar].target", value: 0.3}\n',
        encoding="utf-8",
    )
    report = validate_paths([scenario])
    assert not report.valid
    problem = report.files[0].problems[0]
    assert problem.line == 5
    assert problem.suggestion == "did you mean 'sales.market_share'?"


def test_devices_and_pipes_are_refused_before_they_are_read(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "actuals.csv"
    os.mkfifo(fifo)
    for path in (Path("/dev/zero"), fifo):
        with pytest.raises(InputError) as caught:
            document_from_file(path)
        assert "is not a regular file (a device, pipe or socket)" in caught.value.message


def test_yaml_nested_beyond_what_libyaml_takes_is_a_clean_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("kind: plan\nid: x\nmetrics: " + "[" * 1000 + "]" * 1000 + "\n", "utf-8")
    with pytest.raises(InputError) as caught:
        document_from_file(path)
    assert "nested deeper than 64 levels" in caught.value.message


def test_a_pool_too_large_to_pay_exactly_is_refused_at_load(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "kind: policy\nid: p\ncomponents: {department: 1}\n"
        "curves: {default: {basis: levels, points: {threshold: 0.5, target: 1, maximum: 2}}}\n"
        "pool: {amount: 1e20}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        document_from_file(path)
    assert "pool.amount: a pool of 1e+20 cannot be paid exactly to 2 decimals" in str(caught.value)
