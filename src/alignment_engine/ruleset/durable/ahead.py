"""The shards of one rule evaluated ahead, in a forked process, while this one renders them.

A large check spends a third of its time in durable_rules (C code that holds the GIL, so a
thread gains nothing) and most of the rest turning the matches into findings. A forked child
has the same facts and the same compiled rulesets at no cost: it evaluates the shards (of one
rule or of several) one after another and sends back each shard's firings as fact positions (a
few bytes per match), which this process turns into matches over its own copy of the same facts
while the child works on the next shard. The matches are those this process would have found,
in the same order. With every shard evaluated, the child turns to the shards the caller marked
``finishable`` that this process has not begun, from the last one back, and hands back what
``finish`` makes of them (findings, already rendered): the two processes meet in the middle.

The child only ever saves time: if it cannot start, fails or dies, this process evaluates every
shard the child did not send, and makes every shard the child took and did not finish (and so
raises any error itself, with its usual message). Linux only (``fork`` with threads is not safe
on macOS); ``ALIGNMENT_EVALUATE_AHEAD=0`` turns it off.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import mmap
import multiprocessing
import os
import pickle
import signal
import struct
import sys
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import IO, Any, Final, NoReturn

from alignment_engine.ruleset.durable.engine import RuleEngine
from alignment_engine.ruleset.durable.matches import Match, Outcome

__all__ = ["Evaluated", "Finish", "Shard", "evaluate_shards", "evaluates_ahead"]

_SWITCH = "ALIGNMENT_EVALUATE_AHEAD"
_PR_SET_PDEATHSIG = 1


def evaluates_ahead() -> bool:
    """Whether :func:`evaluate_shards` forks a child here (Linux, not switched off)."""
    return sys.platform == "linux" and os.environ.get(_SWITCH, "1") != "0"


Shard = tuple[str, Sequence[Mapping[str, Any]]]
"""A ruleset's name and the facts to evaluate against it."""

Finish = Callable[[int, list[Match]], Any]
"""What becomes of a shard's matches (by the shard's position): picklable, it may be made in
the child."""


@dataclass(frozen=True, slots=True)
class Evaluated:
    """One shard's matches, or (``matches`` None) what the child's ``finish`` made of them."""

    matches: list[Match] | None
    finished: Any = None


def evaluate_shards(
    engine: RuleEngine,
    shards: Sequence[Shard],
    written: MutableMapping[int, str],
    *,
    ahead: bool = True,
    finish: Finish | None = None,
    finishable: frozenset[int] = frozenset(),
) -> Iterator[Evaluated]:
    """Each shard's matches, in order; with ``ahead``, a forked child evaluates them ahead
    where it can. Once it has evaluated every shard, the child also takes ``finishable``
    shards from the end, ones this process has not begun, and hands back ``finish`` of their
    matches instead (this process takes them in order, so the two meet in the middle)."""
    forking = ahead and len(shards) > 1 and evaluates_ahead()
    child = _Child.start(engine, shards, written, finish, finishable) if forking else None
    done = 0
    if child is not None:
        try:
            while done < len(shards):
                ruleset, facts = shards[done]
                outcome = child.outcome(done, facts)
                if outcome is None:
                    break  # the child stopped: what it did not send is evaluated here
                if done in finishable and not child.claim(done):
                    finished = child.finished(done)
                    if finished is not _MISSING:
                        done += 1
                        yield Evaluated(None, finished)
                        continue  # else the child stopped before it was done: made here
                done += 1
                yield Evaluated(engine.matches(ruleset, outcome))
        finally:
            child.close()
    for ruleset, facts in shards[done:]:
        yield Evaluated(engine.evaluate(ruleset, facts, written=written))


_MISSING: Final = object()
_HEAD = struct.Struct("<cqq")  # kind, shard, body length
_FIRINGS, _FINISHED = b"f", b"d"


