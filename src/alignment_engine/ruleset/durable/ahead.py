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
import fcntl
import mmap
import os
import pickle
import signal
import struct
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Generator, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, NoReturn, cast

from alignment_engine.ruleset.durable.engine import RuleEngine, on_engine_thread
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
) -> Generator[Evaluated, None, None]:
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
_TAKEN = struct.Struct("<qq")  # this process's next shard, the child's first
_POLL_SECONDS: Final = 0.5
STALL_SECONDS: Final = 120.0
"""This process stops waiting for a child that sent nothing for this long, and does its work
(a shard takes a second or two; only a child stuck for good is this slow)."""
_DRAIN_SECONDS: Final = 5.0
_FORKING = threading.Lock()  # one fork here at a time: no child inherits another's pipe
_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class _Taken:
    """The shards each process has taken, in memory both share; a POSIX record lock on it
    (the kernel drops it with a process that dies holding it)."""

    def __init__(self, shards: int) -> None:
        if hasattr(os, "memfd_create"):
            self.fd = os.memfd_create("alignment-engine-ahead", os.MFD_CLOEXEC)
        else:  # Pythons built against an older glibc: an unlinked temporary file does as well
            with tempfile.TemporaryFile() as backing:
                self.fd = os.dup(backing.fileno())
        try:
            os.ftruncate(self.fd, _TAKEN.size)
            self.map = mmap.mmap(self.fd, _TAKEN.size)
        except BaseException:
            os.close(self.fd)
            raise
        self.map[:] = _TAKEN.pack(0, shards)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        fcntl.lockf(self.fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.lockf(self.fd, fcntl.LOCK_UN)

    def get(self) -> tuple[int, int]:
        mine, theirs = _TAKEN.unpack(self.map[:])
        return int(mine), int(theirs)

    def set(self, mine: int, theirs: int) -> None:
        self.map[:] = _TAKEN.pack(mine, theirs)

    def close(self) -> None:
        self.map.close()
        os.close(self.fd)


class _Child:
    """The forked child, seen from this process: its messages, read as they come by a thread
    that owns the pipe (so the child never waits for this process to read), and the shards the
    two have taken. Waiting for a message ends when it comes, when the child has ended (its
    exit, not the pipe's end: another fork may hold the pipe), or after ``STALL_SECONDS``."""

    def __init__(self, pid: int, reading: int, taken: _Taken) -> None:
        self.pid, self.reading, self.taken = pid, reading, taken
        self.messages: dict[tuple[bytes, int], bytes] = {}
        self.ended = False  # the pipe ended, or the child is given up on
        self.reaped = False
        self.heard = time.monotonic()
        self.arrived = threading.Condition()
        self.reader = threading.Thread(target=self._read, name="alignment-engine-ahead")
        self.reader.daemon = True

    @classmethod
    def start(
        cls,
        engine: RuleEngine,
        shards: Sequence[Shard],
        written: MutableMapping[int, str],
        finish: Finish | None,
        finishable: frozenset[int],
    ) -> _Child | None:
        """The child, running; None where one cannot start (no fork, no pipe, no memory)."""
        taken: _Taken | None = None
        reading = writing = -1
        pid = 0
        parent = os.getpid()
        prctl = _prctl()  # looked up here: the child takes no loader lock another thread holds
        try:
            taken = shared = _Taken(len(shards))
            with _FORKING:
                reading, writing = os.pipe()
                pipe_end = writing

                def fork() -> int:
                    # On the engine thread: no durable_rules call is under way while the
                    # process is copied (another thread's evaluation waits its turn), and the
                    # child's one thread is this one. No Ctrl-C between the fork and the
                    # child's own exit guard (else it would carry on as the command).
                    masked = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
                    try:
                        with warnings.catch_warnings():
                            # Python 3.12 warns of fork with threads: the child touches nothing
                            # they hold (malloc is reset at fork, the loader is not used).
                            warnings.simplefilter("ignore", DeprecationWarning)
                            forked = os.fork()
                            if forked == 0:  # pragma: no cover - the child
                                _child(
                                    engine, shards, written, finish, finishable, pipe_end,
                                    shared, parent, prctl,
                                )  # fmt: skip
                    finally:
                        signal.pthread_sigmask(signal.SIG_SETMASK, masked)
                    return forked

                pid = on_engine_thread(fork)
                os.close(writing)
                writing = -1
            child = cls(pid, reading, taken)
            child.reader.start()
            return child
        except BaseException as problem:
            # Whatever stopped it (no descriptor, no fork, no thread; or Ctrl-C, which goes on
            # up), no child or descriptor is left behind.
            if pid:
                _reap(pid)
            for fd in (writing, reading):
                if fd >= 0:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            if taken is not None:
                taken.close()
            if isinstance(problem, OSError | RuntimeError | MemoryError | ValueError):
                return None
            raise

    def _read(self) -> None:
        pending = bytearray()
        try:
            while chunk := os.read(self.reading, 1 << 20):
                pending += chunk
                while len(pending) >= _HEAD.size:
                    kind, shard, length = _HEAD.unpack_from(pending)
                    if len(pending) < _HEAD.size + length:
                        break
                    body = bytes(pending[_HEAD.size : _HEAD.size + length])
                    del pending[: _HEAD.size + length]
                    with self.arrived:
                        self.messages[(kind, shard)] = body
                        self.heard = time.monotonic()
                        self.arrived.notify_all()
        except OSError:
            pass
        finally:
            os.close(self.reading)
            with self.arrived:
                self.ended = True
                self.arrived.notify_all()

    def _body(self, kind: bytes, shard: int) -> bytes | None:
        with self.arrived:
            while (kind, shard) not in self.messages and not self.ended:
                self.arrived.wait(_POLL_SECONDS)
                if (kind, shard) in self.messages or self.ended:
                    break
                if self._exited():
                    # What it wrote before it ended is read first (unless another process
                    # keeps the pipe open: then what has come is all there is).
                    self.arrived.wait_for(
                        lambda: (kind, shard) in self.messages or self.ended, _DRAIN_SECONDS
                    )
                    self.ended = True
                elif time.monotonic() - self.heard > STALL_SECONDS:
                    _reap(self.pid)
                    self.reaped = self.ended = True
            return self.messages.pop((kind, shard), None)

    def _exited(self) -> bool:
        if self.reaped:
            return True
        try:
            done, _status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            done = self.pid
        if done == self.pid:
            self.reaped = True
        return self.reaped

    def outcome(self, shard: int, facts: Sequence[Mapping[str, Any]]) -> Outcome | None:
        body = self._body(_FIRINGS, shard)
        if body is None:
            return None
        matches, derived = pickle.loads(body)
        return Outcome(matches, [*facts, *derived])

    def claim(self, shard: int) -> bool:
        """Take ``shard`` unless the child has: then it hands back what it made of it."""
        try:
            with self.taken.locked():
                _mine, theirs = self.taken.get()
                if shard >= theirs:
                    return False
                self.taken.set(shard + 1, theirs)
                return True
        except OSError:  # no lock to be had: this process makes it (the child's is never read)
            return True

    def finished(self, shard: int) -> Any:
        body = self._body(_FINISHED, shard)
        return _MISSING if body is None else pickle.loads(body)

    def close(self) -> None:
        if not self.reaped:
            _reap(self.pid)
            self.reaped = True
        # The pipe ends with the child, unless another fork holds it: the thread, a daemon,
        # then ends (and closes it) when that process does.
        self.reader.join(_DRAIN_SECONDS)
        with self.arrived:
            self.messages.clear()
        self.taken.close()


def _child(  # pragma: no cover - runs in the forked child
    engine: RuleEngine,
    shards: Sequence[Shard],
    written: MutableMapping[int, str],
    finish: Finish | None,
    finishable: frozenset[int],
    writing: int,
    taken: _Taken,
    parent: int,
    prctl: Callable[..., int] | None,
) -> NoReturn:
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
        _die_with_parent(parent, prctl)
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
                    theirs, _mine = taken.get()  # a glance: what the parent has begun is its own
                    for begun in [k for k in kept if k < theirs]:
                        del kept[begun]
            for shard in sorted(kept, reverse=True):
                assert finish is not None
                with taken.locked():
                    theirs, _mine = taken.get()
                    if shard < theirs:
                        break  # the parent has begun it, and every shard before it
                    taken.set(theirs, shard)
                matches = engine.matches(shards[shard][0], kept.pop(shard))
                send(_FINISHED, shard, finish(shard, matches))
    except BaseException:
        pass
    finally:
        os._exit(0)  # no atexit handlers, no buffers of the parent's written twice


def _prctl() -> Callable[..., int] | None:
    try:
        return cast(Callable[..., int], ctypes.CDLL(None, use_errno=True).prctl)
    except (OSError, AttributeError):
        return None


def _die_with_parent(
    parent: int, prctl: Callable[..., int] | None
) -> None:  # pragma: no cover - runs in the forked child
    """Killed with the parent (a service worker killed over its time budget, say)."""
    if prctl is not None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the signal was asked for
        os._exit(0)


def _reap(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)  # done already, or no longer wanted
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
