"""``optimise`` and ``fit``: where resources do the most, and curves from history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from alignment_engine.cli.options import format_option, plan_argument
from alignment_engine.cli.storage import db_option, echo_result, open_store
from alignment_engine.cli.words import value_word
from alignment_engine.i18n import _
from alignment_engine.jsonio import dumps

__all__ = ["COMMANDS"]


def _history_tables(paths: tuple[Path, ...]) -> tuple[Any, Any]:
    from alignment_engine.tables import read_history

    return read_history(paths)


def _fits(plan: Any, history: tuple[Path, ...]) -> Any:
    from alignment_engine.pipeline import OptimiseRun

    results, amounts = _history_tables(history)
    return OptimiseRun(plan, history_results=results, history_allocations=amounts).fits()


def _pay_inputs(
    policy_path: Path | None, employees_path: Path | None, max_payout_loss: str | None
) -> tuple[Any, Any, float | None]:
    from alignment_engine.errors import InputError

    if policy_path is None:
        for given, name in (
            (employees_path, "--employees"),
            (max_payout_loss, "--max-payout-loss"),
        ):
            if given is not None:
                raise InputError(f"{name} goes with --policy", key=name)
        return None, None, None
    from alignment_engine.loading import policy_from_yaml

    policy = policy_from_yaml(policy_path)
    employees = None
    if employees_path is not None:
        from alignment_engine.tables import EMPLOYEES, read_table

        employees = read_table(employees_path, EMPLOYEES)
    bound = None
    if max_payout_loss is not None:
        text = max_payout_loss.strip()
        try:
            bound = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            raise InputError(
                f"--max-payout-loss {max_payout_loss!r} is not a share",
                key="--max-payout-loss",
                suggestion="e.g. 5% or 0.05",
            ) from None
    return policy, employees, bound


def _frontier(
    given: str | None,
    points: int,
    chart_path: Path | None,
    target: str | None,
    increments: tuple[str, ...],
    keep_total: bool,
    policy_path: Path | None,
) -> tuple[str, int] | None:
    from alignment_engine.errors import InputError

    if given is None:
        if chart_path is not None:
            raise InputError("--chart draws the frontier: give --frontier RESOURCE", key="--chart")
        return None
    for clash, name in ((target, "--target"), (increments, "--increment"),
                        (keep_total, "--keep-total"), (policy_path, "--policy")):  # fmt: skip
        if clash:
            raise InputError(f"--frontier answers another question than {name}: give one", key=name)
    return given, points


def _write_chart(path: Path, frontier: dict[str, Any]) -> None:
    import os
    import tempfile

    from alignment_engine.errors import InputError
    from alignment_engine.reports.frontier import frontier_chart

    text = frontier_chart(frontier)
    folder = path.parent if str(path.parent) else Path()
    try:
        handle, staged = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        Path(staged).replace(path)  # the chart appears whole, or not at all
    except OSError as error:
        raise InputError(f"cannot write the chart: {error.strerror}", file=str(path)) from None


def _print_frontier_table(frontier: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    from alignment_engine.cli.console import make_console
    from alignment_engine.cli.error_messages import error_words

    console = make_console()
    title = _("Budget frontier of {resource}").format(resource=frontier["resource"])
    console.print(
        f"[bold]{escape(title)}[/bold]"
        + _(": ")
        + _(
            "today's total {total} gives {objective} as allocated today (capacity {capacity})"
        ).format(
            total=f"{frontier['total_today']:,.2f}",
            objective=f"{frontier['objective_today']:.6f}",
            capacity=f"{frontier['capacity']:,.2f}",
        )
    )
    table = Table(_("total"), _("best objective"), _("status"), title=_("Frontier"))
    for point in frontier["points"]:
        value = point["objective"]
        status = value_word(point["status"])
        table.add_row(
            f"{point['total']:,.2f}",
            "-" if value is None else f"{value:.6f}",
            status if point["note"] is None else status + _(": ") + error_words(point["note"]),
        )
    console.print(table)


def _target(
    given: str | None, increments: tuple[str, ...], keep_total: bool, policy_path: Path | None
) -> tuple[str, float] | None:
    from alignment_engine.errors import InputError

    if given is None:
        return None
    for clash, name in ((increments, "--increment"), (keep_total, "--keep-total"),
                        (policy_path, "--policy")):  # fmt: skip
        if clash:
            raise InputError(f"--target answers another question than {name}: give one", key=name)
    kpi, sign, value = given.partition("=")
    try:
        number = float(value) if sign and kpi else None
    except ValueError:
        number = None
    if number is None:
        raise InputError(
            f"--target {given!r} is not KPI=VALUE",
            key="--target",
            suggestion="e.g. --target sales.revenue_north=80",
        )
    return kpi, number


def _increments(given: tuple[str, ...]) -> tuple[tuple[str, float], ...]:
    from alignment_engine.errors import InputError

    parsed: dict[str, float] = {}
    for item in given:
        resource, sign, amount = item.partition("=")
        try:
            value = float(amount) if sign and resource else None
        except ValueError:
            value = None
        if value is None:
            raise InputError(
                f"--increment {item!r} is not RESOURCE=AMOUNT",
                key="--increment",
                suggestion="e.g. --increment budget=5000000",
            )
        if resource in parsed:
            raise InputError(f"--increment names '{resource}' twice", key="--increment")
        parsed[resource] = value
    return tuple(parsed.items())


def _print_target_table(target: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    from alignment_engine.cli.console import make_console

    console = make_console()
    goal = (
        _("{kpi} at most {value}")
        if target["direction"] == "at most"
        else _("{kpi} at least {value}")
    ).format(kpi=target["kpi"], value=f"{target['value']:g}")
    least = (
        _("the least {resource} is {total} (today {today}, {change}; capacity {capacity})")
        if target["within_capacity"]
        else _(
            "the least {resource} is {total} (today {today}, {change}; capacity {capacity}, exceeded)"
        )
    )
    console.print(
        f"[bold]{escape(goal)}[/bold]"
        + _(": ")
        + least.format(
            resource=target["resource"],
            total=f"{target['total']:,.2f}",
            today=f"{target['total_today']:,.2f}",
            change=f"{target['change']:+,.2f}",
            capacity=f"{target['capacity']:,.2f}",
        )
        + _("; {kpi} {today} -> {proposed}").format(
            kpi=target["kpi"],
            today=f"{target['kpi_today']:.6g}",
            proposed=f"{target['kpi_proposed']:.6g}",
        )
    )
    table = Table(
        _("department"), _("current"), _("proposed"), _("change"), title=_("Least allocation")
    )
    for row in target["allocations"]:
        table.add_row(
            row["department"],
            f"{row['current']:,.2f}",
            f"{row['proposed']:,.2f}",
            f"{row['change']:+,.2f}",
        )
    console.print(table)


NOTES = (
    "KPI '{kpi}' has no positive target, so its attainment cannot be scored; it is left out of "
    "the objective",
    "department '{department}': KPI weights sum to 100, read as %",
    "the objective is not concave here (lower-is-better KPIs score target/value, or a curve is "
    "convex), so this is a local optimum, not necessarily the best possible",
    "no allocation found beats today's, so today's allocation is kept",
    "today's allocation breaks a constraint ({reason}); it is not a fallback",
    "the optimum is refused ({refusal}); this allocation goes {share} of the way there from "
    "today's, as far as the bound allows",
    "KPI '{kpi}' has no baseline and no response curve; it is assumed on target",
    "warning: the response curves of '{kpi}' predict {level} at today's amounts, {share} from "
    "its baseline {baseline}; check the curve (its intercept c) or the baseline",
    "no response curve links {departments} to a KPI through '{resource}', so their amounts are "
    "held at today's level",
    "the solver stopped after {iterations} iterations before reaching full accuracy; the answer "
    "is feasible but may be slightly short of the optimum",
    "amounts of stepped resources (whole units) are rounded from the continuous optimum and "
    "repaired greedily; they are optimal only up to that rounding",
    "no response curve links {departments} to a KPI through '{resource}', so the model sees no "
    "value in their amounts and cut them to make room; add curves or minimums to protect them",
    # the reasons today's allocation breaks a constraint, and why an optimum is refused
    "a department is below its minimum or not on a whole step",
    "a department is above what its pool can hold",
    "its total {total} is above {limit}",
    "a stepped resource is not on a whole step",
    "{department} would lose {share} of its bonus, more than --max-payout-loss {bound}",
)
"""The notes the optimiser writes (in English, values filled in), as the catalogue (cli.po)
has them with their values as ``{placeholders}``: a note is printed in the command's language
by matching it against these (:func:`alignment_engine.i18n.translate`)."""


def note_words(note: str) -> str:
    """An optimiser note in the command's language (itself when the catalogue has no match)."""
    from alignment_engine.i18n import translate

    return translate(note, among=NOTES, nested=lambda name: name in ("reason", "refusal"))