class _Child:
    """The forked child, seen from this process: its messages, read as they come by a thread
    (so the child never waits for this process to read), and the shards the two have taken
    (two integers in shared memory, under a lock)."""

    def __init__(self, pid: int, stream: IO[bytes], taken: mmap.mmap, lock: Any) -> None:
        self.pid, self.stream, self.taken, self.lock = pid, stream, taken, lock
        self.messages: dict[tuple[bytes, int], bytes] = {}
        self.ended = False
        self.arrived = threading.Condition()
        self.reader = threading.Thread(target=self._read, name="alignment-engine-ahead")
        self.reader.daemon = True
        self.reader.start()

    @classmethod
    def start(
        cls,
        engine: RuleEngine,
        shards: Sequence[Shard],
        written: MutableMapping[int, str],
        finish: Finish | None,
        finishable: frozenset[int],
    ) -> _Child | None:
        # This process's next shard and the child's first, each taken under the lock.
        taken = mmap.mmap(-1, _TAKEN.size)
        taken[:] = _TAKEN.pack(0, len(shards))
        lock = multiprocessing.get_context("fork").Lock()
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
        if pid == 0:  # pragma: no cover - the child (its work is checked against this process)
            os.close(reading)
            _child(engine, shards, written, finish, finishable, writing, taken, lock)
        os.close(writing)
        return cls(pid, os.fdopen(reading, "rb"), taken, lock)

    def _read(self) -> None:
        try:
            while len(head := self.stream.read(_HEAD.size)) == _HEAD.size:
                kind, shard, length = _HEAD.unpack(head)
                body = self.stream.read(length)
                if len(body) < length:
                    break
                with self.arrived:
                    self.messages[(kind, shard)] = body
                    self.arrived.notify_all()
        except (OSError, ValueError):  # closed under the thread
            pass
        finally:
            with self.arrived:
                self.ended = True
                self.arrived.notify_all()

    def _body(self, kind: bytes, shard: int) -> bytes | None:
        with self.arrived:
            while (kind, shard) not in self.messages and not self.ended:
                self.arrived.wait()
            return self.messages.pop((kind, shard), None)

    def outcome(self, shard: int, facts: Sequence[Mapping[str, Any]]) -> Outcome | None:
        body = self._body(_FIRINGS, shard)
        if body is None:
            return None
        matches, derived = pickle.loads(body)
        return Outcome(matches, [*facts, *derived])

    def claim(self, shard: int) -> bool:
        """Take ``shard`` unless the child has: then it hands back what it made of it."""
        with self.lock:
            _mine, theirs = _TAKEN.unpack(self.taken[:])
            if shard >= theirs:
                return False
            self.taken[:] = _TAKEN.pack(shard + 1, theirs)
            return True

    def finished(self, shard: int) -> Any:
        body = self._body(_FINISHED, shard)
        return _MISSING if body is None else pickle.loads(body)

    def close(self) -> None:
        _reap(self.pid)
        self.reader.join()  # the child is gone: its pipe ends, and so does the thread
        self.stream.close()
        self.taken.close()


_TAKEN = struct.Struct("<qq")


def _child(  # pragma: no cover - runs in the forked child
    engine: RuleEngine,
    shards: Sequence[Shard],
    written: MutableMapping[int, str],
    finish: Finish | None,
    finishable: frozenset[int],
    writing: int,
    taken: mmap.mmap,
    lock: Any,
) -> NoReturn:
    try:
        _die_with_parent()
        with os.fdopen(writing, "wb") as out:

            def send(kind: bytes, shard: int, value: Any) -> None:
                body = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
                out.write(_HEAD.pack(kind, shard, len(body)) + body)
                out.flush()

            kept: dict[int, Outcome] = {}
            for shard, (ruleset, facts) in enumerate(shards):
                outcome = engine.outcome(ruleset, facts, written=written)
                send(_FIRINGS, shard, (outcome.matches, outcome.facts[len(facts) :]))
                if finish is not None and shard in finishable:
                    kept[shard] = outcome
            for shard in sorted(kept, reverse=True):
                assert finish is not None
                with lock:
                    theirs, _mine = _TAKEN.unpack(taken[:])
                    if shard < theirs:
                        break  # the parent has begun it, and every shard before it
                    taken[:] = _TAKEN.pack(theirs, shard)
                matches = engine.matches(shards[shard][0], kept.pop(shard))
                send(_FINISHED, shard, finish(shard, matches))
    except BaseException:
        pass
    finally:
        os._exit(0)  # no atexit handlers, no buffers of the parent's written twice


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """Killed with the parent (a service worker killed over its time budget, say)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _reap(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)  # done already, or no longer wanted
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
