"""``score``: the quarter-end batch: KPI results -> department scores -> employee payouts."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from alignment_engine.cli.check import stored_check
from alignment_engine.cli.check_ahead import CheckAhead
from alignment_engine.cli.console import Stages
from alignment_engine.cli.explain import render_explanation
from alignment_engine.cli.options import format_option, out_format_option
from alignment_engine.cli.plan_warnings import echo_plan_warnings
from alignment_engine.cli.storage import db_option, echo_result, open_store
from alignment_engine.i18n import _, current
from alignment_engine.jsonio import dumps
from alignment_engine.outputs import ensure_writable, text_writer

__all__ = ["COMMANDS"]

FULL_EXPLANATIONS_UP_TO = 20_000


def explanation_style(requested: str, employees: int) -> str:
    """``auto`` keeps every chain in full for ordinary runs. Above that the JSON carries the
    numbers only: a million explanations would be most of the result's size and time, and each
    one is derived on demand from the stored run (``runs show ID --explain EMPLOYEE_ID``)."""
    if requested != "auto":
        return requested
    return "full" if employees <= FULL_EXPLANATIONS_UP_TO else "none"


def _print_table(result: dict[str, Any], currency: str) -> None:
    from rich.table import Table

    from alignment_engine.cli.console import make_console

    console = make_console()
    table = Table(
        _("department"),
        _("score"),
        _("payout factor"),
        _("employees"),
        _("payout"),
        title=_("Scores for {period} (run {run})").format(
            period=result["period"], run=result["run_id"]
        ),
    )
    for department in result["departments"]:
        payout = department.get("payout")
        table.add_row(
            department["department"],
            f"{department['score']:.4f}" if department["score"] is not None else "-",
            f"{department['payout_factor']:.4f}"
            if department["payout_factor"] is not None
            else "-",
            str(department.get("employees", "")),
            f"{payout:,.2f}" if isinstance(payout, int | float) else "",
        )
    console.print(table)
    totals = result["totals"]
    console.print(
        _("Total payout {payout} {currency}; pool {pool}; scale {scale}").format(
            payout=_grouped(totals.get("payout_text", totals["payout"])),
            currency=currency,
            pool=_grouped(totals.get("pool_text", totals["pool"])),
            scale=totals["scale"],
        )
    )
    ledger = totals.get("ledger")
    if ledger is not None:
        console.print(ledger_line(ledger, currency))
    by_currency = totals.get("by_currency")
    if by_currency:
        paid = "; ".join(f"{code} {_grouped(text)}" for code, text in by_currency.items())
        console.print(f"Paid in each currency: {paid}")
    from alignment_engine.cli.explain import gate_line

    for gate in result.get("gates", []):
        if gate.get("triggered"):
            console.print(gate_line(gate))


def ledger_line(ledger: dict[str, Any], currency: str) -> str:
    """What a run pays now where pay crosses periods: ``Paid now 752,745.57 CNY (deferred
    250,915.29, released 0.00, ...)``."""
    parts = [
        f"{label} {_grouped(ledger[key]['text'])}"
        for key, label in (
            ("advanced", "advances settled"),
            ("deferred", "deferred"),
            ("released", "released"),
            ("recovered", "recovered"),
            ("to_recover", "to recover from later periods"),
            ("written_off", "written off"),
        )
        if ledger[key]["amount"]
    ]
    waiting = ledger.get("waiting_lots", 0)
    if waiting:
        parts.append(f"{waiting:,} lots due to people not in this period's employees (kept)")
    detail = f" ({'; '.join(parts)})" if parts else ""
    return f"Paid now {_grouped(ledger['paid']['text'])} {currency}{detail}"


def _grouped(amount: object) -> str:
    """An exact amount's text with thousands separators: ``48808.02`` -> ``48,808.02``."""
    text = str(amount)
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, point, fraction = digits.partition(".")
    if not whole.isdigit():
        return text  # None, or no number: shown as it is
    return f"{sign}{int(whole):,}{point}{fraction}"


