"""``docs push``, ``docs list``, ``docs diff``: plan and policy versions deployed to the database
once, then named by requests (``plan_id: acme-plan@2026.2``) instead of sent with each."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import click

from alignment_engine.cli.options import format_option
from alignment_engine.cli.storage import db_option, open_store
from alignment_engine.i18n import _


@click.group()
def docs() -> None:
    """Stored releases: plan and policy versions deployed once, referenced by name@version."""


@docs.command("push")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--name", required=True, help="The release's name, e.g. acme-plan.")
@click.option("--version", "version", required=True, help="Its version label, e.g. 2026.2.")
@click.option(
    "--effective-from", type=click.DateTime(["%Y-%m-%d"]), help="First day it applies (YYYY-MM-DD)."
)
@click.option(
    "--effective-to", type=click.DateTime(["%Y-%m-%d"]), help="Last day it applies (YYYY-MM-DD)."
)
@db_option
def push(
    path: Path,
    name: str,
    version: str,
    effective_from: Any,
    effective_to: Any,
    db_url: str | None,
) -> None:
    """Store the plan or policy in PATH as NAME@VERSION (validated first; versions never
    change: the same content again is a no-op, other content under the version exit 2)."""
    from alignment_engine.loading import document_from_file

    document = document_from_file(path)
    kind = str(getattr(document, "kind", ""))
    if kind not in ("plan", "policy"):
        from alignment_engine.errors import InputError

        raise InputError(f"a release is a plan or a policy; {path} is a {kind}", file=str(path))
    with open_store(db_url) as store:
        release = store.push_release(
            kind,
            name,
            version,
            document,
            effective_from=_day(effective_from),
            effective_to=_day(effective_to),
        )
    click.echo(
        _("{kind} {reference}: {hash}").format(
            kind=_kind(release.kind), reference=release.reference, hash=release.hash
        )
    )


def _kind(kind: str) -> str:
    """``plan`` / ``policy`` in the language."""
    return {"plan": _("plan"), "policy": _("policy")}.get(kind, kind)


def _padded(text: str, width: int) -> str:
    """``text`` left-aligned in ``width`` terminal cells (a Chinese character takes two)."""
    from rich.cells import cell_len

    return text + " " * max(width - cell_len(text), 0)


def _day(value: Any) -> date | None:
    return None if value is None else value.date()


@docs.command("list")
@click.option("--kind", type=click.Choice(["plan", "policy"]), help="Only plans or policies.")
@format_option("table", "json")
@db_option
def list_releases(kind: str | None, output_format: str, db_url: str | None) -> None:
    """Every release: kind, name@version, effective dates, content hash."""
    with open_store(db_url) as store:
        releases = store.releases(kind)
    if output_format == "json":
        click.echo(json.dumps({"releases": [r.to_dict() for r in releases]}, indent=2))
        return
    if not releases:
        click.echo(
            _("no releases (push one: alignment-engine docs push FILE --name N --version V)")
        )
        return
    span = _("{start} to {end}")
    for release in releases:
        window = span.format(start=release.effective_from or "…", end=release.effective_to or "…")
        click.echo(
            f"{_padded(_kind(release.kind), 7)} {release.reference:<32} {_padded(window, 26)} "
            f"{release.hash[:12]} {release.created_by} {release.created_at:%Y-%m-%d %H:%M}"
        )


@docs.command("diff")
@click.argument("first")
@click.argument("second")
@click.option("--kind", type=click.Choice(["plan", "policy"]), default="plan", show_default=True)
@format_option("text", "json")
@db_option
def diff(first: str, second: str, kind: str, output_format: str, db_url: str | None) -> None:
    """What changed from release FIRST to SECOND (name@version, or a file path): every value
    that differs, by path (departments[sales].kpis[sales.revenue].target)."""
    from alignment_engine.storage.diff import document_diff

    a, b = _content(first, kind, db_url), _content(second, kind, db_url)
    changes = document_diff(a, b)
    if output_format == "json":
        click.echo(json.dumps({"changes": changes}, indent=2, ensure_ascii=False))
        return
    if not changes:
        click.echo(_("no differences"))
        return
    line, absent = _("{path}: {before} -> {after}"), _("(absent)")
    for change in changes:
        before = json.dumps(change["a"], ensure_ascii=False) if "a" in change else absent
        after = json.dumps(change["b"], ensure_ascii=False) if "b" in change else absent
        click.echo(line.format(path=change["path"], before=before, after=after))


def _content(reference: str, kind: str, db_url: str | None) -> dict[str, Any]:
    from alignment_engine.storage.canonical import document_content

    if Path(reference).is_file():
        from alignment_engine.loading import document_from_file

        return dict(document_content(document_from_file(reference)))
    with open_store(db_url) as store:
        release = store.resolve_release(kind, reference)
        return store.document(release.hash).content


COMMANDS = [docs]
