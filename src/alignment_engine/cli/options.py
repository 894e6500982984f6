"""Options several commands share, declared once so they read and behave the same."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

plan_argument = click.argument("plan_path", metavar="PLAN", type=click.Path(path_type=Path))


def format_option(
    *choices: str, help: str = "A table for people, or JSON for tools."
) -> Callable[[F], F]:
    """``--format`` (stored as ``output_format``); the first choice is the default."""
    options = choices or ("table", "json")
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(list(options)),
        default=options[0],
        show_default=True,
        help=help,
    )


def rules_option(
    help: str = "Folder (or file) of your own rule packs, added to the shipped ones. Repeatable.",
    name: str = "rules_paths",
) -> Callable[[F], F]:
    return click.option("--rules", name, multiple=True, type=click.Path(path_type=Path), help=help)


TABLE_FORMATS = ("csv", "parquet", "xlsx")


def out_format_option() -> Callable[[F], F]:
    """``--out-format`` (repeatable, stored as ``out_formats``): the table formats --out writes."""
    return click.option(
        "--out-format",
        "out_formats",
        multiple=True,
        type=click.Choice(TABLE_FORMATS),
        default=("csv",),
        show_default=True,
        help="Table formats for --out (repeatable).",
    )