@click.command()
@click.option(
    "--plan", "plan_path", required=True, type=click.Path(path_type=Path), help="The plan YAML."
)
@click.option(
    "--policy",
    "policy_path",
    required=True,
    type=click.Path(path_type=Path),
    help="The incentive policy YAML.",
)
@click.option(
    "--actuals",
    "actuals_path",
    required=True,
    type=click.Path(path_type=Path),
    help="KPI results: CSV, Parquet or XLSX.",
)
@click.option(
    "--employees",
    "employees_path",
    type=click.Path(path_type=Path),
    help="Employees to pay: CSV, Parquet or XLSX (without it: KPI and department scores only).",
)
@click.option(
    "--adjustments",
    "adjustments_path",
    type=click.Path(path_type=Path),
    help="Manual adjustments after scoring: employee_id, amount, reason[, note] (CSV, Parquet "
    "or XLSX); amounts exact in the policy's smallest unit; shown in the explanations.",
)
@click.option(
    "--fx",
    "fx_path",
    type=click.Path(path_type=Path),
    help="Exchange rates paying employees in their currency column: period, currency, rate "
    "(units of currency per 1 of the policy's currency); stored with the run.",
)
@click.option("--period", required=True, help="The period to score: 2026, 2026-Q3 or 2026-07.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    help="Write employees/kpis/departments tables, score.json, summary.json and report.html here.",
)
@out_format_option()
@click.option(
    "--raw-cells",
    is_flag=True,
    help="Write CSV/XLSX text cells exactly, for machine consumers. By default a text cell "
    "starting with = + - @, a tab or a carriage return gets a leading ' so that spreadsheets "
    "show it instead of running it as a formula.",
)
@format_option("table", "json", help="A table for people, or the JSON result for tools.")
@click.option(
    "--explain",
    "explain_id",
    metavar="EMPLOYEE_ID",
    help="Print how this employee's payout was computed, step by step.",
)
@click.option(
    "--explanations",
    type=click.Choice(["auto", "full", "compact", "none"]),
    default="auto",
    show_default=True,
    help=f"Explanation detail in the JSON result (auto: full up to {FULL_EXPLANATIONS_UP_TO:,} employees, none above; any payout is explained on demand by `runs show ID --explain EMPLOYEE_ID`).",
)
@click.option(
    "--accept-findings",
    is_flag=True,
    help="Pay even though the plan has findings that make payouts wrong on KPIs this run pays "
    "on (weights not summing to 1, a missing target, levels out of order); recorded in the run.",
)
@click.option(
    "--restates",
    "restates",
    metavar="RUN_ID",
    help="Re-score a period whose run is final (late or corrected actuals): a new run with "
    "per-employee adjustments against RUN_ID, the period's final run, which stays as it is. "
    "--actuals is the complete corrected period.",
)
@click.option("--force", is_flag=True, help="Store a new run even when an identical one exists.")
@db_option
def score(
    plan_path: Path,
    policy_path: Path,
    actuals_path: Path,
    employees_path: Path | None,
    adjustments_path: Path | None,
    fx_path: Path | None,
    period: str,
    out_dir: Path | None,
    out_formats: tuple[str, ...],
    raw_cells: bool,
    output_format: str,
    explain_id: str | None,
    explanations: str,
    accept_findings: bool,
    restates: str | None,
    force: bool,
    db_url: str | None,
) -> None:
    """Score a period: KPI results, department scores and every employee's payout.

    The run is stored (--db, else $ALIGNMENT_DB_URL, else ./alignment-engine.db) with its inputs,
    so `runs show` prints this result again and any payout can be explained later.
    """
    from alignment_engine.engine import score_period
    from alignment_engine.loading import plan_from_yaml, policy_from_yaml
    from alignment_engine.tables import ACTUALS, ADJUSTMENTS, EMPLOYEES, FX, read_table

    if out_dir is not None:
        ensure_writable(out_dir)
    restated = _restated(restates, period, db_url) if restates is not None else None
    # A restatement settles nothing: the run it restates settled the period's lots.
    lots = _open_lots(period, db_url) if restated is None else None
    with Stages(total=6) as stages:
        stages.step("reading the plan and policy")
        plan = plan_from_yaml(plan_path)
        policy = policy_from_yaml(policy_path)
        ahead = CheckAhead.start(plan, policy, plan_path, policy_path, db_url, current())
        click.get_current_context().call_on_close(ahead.cancel)  # when the command fails
        stages.step("reading actuals and employees")
        actuals = read_table(actuals_path, ACTUALS)
        employees = read_table(employees_path, EMPLOYEES) if employees_path else None
        adjustments = read_table(adjustments_path, ADJUSTMENTS) if adjustments_path else None
        fx = read_table(fx_path, FX) if fx_path else None
        stages.step("scoring")
        result = score_period(
            plan,
            policy,
            actuals,
            employees,
            period,
            accept_findings=accept_findings,
            adjustments=adjustments,
            lots=lots,
            restates=restated,
            fx=fx,
        )
        style = explanation_style(explanations, len(employees) if employees is not None else 0)
        explanation = _explanation(result, employees, explain_id) if explain_id else None
        stages.step("checking the plan")
        # The stored check of the same plan and policy when there is one: a large plan's takes
        # seconds. Its findings are the warnings, and the report's findings with --out.
        ahead.wait()
        check_text = stored_check(plan, policy, [], db_url)
        stages.step("storing the run")
        stored, document = _store(
            result,
            plan,
            policy,
            actuals,
            employees,
            period,
            style,
            force,
            db_url,
            accept_findings,
            restated,
            adjustments,
            lots,
            fx,
        )
        if out_dir is not None:
            stages.step("writing outputs")
            _write_outputs(
                out_dir,
                out_formats,
                stored.result_bytes,
                document,
                result,
                plan,
                check_text,
                raw_cells=raw_cells,
                employees=employees,
            )

    if explain_id is not None and explanation is not None:
        if output_format == "json":
            click.echo(dumps(explanation))
        else:
            click.echo(render_explanation(explanation, explain_id, policy.currency))
        echo_plan_warnings(check_text, str(plan_path), str(policy_path))
        return
    if output_format == "json":
        echo_result(stored.result_bytes)
    else:
        _print_table(document, policy.currency)
        if document.get("restates"):
            totals = document["totals"]
            click.echo(
                f"Restates run {document['restates']}: {len(document['adjustments']):,} "
                f"employees' payouts change, adjustment "
                f"{_grouped(totals['adjustment_text'])} {policy.currency} in all "
                "(finalise this run to make it the period's final run)"
            )
        if out_dir is not None:
            click.echo(
                _("outputs written to {folder}/ (report: {report})").format(
                    folder=out_dir, report=out_dir / "report.html"
                )
            )
    echo_plan_warnings(check_text, str(plan_path), str(policy_path))


