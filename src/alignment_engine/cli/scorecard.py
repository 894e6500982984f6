"""``scorecard``: how the company (or a department) stands, perspective by perspective."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click

from alignment_engine.cli.options import format_option, out_format_option, plan_argument
from alignment_engine.cli.storage import db_option, echo_result, open_store
from alignment_engine.i18n import _
from alignment_engine.jsonio import dumps
from alignment_engine.outputs import ensure_writable, text_writer

__all__ = ["COMMANDS"]

_STATUS_STYLE = {
    "green": "green",
    "amber": "yellow",
    "red": "red",
    "no-data": "dim",
    "not-due": "dim",
}


def _score_text(value: Any) -> str:
    return "-" if value is None else f"{value:.1%}"


def _change_text(item: Mapping[str, Any]) -> str:
    change = item.get("change")
    if change is None:
        return ""
    return f"{change:+.1%}"


def _print_tables(document: Mapping[str, Any]) -> None:
    from rich.table import Table

    from alignment_engine.cli.console import make_console
    from alignment_engine.reports.numbers import readable

    console = make_console()
    trend = document.get("compared_with") is not None
    overall = document["overall"]
    status = overall["status"]
    heading = (
        _("Scorecard of {department} for {period} (run {run})")
        if document.get("department")
        else _("Scorecard for {period} (run {run})")
    ).format(
        department=document.get("department"),
        period=document["period"],
        run=document.get("run_id", "-"),
    )
    console.print(
        f"{heading}: {_('overall')} "
        f"[{_STATUS_STYLE[status]}]{_score_text(overall['score'])} {_(status)}[/]"
        + (
            " ("
            + _("{change} since {period}").format(
                change=_change_text(overall), period=document["compared_with"]["period"]
            )
            + ")"
            if trend
            else ""
        )
    )
    columns = [_("perspective / objective"), _("score"), _("status")] + (
        [_("change")] if trend else []
    )
    table = Table(*columns, title=_("Perspectives and objectives"))
    objectives = document["objectives"]
    for perspective in document["perspectives"]:
        row = [
            f"[bold]{_(str(perspective['perspective']).replace('_', ' ').capitalize())}[/]",
            _score_text(perspective["score"]),
            f"[{_STATUS_STYLE[perspective['status']]}]{_(perspective['status'])}[/]",
        ]
        table.add_row(*(row + ([_change_text(perspective)] if trend else [])))
        for objective in objectives:
            if objective["perspective"] != perspective["perspective"]:
                continue
            row = [
                f"  {objective['objective']}",
                _score_text(objective["score"]),
                f"[{_STATUS_STYLE[objective['status']]}]{_(objective['status'])}[/]",
            ]
            table.add_row(*(row + ([_change_text(objective)] if trend else [])))
    console.print(table)
    kpis = Table(
        *(_(c) for c in ("scope", "KPI", "actual", "target", "score", "status")),
        title=_("KPIs"),
        show_lines=False,
    )
    for kpi in document["kpis"]:
        kpis.add_row(
            kpi["scope"],
            kpi["kpi"],
            "-" if kpi["actual"] is None else readable(kpi["actual"]),
            "-" if kpi["target"] is None else readable(kpi["target"]),
            _score_text(kpi["score"]),
            f"[{_STATUS_STYLE[kpi['status']]}]{_(kpi['status'])}[/]",
        )
    console.print(kpis)


@click.command()
@plan_argument
@click.option(
    "--actuals",
    "actuals_path",
    required=True,
    type=click.Path(path_type=Path),
    help="KPI results (and base measures): CSV, Parquet or XLSX, as `score` reads them.",
)
@click.option("--period", required=True, help="The period: 2026, 2026-Q3 or 2026-07.")
@click.option(
    "--department",
    help="One department's scorecard: its KPIs (and those of the departments below it) and "
    "the shared goals it belongs to; company KPIs are left out.",
)
@format_option("table", "json", help="Tables for people, or the JSON result for tools.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    help="Write kpis/objectives/perspectives tables, scorecard.json and report.html here.",
)
@out_format_option()
@click.option("--force", is_flag=True, help="Store a new run even when an identical one exists.")
@db_option
def scorecard(
    plan_path: Path,
    actuals_path: Path,
    period: str,
    department: str | None,
    output_format: str,
    out_dir: Path | None,
    out_formats: tuple[str, ...],
    force: bool,
    db_url: str | None,
) -> None:
    """The Balanced Scorecard of a period: KPI, objective, perspective and overall scores.

    Scores follow each KPI's direction, clipped at the plan's `scorecard.cap`; objectives are
    share-weighted means of their KPIs, perspectives the mean of their objectives. In a month
    long-horizon objectives are not due. The run is stored (--db), and the preceding period's
    stored scorecard of the same plan and --department gives each item's trend. No incentive
    policy is involved.
    """
    from alignment_engine.loading import plan_from_yaml
    from alignment_engine.pipeline import ScorecardRun
    from alignment_engine.tables import ACTUALS, read_table

    if out_dir is not None:
        ensure_writable(out_dir)
    plan = plan_from_yaml(plan_path)
    actuals = read_table(actuals_path, ACTUALS)
    with open_store(db_url) as store:
        previous = store.previous_scorecard(plan.id, department, period)
        run = ScorecardRun(plan, actuals, period, department=department, previous=previous)
        stored = store.record_or_reuse(
            run.record(), lambda run_id: run.output(run.compute(), run_id), force=force
        )
        history = (
            store.scorecard_history(plan.id, department, period) if out_dir is not None else []
        )
    document = json.loads(stored.result_json)
    if out_dir is not None:
        _write_outputs(out_dir, out_formats, stored.result_json, document, plan, history)
    if output_format == "json":
        echo_result(stored.result_json)
    else:
        _print_tables(document)
        if out_dir is not None:
            click.echo(
                _("outputs written to {folder}/ (report: {report})").format(
                    folder=out_dir, report=out_dir / "report.html"
                )
            )


def _write_outputs(
    out_dir: Path,
    out_formats: tuple[str, ...],
    result_json: str,
    document: dict[str, Any],
    plan: Any,
    history: list[dict[str, Any]],
) -> None:
    import pandas as pd

    from alignment_engine.outputs import Writer, write_atomically, write_table
    from alignment_engine.reports import render_report

    frames = {
        "kpis": pd.DataFrame(document["kpis"]),
        "objectives": pd.DataFrame(
            [{**o, "kpis": ", ".join(o["kpis"])} for o in document["objectives"]]
        ),
        "perspectives": pd.DataFrame(document["perspectives"]),
    }

    def table_writer(frame: pd.DataFrame, fmt: str) -> Writer:
        return lambda path: write_table(frame, path, fmt)

    def report(path: Path) -> None:
        where = f" ({document['department']})" if document.get("department") else ""
        html = render_report(
            plan=plan,
            scorecard=document,
            scorecard_history=history,
            title=f"{plan.name or plan.id}: scorecard {document['period']}{where}",
        )
        path.write_text(html, encoding="utf-8")

    writers: dict[str, Callable[[Path], None]] = {
        "scorecard.json": text_writer(result_json + "\n"),
        "summary.json": text_writer(
            dumps({k: v for k, v in document.items() if k != "kpis"}) + "\n"
        ),
    }
    for name, frame in frames.items():
        for fmt in dict.fromkeys(out_formats):
            writers[f"{name}.{fmt}"] = table_writer(frame, fmt)
    writers["report.html"] = report
    write_atomically(out_dir, writers)


COMMANDS = [scorecard]
