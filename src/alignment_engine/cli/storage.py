"""``db``, ``runs``, ``tokens`` and ``audit``: the storage and audit commands.

Every command takes ``--db URL`` (else ``ALIGNMENT_DB_URL``, else ``./alignment-engine.db``).
The storage package is imported inside the commands so ``alignment-engine --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, TypeVar

import click

from alignment_engine.cli.options import format_option as shared_format_option
from alignment_engine.errors import InputError
from alignment_engine.i18n import _

if TYPE_CHECKING:
    from alignment_engine.storage import RunDiff, Store, StoredRun

__all__ = ["COMMANDS", "db_option", "open_store"]

F = TypeVar("F", bound=Callable[..., Any])

RUN_KINDS = ("check", "score", "scorecard", "optimise", "scenario", "simulate")
RUN_STATUSES = ("completed", "approved", "failed", "final", "superseded")
TOKEN_ROLES = ("admin", "hr", "planner", "service")
_TABLE_ROWS = 50


def db_option(function: F) -> F:
    """The ``--db URL`` option, for every command that reads or writes runs."""
    option = click.option(
        "--db",
        "db_url",
        metavar="URL",
        default=None,
        help="Database URL (sqlite:///PATH, a file path, or postgresql://...). "
        "Default: $ALIGNMENT_DB_URL, else ./alignment-engine.db.",
    )
    return option(function)


format_option = shared_format_option()


def open_store(db_url: str | None) -> Store:
    """The store the command should use (SQLite files are upgraded on the spot)."""
    from alignment_engine.storage import Store

    return Store.open(db_url)


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def echo_result(text: str) -> None:
    """Print a result exactly as it was stored (one final newline).

    Written as UTF-8 bytes: a large check's 360 MB of JSON took 2.9 s through the text layer
    (``click.echo``), 0.4 s this way."""
    ending = "" if text.endswith("\n") else "\n"
    stream = sys.stdout
    binary = getattr(stream, "buffer", None)
    if binary is None:
        stream.write(text + ending)
    else:
        stream.flush()  # what the text layer holds goes first
        binary.write(text.encode("utf-8"))
        binary.write(ending.encode())
        binary.flush()
    stream.flush()


def _console() -> Any:
    from alignment_engine.cli.console import make_console

    return make_console()


def _when(value: Any) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


# -- db ---------------------------------------------------------------------------------------


@click.group()
def db() -> None:
    """Create and upgrade the database of runs, tokens and the audit log."""


@db.command("upgrade")
@db_option
def db_upgrade(db_url: str | None) -> None:
    """Create or upgrade the database schema to this engine's version.

    Needed once for a new PostgreSQL database and after upgrading alignment-engine; SQLite
    files are upgraded automatically when opened.
    """
    from alignment_engine.storage import Store

    with Store.open(db_url, check_schema=False) as store:
        before, after = store.upgrade()
        if before == after:
            click.echo(
                _("{database}: already at schema revision {revision}").format(
                    database=store.where, revision=after
                )
            )
        else:
            click.echo(
                _("{database}: upgraded from {before} to revision {revision}").format(
                    database=store.where, before=before or _("empty"), revision=after
                )
            )


@db.command("status")
@db_option
def db_status(db_url: str | None) -> None:
    """Show which database is used and whether its schema is up to date."""
    from alignment_engine.storage import Store

    with Store.open(db_url, check_schema=False) as store:
        state = store.schema_state()
        if state.up_to_date:
            verdict = _("up to date")
        elif store.upgrades_itself(state):
            verdict = _(
                "upgraded automatically on first use (or now by `alignment-engine db upgrade`)"
            )
        else:
            verdict = _("needs `alignment-engine db upgrade`")
        click.echo(_("database: {database}").format(database=store.where))
        click.echo(
            _("revision: {current} (this engine: {head}), {verdict}").format(
                current=state.current or _("none"), head=state.head, verdict=verdict
            )
        )


@db.command("settings")
@click.option(
    "--require-approval",
    type=click.Choice(["yes", "no"]),
    help="yes: a run is final only once someone other than its maker approved it "
    "(`runs approve`); no (the default): `runs finalise` alone.",
)
@click.option("--by", "actor", metavar="NAME", help="Who changes it (recorded; default: you).")
@db_option
def db_settings(require_approval: str | None, actor: str | None, db_url: str | None) -> None:
    """Show this database's settings, or change one (audited)."""
    with open_store(db_url) as store:
        if require_approval is not None:
            value = "true" if require_approval == "yes" else "false"
            settings = store.set_setting("require_approval", value, actor)
        else:
            settings = store.settings()
    for key, value in settings.items():
        click.echo(f"{key}: {value}")


# -- runs -------------------------------------------------------------------------------------