def _explanation(result: Any, employees: Any, employee_id: str) -> dict[str, Any]:
    """One employee's chain, or an error naming the closest id (before anything is written)."""
    explanation: dict[str, Any] | None = result.explanation_for(employee_id)
    if explanation is None:
        from alignment_engine import did_you_mean
        from alignment_engine.errors import InputError

        known = [] if employees is None else employees["employee_id"].tolist()
        raise InputError(
            f"no employee '{employee_id}' in this run",
            suggestion=did_you_mean(employee_id, known[:100_000]),
        )
    return explanation


def _restated(run_id: str, period: str, db_url: str | None) -> tuple[str, Any]:
    """The final run a restatement restates (its id and payouts), checked before any work."""
    with open_store(db_url) as store:
        return store.restatement_base(run_id, period)


def _open_lots(period: str, db_url: str | None) -> Any:
    """The deferrals, advances and recoveries the period settles (None when there are none)."""
    with open_store(db_url) as store:
        lots = store.open_lots(period)
    return lots if len(lots) else None


def _store(
    result: Any,
    plan: Any,
    policy: Any,
    actuals: Any,
    employees: Any,
    period: str,
    style: str,
    force: bool,
    db_url: str | None,
    accept_findings: bool = False,
    restated: tuple[str, Any] | None = None,
    adjustments: Any = None,
    lots: Any = None,
    fx: Any = None,
) -> tuple[Any, dict[str, Any]]:
    """Record the run (or find the identical stored one); returns it and its JSON document."""
    from alignment_engine.pipeline import ScoreRun

    run = ScoreRun(
        plan,
        policy,
        actuals,
        employees,
        period,
        explanations=style,  # type: ignore[arg-type]
        accept_findings=accept_findings,
        restates=None if restated is None else restated[0],
        restated_payouts=None if restated is None else restated[1],
        adjustments=adjustments,
        lots=lots,
        fx=fx,
    )
    produced: dict[str, Any] = {}

    def produce(run_id: str) -> Any:
        produced.update(run_id=run_id, **run.document(result))
        return run.output(result, run_id, with_run_id=False, document=produced)

    with open_store(db_url) as store:
        stored = store.record_or_reuse(run.record(), produce, force=force)
    # A reused run prints what was stored, also when another process stored the same run
    # while this one computed (its own document then names a run id that was never stored);
    # a new one already has its document in hand.
    if stored.reused or not produced:
        return stored, json.loads(stored.result_bytes)
    return stored, produced


