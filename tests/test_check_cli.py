"""``alignment-engine check`` and ``alignment-engine rules``: output, exit codes and stderr."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from alignment_engine.cli import main

ROOT = Path(__file__).resolve().parent.parent
ACME = ROOT / "scenarios" / "acme" / "plan.yaml"
POLICY = ROOT / "policies" / "annual-bonus-2026.yaml"
PLANTED = ROOT / "tests" / "data" / "checks" / "planted-plan.yaml"


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_table_lists_every_finding_with_its_suggestion() -> None:
    code, out, err = run("check", ACME, "--policy", POLICY)
    assert code == 0, err
    assert "Findings for plan 'acme-2026' with policy 'annual-bonus-2026'" in out
    for rule in (
        "cascade-gap",
        "incentive-misalignment",
        "opposing-targets",
        "trade-off",
        "resource-oversubscription",
    ):
        assert rule in out
    assert "-> Make the trade-off explicit" in out
    assert "6 findings (4 high, 2 medium)" in out


def test_json_is_the_spec_shape() -> None:
    code, out, _ = run("check", ACME, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"findings", "summary"}
    assert data["summary"]["total"] == len(data["findings"]) == 5
    assert set(data["findings"][0]) == {
        "rule",
        "kind",
        "severity",
        "departments",
        "kpis",
        "objectives",
        "resources",
        "message",
        "suggestion",
    }


@pytest.mark.parametrize(
    ("plan", "level", "code"),
    [
        (ACME, "high", 1),
        (ACME, "medium", 1),
        (ACME, "critical", 0),
        (PLANTED, "critical", 1),
    ],
)
def test_fail_on_exits_1_at_or_above_the_severity(plan: Path, level: str, code: int) -> None:
    exit_code, out, _ = run("check", plan, "--fail-on", level, "--format", "json")
    assert exit_code == code
    assert json.loads(out)["findings"]  # the findings are printed either way


def test_a_plan_without_problems_says_so(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        textwrap.dedent(
            """\
            kind: plan
            id: calm
            objectives: [{id: F1, perspective: financial}]
            metrics: [{id: revenue}]
            departments:
              - {id: sales, kpis: [{id: sales.revenue, metric: revenue, target: 1, objectives: [F1]}]}
            """
        ),
        encoding="utf-8",
    )
    code, out, _ = run("check", plan, "--fail-on", "low")
    assert code == 0
    assert "Findings for plan 'calm': none. The plan is aligned and free of conflicts." in out


def test_missing_plan_exits_2_with_a_message_and_no_traceback(tmp_path: Path) -> None:
    code, out, err = run("check", tmp_path / "nope.yaml")
    assert code == 2
    assert err == f"error: {tmp_path}/nope.yaml: no such file\n"
    assert "Traceback" not in out + err


def test_invalid_plan_exits_2_with_file_line_and_suggestion(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text("kind: plan\nid: x\nmetrics: [{id: m, beter: higher}]\n", encoding="utf-8")
    code, _, err = run("check", plan)
    assert code == 2
    assert "plan.yaml:3:" in err and "unknown key 'beter' (did you mean 'better'?)" in err


def test_invalid_user_rules_exit_2_naming_file_line_and_rule(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "mine.yaml").write_text(
        textwrap.dedent(
            """\
            kind: rules
            id: mine
            rules:
              - id: big-weights
                kind: alignment
                severity: low
                when:
                  - {fact: kpi, as: k, where: "wieght > 0.5"}
                finding: {message: "{k.id}"}
            """
        ),
        encoding="utf-8",
    )
    code, out, err = run("check", ACME, "--rules", rules)
    assert code == 2
    assert err == (
        f"error: {rules}/mine.yaml:8:28: rules[big-weights].when[0].where: 'wieght' is neither "
        "a field of 'kpi' nor a matched fact (did you mean 'weight'?)\n"
    )
    assert out == ""


def test_a_user_rule_reusing_a_shipped_id_is_refused(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(
        "kind: rules\nid: mine\nrules:\n  - id: trade-off\n    kind: conflict\n"
        "    severity: low\n    when: [{fact: kpi}]\n    finding: {message: x}\n",
        encoding="utf-8",
    )
    code, _, err = run("check", ACME, "--rules", tmp_path)
    assert code == 2
    assert "rule id 'trade-off' is already defined in" in err
    assert "give the rule another id" in err


def test_missing_rules_folder_and_wrong_kinds_exit_2(tmp_path: Path) -> None:
    code, _, err = run("check", ACME, "--rules", tmp_path / "absent")
    assert code == 2
    assert "no such file" in err
    (tmp_path / "plan.yaml").write_text(ACME.read_text(encoding="utf-8"), encoding="utf-8")
    code, _, err = run("check", ACME, "--rules", tmp_path)
    assert code == 2
    assert "expected rule packs (kind: rules)" in err


def test_bad_fail_on_value_is_a_usage_error() -> None:
    code, _, err = run("check", ACME, "--fail-on", "severe")
    assert code == 2
    assert "Invalid value for '--fail-on'" in err


def test_rules_test_passes_on_the_shipped_tests() -> None:
    code, out, _ = run("rules", "test", ROOT / "rules")
    assert code == 0
    assert out.splitlines()[-1].endswith("cases passed")
    assert "FAIL" not in out


def test_rules_test_failure_prints_a_readable_diff_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "wrong.yaml").write_text(
        textwrap.dedent(
            """\
            kind: rule-tests
            id: wrong
            cases:
              - name: expects the wrong KPI
                plan:
                  id: t
                  metrics: [{id: m}]
                  departments: [{id: d, kpis: [{id: d.a, metric: m}]}]
                expect:
                  - {rule: missing-target, kpis: [d.b]}
            """
        ),
        encoding="utf-8",
    )
    code, out, _ = run("rules", "test", tmp_path)
    assert code == 1
    assert f"FAIL {tmp_path}/wrong.yaml:4  expects the wrong KPI" in out
    assert "     expected but not found:" in out
    assert "       - {kpis: [d.b], rule: missing-target}" in out
    assert "     found but not expected:" in out
    assert "       - {kpis: [d.a], rule: missing-target}" in out
    assert "0 of 1 cases passed" in out


def test_rules_test_on_an_invalid_test_file_exits_2(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "kind: rule-tests\nid: bad\ncases:\n  - name: x\n    expect: []\n", encoding="utf-8"
    )
    code, _, err = run("rules", "test", tmp_path)
    assert code == 2
    assert "bad.yaml:4:5: cases[0]: a case gives exactly one of: plan, plan_file, facts" in err


def test_rules_list_shows_every_rule() -> None:
    code, out, _ = run("rules", "list", "--format", "json")
    assert code == 0
    rows = json.loads(out)["rules"]
    assert [r["id"] for r in rows][:2] == ["unlinked-kpi", "uncovered-objective"]
    assert len(rows) == 11 and all(r["kind"] != "derive" for r in rows)


def test_a_policy_for_another_plan_exits_2_naming_what_does_not_fit() -> None:
    code, out, err = run("check", PLANTED, "--policy", POLICY)
    assert code == 2
    assert out == ""
    assert err.startswith(
        "error: <policy annual-bonus-2026>: kpi_curves.company.revenue: plan 'northwind-2026' "
        "has no KPI 'company.revenue' (did you mean 'company.orders'?)\n"
    )


def _many_conflicts(tmp_path: Path, departments: int = 40) -> Path:
    import yaml

    plan = {
        "kind": "plan",
        "id": "many",
        "objectives": [{"id": "F1", "perspective": "financial"}],
        "metrics": [{"id": f"m{i}"} for i in range(departments)],
        "influences": [
            {"from": f"m{i}", "to": f"m{(i + 1) % departments}", "sign": "-"}
            for i in range(departments)
        ],
        "departments": [
            {
                "id": f"d{i:02d}",
                "kpis": [
                    {
                        "id": f"d{i:02d}.a",
                        "metric": f"m{i}",
                        "target": 1,
                        "weight": 0.5,
                        "objectives": ["F1"],
                    },
                    {
                        "id": f"d{i:02d}.b",
                        "metric": f"m{(i + 1) % departments}",
                        "target": 1,
                        "weight": 0.5,
                        "objectives": ["F1"],
                    },
                ],
            }
            for i in range(departments)
        ],
    }
    path = tmp_path / "many.yaml"
    path.write_text(yaml.safe_dump(plan), encoding="utf-8")
    return path


def test_a_long_table_shows_counts_per_rule_and_the_top_findings(tmp_path: Path) -> None:
    path = _many_conflicts(tmp_path)
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    code, out, _ = run("check", path, "--db", db)
    assert code == 0
    total = json.loads(run("check", path, "--format", "json", "--db", db)[1])["summary"]["total"]
    assert total > 25
    assert f"{total:,} findings by rule" in out
    assert "The 25 most severe and broadest findings" in out
    assert f"{total - 25:,} more not shown: --format json lists every finding" in out


def test_a_check_with_the_same_inputs_is_reused_from_the_store(tmp_path: Path) -> None:
    from alignment_engine.storage import Store

    path = _many_conflicts(tmp_path, 6)
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    first = run("check", path, "--format", "json", "--db", db)
    second = run("check", path, "--format", "json", "--db", db)
    assert first == second and first[0] == 0
    with Store.open(db) as store:
        assert len(store.list_runs(kind="check")) == 1


@pytest.mark.parametrize("columns", [80, 100])
def test_the_table_fits_a_narrow_terminal_without_cutting_text(
    monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    """``COLUMNS=80 alignment-engine check ... | less``: every line fits, and no id or word
    is cut to an ellipsis."""
    monkeypatch.setenv("COLUMNS", str(columns))
    code, out, err = run("check", ACME, "--policy", POLICY, "--format", "json")
    assert code == 0, err
    findings = json.loads(out)["findings"]
    code, out, err = run("check", ACME, "--policy", POLICY)
    assert code == 0, err
    assert max(len(line) for line in out.splitlines()) <= columns
    assert "…" not in out
    flowing = " ".join(out.replace("│", " ").split())
    for finding in findings:
        assert finding["rule"] in out
        for word in finding["message"].split():
            assert word in flowing or word.rstrip(",.;:") in out, word


@pytest.mark.parametrize("columns", [None, "", "wide", "-80"])
def test_a_pipe_without_usable_columns_gets_the_wide_table(
    monkeypatch: pytest.MonkeyPatch, columns: str | None
) -> None:
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    code, out, err = run("check", ACME, "--policy", POLICY)
    assert code == 0, err
    assert "┃ severity ┃ rule" in out


def test_a_decision_table_or_matrix_naming_an_unknown_kpi_exits_2(tmp_path: Path) -> None:
    policy = (ROOT / "policies" / "matrix-bonus-2026.yaml").read_text(encoding="utf-8")
    path = tmp_path / "policy.yaml"
    path.write_text(
        policy.replace("kpi: sales.customer_retention", "kpi: sales.customer_retension", 1),
        encoding="utf-8",
    )
    code, out, err = run("check", ACME, "--policy", path)
    assert code == 2 and out == ""
    assert "tables.1.inputs.0.kpi: plan 'acme-2026' has no KPI 'sales.customer_retension'" in err
    assert "did you mean 'sales.customer_retention'?" in err
    path.write_text(
        policy.replace("margin: company.net_margin}", "margin: company.net_margn}", 1),
        encoding="utf-8",
    )
    code, _out, err = run("check", ACME, "--policy", path)
    assert code == 2 and "has no KPI 'company.net_margn'" in err