@click.group()
def runs() -> None:
    """List, show, compare, approve, finalise and export recorded runs."""


@runs.command("list")
@click.option("--kind", type=click.Choice(RUN_KINDS), help="Only runs of this kind.")
@click.option("--period", help="Only runs for this period (e.g. 2026-Q3).")
@click.option("--status", type=click.Choice(RUN_STATUSES), help="Only runs with this status.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many (newest first).")
@format_option
@db_option
def runs_list(
    kind: str | None,
    period: str | None,
    status: str | None,
    limit: int | None,
    output_format: str,
    db_url: str | None,
) -> None:
    """List recorded runs, newest first."""
    with open_store(db_url) as store:
        found = store.list_runs(kind=kind, period=period, status=status, limit=limit)
    if output_format == "json":
        _echo_json({"runs": [run.to_dict() for run in found]})
        return
    from rich.table import Table

    table = Table()
    for name in ("id", "kind", "status", "period", "finished (UTC)", "actor", "run hash"):
        table.add_column(name, no_wrap=name in ("id", "run hash", "period"))
    for run in found:
        table.add_row(
            run.id,
            run.kind.value,
            run.status.value,
            run.period or "",
            _when(run.finished_at),
            run.actor,
            run.run_hash[:12],
        )
    console = _console()
    console.print(table)
    console.print(f"{len(found)} run{'s' if len(found) != 1 else ''}")


@runs.command("show")
@click.argument("run_id", metavar="ID")
@click.option(
    "--explain",
    "explain_id",
    metavar="EMPLOYEE_ID",
    help="A score run: how this employee's payout was computed, step by step, derived from "
    "the run's stored inputs (and checked against the stored payout to the cent).",
)
@format_option
@db_option
def runs_show(run_id: str, explain_id: str | None, output_format: str, db_url: str | None) -> None:
    """Show a run. With --format json, print its result exactly as the command printed it.

    ID may be a unique prefix of at least 4 characters.
    """
    if explain_id is not None:
        _explain(run_id, explain_id, output_format, db_url)
        return
    with open_store(db_url) as store:
        run = store.get_run(run_id)
    if output_format == "json":
        echo_result(run.result_json)
        return
    _print_run(run)


def _explain(run_id: str, employee_id: str, output_format: str, db_url: str | None) -> None:
    from alignment_engine.cli.explain import render_explanation
    from alignment_engine.replay import explain_payout

    with open_store(db_url) as store:
        explanation = explain_payout(store, run_id, employee_id)
    if output_format == "json":
        _echo_json(explanation)
    else:
        click.echo(render_explanation(explanation, employee_id, explanation["currency"]))


def _print_run(run: StoredRun) -> None:
    from rich.table import Table

    console = _console()
    details = Table("field", "value", title=f"Run {run.id}", show_header=False)
    rows: Sequence[tuple[str, str]] = (
        ("kind", run.kind.value),
        ("status", run.status.value),
        ("period", run.period or ""),
        ("actor", run.actor),
        ("started (UTC)", _when(run.started_at)),
        ("finished (UTC)", _when(run.finished_at)),
        ("approved", f"{_when(run.approved_at)} by {run.approved_by}"),
        ("final since", f"{_when(run.finalised_at)} by {run.finalised_by}"),
        ("engine version", run.engine_version),
        ("run hash", run.run_hash),
        ("options", json.dumps(run.options, ensure_ascii=False, sort_keys=True)),
        ("result", f"{run.result_size} bytes, sha256 {run.result_hash[:12]} (--format json)"),
    )
    for name, value in rows:
        if name == "final since" and run.finalised_at is None:
            continue
        if name == "approved" and run.approved_at is None:
            continue
        details.add_row(name, value)
    console.print(details)
    inputs = Table("role", "input", "sha256", title="Inputs")
    for role, digest in run.documents.items():
        inputs.add_row(role, "document", digest)
    for role, digest in run.tables.items():
        inputs.add_row(role, "table", digest)
    console.print(inputs)


@runs.command("diff")
@click.argument("run_a", metavar="A")
@click.argument("run_b", metavar="B")
@format_option
@db_option
def runs_diff(run_a: str, run_b: str, output_format: str, db_url: str | None) -> None:
    """What changed from run A to run B.

    Score runs: payout changes per employee and the totals. Check runs: findings added and
    removed. Other runs: every value of the result that changed.
    """
    with open_store(db_url) as store:
        difference = store.diff(run_a, run_b)
    if output_format == "json":
        _echo_json(difference.to_dict())
        return
    _print_diff(difference)