def _write_outputs(
    out_dir: Path,
    out_formats: tuple[str, ...],
    result_json: bytes,
    document: dict[str, Any],
    result: Any,
    plan: Any,
    check_text: bytes,
    *,
    raw_cells: bool = False,
    employees: Any = None,
) -> None:
    import pandas as pd

    from alignment_engine.outputs import Writer, write_atomically, write_table

    frames: dict[str, pd.DataFrame] = {
        "kpis": pd.DataFrame(document["kpis"]),
        "departments": pd.DataFrame(
            [
                {k: v for k, v in d.items() if not isinstance(v, dict | list)}
                for d in document["departments"]
            ]
        ),
    }
    if document.get("employees"):
        frames["employees"] = with_carried_columns(result.employees_frame(), employees)

    def table_writer(frame: pd.DataFrame, fmt: str) -> Writer:
        return lambda path: write_table(frame, path, fmt, raw=raw_cells)

    summary = {key: value for key, value in document.items() if key != "employees"}
    writers: dict[str, Callable[[Path], None]] = {
        "score.json": text_writer(result_json + b"\n"),
        "summary.json": text_writer(dumps(summary) + "\n"),
    }
    for name, frame in frames.items():
        for fmt in dict.fromkeys(out_formats):
            writers[f"{name}.{fmt}"] = table_writer(frame, fmt)
    writers["report.html"] = _report_writer(plan, document, check_text)
    write_atomically(out_dir, writers)


def with_carried_columns(table: Any, employees: Any) -> Any:
    """The employees output table with the input's name and carried columns (cost centre,
    grade, x_...) after ``department``, when the input has them (rows are in input order)."""
    from alignment_engine.tables import EMPLOYEES

    if employees is None:
        return table
    carried = EMPLOYEES.carried_in(employees.columns)
    if "name" in employees.columns and bool((employees["name"].astype(str) != "").any()):
        carried = ["name", *carried]
    rows = employees
    if len(employees) != len(table):  # someone has several rows: their latest one
        rows = (
            employees.assign(_order=range(len(employees)))
            .sort_values(
                ["start_date", "_order"] if "start_date" in employees.columns else ["_order"],
                kind="stable",
                na_position="first",
            )
            .drop_duplicates("employee_id", keep="last")
            .set_index("employee_id")
            .reindex(table["employee_id"])
        )
    for offset, column in enumerate(carried, start=2):
        table.insert(offset, column, rows[column].to_numpy(dtype=object))
    return table


def _report_writer(
    plan: Any, document: dict[str, Any], check_text: bytes
) -> Callable[[Path], None]:
    """The page for people: the score, and beside it the plan's findings (``check_text``, the
    check's stored JSON) and the suggested reallocation, so the quarter-end report shows
    conflicts and resources too."""
    from alignment_engine.engine import suggest_reallocation
    from alignment_engine.errors import AlignmentError
    from alignment_engine.reports import render_report

    check = json.loads(check_text)
    optimise: dict[str, Any] | None = None
    if plan.resources:
        try:
            optimise = suggest_reallocation(plan).to_dict()
        except AlignmentError:  # e.g. curves that need history: the report goes without
            optimise = None

    def write(path: Path) -> None:
        html = render_report(
            plan=plan,
            check=check,
            score=document,
            optimise=optimise,
            title=f"{plan.name or plan.id}: {document['period']}",
        )
        path.write_text(html, encoding="utf-8")

    return write


COMMANDS = [score]
