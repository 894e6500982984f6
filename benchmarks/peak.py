"""Wall time and peak memory of one command, measured as that command's own.

A child's peak resident size (``ru_maxrss`` from ``wait4``) starts from its parent's size at
fork: Linux carries the forked copy's high-water mark across ``exec``. A benchmark that has
built a million-row input in memory would add its own size to every row it measures. So each
command is started by a small launcher process (a bare interpreter, about 10 MB), whose child
it is; the launcher reports the command's ``wait4`` figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

__all__ = ["Measured", "measure_command"]

_LAUNCHER = """
import json, os, subprocess, sys, time
started = time.perf_counter()
process = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(process.pid, 0)
seconds = time.perf_counter() - started
with open(sys.argv[1], "w") as report:
    json.dump({"seconds": seconds, "peak_kb": usage.ru_maxrss,
               "code": os.waitstatus_to_exitcode(status)}, report)
"""


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_mb: float
    returncode: int
    stdout: str
    stderr: str


def measure_command(command: list[str]) -> Measured:
    """Run ``command`` to completion; its wall seconds, its own peak MB and its output."""
    with (
        tempfile.TemporaryFile() as stdout,
        tempfile.TemporaryFile() as stderr,
        tempfile.NamedTemporaryFile("r", suffix=".json") as report,
    ):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-S", "-c", _LAUNCHER, report.name, *command],
            stdout=stdout,
            stderr=stderr,
            check=False,
            env={**os.environ},
        )
        wall = time.perf_counter() - started
        figures = json.loads(report.read() or "{}")
        stdout.seek(0)
        stderr.seek(0)
        return Measured(
            seconds=float(figures.get("seconds", wall)),
            peak_mb=float(figures.get("peak_kb", 0)) / 1024,
            returncode=int(figures.get("code", 1)),
            stdout=stdout.read().decode(),
            stderr=stderr.read().decode(),
        )