def _print_diff(difference: RunDiff) -> None:
    from rich.table import Table

    console = _console()
    console.print(f"[bold]{difference.a}[/bold] -> [bold]{difference.b}[/bold] ({difference.kind})")
    if difference.payouts is not None:
        employees = difference.payouts["employees"]
        table = Table("employee", "department", "A", "B", "change", "", title="Payout changes")
        for item in employees[:_TABLE_ROWS]:
            table.add_row(
                item["employee_id"],
                item["department"],
                _amount(item["a"]),
                _amount(item["b"]),
                _amount(item["delta"]),
                item["status"],
            )
        console.print(table)
        if len(employees) > _TABLE_ROWS:
            console.print(f"... and {len(employees) - _TABLE_ROWS} more (--format json for all)")
        totals = difference.payouts["totals"]
        console.print(
            f"total payout: {_amount(totals['a'])} -> {_amount(totals['b'])} "
            f"({_amount(totals['delta'], signed=True)}); {totals['changed']} changed, "
            f"{totals['added']} added, {totals['removed']} removed"
        )
    if difference.findings is not None:
        table = Table("", "rule", "severity", "message", title="Findings")
        for mark, key in (("+", "added"), ("-", "removed")):
            for finding in difference.findings[key]:
                table.add_row(
                    mark,
                    str(finding.get("rule", "")),
                    str(finding.get("severity", "")),
                    str(finding.get("message", "")),
                )
        console.print(table)
        console.print(
            f"{len(difference.findings['added'])} added, "
            f"{len(difference.findings['removed'])} removed, "
            f"{difference.findings['unchanged']} unchanged"
        )
    if difference.changes:
        table = Table("path", "A", "B", title="Result changes")
        for change in difference.changes[:_TABLE_ROWS]:
            table.add_row(change["path"], _cell(change, "a"), _cell(change, "b"))
        console.print(table)
        if len(difference.changes) > _TABLE_ROWS:
            more = len(difference.changes) - _TABLE_ROWS
            console.print(f"... and {more} more (--format json for all)")
    if difference.identical:
        console.print("no differences")


