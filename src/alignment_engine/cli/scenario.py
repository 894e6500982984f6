"""``scenario run`` and ``scenario compare``: what-if runs and their differences."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from alignment_engine.cli.error_messages import error_words
from alignment_engine.cli.options import format_option, rules_option
from alignment_engine.cli.storage import db_option, open_store
from alignment_engine.cli.words import value_word
from alignment_engine.i18n import _

__all__ = ["COMMANDS", "scenario_group"]

FORMAT = format_option(
    "table", "json", help="A table for people, or JSON for tools (shapes in docs/cli.md)."
)
RULES = rules_option(
    help="A folder (or file) of user rules added to the shipped ones (repeatable).",
    name="rule_dirs",
)


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _signed(value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "–"
    if abs(value) >= 1000:
        return f"{value:+,.2f}"
    return f"{value:+.4g}"


Texts = dict[tuple[Any, ...], str]
"""A finding's message in the command's language, by the finding (see :func:`_finding_texts`)."""


def _finding_key(finding: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        finding.get("rule"),
        *(tuple(finding.get(name) or ()) for name in ("departments", "kpis", "objectives")),
        tuple(finding.get("resources") or ()),
        finding.get("message"),
    )


def _finding_translations(sides: Sequence[Any]) -> dict[tuple[Any, ...], Any]:
    """The translations of the findings of each side, by the finding: what the run kept beside
    each side's results (run in the command's language; the results stay English, as JSON and
    the store keep them). Nothing in English."""
    found: dict[tuple[Any, ...], Any] = {}
    for side in sides:
        if side is None or not side.translations:
            continue
        findings = (side.check or {}).get("findings") or []
        for finding, translation in zip(findings, side.translations, strict=True):
            if translation is not None:
                found[_finding_key(finding)] = translation
    return found


def _finding_texts(sides: Sequence[Any]) -> Texts:
    """The messages of the findings of each side in the command's language (see
    :func:`_finding_translations`)."""
    from alignment_engine.i18n import current

    language = current()
    return {
        key: str(translation.get("message", ""))
        for key, translation in _finding_translations(sides).items()
        if translation.get("language") == language
    }


def _with_translations(document: Any, translations: Mapping[tuple[Any, ...], Any]) -> Any:
    """A copy of a check or comparison document whose findings carry their translation (what
    the report shows a reader of another language), the document itself when there are none."""
    if not translations or document is None:
        return document
    if isinstance(document, list):
        return [_with_translations(item, translations) for item in document]
    if not isinstance(document, dict):
        return document
    copied = {key: _with_translations(value, translations) for key, value in document.items()}
    if "rule" in document and "message" in document:
        translation = translations.get(_finding_key(document))
        if translation is not None:
            copied["translation"] = translation
    return copied


def _print_findings(
    console: Any, title: str, findings: Sequence[Mapping[str, Any]], texts: Texts
) -> None:
    from rich.table import Table

    if not findings:
        console.print(title + _(": ") + _("none"))
        return
    table = Table(_("severity"), _("rule"), _("departments"), _("KPIs"), title=title)
    table.add_column(_("message"), overflow="fold")  # long ids fold, never cut off
    for finding in findings:
        message = str(finding.get("message", ""))
        table.add_row(
            value_word(str(finding.get("severity", ""))),
            str(finding.get("rule", "")),
            ", ".join(finding.get("departments") or []),
            ", ".join(finding.get("kpis") or []),
            texts.get(_finding_key(finding), message),
        )
    console.print(table)


def _print_differences(console: Any, differences: Mapping[str, Any], texts: Texts) -> None:
    from rich.table import Table

    findings = differences["findings"]
    _print_findings(console, _("Findings added"), findings["added"], texts)
    _print_findings(console, _("Findings resolved"), findings["resolved"], texts)
    for change in findings.get("changed") or []:
        console.print(
            _("severity changed: {rule} ({departments}): {before} -> {after}").format(
                rule=change["rule"],
                departments=", ".join(change["departments"]),
                before=value_word(change["severity_before"]),
                after=value_word(change["severity_after"]),
            )
        )
    scores = [s for s in differences["scores"] if s["delta"] or s["payout_factor_delta"]]
    if scores:
        table = Table(
            _("department"),
            _("score A -> B"),
            _("score change"),
            _("payout factor A -> B"),
            _("factor change"),
            title=_("Scores"),
        )
        for row in scores:
            table.add_row(
                row["department"],
                f"{_cell(row['before'])} -> {_cell(row['after'])}",
                _signed(row["delta"]),
                f"{_cell(row['payout_factor_before'])} -> {_cell(row['payout_factor_after'])}",
                _signed(row["payout_factor_delta"]),
            )
        console.print(table)
    scorecard = differences.get("scorecard")
    if scorecard is not None:
        table = Table(
            _("scorecard"), "A -> B", _("change"), _("status A -> B"), title=_("Scorecard")
        )
        rows = [{"perspective": "overall", **scorecard["overall"]}, *scorecard["perspectives"]]
        for row in rows:
            table.add_row(
                value_word(row["perspective"]),
                f"{_cell(row['before'])} -> {_cell(row['after'])}",
                _signed(row["delta"]),
                f"{value_word(str(row['status_before']))} -> "
                f"{value_word(str(row['status_after']))}",
            )
        console.print(table)
    payouts = [p for p in differences["payouts"] if p["delta"]]
    if payouts:
        table = Table(_("department"), _("before"), _("after"), _("change"), title=_("Payouts"))
        for row in payouts:
            table.add_row(
                row["department"], _cell(row["before"]), _cell(row["after"]), _signed(row["delta"])
            )
        console.print(table)
    allocations = [
        a for a in differences["allocations"] if a["current_delta"] or a["proposed_delta"]
    ]
    if allocations:
        table = Table(
            _("resource"),
            _("department"),
            _("today A -> B"),
            _("today change"),
            _("proposed A -> B"),
            _("proposed change"),
            title=_("Allocations"),
        )
        for row in allocations:
            table.add_row(
                row["resource"],
                row["department"],
                f"{_cell(row['current_before'])} -> {_cell(row['current_after'])}",
                _signed(row["current_delta"]),
                f"{_cell(row['proposed_before'])} -> {_cell(row['proposed_after'])}",
                _signed(row["proposed_delta"]),
            )
        console.print(table)
    totals = differences.get("totals") or {}
    line = _("findings {before} -> {after}").format(
        before=totals.get("findings_before"), after=totals.get("findings_after")
    )
    if totals.get("payout_before") is not None or totals.get("payout_after") is not None:
        line += _("; total payout {before} -> {after} ({change})").format(
            before=_cell(totals.get("payout_before")),
            after=_cell(totals.get("payout_after")),
            change=_signed(totals.get("payout_delta")),
        )
    console.print(line)


@click.group("scenario")
def scenario_group() -> None:
    """What-if analysis: run scenarios (sweeps included) and compare plans or scenarios."""


def _record_scenario_run(
    inputs: Any, rule_dirs: tuple[Path, ...], data: dict[str, Any], db_url: str | None
) -> None:
    """Store the run with everything needed to reproduce it: the base plan, the policy, the
    tables, and the overrides and sweep as options."""
    from alignment_engine.rulepacks import load_packs
    from alignment_engine.storage import RunOutput, RunRecord

    documents: dict[str, Any] = {"plan": inputs.plan}
    if inputs.policy is not None:
        documents["policy"] = inputs.policy
    for index, loaded in enumerate(load_packs(rule_dirs)):
        documents[f"rules.{index}"] = loaded.pack
    tables = {
        name: frame
        for name, frame in (("actuals", inputs.actuals), ("employees", inputs.employees))
        if frame is not None
    }
    options = {
        "scenario": inputs.id,
        "set": [{"path": o.path, "value": o.value} for o in inputs.overrides],
        "sweep": None
        if inputs.sweep is None
        else {"path": inputs.sweep.path, "values": list(inputs.sweep_values)},
    }
    record = RunRecord.create(
        "scenario",
        period=inputs.scoring_period(),
        documents=documents,
        tables=tables,
        options=options,
    )
    text = _json(data)
    with open_store(db_url) as store:
        store.record_or_reuse(record, lambda run_id: RunOutput(result_json=text))


@scenario_group.command("run")
@click.argument("scenario_path", metavar="S", type=click.Path(path_type=Path))
@FORMAT
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write scenario.json and report.html (and one page per sweep value) here.",
)
@RULES
@db_option
def run_command(
    scenario_path: Path,
    output_format: str,
    out_dir: Path | None,
    rule_dirs: tuple[Path, ...],
    db_url: str | None,
) -> None:
    """Run scenario S: check, score (with its policy and forecast actuals) and optimise (when
    the plan has resources), once per sweep value, compared with the plan it changes.

    The run is stored (--db, else $ALIGNMENT_DB_URL, else ./alignment-engine.db)."""
    from rich.table import Table

    from alignment_engine.cli.console import make_console
    from alignment_engine.outputs import ensure_writable
    from alignment_engine.reports import render_report
    from alignment_engine.scenarios import read_inputs, run_inputs

    if out_dir is not None:
        ensure_writable(out_dir)
    inputs = read_inputs(scenario_path)
    from alignment_engine.i18n import current

    result = run_inputs(inputs, rule_dirs=rule_dirs, language=current())
    data = result.to_dict()
    _record_scenario_run(inputs, rule_dirs, data, db_url)
    written: list[Path] = []
    if out_dir is not None:
        pages = {}
        sweep_rows = result.table() if result.sweep else None
        # The pages show findings in the command's language (the results keep English).
        translations = _finding_translations((result.base, *result.variants))
        for index, variant in enumerate(result.variants):
            page = render_report(
                plan=variant.plan,
                check=_with_translations(variant.check, translations),
                score=variant.score,
                optimise=variant.optimise,
                compare=_with_translations(variant.compare, translations),
                sweep=sweep_rows,
                title=_("Scenario {scenario}: {variant}").format(
                    scenario=result.id, variant=variant.label
                ),
                subtitle=result.name or None,
            )
            if index == 0:
                pages["report.html"] = page
            if result.sweep:
                pages[f"variant-{index + 1}.html"] = page
        from alignment_engine.outputs import text_writer, write_atomically

        texts = {"scenario.json": _json(data) + "\n", **pages}
        write_atomically(out_dir, {name: text_writer(text) for name, text in texts.items()})
        written = [out_dir / name for name in texts]
    if output_format == "json":
        click.echo(_json(data))
        _fail_on_optimiser_errors(result)
        return
    console = make_console(markup=False)  # ids have [brackets]
    console.print(
        _("Scenario {id} ({files})").format(id=result.id, files=" <- ".join(result.files))
    )
    for override in result.overrides:
        console.print(
            "  " + _("set {path} = {value}").format(path=override.path, value=repr(override.value))
        )
    if result.sweep is not None:
        console.print(
            "  "
            + _("sweep {path} over {values}").format(
                path=result.sweep["path"], values=repr(result.sweep["values"])
            )
        )
    rows = result.table()
    scorecards = any("scorecard" in row for row in rows)
    columns = [_(c) for c in ("variant", "findings", "added", "resolved", "payout")]
    runs = Table(
        *columns, *([_("scorecard")] if scorecards else []), _("optimiser"), title=_("Runs")
    )
    for row in rows:
        cells = [
            _cell(row["value"]) if result.sweep is not None else str(row["label"]),
            _cell(row["findings"]),
            _cell(row.get("added")),
            _cell(row.get("resolved")),
            _cell(row["payout"]),
        ]
        if scorecards:
            score = row.get("scorecard")
            shown = "–" if score is None else f"{score:.1%}"
            status = row.get("scorecard_status")
            cells.append(f"{shown} {value_word(status) if status else ''}".strip())
        optimiser = value_word(row["optimise_status"]) if row["optimise_status"] else "–"
        runs.add_row(*cells, f"{optimiser} {_cell(row['objective'])}")
    console.print(runs)
    if len(result.variants) == 1 and result.variants[0].compare is not None:
        translated = _finding_texts((result.base, result.variants[0]))
        _print_differences(console, result.variants[0].compare, translated)
    if written:
        console.print(_("wrote {files}").format(files=_listed(written)))
    _fail_on_optimiser_errors(result)


def _listed(paths: list[Path]) -> str:
    names = [str(p) for p in paths]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + _(" and ") + names[-1]


def _fail_on_optimiser_errors(result: Any) -> None:
    """The reallocation of a variant failed: say why, as ``optimise`` does, and exit 2 (the
    other results, printed, written and stored above, still stand)."""
    from alignment_engine import InfeasibleError, OptimisationError

    failed = [
        (variant.label, variant.optimise)
        for variant in result.variants
        if isinstance(variant.optimise, dict)
        and variant.optimise.get("status") in (OptimisationError.code, InfeasibleError.code)
    ]
    for label, optimise in failed:
        message = _("optimiser ({label}): {message}").format(
            label=label, message=error_words(str(optimise.get("message")))
        )
        click.echo(_("error: {message}").format(message=message), err=True)
    if failed:
        raise SystemExit(2)


@scenario_group.command("compare")
@click.argument("a_path", metavar="A", type=click.Path(path_type=Path))
@click.argument("b_path", metavar="B", type=click.Path(path_type=Path))
@FORMAT
@RULES
@db_option
def compare_command(
    a_path: Path,
    b_path: Path,
    output_format: str,
    rule_dirs: tuple[Path, ...],
    db_url: str | None,
) -> None:
    """Compare A with B (each a plan or a scenario): findings added and resolved, and the
    changes in scores, payouts and allocations. A side without a policy or actuals is scored
    with the other side's. The comparison is stored as a scenario run (--db, else
    $ALIGNMENT_DB_URL, else ./alignment-engine.db) with both sides' inputs."""
    from alignment_engine.cli.console import make_console
    from alignment_engine.scenarios import compare_inputs, read_inputs

    left, right = read_inputs(a_path), read_inputs(b_path)
    from alignment_engine.i18n import current

    comparison = compare_inputs(left, right, rule_dirs=rule_dirs, language=current())
    data = comparison.to_dict()
    run_id = _record_comparison(left, right, rule_dirs, data, db_url)
    if output_format == "json":
        click.echo(_json(data))
        return
    console = make_console(markup=False)  # ids have [brackets]
    console.print(f"{comparison.a_name} -> {comparison.b_name}")
    texts = _finding_texts((comparison.a, comparison.b))
    _print_differences(console, comparison.differences, texts)
    console.print(_("stored as run {run}").format(run=run_id))


