"""The plan's findings as warnings beside a payroll run: they never stop it (only the findings
that make payouts wrong do, ``engine.score_period``), but the people paying should see them."""

from __future__ import annotations

import json
from typing import Any

import click

from alignment_engine import Finding
from alignment_engine.cli.words import value_word
from alignment_engine.i18n import _, current

__all__ = ["WARNINGS_SHOWN", "echo_plan_warnings"]

WARNINGS_SHOWN = 5
"""The most severe findings listed; the count names the rest and where they all are."""


def echo_plan_warnings(check_text: str | bytes, plan_path: str, policy_path: str) -> None:
    """Warn on stderr (stdout stays the result: a table for people, JSON for tools) of the
    findings of the plan's check, ``check_text`` as stored (most severe first)."""
    document = json.loads(check_text)
    findings: list[dict[str, Any]] = document.get("findings") or []
    if not findings:
        return
    summary = document["summary"]
    counts = ", ".join(
        f"{number:,} {value_word(severity)}"
        for severity, number in summary["by_severity"].items()
        if number
    )
    conflicts = int(summary["by_kind"].get("conflict", 0))
    click.echo(
        _(
            "warning: the plan has {total} findings ({counts}; {conflicts} conflicts); "
            "they do not stop this payroll:"
        ).format(total=f"{len(findings):,}", counts=counts, conflicts=f"{conflicts:,}"),
        err=True,
    )
    language = current()
    for raw in findings[:WARNINGS_SHOWN]:
        finding = Finding.model_validate(raw)
        message, _suggestion = finding.shown(language)
        click.echo(f"  {value_word(finding.severity.value)}  {finding.rule}: {message}", err=True)
    command = f"alignment-engine check {plan_path} --policy {policy_path}"
    if len(findings) > WARNINGS_SHOWN:
        click.echo(
            "  "
            + _("and {count} more: `{command}` lists them all, with suggestions").format(
                count=f"{len(findings) - WARNINGS_SHOWN:,}", command=command
            ),
            err=True,
        )
    else:
        click.echo(
            "  " + _("`{command}` lists them with suggestions").format(command=command),
            err=True,
        )
