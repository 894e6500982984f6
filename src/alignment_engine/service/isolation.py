"""Heavy decisions (check, optimise, scenario runs) computed in a child process of their own.

durable_rules' C calls hold the interpreter lock, so a check running in a worker thread stops
the worker's event loop: ``/healthz`` and every other request on that worker wait, and the
supervisor kills the worker as unresponsive. Forked into a child, the decision runs beside the
worker instead of inside it; the worker's thread waits on a pipe (without the lock), and:

- past the time limit the child is killed (the request answers 504 and the worker stays up);
- the child's address space is capped (``RLIMIT_DATA``, the worker's own plus the budget): a
  decision that needs more memory than the budget gets 422 ``over_budget`` (a MemoryError, or
  the crash of native code that does not check its allocations) instead of growing the worker;
- a child that dies (a crash in native code) is a 500 for that request only.

Forking copies the worker's memory lazily (copy on write), so a child costs a few milliseconds;
the child only computes and sends back the rendered answer, it never touches the database.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import resource
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from alignment_engine.errors import AlignmentError

__all__ = ["ChildError", "OverBudgetError", "available", "run_isolated"]

_POLL_SECONDS = 0.1
#: How a child that ran out of its memory cap inside C code ends.
_OUT_OF_MEMORY = frozenset({-signal.SIGSEGV, -signal.SIGBUS, -signal.SIGABRT})


class OverBudgetError(AlignmentError):
    """A decision needed more than the service allows one request (memory, work)."""

    status = 422
    code = "over_budget"


class ChildError(AlignmentError):
    """An error the decision's process raised: its status and its rendered body, kept whole."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        error = body.get("error") or {}
        super().__init__(str(error.get("message", "")), details=error.get("details"))
        # Per instance: the child's error was of any class in the tree.
        setattr(self, "status", status)  # noqa: B010
        setattr(self, "code", str(error.get("code", "internal_error")))  # noqa: B010
        self.body = body

    def to_dict(self) -> dict[str, Any]:
        return self.body


def _internal(message: str) -> ChildError:
    return ChildError(
        500, {"error": {"code": "internal_error", "message": message, "details": None}}
    )


def preload() -> None:
    """Import in the worker what every forked decision would otherwise import for itself: a
    check's reach pass needs scipy.sparse (about 80 ms to import), and a child imports it
    again each time, a third of a small check's answer. Measured on the example plan: 125 ms
    per isolated check cold, 44 ms with scipy loaded before the fork."""
    importlib.import_module("scipy.sparse")


def available() -> bool:
    """Forking is how the child gets the decision without pickling it: POSIX only."""
    return sys.platform != "win32" and "fork" in multiprocessing.get_all_start_methods()


def _child(
    work: Callable[[], Any], connection: Connection, memory_bytes: int | None
) -> None:  # pragma: no cover - runs in the forked child (its outcome is tested end to end)
    from alignment_engine.service.errors import error_body

    try:
        if memory_bytes is not None:
            # Writable private memory (the heap and anonymous maps), on top of what the worker
            # already has: address space would count the gigabytes uvloop and numpy's thread
            # pools reserve and never touch.
            limit = _data_bytes() + memory_bytes
            resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
        try:
            connection.send(("ok", work()))
        except MemoryError:
            connection.send(("memory", None))
        except AlignmentError as error:
            connection.send(("error", (error.status, error_body(error))))
        except BaseException:
            connection.send(("crash", traceback.format_exc(limit=5)))
        connection.close()
    finally:
        os._exit(0)  # no atexit handlers or buffers of the parent's, run twice


def _data_bytes() -> int:  # pragma: no cover - runs in the forked child
    """Bytes of writable private memory this process maps now (Linux /proc; 0 elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmData:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return 0
    return 0


def run_isolated(
    work: Callable[[], Any],
    *,
    deadline: float,
    abandoned: threading.Event,
    memory_bytes: int | None,
    what: str,
) -> Any:
    """``work()`` in a forked child; its (picklable) return value, or our error for its failure.

    Waits until ``deadline`` (``time.monotonic()``) or until ``abandoned`` is set, then kills
    the child and raises TimeoutError.
    """
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(work, sending, memory_bytes), daemon=True)
    child.start()
    sending.close()
    try:
        while True:
            if receiving.poll(_POLL_SECONDS):
                try:
                    outcome, value = receiving.recv()
                except EOFError:  # the child died without a word (killed, or crashed in C)
                    child.join(timeout=5)
                    if memory_bytes is not None and child.exitcode in _OUT_OF_MEMORY:
                        # durable_rules does not check malloc: under the cap, running out of
                        # memory in C is a crash, not a MemoryError.
                        raise _over_budget(what, memory_bytes) from None
                    raise _internal(
                        f"the {what} ended without an answer (exit code {child.exitcode})"
                    ) from None
                return _unpack(outcome, value, what, memory_bytes)
            if abandoned.is_set() or time.monotonic() >= deadline:
                raise TimeoutError(what)
    finally:
        if child.is_alive() and child.pid is not None:
            os.kill(child.pid, signal.SIGKILL)
        child.join(timeout=5)
        receiving.close()


def _over_budget(what: str, memory_bytes: int) -> OverBudgetError:
    budget = memory_bytes // (1024 * 1024)
    return OverBudgetError(
        f"the {what} needs more than the {budget:,} MiB one request may use "
        "(ALIGNMENT_DECISION_MEMORY_MB)",
        details=[{"budget": "memory", "limit_mb": budget}],
    )


def _unpack(outcome: str, value: Any, what: str, memory_bytes: int | None) -> Any:
    if outcome == "ok":
        return value
    if outcome == "memory":
        raise _over_budget(what, memory_bytes or 0)
    if outcome == "error":
        status, body = value
        raise ChildError(status, body)
    raise _internal(f"the {what} failed: internal error")