def _print_optimise_table(document: dict[str, Any]) -> None:
    from rich.table import Table

    from alignment_engine.cli.console import make_console

    console = make_console()
    console.print(
        f"[bold]{_(document['status'])}[/bold]"
        + _(": ")
        + _("objective {today} today -> {proposed} proposed ({method})").format(
            today=f"{document['objective_current']:.6f}",
            proposed=f"{document['objective']:.6f}",
            method=document.get("method", ""),
        )
    )
    table = Table(
        *(
            _(h)
            for h in (
                "resource", "department", "current", "proposed", "change", "bound",
                "marginal value / unit",
            )
        ),
        title=_("Suggested reallocation"),
    )  # fmt: skip
    for row in document["allocations"]:
        if row["bound"] == "fixed" and row["change"] == 0:
            continue
        table.add_row(
            row["resource"],
            row["department"],
            f"{row['current']:,.2f}",
            f"{row['proposed']:,.2f}",
            f"{row['change']:+,.2f}",
            value_word(row["bound"])
            + ((" " + _("(unstable)")) if row.get("direction_unstable") else ""),
            f"{row['marginal_value']:.3g}",
        )
    console.print(table)
    performance = Table(
        _("department"), _("today"), _("proposed"), title=_("Department performance")
    )
    for row in document.get("departments", []):
        performance.add_row(row["id"], f"{row['current']:.4f}", f"{row['proposed']:.4f}")
    console.print(performance)
    goals = Table(_("shared goal"), _("today"), _("proposed"), title=_("Shared-goal performance"))
    for row in document.get("shared_goals", []):
        goals.add_row(row["id"], f"{row['current']:.4f}", f"{row['proposed']:.4f}")
    console.print(goals)
    incentives = document.get("incentives")
    if incentives is not None:
        money = any(d["payout_today"] is not None for d in incentives["departments"])
        pay = Table(
            _("department"),
            _("today"),
            _("proposed"),
            _("change"),
            "",
            title=(
                _("Bonus under {policy} ({period}, {currency})")
                if money
                else _("Bonus under {policy} ({period}, payout factor)")
            ).format(
                policy=incentives["policy"],
                period=incentives["period"],
                currency=incentives.get("currency"),
            ),
        )
        for row in incentives["departments"]:
            key = "payout" if money else "factor"
            today, proposed = row[f"{key}_today"], row[f"{key}_proposed"]
            style = ",.2f" if money else ".4f"
            change = row["change"]
            pay.add_row(
                row["department"],
                format(today, style),
                format(proposed, style),
                _("n/a") if change is None else f"{change:+.1%}",
                _("loses bonus") if row["loses_bonus"] else "",
            )
        console.print(pay)
    for note in document.get("notes", []):
        console.print(_("note: {note}").format(note=note_words(note)))