def _record_comparison(
    left: Any, right: Any, rule_dirs: tuple[Path, ...], data: dict[str, Any], db_url: str | None
) -> str:
    """Store a comparison as a scenario run: each side's plan, policy and tables by role
    (``a.plan``, ``b.actuals``...), its overrides as options; the comparison is the result."""
    from alignment_engine.rulepacks import load_packs
    from alignment_engine.storage import RunOutput, RunRecord

    documents: dict[str, Any] = {}
    tables: dict[str, Any] = {}
    sides: dict[str, Any] = {}
    for side, inputs in (("a", left), ("b", right)):
        documents[f"{side}.plan"] = inputs.plan
        if inputs.policy is not None:
            documents[f"{side}.policy"] = inputs.policy
        for name in ("actuals", "employees"):
            frame = getattr(inputs, name)
            if frame is not None:
                tables[f"{side}.{name}"] = frame
        sides[side] = {
            "scenario": inputs.id,
            "set": [{"path": o.path, "value": o.value} for o in inputs.overrides],
        }
    for index, loaded in enumerate(load_packs(rule_dirs)):
        documents[f"rules.{index}"] = loaded.pack
    record = RunRecord.create(
        "scenario",
        period=left.scoring_period() or right.scoring_period(),
        documents=documents,
        tables=tables,
        options={"compare": sides},
    )
    text = _json(data)
    with open_store(db_url) as store:
        return store.record_or_reuse(record, lambda run_id: RunOutput(result_json=text)).id


COMMANDS = [scenario_group]
