"""``check`` and ``rules``: a plan's findings, and the rule packs behind them."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from alignment_engine import CheckResult, Severity
from alignment_engine.cli.options import format_option, plan_argument, rules_option
from alignment_engine.cli.storage import db_option, echo_result, open_store
from alignment_engine.cli.words import value_word
from alignment_engine.collector import collector_paused
from alignment_engine.i18n import _, current

_SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
}


TABLE_FINDINGS = 25
"""The table shows this many findings at most: the most severe and broadest first, after counts
per rule; ``--format json`` lists every one."""

NARROW = 120
"""Consoles narrower than this get the two-column finding table."""


def _print_table(result: CheckResult) -> None:
    from rich.markup import escape
    from rich.table import Table

    from alignment_engine.cli.console import make_console

    console = make_console()
    language = current()
    summary = result.summary
    title = _("Findings for plan '{plan}'").format(plan=summary.get("plan"))
    if summary.get("policy"):
        title += " " + _("with policy '{policy}'").format(policy=summary["policy"])
    if not result.findings:
        console.print(f"{title}: " + _("none. The plan is aligned and free of conflicts."))
        return
    shown = result.findings
    if len(shown) > TABLE_FINDINGS:
        counts = Table(
            title=f"{title}: " + _("{count} findings by rule").format(count=f"{len(shown):,}"),
            expand=False,
        )
        for column in ("rule", "kind", "severity", "findings"):
            counts.add_column(_(column), justify="right" if column == "findings" else "left")
        firsts: dict[str, Any] = {}
        for finding in shown:
            firsts.setdefault(finding.rule, finding)
        for rule, number in sorted(
            summary["by_rule"].items(), key=lambda item: (-firsts[item[0]].severity.rank, item[0])
        ):
            first = firsts[rule]
            counts.add_row(
                rule, value_word(first.kind.value), value_word(first.severity.value), f"{number:,}"
            )
        console.print(counts)
        # The most severe first, then the broadest (most KPIs and departments named).
        ranked = sorted(
            range(len(shown)),
            key=lambda i: (
                -shown[i].severity.rank,
                -(len(shown[i].kpis) + len(shown[i].departments) + len(shown[i].resources)),
                i,
            ),
        )
        shown = [shown[i] for i in ranked[:TABLE_FINDINGS]]
        title = _("The {count} most severe and broadest findings").format(count=TABLE_FINDINGS)
    # Below NARROW columns (an 80-column terminal) severity, rule and departments share one
    # column, so the finding keeps most of the width; long ids fold, never cut to an ellipsis.
    narrow = console.width < NARROW
    table = Table(title=title, show_lines=True, expand=False)
    if narrow:
        table.add_column(_("finding"), overflow="fold")
    else:
        table.add_column(_("severity"), no_wrap=True)
        table.add_column(_("rule"), no_wrap=True)
        table.add_column(_("departments"), overflow="fold")
    table.add_column(_("finding and suggestion"), ratio=1, overflow="fold")
    for finding in shown:
        involved = _brief(finding.departments) or _brief(finding.resources)
        severity = f"[{_SEVERITY_STYLE[finding.severity]}]{_(finding.severity.value)}[/]"
        message, suggestion = finding.shown(language)
        text = escape(message)
        if suggestion:
            text += f"\n[dim]-> {escape(suggestion)}[/dim]"
        if narrow:
            table.add_row(f"{severity}\n{finding.rule}\n{involved}".rstrip(), text)
        else:
            table.add_row(severity, finding.rule, involved, text)
    console.print(table)
    counts_text = ", ".join(f"{n:,} {_(s)}" for s, n in summary["by_severity"].items() if n)
    console.print(
        _("{total} findings ({counts})").format(total=f"{summary['total']:,}", counts=counts_text)
    )
    if len(shown) < len(result.findings):
        console.print(
            _(
                "{count} more not shown: --format json lists every finding with every "
                "department and KPI"
            ).format(count=f"{len(result.findings) - len(shown):,}")
        )


def _brief(ids: list[str]) -> str:
    from alignment_engine.engine import brief

    return brief(ids, "department") if len(ids) > 12 else ", ".join(ids)


@click.command()
@plan_argument
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(path_type=Path),
    help="Incentive policy: adds the incentive rules (incentive-misalignment).",
)
@rules_option()
@format_option("table", "json", help="A table for people, or JSON ({findings, summary}) for tools.")
@click.option(
    "--fail-on",
    type=click.Choice([s.value for s in Severity]),
    default=None,
    help="Exit 1 when a finding of this severity or worse exists.",
)
@db_option
def check(
    plan_path: Path,
    policy_path: Path | None,
    rules_paths: tuple[Path, ...],
    output_format: str,
    fail_on: str | None,
    db_url: str | None,
) -> None:
    """Report alignment problems and conflicts in a plan.

    Runs the shipped rule packs (rules/alignment.yaml, rules/conflicts.yaml) and any added
    with --rules. Exits 0, or 1 when --fail-on names a severity that was found, or 2 on bad
    input.
    """
    from alignment_engine.loading import plan_from_yaml, policy_from_yaml
    from alignment_engine.rulepacks import load_packs

    with collector_paused():  # one command: everything it builds lives until it ends
        plan = plan_from_yaml(plan_path)
        policy = policy_from_yaml(policy_path) if policy_path is not None else None
        user_packs = load_packs(rules_paths)
        text = stored_check(plan, policy, user_packs, db_url)
    if output_format == "json":
        echo_result(text)
        # Only the counts are needed: validating 200,000 findings again took seconds.
        found = _severities_found(text) if fail_on is not None else set()
    else:
        result = CheckResult.model_validate_json(text)
        _print_table(result)
        found = {finding.severity for finding in result.findings}
    if fail_on is not None and any(s.rank >= Severity(fail_on).rank for s in found):
        sys.exit(1)


def _severities_found(stored: bytes) -> set[Severity]:
    """The severities a check result's summary counts, read from the summary alone (the last
    top-level key; a key cannot occur inside a JSON string, whose quotes are escaped)."""
    start = stored.rfind(b'"summary":')
    try:
        if start < 0:
            raise ValueError("no summary")
        text = stored[start + len(b'"summary":') :].decode("utf-8")
        position = 0
        while text[position] in " \n":
            position += 1
        summary, _end = json.JSONDecoder().raw_decode(text, position)
        counts = summary["by_severity"]
    except (ValueError, KeyError, IndexError, TypeError):  # not the shape expected: read it all
        counts = json.loads(stored)["summary"]["by_severity"]
    return {Severity(name) for name, count in counts.items() if count}


def stored_check(plan: Any, policy: Any, user_packs: list[Any], db_url: str | None) -> bytes:
    """The check of a plan (with a policy and user packs) as its stored JSON (UTF-8): the stored
    run with the same inputs when there is one (a check is deterministic, and a large plan's
    takes seconds), else computed now and stored."""
    from alignment_engine.pipeline import CheckRun

    run = CheckRun(plan, policy, tuple(user_packs), language=current())
    with open_store(db_url) as store:
        return store.record_or_reuse(
            run.record(), lambda run_id: run.output(run.compute(), run_id)
        ).result_bytes


@click.group(name="rules")
def rules_group() -> None:
    """Rule packs: list the rules, and run rule tests."""


@rules_group.command(name="test")
@click.argument("folder", metavar="DIR", type=click.Path(path_type=Path))
@format_option("text", "json", help="Human text, or JSON for tools.")
def rules_test(folder: Path, output_format: str) -> None:
    """Run the rule tests (kind: rule-tests) under DIR.

    The packs in DIR are added to the shipped ones (a pack with a shipped pack's id replaces
    it). Each case checks a small plan or set of facts against the findings it expects; a
    failure prints a diff. Exits 0 when all pass, 1 when one fails, 2 on bad input.
    """
    from alignment_engine.ruletests import run_rule_tests

    report = run_rule_tests(folder)
    if output_format == "json":
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        for case in report.cases:
            click.echo(f"{_('ok  ') if case.passed else _('FAIL')} {case.location}  {case.name}")
            if not case.passed:
                _print_failure(case.missing, case.unexpected, case.diff)
        summary = report.to_dict()["summary"]
        click.echo(
            _("{passed} of {cases} cases passed").format(
                passed=summary["passed"], cases=summary["cases"]
            )
        )
    if not report.passed:
        sys.exit(1)


def _flow(item: dict[str, object]) -> str:
    import yaml

    return str(yaml.safe_dump(item, default_flow_style=True, allow_unicode=True, width=10_000))


def _print_failure(
    missing: list[dict[str, object]], unexpected: list[dict[str, object]], diff: str
) -> None:
    if missing:
        click.echo("     " + _("expected but not found:"))
        for item in missing:
            click.echo(f"       - {_flow(item).strip()}")
    if unexpected:
        click.echo("     " + _("found but not expected:"))
        for item in unexpected:
            click.echo(f"       - {_flow(item).strip()}")
    click.echo("     " + _("diff (expected -> found):"))
    for line in diff.splitlines():
        click.echo(f"       {line}")


@rules_group.command(name="list")
@rules_option(help="Folder (or file) of your own rule packs to list with the shipped ones.")
@format_option("text", "json", help="Human text, or JSON for tools.")
def rules_list(rules_paths: tuple[Path, ...], output_format: str) -> None:
    """List the rules that check runs: id, pack, kind, severity and what each looks for."""
    from alignment_engine.rulepacks import load_packs, program_for, shipped_packs

    user_packs = load_packs(rules_paths)
    program = program_for(user_packs)
    rows = [
        {
            "id": rule.id,
            "pack": rule.pack,
            "kind": rule.kind.value if rule.kind else "derive",
            "severity": rule.severity.value if rule.severity else None,
            "description": " ".join(rule.description.split()),
        }
        for rule in program.rules
    ]
    if output_format == "json":
        click.echo(json.dumps({"rules": rows}, indent=2, ensure_ascii=False))
        return
    language = current()
    described = _translated_descriptions([*shipped_packs(), *user_packs], language)
    for row in rows:
        description = described.get((str(row["pack"]), str(row["id"])), row["description"])
        kind = value_word(str(row["kind"]))
        severity = value_word(str(row["severity"])) if row["severity"] else "-"
        click.echo(
            f"{row['id']:<28} {row['pack']:<12} {_padded(kind, 10)} {_padded(severity, 9)} "
            f"{description}"
        )


def _translated_descriptions(packs: list[Any], language: str) -> dict[tuple[str, str], str]:
    """The rules' descriptions in ``language`` (by pack and rule id), from their findings'
    translations (``translations: {zh-CN: {description: ...}}``); a pack given later replaces
    one with its id, as in the program."""
    found: dict[tuple[str, str], str] = {}
    if language == "en":
        return found
    for loaded in packs:
        pack = loaded.pack
        for key in [k for k in found if k[0] == pack.id]:
            del found[key]
        for rule in pack.rules:
            texts = rule.finding.translations.get(language) if rule.finding else None
            if texts is not None and texts.description:
                found[(pack.id, rule.id)] = " ".join(texts.description.split())
    return found


def _padded(text: str, width: int) -> str:
    """``text`` left-aligned in ``width`` terminal columns (a Chinese character takes two)."""
    from rich.cells import cell_len

    return text + " " * max(0, width - cell_len(text))


COMMANDS = [check, rules_group]
