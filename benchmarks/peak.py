"""Wall time and peak memory of one command, measured as that command's own.

A child's peak resident size (``ru_maxrss`` from ``wait4``) starts from its parent's size at
fork: Linux carries the forked copy's high-water mark across ``exec``. A benchmark that has
built a million-row input in memory would add its own size to every row it measures. So each
command is started by a small launcher process (a bare interpreter, about 10 MB), whose child
it is; the launcher reports the command's ``wait4`` figures.

``wait4`` gives the largest process's peak (the command's, or a process it started): a command
that runs work in a second process (``check`` evaluating rules ahead, ``score`` checking the
plan ahead) uses more than that at once. The launcher also samples, every half second, the
proportional set size (PSS: a page shared by forked processes counted once, split between them)
of the whole tree under the command, from Linux's ``/proc/PID/smaps_rollup``; ``tree_mb`` is
the largest sum seen (0 where ``/proc`` does not have it). Reading a process's PSS takes its
memory map's lock, so sampling more often slowed the command measured (0.3 s of 2.2 at 100 ms).
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
import json, os, subprocess, sys, threading, time

def tree(root):
    children = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found

def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0

started = time.perf_counter()
process = subprocess.Popen(sys.argv[2:])
most = [0]
done = threading.Event()

def sample():
    while not done.wait(0.5):
        most[0] = max(most[0], sum(pss_kb(pid) for pid in tree(process.pid)))

sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
_, status, usage = os.wait4(process.pid, 0)
seconds = time.perf_counter() - started
done.set()
sampler.join()
with open(sys.argv[1], "w") as report:
    json.dump({"seconds": seconds, "peak_kb": usage.ru_maxrss, "tree_kb": most[0],
               "code": os.waitstatus_to_exitcode(status)}, report)
"""


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_mb: float
    returncode: int
    #: The largest total PSS of the command's process tree (sampled; 0 without /proc).
    tree_mb: float
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
            tree_mb=float(figures.get("tree_kb", 0)) / 1024,
            stdout=stdout.read().decode(),
            stderr=stderr.read().decode(),
        )
