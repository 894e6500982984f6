"""``statements``: payee statements and the payroll export, from a stored score run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from alignment_engine.cli.storage import db_option, open_store
from alignment_engine.i18n import _
from alignment_engine.outputs import ensure_writable

__all__ = ["COMMANDS"]

MAX_STATEMENTS = 50_000
"""More statements than this in one go need --department or --employee (one file each)."""


@click.command()
@click.argument("run_id", metavar="RUN_ID")
@click.option(
    "--out", "out_dir", required=True, type=click.Path(path_type=Path), help="Write them here."
)
@click.option(
    "--employee",
    "employee_ids",
    multiple=True,
    metavar="ID",
    help="Only this employee (repeatable).",
)
@click.option("--department", help="Only this department's employees.")
@db_option
def statements(
    run_id: str,
    out_dir: Path,
    employee_ids: tuple[str, ...],
    department: str | None,
    db_url: str | None,
) -> None:
    """Write each employee's printable statement (statement-ID.html) and the payroll export
    (payroll.csv: employee, name, department, any cost centre, grade and x_ columns, currency,
    amount) of a stored score run.

    The run is scored again from its stored inputs and every payout checked against the
    stored one to the cent, so a statement says exactly what the run paid.
    """
    import pandas as pd

    from alignment_engine import did_you_mean
    from alignment_engine.errors import InputError
    from alignment_engine.outputs import write_atomically, write_table
    from alignment_engine.pipeline import ScoreRun
    from alignment_engine.reports.statements import statement_html
    from alignment_engine.tables import EMPLOYEES

    ensure_writable(out_dir)
    with open_store(db_url) as store:
        inputs = store.run_inputs(run_id)
        run = inputs.run
        if run.kind.value != "score" or "employees" not in inputs.tables:
            raise InputError(
                f"run {run.id} is a {run.kind.value} run without payouts; statements come "
                "from a score run with employees"
            )
        stored = store.payouts(run.id)
        employees_table = inputs.tables["employees"].frame()
    scored = ScoreRun.from_stored(inputs)
    result = scored.compute()
    department_names = scored.plan.department_names()
    derived = result.employees.units
    if len(derived) != len(stored) or not bool(
        (derived == stored["payout_units"].to_numpy()).all()
    ):
        raise InputError(
            f"run {run.id} cannot be restated as statements by this engine: its payouts differ "
            "from the stored ones",
            suggestion=f"`alignment-engine runs replay {run.id}` shows what changed",
        )
    ids = [str(e) for e in result.employees.employee_id]
    names = (
        dict(zip(employees_table["employee_id"], employees_table["name"], strict=True))
        if "name" in employees_table.columns
        else {}
    )
    departments = [result.factors.department_ids[d] for d in result.employees.department]
    chosen = list(range(len(ids)))
    if employee_ids:
        position = {e: i for i, e in enumerate(ids)}
        unknown = [e for e in employee_ids if e not in position]
        if unknown:
            raise InputError(
                f"no employee '{unknown[0]}' in run {run.id}",
                key="employee",
                suggestion=did_you_mean(unknown[0], ids[:100_000]),
            )
        chosen = [position[e] for e in dict.fromkeys(employee_ids)]
    if department is not None:
        known = sorted(set(departments))
        if department not in known:
            raise InputError(
                f"run {run.id} pays no employee of department '{department}'",
                key="department",
                suggestion=did_you_mean(department, known),
            )
        chosen = [i for i in chosen if departments[i] == department]
    if len(chosen) > MAX_STATEMENTS:
        raise InputError(
            f"{len(chosen):,} statements in one go; at most {MAX_STATEMENTS:,}",
            suggestion="choose them with --department or --employee (payroll.csv has everyone)",
        )
    settings = result.settings
    writers: dict[str, Callable[[Path], None]] = {}
    for index in chosen:
        explanation = result.explanation(index, "full")
        assert explanation is not None  # a full explanation is always made
        page = statement_html(
            employee_id=ids[index],
            name=names.get(ids[index]) or None,
            explanation=explanation,
            run_id=run.id,
            period=result.period,
            plan=result.plan_id,
            policy=result.policy_id,
            currency=settings.currency,
            decimals=settings.decimals,
            payout_units=int(derived[index]),
            department_names=department_names,
        )
        writers[f"statement-{_file_name(ids[index])}.html"] = _text(page)
    payroll = pd.DataFrame(
        {
            "employee_id": ids,
            "name": [names.get(e, "") for e in ids],
            "department": departments,
            "currency": result.pay_currencies(),
            "amount": result.paid_now_texts(),
        }
    )
    for column in EMPLOYEES.carried_in(employees_table.columns):  # cost centre, grade, x_...
        by_id = dict(zip(employees_table["employee_id"], employees_table[column], strict=True))
        payroll.insert(len(payroll.columns) - 2, column, [by_id.get(e, "") for e in ids])
    writers["payroll.csv"] = lambda path: write_table(payroll, path, "csv")
    written = write_atomically(out_dir, writers)
    click.echo(
        _(
            "wrote {statements} statements and payroll.csv ({employees} employees) to "
            "{folder}/ ({files} files)"
        ).format(
            statements=f"{len(chosen):,}",
            employees=f"{len(ids):,}",
            folder=out_dir,
            files=len(written),
        )
    )


def _file_name(employee_id: str) -> str:
    """A file name for an id: path separators and other unsafe characters become '_'."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in employee_id).lstrip(".") or "_"


def _text(page: str) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_text(page, encoding="utf-8")

    return write


COMMANDS: list[Any] = [statements]