@click.command()
@plan_argument
@click.option(
    "--resource",
    "resources",
    multiple=True,
    metavar="ID",
    help="Only move this resource (repeatable); the others stay as they are.",
)
@click.option(
    "--shared-weight",
    type=click.FloatRange(0, 1),
    default=0.3,
    show_default=True,
    help="s: weight of mean shared-goal performance against mean department performance.",
)
@click.option(
    "--balance",
    type=click.FloatRange(0, None),
    default=0.1,
    show_default=True,
    help="k: weight of the soft-min of department performance (protects the worst-off).",
)
@click.option(
    "--keep-total",
    is_flag=True,
    help="Keep each pool's total at today's instead of up to capacity.",
)
@click.option(
    "--increment",
    "increments",
    multiple=True,
    metavar="RESOURCE=AMOUNT",
    help="Allocate only new money: every department keeps today's amount of RESOURCE and "
    "AMOUNT more is shared out (repeatable; only these resources move).",
)
@click.option(
    "--frontier",
    metavar="RESOURCE",
    help="The budget frontier: the best objective at each total of RESOURCE, from the least "
    "to the most the departments' bounds allow (today's total among them).",
)
@click.option(
    "--frontier-points",
    type=click.IntRange(2, 100),
    default=9,
    show_default=True,
    help="How many totals --frontier tries.",
)
@click.option(
    "--chart",
    "chart_path",
    type=click.Path(path_type=Path),
    help="With --frontier: also write the frontier as an SVG chart to this file.",
)
@click.option(
    "--target",
    metavar="KPI=VALUE",
    help="Goal seeking: the least total of one resource (--resource when several move the "
    "KPI) that takes KPI to VALUE, within the departments' bounds.",
)
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(path_type=Path),
    help="Also report what the moves do to each department's bonus under this policy.",
)
@click.option(
    "--period",
    help="The period whose pay --policy scores (e.g. 2026); required with --policy.",
)
@click.option(
    "--employees",
    "employees_path",
    type=click.Path(path_type=Path),
    help="Employees (as for score): the bonus changes in money, not only as factors.",
)
@click.option(
    "--max-payout-loss",
    metavar="SHARE",
    help="No department may lose more than this share of its bonus (5% or 0.05); needs "
    "--policy. The proposal then goes as far towards the optimum as the bound allows.",
)
@click.option(
    "--history",
    "history",
    multiple=True,
    type=click.Path(path_type=Path),
    help="History files for curves marked 'fit: history' (KPI results and allocations).",
)
@format_option("table", "json")
@db_option
def optimise(
    plan_path: Path,
    resources: tuple[str, ...],
    shared_weight: float,
    balance: float,
    keep_total: bool,
    increments: tuple[str, ...],
    frontier: str | None,
    frontier_points: int,
    chart_path: Path | None,
    target: str | None,
    policy_path: Path | None,
    period: str | None,
    employees_path: Path | None,
    max_payout_loss: str | None,
    history: tuple[Path, ...],
    output_format: str,
    db_url: str | None,
) -> None:
    """Suggest a reallocation of the plan's resources that balances department performance
    against shared goals, within capacities, max_change bounds and minimums.

    Prints each move with its bound status and marginal value, the predicted KPI values, and the
    objective today and proposed. The answer is never worse than today's allocation.
    """
    from alignment_engine.engine import OptimiseOptions
    from alignment_engine.loading import plan_from_yaml
    from alignment_engine.pipeline import OptimiseRun

    plan = plan_from_yaml(plan_path)
    policy, employees, bound = _pay_inputs(policy_path, employees_path, max_payout_loss)
    results = amounts = None
    if history:
        # The history itself is stored with the run (not just its file names): reproducible.
        results, amounts = _history_tables(history)
    run = OptimiseRun(
        plan,
        OptimiseOptions(
            resources=resources or None,
            shared_weight=shared_weight,
            balance=balance,
            keep_total=keep_total,
            increments=_increments(increments),
            target=_target(target, increments, keep_total, policy_path),
            frontier=_frontier(
                frontier, frontier_points, chart_path, target, increments, keep_total, policy_path
            ),
        ),
        history_results=results,
        history_allocations=amounts,
        policy=policy,
        period=period,
        employees=employees,
        max_payout_loss=bound,
    )
    # Computed before the store opens: an infeasible problem is an error, not a stored run.
    result = run.compute()
    with open_store(db_url) as store:
        stored = store.record_or_reuse(run.record(), lambda run_id: run.output(result, run_id))
    if chart_path is not None:
        _write_chart(chart_path, json.loads(stored.result_json)["frontier"])
    if output_format == "json":
        echo_result(stored.result_json)
    else:
        shown = json.loads(stored.result_json)
        if "frontier" in shown:
            _print_frontier_table(shown["frontier"])
        elif "target" in shown:
            _print_target_table(shown["target"])
        else:
            _print_optimise_table(shown)


