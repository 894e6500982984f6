"""``db``, ``runs``, ``tokens`` and ``audit``: the storage and audit commands.

Every command takes ``--db URL`` (else ``ALIGNMENT_DB_URL``, else ``./alignment-engine.db``).
The storage package is imported inside the commands so ``alignment-engine --help`` stays fast.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, TypeVar

import click

from alignment_engine.cli.options import format_option as shared_format_option
from alignment_engine.cli.words import value_word
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


def echo_result(text: str | bytes) -> None:
    """Print a result exactly as it was stored (one final newline).

    Written as UTF-8 bytes: a large check's 360 MB of JSON took 2.9 s through the text layer
    (``click.echo``), 0.4 s this way (none to encode when it is given as bytes)."""
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    ending = b"" if data.endswith(b"\n") else b"\n"
    stream = sys.stdout
    binary = getattr(stream, "buffer", None)
    if binary is None:
        stream.write((data + ending).decode("utf-8"))
    else:
        stream.flush()  # what the text layer holds goes first
        binary.write(data)
        binary.write(ending)
        binary.flush()
    stream.flush()


def _console() -> Any:
    from alignment_engine.cli.console import make_console

    return make_console()


NARROW_RUNS = 110
NARROW_AUDIT = 120
"""Below this many columns the audit table keeps three columns (the details need the room)."""
"""`runs list` on a console narrower than this puts kind over status and time under date."""


def _when(value: Any) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


def _status(value: str) -> str:
    """A run's status as people read it in the language (``--format json`` keeps the value)."""
    words = {
        "completed": _("completed"),
        "approved": _("approved"),
        "failed": _("failed"),
        "final": _("final"),
        "superseded": _("superseded"),
    }
    return words.get(value, value)


