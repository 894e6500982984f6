"""The shards of one rule evaluated ahead, in a forked process, while this one renders them.

A large check spends a third of its time in durable_rules (C code that holds the GIL, so a
thread gains nothing) and most of the rest turning the matches into findings. A forked child
has the same facts and the same compiled rulesets at no cost: it evaluates the shards (of one
rule or of several) one after another and sends back each shard's firings as fact positions (a few bytes per match), which
this process turns into matches over its own copy of the same facts while the child works on
the next shard. The matches are those this process would have found, in the same order.

The child only ever saves time: if it cannot start, fails or dies, this process evaluates every
shard the child did not send (and so raises the error itself, with its usual message). Linux
only (``fork`` with threads is not safe on macOS); ``ALIGNMENT_EVALUATE_AHEAD=0`` turns it off.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import pickle
import signal
import sys
import warnings
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from typing import IO, Any, NoReturn

from alignment_engine.ruleset.durable.engine import RuleEngine
from alignment_engine.ruleset.durable.matches import Match, Outcome

__all__ = ["Shard", "evaluate_shards", "evaluates_ahead"]

_SWITCH = "ALIGNMENT_EVALUATE_AHEAD"
_LENGTH_BYTES = 8
_PR_SET_PDEATHSIG = 1


def evaluates_ahead() -> bool:
    """Whether :func:`evaluate_shards` forks a child here (Linux, not switched off)."""
    return sys.platform == "linux" and os.environ.get(_SWITCH, "1") != "0"


Shard = tuple[str, Sequence[Mapping[str, Any]]]
"""A ruleset's name and the facts to evaluate against it."""


def evaluate_shards(
    engine: RuleEngine,
    shards: Sequence[Shard],
    written: MutableMapping[int, str],
    *,
    ahead: bool = True,
) -> Iterator[list[Match]]:
    """Each shard's matches, in order; with ``ahead``, a forked child evaluates them ahead
    where it can."""
    forking = ahead and len(shards) > 1 and evaluates_ahead()
    child = _start(engine, shards, written) if forking else None
    done = 0
    if child is not None:
        pid, stream = child
        try:
            while done < len(shards):
                ruleset, facts = shards[done]
                outcome = _receive(stream, facts)
                if outcome is None:
                    break  # the child stopped: what it did not send is evaluated here
                done += 1
                yield engine.matches(ruleset, outcome)
        finally:
            stream.close()
            _reap(pid)
    for ruleset, facts in shards[done:]:
        yield engine.evaluate(ruleset, facts, written=written)


def _start(
    engine: RuleEngine, shards: Sequence[Shard], written: MutableMapping[int, str]
) -> tuple[int, IO[bytes]] | None:
    reading, writing = os.pipe()
    try:
        with warnings.catch_warnings():
            # Python 3.12 warns of fork in a process with threads. The child touches nothing
            # another thread could hold: the engine thread is idle between jobs (the child
            # starts its own) and glibc's malloc is reset at fork.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    except OSError:
        os.close(reading)
        os.close(writing)
        return None
    if pid == 0:  # pragma: no cover - the child (its matches are checked against this process)
        os.close(reading)
        _child(engine, shards, written, writing)
    os.close(writing)
    return pid, os.fdopen(reading, "rb")


def _child(  # pragma: no cover - runs in the forked child
    engine: RuleEngine, shards: Sequence[Shard], written: MutableMapping[int, str], writing: int
) -> NoReturn:
    try:
        _die_with_parent()
        with os.fdopen(writing, "wb") as out:
            for ruleset, facts in shards:
                outcome = engine.outcome(ruleset, facts, written=written)
                body = pickle.dumps(
                    (outcome.matches, outcome.facts[len(facts) :]), pickle.HIGHEST_PROTOCOL
                )
                out.write(len(body).to_bytes(_LENGTH_BYTES, "little") + body)
                out.flush()
    except BaseException:
        pass
    finally:
        os._exit(0)  # no atexit handlers, no buffers of the parent's written twice


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """Killed with the parent (a service worker killed over its time budget, say)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _receive(stream: IO[bytes], shard: Sequence[Mapping[str, Any]]) -> Outcome | None:
    head = stream.read(_LENGTH_BYTES)
    if len(head) < _LENGTH_BYTES:
        return None
    body = stream.read(int.from_bytes(head, "little"))
    try:
        matches, derived = pickle.loads(body)
    except (pickle.UnpicklingError, EOFError, ValueError):
        return None
    return Outcome(matches, [*shard, *derived])


def _reap(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)  # done already, or no longer wanted
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