@click.command()
@plan_argument
@click.option(
    "--history",
    "history",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path),
    help="KPI history (period,scope,kpi,actual) and allocation history "
    "(period,department,resource,amount); repeat the option for each file.",
)
@click.option(
    "--write",
    "write_path",
    type=click.Path(path_type=Path),
    help="Write the plan with the fitted parameters filled in to this file.",
)
@format_option("table", "json")
def fit(
    plan_path: Path, history: tuple[Path, ...], write_path: Path | None, output_format: str
) -> None:
    """Fit the plan's response curves from history and report them with their uncertainty.

    Every curve is fitted (those with params too, to check them against history). Poor or
    degenerate fits are refused with the reason.
    """
    from alignment_engine import Plan
    from alignment_engine.loading import document_to_yaml, plan_from_yaml

    plan = plan_from_yaml(plan_path)
    unfitted = plan.model_copy(
        update={
            "response_curves": [
                c.model_copy(update={"params": None, "fit": "history"})
                for c in plan.response_curves
            ]
        }
    )
    fits = _fits(unfitted, history)
    rows = []
    for (kpi, resource, department), found in sorted(fits.items()):
        marginal = found.marginal_today
        rows.append(
            {
                "kpi": kpi,
                "resource": resource,
                "department": department,
                "shape": found.shape.value,
                "a": found.a,
                "b": found.b,
                "c": None if found.c != found.c else found.c,  # NaN: fitted without one
                "standard_errors": list(found.standard_errors),
                "r_squared": found.r_squared,
                "n_points": found.n_points,
                "marginal_today": None
                if marginal is None
                else {
                    "estimate": marginal.estimate,
                    "low": marginal.low,
                    "high": marginal.high,
                    "level": marginal.level,
                },
                "attempts": [
                    {
                        "shape": a.shape.value,
                        "aicc": a.aicc,
                        "r_squared": a.r_squared,
                        "refused": a.refused,
                    }
                    for a in found.attempts
                ],
            }
        )
    if write_path is not None:
        by_key = {(r["kpi"], r["resource"], r["department"]): r for r in rows}
        curves = []
        for curve in plan.response_curves:
            key = (curve.kpi, curve.resource, curve.department or plan.owner(curve.kpi))
            if key in by_key and curve.fit == "history":
                row = by_key[key]
                params = (
                    {"a": row["a"]} if row["shape"] == "linear" else {"a": row["a"], "b": row["b"]}
                )
                if row["c"] is not None:
                    params["c"] = row["c"]
                curve = curve.model_copy(
                    update={
                        "shape": row["shape"],
                        "params": params,
                        "fit": None,
                        "intercept": False,
                    }
                )
            curves.append(curve)
        fitted = Plan.model_validate(
            plan.model_copy(update={"response_curves": curves}).model_dump(by_alias=True)
        )
        from alignment_engine.outputs import write_atomically

        def write_plan(path: Path) -> None:
            path.write_text(document_to_yaml(fitted), encoding="utf-8")

        write_atomically(write_path.parent, {write_path.name: write_plan})
    if output_format == "json":
        click.echo(dumps({"fits": rows}))
        return
    from rich.table import Table

    from alignment_engine.cli.console import make_console

    table = Table(
        _("KPI"),
        _("resource"),
        _("department"),
        _("shape"),
        "a",
        "b",
        "R²",
        _("marginal today (90% interval)"),
        title=_("Fitted response curves"),
    )
    for row in rows:
        m = row["marginal_today"]
        interval = "-" if m is None else f"{m['estimate']:.3g} [{m['low']:.3g}, {m['high']:.3g}]"
        table.add_row(
            row["kpi"],
            row["resource"],
            row["department"],
            value_word(row["shape"]),
            f"{row['a']:.4g}",
            f"{row['b']:.4g}",
            f"{row['r_squared']:.3f}",
            interval,
        )
    make_console().print(table)
    if write_path is not None:
        click.echo(_("wrote {files}").format(files=write_path))


COMMANDS = [optimise, fit]