def _truth(value: str) -> str:
    """``true`` / ``false`` (a setting's value, a flag of an audit entry) in the language."""
    return {"true": _("true"), "false": _("false")}.get(value, value)


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
    names = {"require_approval": _("require_approval")}
    for key, value in settings.items():
        click.echo(_("{key}: {value}").format(key=names.get(key, key), value=_truth(value)))


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

    console = _console()
    # An 80-column terminal fits every column once kind shares one with status and the time
    # goes under the date: nothing is cut to an ellipsis.
    narrow = console.width < NARROW_RUNS
    table = Table()
    columns = [(_("id"), True)]
    columns += (
        [(_("kind") + "\n" + _("status"), False)]
        if narrow
        else [(_("kind"), False), (_("status"), False)]
    )
    columns += [(_("period"), True), (_("finished (UTC)"), not narrow)]
    columns += [(_("actor"), False), (_("run hash"), True)]
    least = {_("finished (UTC)"): 10, _("actor"): 6}  # a date is never folded mid-way
    for name, whole in columns:
        table.add_column(name, no_wrap=whole, overflow="fold", min_width=least.get(name))
    for run in found:
        when = _when(run.finished_at)
        kind_and_status = (
            [f"{run.kind.value}\n{_status(run.status.value)}"]
            if narrow
            else [
                run.kind.value,
                _status(run.status.value),
            ]
        )
        table.add_row(
            run.id,
            *kind_and_status,
            run.period or "",
            when.replace(" ", "\n") if narrow else when,
            run.actor,
            run.run_hash[:12],
        )
    console.print(table)
    count = _("{count} run") if len(found) == 1 else _("{count} runs")
    console.print(count.format(count=len(found)))


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
        echo_result(run.result_bytes)
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
    details = Table("field", "value", title=_("Run {run}").format(run=run.id), show_header=False)
    by = _("{when} by {who}")
    rows: list[tuple[str, str]] = [
        (_("kind"), run.kind.value),
        (_("status"), _status(run.status.value)),
        (_("period"), run.period or ""),
        (_("actor"), run.actor),
        (_("started (UTC)"), _when(run.started_at)),
        (_("finished (UTC)"), _when(run.finished_at)),
    ]
    if run.approved_at is not None:
        rows.append((_("approved"), by.format(when=_when(run.approved_at), who=run.approved_by)))
    if run.finalised_at is not None:
        rows.append(
            (_("final since"), by.format(when=_when(run.finalised_at), who=run.finalised_by))
        )
    rows += [
        (_("engine version"), run.engine_version),
        (_("run hash"), run.run_hash),
        (_("options"), json.dumps(run.options, ensure_ascii=False, sort_keys=True)),
        (
            _("result"),
            _("{size} bytes, sha256 {hash} (--format json)").format(
                size=run.result_size, hash=run.result_hash[:12]
            ),
        ),
    ]
    for name, value in rows:
        details.add_row(name, value)
    console.print(details)
    inputs = Table(_("role"), _("input"), "sha256", title=_("Inputs"))
    for role, digest in run.documents.items():
        inputs.add_row(role, _("document"), digest)
    for role, digest in run.tables.items():
        inputs.add_row(role, _("table"), digest)
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
    kind = _("mixed") if difference.kind == "mixed" else difference.kind
    console.print(
        _("{a} -> {b} ({kind})").format(
            a=f"[bold]{difference.a}[/bold]", b=f"[bold]{difference.b}[/bold]", kind=kind
        )
    )
    more = _("... and {count} more (--format json for all)")
    if difference.payouts is not None:
        employees = difference.payouts["employees"]
        states = {"changed": _("changed"), "added": _("added"), "removed": _("removed")}
        table = Table(
            _("employee"), _("department"), "A", "B", _("change"), "", title=_("Payout changes")
        )
        for item in employees[:_TABLE_ROWS]:
            table.add_row(
                item["employee_id"],
                item["department"],
                _amount(item["a"]),
                _amount(item["b"]),
                _amount(item["delta"]),
                states.get(item["status"], item["status"]),
            )
        console.print(table)
        if len(employees) > _TABLE_ROWS:
            console.print(more.format(count=len(employees) - _TABLE_ROWS))
        totals = difference.payouts["totals"]
        console.print(
            _(
                "total payout: {a} -> {b} ({delta}); {changed} changed, {added} added, "
                "{removed} removed"
            ).format(
                a=_amount(totals["a"]),
                b=_amount(totals["b"]),
                delta=_amount(totals["delta"], signed=True),
                changed=totals["changed"],
                added=totals["added"],
                removed=totals["removed"],
            )
        )
    if difference.findings is not None:
        from alignment_engine.engine import shown_texts
        from alignment_engine.i18n import current

        table = Table("", _("rule"), _("severity"), _("message"), title=_("Findings"))
        for mark, key in (("+", "added"), ("-", "removed")):
            for finding in difference.findings[key]:
                severity = str(finding.get("severity", ""))
                table.add_row(
                    mark,
                    str(finding.get("rule", "")),
                    value_word(severity),
                    shown_texts(finding, current())[0],
                )
        console.print(table)
        console.print(
            _("{added} added, {removed} removed, {unchanged} unchanged").format(
                added=len(difference.findings["added"]),
                removed=len(difference.findings["removed"]),
                unchanged=difference.findings["unchanged"],
            )
        )
    if difference.changes:
        table = Table(_("path"), "A", "B", title=_("Result changes"))
        for change in difference.changes[:_TABLE_ROWS]:
            table.add_row(change["path"], _cell(change, "a"), _cell(change, "b"))
        console.print(table)
        if len(difference.changes) > _TABLE_ROWS:
            console.print(more.format(count=len(difference.changes) - _TABLE_ROWS))
    if difference.identical:
        console.print(_("no differences"))


