"""``validate`` and ``schema``: is a file right, and what may it contain?"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from alignment_engine.cli.options import format_option, plan_argument
from alignment_engine.i18n import _
from alignment_engine.loading import DOCUMENT_KINDS


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@format_option("text", "json", help="Human text, or JSON for tools.")
def validate(paths: tuple[Path, ...], output_format: str) -> None:
    """Validate plan, policy, rules and scenario files (or every YAML file in folders).

    Exits 0 when every file is valid, 2 otherwise. Each problem names the file, line, column
    and key, with a suggestion where one exists.
    """
    from alignment_engine.cli.error_messages import problem_text
    from alignment_engine.validation import validate_paths

    report = validate_paths(paths)
    if output_format == "json":
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        for file in report.files:
            if file.valid:
                click.echo(
                    _("ok      {path}  ({kind} '{id}')").format(
                        path=file.path, kind=file.kind, id=file.id
                    )
                )
            else:
                click.echo(_("invalid {path}").format(path=file.path))
                for problem in file.problems:
                    click.echo(f"  {problem_text(problem)}", err=True)
        summary = report.to_dict()["summary"]
        click.echo(
            _("{valid} of {files} files valid").format(
                valid=summary["valid"], files=summary["files"]
            )
        )
    if not report.files:
        raise click.UsageError("no YAML files found in the paths given")
    if not report.valid:
        raise SystemExit(2)


@click.command()
@click.argument("kind", type=click.Choice(sorted(DOCUMENT_KINDS)))
def schema(kind: str) -> None:
    """Print the JSON Schema of a file kind (for editors and other tools)."""
    from alignment_engine.schemas import schema_for

    click.echo(json.dumps(schema_for(kind), indent=2, ensure_ascii=False))


@click.command()
@plan_argument
def summary(plan_path: Path) -> None:
    """Summarise a plan: objectives by perspective, departments, KPIs, goals and resources."""
    from rich.table import Table

    from alignment_engine.cli.console import make_console
    from alignment_engine.loading import plan_from_yaml

    plan = plan_from_yaml(plan_path)
    console = make_console()
    console.print(
        f"[bold]{plan.name or plan.id}[/bold] ({plan.id}, {plan.currency}, "
        f"{_('fiscal year')} {plan.fiscal_year})"
    )
    perspectives = Table(_("perspective"), _("objectives"), title=_("Strategy map"))
    for perspective in ("financial", "customer", "internal_process", "learning_growth"):
        names = [o.id for o in plan.objectives if o.perspective.value == perspective]
        label = perspective.replace("_", " ").capitalize()
        perspectives.add_row(_(label), ", ".join(names))
    console.print(perspectives)
    departments = Table(
        *(_(h) for h in ("department", "KPIs", "short", "long", "shared goals")),
        title=_("Departments"),
    )
    for department in plan.departments:
        goals = [g.id for g in plan.shared_goals if department.id in g.departments]
        short = sum(1 for k in department.kpis if k.horizon.value == "short")
        departments.add_row(
            f"{department.id} {department.name}",
            str(len(department.kpis)),
            str(short),
            str(len(department.kpis) - short),
            ", ".join(goals),
        )
    console.print(departments)
    from alignment_engine.engine import pool_totals

    resources = Table(
        *(_(h) for h in ("resource", "unit", "capacity", "allocated", "demanded")),
        title=_("Resources"),
    )
    # Demand as `check` counts it: a department without a stated demand wants its allocation.
    for resource, total in zip(plan.resources, pool_totals(plan), strict=True):
        resources.add_row(
            resource.id,
            resource.unit,
            f"{resource.capacity:,.0f}",
            f"{total.allocated:,.0f}",
            f"{total.demanded:,.0f}",
        )
    console.print(resources)
    if plan.resources:
        console.print(
            _(
                "demanded: what departments ask for; one without a stated demand wants its "
                "allocation"
            )
        )
    kpi_count = sum(len(d.kpis) for d in plan.departments)
    console.print(
        _(
            "{metrics} metrics, {influences} influences, {company} company KPIs, "
            "{department} department KPIs, {goals} shared goals, {curves} response curves"
        ).format(
            metrics=len(plan.metrics),
            influences=len(plan.influences),
            company=len(plan.company_kpis),
            department=kpi_count,
            goals=len(plan.shared_goals),
            curves=len(plan.response_curves),
        )
    )


@click.command()
@click.argument("folder", metavar="DIR", type=click.Path(path_type=Path))
@click.option(
    "--period",
    "period_of",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="A day in the quarter the starter actuals are for (default: today).",
)
def init(folder: Path, period_of: datetime | None) -> None:
    """Write a starter company into DIR: a commented plan and policy, a quarter's actuals, an
    employees table and a README with the commands to run on them. They validate, check and
    score as they are; replace the numbers with your own.

    DIR must be new or empty: nothing is overwritten. Exits 2 otherwise."""
    from alignment_engine.errors import InputError
    from alignment_engine.outputs import text_writer, write_atomically
    from alignment_engine.starter import starter_files

    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InputError(
            "is not an empty folder: init never overwrites anything",
            file=str(folder),
            suggestion="name a new folder, e.g. alignment-engine init my-company",
        )
    files = starter_files((period_of or datetime.now()).date())
    write_atomically(folder, {name: text_writer(text) for name, text in files.items()})
    click.echo(_("wrote {files}").format(files=", ".join(str(folder / name) for name in files)))
    click.echo(
        _("next: cd {folder} and follow README.md (alignment-engine validate *.yaml)").format(
            folder=folder
        )
    )


COMMANDS = [validate, schema, summary, init]
