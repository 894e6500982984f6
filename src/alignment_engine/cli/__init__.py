"""The ``alignment-engine`` command: a thin click layer over the engine.

Expected errors (AlignmentError) are printed on stderr without a traceback and end the process
with the error's exit code (2 for bad input). Each command lives in its own module.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Sequence
from typing import Any

import click

from alignment_engine import __version__
from alignment_engine.errors import AlignmentError


class AlignmentGroup(click.Group):
    """Turns our errors into a message on stderr and the error's exit code, and runs the
    whole command line in its language: ``--help`` and Click's usage errors are printed
    before or after the group's callback, which sets it for the commands."""

    def main(self, args: Sequence[str] | None = None, *rest: Any, **extra: Any) -> Any:
        from alignment_engine.cli.help_text import language_first, language_of

        arguments = language_first(sys.argv[1:] if args is None else args)
        try:
            with language_of(arguments):
                return super().main(arguments, *rest, **extra)
        finally:
            if args is None:
                # The process's own command line: the process ends with the command, and the
                # interpreter's last collection would walk every object the command kept
                # (0.4 s after a 40,000-KPI check) to free what the system frees anyway.
                gc.freeze()

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.MissingParameter as exc:
            from alignment_engine.cli.help_text import MissingInLanguage

            raise MissingInLanguage.of(exc) from None
        except AlignmentError as exc:
            from alignment_engine.cli.error_messages import error_text
            from alignment_engine.i18n import _

            click.echo(_("error: {message}").format(message=error_text(exc)), err=True)
            sys.exit(exc.exit_code)


@click.group(cls=AlignmentGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="alignment-engine")
@click.option(
    "--lang",
    "language",
    metavar="LANG",
    default=None,
    help="Language of reports and of the tables and lines printed for people: en or zh-CN "
    "(default: $ALIGNMENT_LANG, else the locale). JSON results stay in English.",
)
@click.pass_context
def main(context: click.Context, language: str | None) -> None:
    """Keep departments pulling in the same direction, and pay them fairly for it.

    Links department KPIs to corporate objectives, detects conflicts between departments'
    targets, scores results into incentive payouts, and suggests resource reallocations.
    """
    from alignment_engine.i18n import from_environment, using

    # For the command's lifetime only (a library caller's or a test's language is its own).
    context.with_resource(using(language if language is not None else from_environment(os.environ)))


def _register() -> None:
    # One module per command group; each lists its commands in COMMANDS.
    from alignment_engine.cli import (
        check,
        documents,
        help_text,
        optimise,
        policy,
        releases,
        scenario,
        score,
        scorecard,
        serve,
        statements,
        storage,
    )

    modules = (
        documents,
        check,
        score,
        statements,
        policy,
        scorecard,
        optimise,
        scenario,
        storage,
        releases,
        serve,
    )
    for module in modules:
        for command in module.COMMANDS:
            main.add_command(command)
    # Every command's help in the command's language, and Click's own words (cli/help_text.py).
    help_text.install(main)


_register()
