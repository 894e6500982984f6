"""``alignment-engine policy``: designing incentive policies (``policy test``, ``policy
simulate``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from alignment_engine.cli.options import format_option
from alignment_engine.cli.storage import db_option, echo_result, open_store
from alignment_engine.i18n import _

__all__ = ["COMMANDS"]


@click.group(name="policy")
def policy_group() -> None:
    """Designing incentive policies: test what a policy pays, simulate what it costs."""


@policy_group.command(name="test")
@click.argument(
    "paths", metavar="PATH...", nargs=-1, required=True, type=click.Path(path_type=Path)
)
@format_option("text", "json", help="Human text, or JSON for tools.")
def policy_test(paths: tuple[Path, ...], output_format: str) -> None:
    """Run the policy tests (kind: policy-tests) in PATH... (files, or folders searched).

    Each case scores a period's results and employees under the policy, as `score` does, and
    compares KPI payout factors, department factors, the gates that fired and cent-exact
    payouts with what it expects; a failure prints what differs and a diff. The report ends
    with the coverage of each policy: the curve segments the cases reached, the gates that
    fired and the caps reached. Exits 0 when all pass, 1 when one fails, 2 on bad input.
    """
    from alignment_engine.policytests import run_policy_tests

    report = run_policy_tests(*paths)
    if output_format == "json":
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        for case in report.cases:
            click.echo(f"{_('ok  ') if case.passed else _('FAIL')} {case.location}  {case.name}")
            for failure in case.failures:
                click.echo(
                    "     "
                    + _("{what}: expected {expected}, found {found}").format(
                        what=failure["what"], expected=failure["expected"], found=failure["found"]
                    )
                )
            if case.diff:
                click.echo("     " + _("diff (expected -> found):"))
                for line in case.diff.splitlines():
                    click.echo(f"       {line}")
        for coverage in report.coverage:
            click.echo(coverage_line(coverage))
        summary = report.to_dict()["summary"]
        click.echo(
            _("{passed} of {cases} cases passed").format(
                passed=summary["passed"], cases=summary["cases"]
            )
        )
    if not report.passed:
        sys.exit(1)


def coverage_line(coverage: Any) -> str:
    """A policy's coverage line (as ``_Coverage.line()`` writes it) in the command's language:
    the curve segments reached, the gates fired, the caps and decision-table rows reached."""
    possible = sum(len(s) for s in coverage.segments.values())
    reached = sum(len(coverage.reached.get(n, set()) & s) for n, s in coverage.segments.items())
    caps = [name for name, hit in sorted(coverage.caps.items()) if hit]
    unfired = sorted(coverage.gates - coverage.fired)
    line = _(
        "coverage of {policy}: curve segments {reached}/{possible}, gates fired {fired}/{gates}"
    ).format(
        policy=coverage.policy,
        reached=reached,
        possible=possible,
        fired=len(coverage.fired & coverage.gates),
        gates=len(coverage.gates),
    )
    if unfired:
        line += _(" (never fired: {gates})").format(gates=", ".join(unfired))
    counts = {"reached": len(caps), "caps": len(coverage.caps)}
    if caps:
        line += _(", caps reached {reached}/{caps} ({names})").format(
            names=", ".join(caps), **counts
        )
    else:
        line += _(", caps reached {reached}/{caps}").format(**counts)
    if coverage.table_rows:
        line += _(", table rows matched {matched}/{total}").format(
            matched=sum(len(coverage.matched_rows.get(n, set())) for n in coverage.table_rows),
            total=sum(coverage.table_rows.values()),
        )
    return line


@policy_group.command(name="simulate")
@click.option("--plan", "plan_path", required=True, type=click.Path(path_type=Path),
              help="The plan YAML.")  # fmt: skip
@click.option("--policy", "policy_path", required=True, type=click.Path(path_type=Path),
              help="The incentive policy YAML.")  # fmt: skip
@click.option(
    "--history",
    "history_path",
    type=click.Path(path_type=Path),
    help="Past KPI results (period,scope,kpi,actual, as actuals): each past period is one "
    "equally likely outcome, resampled whole so the correlations between KPIs are kept.",
)
@click.option(
    "--actuals",
    "actuals_path",
    type=click.Path(path_type=Path),
    help="KPI results, read as --history; with --distributions, the results of --period the "
    "drawn KPIs vary around (the others are held there).",
)
@click.option(
    "--distributions",
    "distributions_path",
    type=click.Path(path_type=Path),
    help="KPI results drawn from distributions: kpi,distribution,mean,sd,low,mode,high "
    "(normal, lognormal, uniform, triangular, fixed); other KPIs stay at their result or "
    "target.",
)
@click.option(
    "--employees",
    "employees_path",
    required=True,
    type=click.Path(path_type=Path),
    help="The employees to pay, as `score` reads them.",
)
@click.option(
    "--period",
    help="The period the employees are paid for (it prorates them); default: the latest period "
    "of the results.",
)
@click.option("--draws", type=click.IntRange(1, 1_000_000), default=10_000, show_default=True,
              help="How many outcomes to draw.")  # fmt: skip
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="The random seed: the same seed and inputs give the same draws.")  # fmt: skip
@format_option("table", "json", help="Tables for people, or the JSON result for tools.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    help="Write simulation.json, departments.csv and report.html (histogram and "
    "pay-for-performance charts) here.",
)
@click.option(
    "--accept-findings",
    is_flag=True,
    help="Price the policy even though the plan has findings that make payouts wrong (weights "
    "not summing to 1, a missing target, levels out of order), as score --accept-findings pays; "
    "recorded in the run.",
)
@click.option("--force", is_flag=True, help="Store a new run even when an identical one exists.")
@db_option
def policy_simulate(
    plan_path: Path,
    policy_path: Path,
    history_path: Path | None,
    actuals_path: Path | None,
    distributions_path: Path | None,
    employees_path: Path,
    period: str | None,
    draws: int,
    seed: int,
    output_format: str,
    out_dir: Path | None,
    accept_findings: bool,
    force: bool,
    db_url: str | None,
) -> None:
    """A Monte Carlo of what a policy costs: total and per-department payouts before the pool
    (mean, p10, p50, p90), how often the total exceeds the pool, and pay for performance.

    Each draw is paid as `score` pays it, cent for cent. Outcomes are past periods of
    --history (or --actuals) resampled whole, or KPI results drawn from --distributions. The
    run is stored with its inputs and seed (`runs replay` draws the same outcomes again).
    """
    from alignment_engine.errors import InputError
    from alignment_engine.loading import plan_from_yaml, policy_from_yaml
    from alignment_engine.outputs import ensure_writable
    from alignment_engine.pipeline import SimulateRun
    from alignment_engine.tables import ACTUALS, DISTRIBUTIONS, EMPLOYEES, read_table

    if history_path is not None and actuals_path is not None:
        raise InputError(
            "give --history or --actuals, not both", key="--actuals",
            suggestion="they are read the same way: past results, one outcome per period",
        )  # fmt: skip
    results_path = history_path or actuals_path
    if results_path is None and distributions_path is None:
        raise InputError(
            "nothing to draw outcomes from", key="--history",
            suggestion="give --history F (past periods) or --distributions F",
        )  # fmt: skip
    if out_dir is not None:
        ensure_writable(out_dir)
    plan = plan_from_yaml(plan_path)
    policy = policy_from_yaml(policy_path)
    results = None if results_path is None else read_table(results_path, ACTUALS)
    distributions = (
        None if distributions_path is None else read_table(distributions_path, DISTRIBUTIONS)
    )
    employees = read_table(employees_path, EMPLOYEES)
    run = SimulateRun(
        plan, policy, results, employees, period=period, distributions=distributions,
        draws=draws, seed=seed, accept_findings=accept_findings,
    )  # fmt: skip
    with open_store(db_url) as store:
        stored = store.record_or_reuse(
            run.record(), lambda run_id: run.output(run.compute(), run_id), force=force
        )
    document = json.loads(stored.result_json)
    if out_dir is not None:
        _write_simulation(out_dir, stored.result_json, document)
    if output_format == "json":
        echo_result(stored.result_json)
    else:
        _print_simulation(document)
        if out_dir is not None:
            click.echo(
                _("outputs written to {folder}/ (report: {report})").format(
                    folder=out_dir, report=out_dir / "report.html"
                )
            )


def _write_simulation(out_dir: Path, result_json: str, document: dict[str, Any]) -> None:
    import pandas as pd

    from alignment_engine.outputs import text_writer, write_atomically, write_table
    from alignment_engine.reports.simulation import simulation_report

    departments = pd.DataFrame(
        document["departments"], columns=["department", "mean", "p10", "p50", "p90"]
    )
    write_atomically(
        out_dir,
        {
            "simulation.json": text_writer(result_json),
            "departments.csv": lambda path: write_table(departments, path, "csv"),
            "report.html": text_writer(simulation_report(document)),
        },
    )


def _print_simulation(document: dict[str, Any]) -> None:
    from rich.table import Table

    from alignment_engine.cli.console import make_console

    console = make_console()
    currency = document["currency"]
    source = (
        _("{count} past periods resampled whole").format(count=len(document["periods"]))
        if document["source"] == "history"
        else _("KPI results drawn from distributions")
    )
    console.print(
        _(
            "Cost of {policy} for {period} (run {run}): {draws} draws, {source}, seed {seed}; "
            "before the pool, in {currency}"
        ).format(
            policy=document["policy_id"],
            period=document["period"],
            run=document.get("run_id", "-"),
            draws=f"{document['draws']:,}",
            source=source,
            seed=document["seed"],
            currency=currency,
        )
    )
    total = document["total"]
    pool = document["pool"]
    over = total["p_over_pool"]
    summary = Table("", _("mean"), "p10", "p50", "p90", title=_("Total payouts"))
    summary.add_row(_("total"), *(f"{total[k]:,.2f}" for k in ("mean", "p10", "p50", "p90")))
    console.print(summary)
    console.print(
        _("target cost {amount}").format(amount=f"{document['target_total']:,.2f}")
        + "; "
        + (
            _("no pool")
            if pool is None
            else _("pool {amount}, exceeded in {share} of draws").format(
                amount=f"{pool:,.2f}", share=f"{over:.1%}"
            )
        )
    )
    if document.get("skipped_periods"):
        console.print(
            _("past periods the policy cannot score, left out: {periods}").format(
                periods=", ".join(document["skipped_periods"])
            )
        )
    departments = Table(_("department"), _("mean"), "p10", "p50", "p90", title=_("By department"))
    for row in document["departments"]:
        departments.add_row(
            row["department"], *(f"{row[k]:,.2f}" for k in ("mean", "p10", "p50", "p90"))
        )
    console.print(departments)
    curve = Table(
        _(document["performance_measure"]), _("draws"), _("mean total"), _("of target"),
        title=_("Pay for performance"),
    )  # fmt: skip
    for point in document["pay_for_performance"]:
        curve.add_row(
            f"{point['performance_low']:.3f} - {point['performance_high']:.3f}",
            f"{point['draws']:,}",
            f"{point['mean_total']:,.2f}",
            f"{point['share_of_target']:.1%}",
        )
    console.print(curve)


COMMANDS = [policy_group]