def _amount(value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return ""
    return f"{value:+,.2f}" if signed else f"{value:,.2f}"


_CELL_CHARACTERS = 120


def _cell(change: dict[str, Any], side: str) -> str:
    """One side of a change, cut short: a change may be a whole subtree (a run of another kind
    has no `employees` at all), which printed in full ran to 95,000 lines."""
    if side not in change:
        return "(absent)"
    text = json.dumps(change[side], ensure_ascii=False)
    if len(text) <= _CELL_CHARACTERS:
        return text
    value = change[side]
    size = f" ({len(value)} items)" if isinstance(value, list | dict) else ""
    return f"{text[: _CELL_CHARACTERS - 1]}…{size}"


@runs.command("approve")
@click.argument("run_id", metavar="ID")
@click.option("--by", "approver", metavar="NAME", help="Who approves (recorded; default: you).")
@db_option
def runs_approve(run_id: str, approver: str | None, db_url: str | None) -> None:
    """Approve a run of a period for finalising (maker-checker).

    The approver must not be the run's maker (its actor). Where the database requires
    approval (`db settings --require-approval yes`) only an approved run can be final.
    """
    with open_store(db_url) as store:
        run = store.approve(run_id, approver)
    click.echo(
        f"run {run.id} ({run.kind.value} {run.period}) approved by {run.approved_by}; "
        f"`alignment-engine runs finalise {run.id}` makes it final"
    )


@runs.command("finalise")
@click.argument("run_id", metavar="ID")
@click.option("--by", "actor", metavar="NAME", help="Who finalises (recorded; default: you).")
@db_option
def runs_finalise(run_id: str, actor: str | None, db_url: str | None) -> None:
    """Mark a run final for its period: no later run of that kind and period may replace it.

    Scoring the period again with identical inputs returns the final run; with different
    inputs it is refused (a correction is a restatement: `score --restates ID`). Where the
    database requires approval, the run must be approved first (`runs approve`).
    """
    with open_store(db_url) as store:
        run = store.finalise(run_id, actor)
    click.echo(
        _("run {run} is final for {kind} {period}").format(
            run=run.id, kind=run.kind.value, period=run.period
        )
    )


@runs.command("replay")
@click.argument("run_id", metavar="ID")
@format_option
@db_option
def runs_replay(run_id: str, output_format: str, db_url: str | None) -> None:
    """Compute a stored run again from the database alone and compare with what it printed.

    Exits 0 when the replayed result equals the stored one byte for byte, 1 when it differs
    (the difference is printed). Covers check, score and optimise runs.
    """
    from alignment_engine.replay import replay_run

    with open_store(db_url) as store:
        replay = replay_run(store, run_id)
    if output_format == "json":
        click.echo(json.dumps(replay.to_dict(), indent=2, ensure_ascii=False))
    elif replay.identical:
        click.echo(
            _("run {run} ({kind}) replayed from the database: identical, {size} bytes").format(
                run=replay.run_id, kind=replay.kind, size=f"{len(replay.stored_json.encode()):,}"
            )
        )
    else:
        click.echo(
            _("run {run} ({kind}) replayed: DIFFERENT").format(run=replay.run_id, kind=replay.kind)
        )
        click.echo(replay.difference())
    if not replay.identical:
        sys.exit(1)


@runs.command("export")
@click.argument("run_id", metavar="ID")
@click.argument("directory", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@db_option
def runs_export(run_id: str, directory: Path, db_url: str | None) -> None:
    """Write everything a run read and printed to DIR, from the database alone.

    DIR/run.json (what, when, who, options), DIR/result.json (the exact output), one JSON file
    per document (plan.json, policy.json, ...) and one CSV file per table (employees.csv, ...).
    """
    with open_store(db_url) as store:
        inputs = store.run_inputs(run_id)
    files: dict[str, bytes] = {
        "run.json": (
            json.dumps(inputs.run.to_dict(), indent=2, ensure_ascii=False) + "\n"
        ).encode(),
        "result.json": inputs.run.result_json.encode("utf-8"),
    }
    for role, document in inputs.documents.items():
        text = json.dumps(document.content, indent=2, ensure_ascii=False) + "\n"
        files[_export_name(role, ".json")] = text.encode("utf-8")
    for role, table in inputs.tables.items():
        files[_export_name(role, ".csv")] = table.data
    for name, data in files.items():
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    click.echo(
        _("wrote {count} files for run {run} to {folder}").format(
            count=len(files), run=inputs.run.id, folder=directory
        )
    )


def _export_name(role: str, suffix: str) -> str:
    parts = PurePosixPath(role).parts
    if not parts or PurePosixPath(role).is_absolute() or ".." in parts:
        raise InputError(f"cannot export an input with the role {role!r} as a file name")
    return role + suffix


# -- tokens -----------------------------------------------------------------------------------


@click.group()
def tokens() -> None:
    """Create, list and revoke the bearer tokens of the HTTP decision service."""


@tokens.command("create")
@click.option("--name", required=True, help="Who or what uses the token (unique).")
@click.option("--role", required=True, type=click.Choice(TOKEN_ROLES), help="What it may do.")
@db_option
def tokens_create(name: str, role: str, db_url: str | None) -> None:
    """Create a token and print it on the last line. It is shown only this once."""
    with open_store(db_url) as store:
        token = store.create_token(name, role)
    click.echo(
        f"created token {name!r} with role {role}; it is shown once, store it now:", err=True
    )
    click.echo(token)


@tokens.command("list")
@format_option
@db_option
def tokens_list(output_format: str, db_url: str | None) -> None:
    """List tokens (names, roles, dates; never the tokens themselves)."""
    with open_store(db_url) as store:
        found = store.list_tokens()
    if output_format == "json":
        _echo_json({"tokens": [token.to_dict() for token in found]})
        return
    from rich.table import Table

    table = Table("name", "role", "created (UTC)", "by", "revoked (UTC)")
    for token in found:
        table.add_row(
            token.name,
            token.role,
            _when(token.created_at),
            token.created_by,
            _when(token.revoked_at),
        )
    _console().print(table)


@tokens.command("revoke")
@click.argument("name")
@db_option
def tokens_revoke(name: str, db_url: str | None) -> None:
    """Revoke a token by name; requests with it are refused from now on."""
    with open_store(db_url) as store:
        token = store.revoke_token(name)
    click.echo(_("token {name} revoked").format(name=repr(token.name)))


# -- audit ------------------------------------------------------------------------------------


@click.command()
@click.option("--action", help="Only this action (run.created, run.finalised, token.created...).")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@format_option
@db_option
def audit(action: str | None, limit: int, output_format: str, db_url: str | None) -> None:
    """Who did what, when: runs recorded and finalised, tokens created and revoked."""
    with open_store(db_url) as store:
        entries = store.audit_log(limit=limit, action=action)
    if output_format == "json":
        _echo_json({"entries": [entry.to_dict() for entry in entries]})
        return
    from rich.table import Table

    table = Table("at (UTC)", "actor", "action", "subject", "details")
    for entry in entries:
        table.add_row(
            _when(entry.at),
            entry.actor,
            entry.action,
            entry.subject or "",
            json.dumps(entry.details, ensure_ascii=False, sort_keys=True),
        )
    _console().print(table)


db_group = db
runs_group = runs
tokens_group = tokens

COMMANDS: list[click.Command] = [db_group, runs_group, tokens_group, audit]
