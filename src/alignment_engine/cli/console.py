"""The one way commands make a rich console for tables."""

from __future__ import annotations

import os
import sys

from rich.console import Console

# Wide enough that ids stay on one line when the output goes to a file, a pipe or CI logs.
PIPE_WIDTH = 160
NARROWEST = 40


def output_width() -> int | None:
    """The width tables are laid out for: the terminal's (None: rich asks it); when stdout is
    not a terminal, ``$COLUMNS`` if set (``COLUMNS=80 alignment-engine check ... | less``),
    else PIPE_WIDTH."""
    if sys.stdout.isatty():
        return None
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit():
        return max(NARROWEST, int(columns))
    return PIPE_WIDTH


def make_console(*, markup: bool = True) -> Console:
    """A console on stdout at :func:`output_width`.

    ``markup=False`` for text that holds square brackets (ids in scenario paths)."""
    return Console(
        file=sys.stdout,
        width=output_width(),
        soft_wrap=True,
        markup=markup,
        highlight=False,
    )


class Stages:
    """Progress through a command's stages on stderr, shown only when stderr is a terminal
    (silent in pipes, CI logs and tests)."""

    def __init__(self, total: int) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=Console(file=sys.stderr),
            transient=True,
            disable=not sys.stderr.isatty(),
        )
        self._task = self._progress.add_task("starting", total=total)

    def __enter__(self) -> Stages:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def step(self, description: str) -> None:
        """Mark the previous stage done and start the one described."""
        task = self._progress.tasks[0]
        if task.description != "starting":
            self._progress.advance(self._task)
        self._progress.update(self._task, description=description)