def _amount(value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return ""
    return f"{value:+,.2f}" if signed else f"{value:,.2f}"


_CELL_CHARACTERS = 120


def _cell(change: dict[str, Any], side: str) -> str:
    """One side of a change, cut short: a change may be a whole subtree (a run of another kind
    has no `employees` at all), which printed in full ran to 95,000 lines."""
    if side not in change:
        return _("(absent)")
    text = json.dumps(change[side], ensure_ascii=False)
    if len(text) <= _CELL_CHARACTERS:
        return text
    value = change[side]
    size = (
        " " + _("({count} items)").format(count=len(value))
        if isinstance(value, list | dict)
        else ""
    )
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
        _(
            "run {run} ({kind} {period}) approved by {who}; "
            "`alignment-engine runs finalise {run}` makes it final"
        ).format(run=run.id, kind=run.kind.value, period=run.period, who=run.approved_by)
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
        click.echo(_replay_difference(replay.difference()))
    if not replay.identical:
        sys.exit(1)


def _replay_difference(text: str) -> str:
    """The difference a replay found, its framing lines (not the JSON lines) in the language."""
    from alignment_engine.i18n import translate

    framing = (
        "first difference at line {line} of {stored} (stored) / {replayed} (replayed)",
        "... {count} more lines",
    )
    names = {"--- stored": "--- " + _("stored"), "+++ replayed": "+++ " + _("replayed")}
    lines = text.split("\n")
    for index in (0, 1, -1):
        if -len(lines) <= index < len(lines):
            line = lines[index]
            if line in names:
                lines[index] = names[line]
            elif line.startswith(("first difference at line ", "... ")):
                lines[index] = translate(line, among=framing)
    return "\n".join(lines)


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
        "result.json": inputs.run.result_bytes,
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
        _("created token {name} with role {role}; it is shown once, store it now:").format(
            name=repr(name), role=role
        ),
        err=True,
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

    table = Table(_("name"), _("role"), _("created (UTC)"), _("by"), _("revoked (UTC)"))
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

    console = _console()
    if console.width >= NARROW_AUDIT:
        table = Table(_("at (UTC)"), _("actor"), _("action"), _("subject"), _("details"))
        for entry in entries:
            table.add_row(
                _when(entry.at),
                entry.actor,
                entry.action,
                entry.subject or "",
                _details(entry.action, entry.details),
            )
    else:
        # Five columns in 80 left the details 16 wide ("run hash:" above its value): the actor
        # goes under the time and the subject under the action, the details get the rest.
        table = Table()
        table.add_column(_("at (UTC)") + "\n" + _("actor"), no_wrap=True)
        table.add_column(_("action") + "\n" + _("subject"), no_wrap=True)
        table.add_column(_("details"), overflow="fold")
        for entry in entries:
            table.add_row(
                f"{_when(entry.at)}\n{entry.actor}",
                entry.action + ("" if entry.subject is None else f"\n{entry.subject}"),
                _details(entry.action, entry.details),
            )
    console.print(table)


_HASH = re.compile(r"[0-9a-f]{64}")


def _details(action: str, details: Mapping[str, Any]) -> str:
    """An audit entry's details for people: ``key: value``, one a line, in key order; the keys
    in the language, the values as recorded (ids, periods, kinds), except: a status and
    true/false in the language, none for an empty value, a SHA-256 hash shortened to its first
    12 characters as `runs list` shows run hashes (``--format json`` has everything)."""
    names = {
        "actor": _("maker"),
        "attempts": _("attempts"),
        "by": _("replaced by"),
        "effective_from": _("effective from"),
        "effective_to": _("effective to"),
        "forced": _("forced"),
        "from": _("from"),
        "hash": _("hash"),
        "input_hash": _("input hash"),
        "kind": _("kind"),
        "period": _("period"),
        "role": _("role"),
        "run_hash": _("run hash"),
        "run_id": _("run"),
        "status": _("status"),
        "to": _("to"),
    }
    if action == "job.taken_over":
        names["from"] = _("taken over from")
    pair = _("{key}: {value}")
    lines = []
    for key in sorted(details):
        value = details[key]
        if value is None or value == "":
            shown = _("none")
        elif isinstance(value, bool):
            shown = _truth(str(value).lower())
        elif isinstance(value, str) and key == "status":
            shown = _status(value)
        elif isinstance(value, str) and _HASH.fullmatch(value):
            shown = value[:12]
        elif isinstance(value, str):
            shown = _truth(value) if key in ("from", "to") else value
        else:
            shown = json.dumps(value, ensure_ascii=False, sort_keys=True)
        lines.append(pair.format(key=names.get(key, key.replace("_", " ")), value=shown))
    return "\n".join(lines)


db_group = db
runs_group = runs
tokens_group = tokens

COMMANDS: list[click.Command] = [db_group, runs_group, tokens_group, audit]
