"""``alignment-engine policy``: designing incentive policies (``policy test``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from alignment_engine.cli.options import format_option

__all__ = ["COMMANDS"]


@click.group(name="policy")
def policy_group() -> None:
    """Designing incentive policies: test what a policy pays."""


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
            click.echo(f"{'ok  ' if case.passed else 'FAIL'} {case.location}  {case.name}")
            for failure in case.failures:
                click.echo(
                    f"     {failure['what']}: expected {failure['expected']}, "
                    f"found {failure['found']}"
                )
            if case.diff:
                click.echo("     diff (expected -> found):")
                for line in case.diff.splitlines():
                    click.echo(f"       {line}")
        for coverage in report.coverage:
            click.echo(coverage.line())
        summary = report.to_dict()["summary"]
        click.echo(f"{summary['passed']} of {summary['cases']} cases passed")
    if not report.passed:
        sys.exit(1)


COMMANDS = [policy_group]
