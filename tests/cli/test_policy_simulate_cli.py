"""``alignment-engine policy simulate`` from files: the JSON the docs promise, the run stored
and replayed byte for byte, the report with its charts, and bad input as exit 2."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from alignment_engine.cli import main

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "scenarios" / "acme"


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def _simulate(tmp_path: Path, *extra: str) -> Result:
    return _run(
        "policy", "simulate",
        "--plan", str(ACME / "plan.yaml"),
        "--policy", str(ROOT / "policies" / "annual-bonus-2026.yaml"),
        "--employees", str(ACME / "employees.csv"),
        "--db", f"sqlite:///{tmp_path / 'runs.db'}",
        *extra,
    )  # fmt: skip


def test_simulating_from_history_stores_a_run_that_replays_and_writes_a_report(
    tmp_path: Path,
) -> None:
    result = _simulate(
        tmp_path, "--history", str(ACME / "history-kpis.csv"), "--draws", "2000", "--seed", "4",
        "--format", "json", "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["period"] == "2026-Q3" and document["source"] == "history"
    assert set(document["total"]) == {"mean", "p10", "p50", "p90", "p_over_pool"}
    assert [d["department"] for d in document["departments"]][:2] == ["sales", "marketing"]
    assert len(document["periods"]) == 12 and document["draws"] == 2000
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert report.count('class="bin"') == len(document["histogram"])
    assert 'class="pool"' in report and 'class="pay"' in report
    assert (
        (tmp_path / "out" / "departments.csv")
        .read_text(encoding="utf-8")
        .startswith('"department","mean","p10","p50","p90"')
    )
    replay = _run("runs", "replay", document["run_id"], "--db", f"sqlite:///{tmp_path / 'runs.db'}")
    assert replay.exit_code == 0, replay.output
    assert "identical" in replay.output


def test_simulating_from_distributions_prints_the_tables(tmp_path: Path) -> None:
    distributions = tmp_path / "distributions.csv"
    distributions.write_text(
        "kpi,distribution,mean,sd,low,mode,high\n"
        "company.revenue,normal,250,20,,,\n"
        "company.net_margin,normal,,0.012,0,,\n",
        encoding="utf-8",
    )
    result = _simulate(
        tmp_path, "--actuals", str(ACME / "actuals-2026-q3.csv"), "--distributions",
        str(distributions), "--draws", "3000",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "3,000 draws, KPI results drawn from distributions, seed 0" in result.output
    assert "Total payouts" in result.output and "Pay for performance" in result.output
    assert "exceeded in" in result.output


def test_bad_input_is_exit_2_naming_the_file_and_row(tmp_path: Path) -> None:
    distributions = tmp_path / "distributions.csv"
    distributions.write_text(
        "kpi,distribution,mean,sd\ncompany.revenu,normal,250,20\n", encoding="utf-8"
    )
    result = _simulate(tmp_path, "--distributions", str(distributions), "--period", "2026-Q3")
    assert result.exit_code == 2, result.output
    assert "distributions.csv:row 2" in result.output
    assert "unknown KPI 'company.revenu'" in result.output
    both = _simulate(
        tmp_path, "--history", str(ACME / "history-kpis.csv"), "--actuals",
        str(ACME / "actuals-2026-q3.csv"),
    )  # fmt: skip
    assert both.exit_code == 2 and "not both" in both.output
    neither = _simulate(tmp_path)
    assert neither.exit_code == 2 and "nothing to draw outcomes from" in neither.output


def test_a_distribution_that_cannot_be_drawn_is_exit_2_at_its_row(tmp_path: Path) -> None:
    """A lognormal centred on a loss, a file without its distribution column, a negative seed:
    each names what to fix, none is a traceback."""
    centred = tmp_path / "distributions.csv"
    centred.write_text(
        "kpi,distribution,mean,sd\ncompany.net_margin,lognormal,,0.1\n", encoding="utf-8"
    )
    actuals = tmp_path / "actuals.csv"
    actuals.write_text(
        "period,scope,kpi,actual\n2026-Q3,company,company.net_margin,-0.02\n", encoding="utf-8"
    )
    result = _simulate(
        tmp_path, "--distributions", str(centred), "--actuals", str(actuals),
        "--period", "2026-Q3",
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "distributions.csv:row 2: column 'mean'" in result.output
    assert "centre (its result or target) is -0.02" in result.output
    no_column = tmp_path / "bare.csv"
    no_column.write_text("kpi,mean\ncompany.revenue,250\n", encoding="utf-8")
    missing = _simulate(tmp_path, "--distributions", str(no_column), "--period", "2026-Q3")
    assert missing.exit_code == 2 and "missing column 'distribution'" in missing.output
    negative = _simulate(tmp_path, "--history", str(ACME / "history-kpis.csv"), "--seed", "-1")
    assert negative.exit_code == 2 and "--seed" in negative.output


def test_a_plan_score_would_refuse_is_refused_unless_findings_are_accepted(
    tmp_path: Path,
) -> None:
    plan = (ACME / "plan.yaml").read_text(encoding="utf-8")
    broken = plan.replace(
        "weight: 0.15, objectives: {F1: 1.0}, horizon: long, rolls_up_to",
        "weight: 0.55, objectives: {F1: 1.0}, horizon: long, rolls_up_to",
        1,
    )
    assert broken != plan
    (tmp_path / "plan.yaml").write_text(broken, encoding="utf-8")
    arguments = [
        "policy", "simulate", "--plan", str(tmp_path / "plan.yaml"),
        "--policy", str(ROOT / "policies" / "annual-bonus-2026.yaml"),
        "--history", str(ACME / "history-kpis.csv"),
        "--employees", str(ACME / "employees.csv"),
        "--draws", "100", "--db", f"sqlite:///{tmp_path / 'runs.db'}",
    ]  # fmt: skip
    refused = _run(*arguments)
    assert refused.exit_code == 2 and "weights-not-normalised" in refused.output
    priced = _run(*arguments, "--accept-findings", "--format", "json")
    assert priced.exit_code == 0, priced.output
    replay = _run("runs", "replay", json.loads(priced.output)["run_id"], "--db",
                  f"sqlite:///{tmp_path / 'runs.db'}")  # fmt: skip
    assert replay.exit_code == 0 and "identical" in replay.output
