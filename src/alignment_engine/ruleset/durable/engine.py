"""The durable_rules adapter's engine: the only module loading durable_rules (PyPI 2.0.28).

:class:`RuleEngine` takes rulesets in durable_rules' JSON format, checks them against every limit
of the C engine up front, and evaluates a list of facts (plain dicts) against one ruleset at a
time, returning a :class:`Match` per rule firing. Rules may declare ``derive``: facts built from
their matched facts and asserted back into the same evaluation (forward chaining)::

    {"kpis": {"shared metric": {
        "all": [{"a": {"type": "kpi"}},
                {"b": {"$and": [{"type": "kpi"}, {"metric": {"a": "metric"}}]}}],
        "derive": [{"type": "shared", "metric": {"$ref": "a.metric"}}],
    }}}

Rule keys are ``all`` (required), ``dist`` (0 lets one fact fill several aliases) and ``derive``
(templates whose ``{"$ref": "alias.field"}`` values are copied from the matched facts). Conditions
use ``$and $or $ex $nex $eq $neq $lt $lte $gt $gte``, the equality shorthand ``{"field": value}``,
nested fields ``"a.b"``, joins ``{"alias": "field"}`` to an earlier alias, the matched fact's own
fields ``{"$m": "field"}``, arithmetic ``$add $sub $mul $div`` with ``$l``/``$r``, and negated
aliases ``"x$not"`` (never first). Field names ``id`` and ``sid`` are free to use: the adapter
renames them on the way in, because durable_rules reserves them. Names may not start with ``$``
or contain ``.``, quotes, backslashes or control characters.

Semantics worth knowing (durable's, kept): a comparison only matches facts that have the field;
``$neq`` against null is true, other comparisons with null are false, arithmetic with null gives
false. A join or a ``derive`` reference to ``a.field`` only matches facts ``a`` that have
``field``. ``$div`` always divides as floating point. Negation sees every fact known when a
match is first found (the input and the facts derived so far); a fact derived later does not
undo it. A fact derived with the same content as a known fact is not asserted again. Matches
come back sorted by rule (definition order) and then by the positions of their facts, each
reported once; the facts in a match are the very objects passed in (derived ones are new).

The defects of durable_rules 2.0.28 (measured before this adapter was built, re-read in the C
source ``src/rules``) and what this module does about each:

1. ``delete_state`` on a state where no action ran frees uninitialised pointers
   (``createStateNode`` leaves ``context`` unset). Each evaluation opens a fresh state with
   ``update_state``, which fires a sentinel rule; completing that action sets the pointers to
   NULL. Only such an "armed" state is ever deleted. A state that cannot be armed is retired
   (never deleted) and after a few the C ruleset is rebuilt.
2. ``reduceExpressionSequence`` steps past the END of an ``$and``/``$or`` group when its last
   join short-circuits, and nested groups end evaluation early. Every alias with a join is one
   flat ``$and`` ending in an always-true integer join on the adapter's fact marker; joins
   under ``$or`` are refused. durable's ``$not`` is not used at all (its retraction path reads
   frame slots by position and deletes other rules' matches): a negated alias becomes a
   positive "blocker" rule and the adapter removes blocked matches itself, which also makes
   negation independent of fact order.
3. ``Host()`` starts self-rescheduling ``threading.Timer`` chains (``Host._run`` arms
   ``dispatch_ruleset`` and ``dispatch_timers`` every 0-0.2 s; they start actions for any state
   and post ``$pulse`` events). This module never creates a ``Host`` and never imports
   ``durable.engine``: it drives the C extension ``durable_rules_engine`` directly, dispatches
   actions synchronously, and makes every C call on one engine thread, one job at a time.
4. At most 1,024 live states per ruleset: one is live per evaluation; retired ones are capped.
5. States and facts are told apart by a 32-bit FNV-1 hash only (over signed ``char``): fact
   ids and state ids are generated here and kept collision-free (``ids.fnv1_32`` is
   the C hash), and so are the field names of each fact and the adapter's own names.
6. Numbers: facts and rules are written by this module's JSON writer: floats in plain decimal
   (no exponent), NaN and infinities refused, integers outside int64 refused. ``$div`` becomes
   ``(l + 0.0) / (r + 0.0)``, so C never divides integers (SIGFPE on zero).
7. Sizes are checked before anything reaches C: rules per ruleset, properties per fact, facts
   per match, expression slots per alias, string length, and the alpha network, simulated as
   rete.c builds it. Wide nodes (the 513th condition after one test hangs; more than 64
   conditions pending for one fact fail the assertion) are spread under always-true bucket
   tests (``alpha.spread_wide_nodes``); what cannot be spread, like one huge ``$or``, is refused.
8. The C calls hold the GIL, so serialising them on one thread costs no throughput.
9. ``PyEval_CallObject`` (gone in Python 3.13) is only reached through storage callbacks, which
   this module never sets; the package still does not build there (pyproject.toml pins <3.13).

Found while building this adapter, and handled:

10. ``copyMessage`` (state.c) copies a stored fact but leaves its ``id`` and ``sid`` pointing
    into the JSON text it was given: the adapter keeps every text alive until the state is
    deleted, and nothing it emits compares ``sid`` or ``id``.
11. A join to a field the earlier fact lacks aborts the whole assertion (error 311): the
    earlier alias gets an ``$ex`` test for every field joined on. ``$m`` fields likewise.
12. Arithmetic between two literals is never evaluated (it has no expression type): folded here.
13. A ``$not`` first in a rule never fires; ``any`` pairs facts from different branches; an
    ``$or`` a fact matches twice fires twice: refused, refused, reported once.

This module keeps only what loads and calls the C extension: the native calls, the engine
thread, rulesets and states, and :class:`RuleEngine`. The pure parts are its siblings:
``limits`` (the C engine's limits), ``jsontext`` (the JSON writer),
``ids`` (FNV-1 hashes and collision-free ids), ``facts`` (field names and
facts), ``conditions`` (the condition tree), ``derive`` (``derive``
templates), ``compiling`` (validation and compilation to durable's JSON),
``alpha`` (the alpha network simulated and spread), ``errors`` (our errors
for durable's) and ``matches`` (:class:`Match`, negation blockers, forward chaining).
None of them imports durable_rules.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import importlib
import os
import queue
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from concurrent.futures import Future
from typing import Any, Final, Protocol, TypeAlias, TypeVar, cast

from alignment_engine.errors import RuleError
from alignment_engine.ruleset.durable.compiling import CompiledRuleset, compile_ruleset
from alignment_engine.ruleset.durable.errors import explain_failure, native_failure
from alignment_engine.ruleset.durable.facts import fact_fields
from alignment_engine.ruleset.durable.ids import MARK, SENTINEL_RULE, fnv1_32, id_table
from alignment_engine.ruleset.durable.jsontext import ValueProblem
from alignment_engine.ruleset.durable.limits import (
    MAX_FACTS_PER_EVALUATION,
    MAX_RETIRED_STATES,
)
from alignment_engine.ruleset.durable.matches import Chaining, Match, Outcome

__all__ = ["RuleEngine"]

T = TypeVar("T")


# ---------------------------------------------------------------------------------------------
# The C extension, typed. Nothing else in the package loads it.


class _NativeEngine(Protocol):
    error: type[Exception]

    def create_ruleset(self, name: str, rules: str, /) -> int: ...
    def delete_ruleset(self, handle: int, /) -> None: ...
    def assert_facts(self, handle: int, facts: str, /) -> tuple[int, int]: ...
    def update_state(self, handle: int, state: str, /) -> int: ...
    def start_action_for_state(self, handle: int, state: int, /) -> tuple[str, str] | None: ...
    def complete_and_start_action(self, handle: int, state: int, /) -> str | None: ...
    def delete_state(self, handle: int, sid: str, /) -> None: ...


# Loaded by name and typed by the Protocol above: the extension ships no stubs, and these seven
# calls are all the adapter uses (no Host, no timers, no storage callbacks).
_native = cast(_NativeEngine, importlib.import_module("durable_rules_engine"))


def _malloc_trim() -> Callable[[], None] | None:
    """glibc's malloc_trim: durable mallocs ~8 KB per fact and glibc keeps the freed heap."""
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return None
    trim.argtypes = [ctypes.c_size_t]

    def release() -> None:
        trim(0)

    return release


_trim_heap = _malloc_trim()
#: After an evaluation with this many facts, give the freed heap back to the system.
_TRIM_AFTER_FACTS: Final = 5_000
#: Facts asserted between two drains of the state's pending matches.
_ASSERT_BATCH: Final = 1_000


# ---------------------------------------------------------------------------------------------
# The engine thread: every C call happens here, one job at a time.

_Job: TypeAlias = tuple[Callable[[], Any], "Future[Any] | None"]


class _EngineThread:
    """One daemon thread per process running jobs in order (started again after a fork)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def run(self, job: Callable[[], T]) -> T:
        """Run ``job`` on the engine thread and return its result or raise its exception."""
        if threading.current_thread() is self._thread:
            return job()
        future: Future[T] = Future()
        self._queue().put((job, future))
        return future.result()

    def post(self, job: Callable[[], object]) -> None:
        """Queue ``job`` without waiting for it (finalizers)."""
        self._queue().put((job, None))

    def _queue(self) -> queue.SimpleQueue[_Job]:
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._jobs = queue.SimpleQueue()
                    self._thread = threading.Thread(
                        target=self._loop,
                        args=(self._jobs,),
                        name="alignment-engine-rules",
                        daemon=True,
                    )
                    self._thread.start()
                    self._pid = os.getpid()
        return self._jobs

    @staticmethod
    def _loop(jobs: queue.SimpleQueue[_Job]) -> None:
        while True:
            job, future = jobs.get()
            if future is None:
                with contextlib.suppress(Exception):  # a finalizer has nobody to tell
                    job()
            elif future.set_running_or_notify_cancel():
                try:
                    future.set_result(job())
                except BaseException as exc:
                    future.set_exception(exc)
            # Not kept while waiting for the next: a job holds what it was given (an
            # evaluation its facts; the fork of a check's rules their whole rendering state).
            del job, future


_engine_thread = _EngineThread()


def on_engine_thread(job: Callable[[], T]) -> T:
    """``job()`` run on the engine thread, between two durable_rules calls (what forking a
    process that uses the engine needs: no C call half done in the copy)."""
    return _engine_thread.run(job)


# ---------------------------------------------------------------------------------------------
# Native rulesets and states (engine thread only).


class _NativeRuleset:
    """One C ruleset and its states; a state lives for one evaluation."""

    def __init__(self, compiled: CompiledRuleset) -> None:
        self.compiled = compiled
        self.handle = self._create()
        self.deleted = False
        self.counter = 0
        self.retired: set[int] = set()  # sid hashes of states that are never deleted
        self.open_state_fact: int | None = None  # hash of the open state's own fact id
        #: Every JSON text given to the open state. durable's copyMessage copies a fact but
        #: leaves its id and sid pointing into the text it was given, so the texts must live
        #: until the state is deleted (else joins and hashes read freed memory).
        self.payloads: list[str] = []

    def _create(self) -> int:
        try:
            return _native.create_ruleset("alignment-engine", self.compiled.text)
        except (_native.error, MemoryError) as exc:
            raise native_failure(exc, f"ruleset '{self.compiled.name}' was refused") from exc

    def open_state(self) -> tuple[str, int]:
        """A fresh, armed state: its sid and offset."""
        if self.deleted:
            raise RuleError("the rule engine is closed")
        if len(self.retired) >= MAX_RETIRED_STATES:
            self._rebuild()
        while True:
            self.counter += 1
            sid = f"s{self.counter}"
            sid_hash = fnv1_32(sid)
            fact_hash = fnv1_32("sid-" + sid)  # the id durable gives the state's own fact
            if sid_hash not in self.retired and fact_hash not in id_table.hashes:
                break
        state = f'{{"sid":"{sid}","id":"sid-{sid}","$s":1}}'
        self.payloads = [state]
        try:
            offset = _native.update_state(self.handle, state)
            started = _native.start_action_for_state(self.handle, offset)
            completed = _native.complete_and_start_action(self.handle, offset)
        except (_native.error, MemoryError) as exc:
            self.retired.add(sid_hash)
            raise native_failure(exc, "could not open a rule engine session") from exc
        if started is None or f'"{SENTINEL_RULE}"' not in started[1] or completed is not None:
            self.retired.add(sid_hash)  # pragma: no cover - durable always fires the sentinel
            raise RuleError("could not open a rule engine session (the sentinel did not fire)")
        self.open_state_fact = fact_hash
        return sid, offset

    def close_state(self, sid: str) -> None:
        """Delete an armed state: its action context pointers are set (defect 1)."""
        self.open_state_fact = None
        try:
            _native.delete_state(self.handle, sid)
        except (_native.error, MemoryError):  # pragma: no cover - the state exists
            self.retired.add(fnv1_32(sid))
        self.payloads = []  # a retired state is never read again

    def _rebuild(self) -> None:
        """A new C ruleset; deleteRuleset frees the pools and never reads the states."""
        _native.delete_ruleset(self.handle)
        self.deleted = True  # until a new handle exists: durable reuses handle numbers
        self.handle = self._create()
        self.deleted = False
        self.retired.clear()

    def delete(self) -> None:
        if not self.deleted:
            self.deleted = True
            _native.delete_ruleset(self.handle)


def _drain(handle: int, offset: int) -> list[str]:
    """Every pending action of the state, each completed at once (their JSON texts)."""
    started = _native.start_action_for_state(handle, offset)
    if started is None:
        return []
    messages = [started[1]]
    while (text := _native.complete_and_start_action(handle, offset)) is not None:
        messages.append(text)
    return messages


# ---------------------------------------------------------------------------------------------
# Evaluation.


class _Evaluation(Chaining):
    """One evaluation on the engine thread, in rounds: assert, drain, derive, repeat."""

    def __init__(
        self,
        native: _NativeRuleset,
        facts: Sequence[Mapping[str, Any]],
        fields: list[str],
        max_derived: int,
    ) -> None:
        super().__init__(native.compiled, facts, fields, max_derived)
        self.native = native

    def run(self) -> Outcome:
        sid, offset = self.native.open_state()
        try:
            todo = range(len(self.fields))
            while todo:
                messages: list[str] = []
                # Matches pile up in the state until drained, and durable's cost per pending
                # match grows with their number (120,000 at once: 7 s; in batches: 0.3 s).
                # Rete matching is incremental, so asserting in batches and draining after
                # each finds the same matches.
                for batch in range(todo.start, todo.stop, _ASSERT_BATCH):
                    self._assert(sid, range(batch, min(batch + _ASSERT_BATCH, todo.stop)))
                    messages += _drain(self.native.handle, offset)
                found = self._decode(messages)
                todo = self._derive(found)
        except (_native.error, MemoryError) as exc:
            doing = f"ruleset '{self.compiled.name}' could not be evaluated"
            raise native_failure(
                exc,
                doing,
                explain_failure(
                    self.compiled.arithmetic_fields, self.compiled.join_fields, self.facts
                ),
            ) from exc
        finally:
            self.native.close_state(sid)
            if len(self.facts) >= _TRIM_AFTER_FACTS and _trim_heap is not None:
                _trim_heap()
        self.matches.sort()
        return Outcome(self.matches, self.facts)

    def _assert(self, sid: str, positions: range) -> None:
        avoid = set() if self.native.open_state_fact is None else {self.native.open_state_fact}
        ids = id_table.ensure(positions.stop, avoid)
        head = f'{{"sid":"{sid}","{MARK}":1,"id":"'
        texts = [
            head + ids[p] + '"' + ("," + self.fields[p] if self.fields[p] else "") + "}"
            for p in positions
        ]
        payload = "[" + ",".join(texts) + "]"
        self.native.payloads.append(payload)  # durable keeps pointers into it (id and sid)
        code, _ = _native.assert_facts(self.native.handle, payload)
        if code == 2:  # pragma: no cover - ids are kept collision-free
            raise RuleError("the rule engine dropped a fact as a duplicate (id hash collision)")


# ---------------------------------------------------------------------------------------------
# The public face.


class RuleEngine:
    """Rulesets compiled for durable_rules; facts are evaluated against one ruleset at a time.

    Thread-safe: evaluations from any thread run one after another on the engine thread.
    ``max_derived_facts`` bounds forward chaining per evaluation.
    """

    def __init__(
        self,
        rulesets: Mapping[str, Mapping[str, Any]],
        *,
        max_derived_facts: int = 10_000,
    ) -> None:
        if not isinstance(rulesets, Mapping) or not rulesets:
            raise RuleError("rulesets must be a non-empty mapping of names to rulesets")
        compiled: dict[str, CompiledRuleset] = {}
        for name, definition in rulesets.items():
            if not isinstance(name, str) or not name:
                raise RuleError(f"ruleset name {name!r} must be non-empty text")
            compiled[name] = compile_ruleset(name, definition)
        self._compiled = compiled
        self._max_derived = max_derived_facts
        self._closed = False
        self._native = _engine_thread.run(lambda: _create_native(compiled.values()))
        self._finalizer = weakref.finalize(self, _release, list(self._native.values()))
        self._finalizer.atexit = False

    @property
    def ruleset_names(self) -> tuple[str, ...]:
        return tuple(self._compiled)

    def evaluate(
        self,
        ruleset_name: str,
        facts: Sequence[Mapping[str, Any]],
        *,
        written: MutableMapping[int, str] | None = None,
    ) -> list[Match]:
        """Every firing of the ruleset's rules over ``facts`` and the facts they derive.

        ``written`` caches each fact's JSON text by the fact's ``id()`` across evaluations of
        the same facts (the caller keeps them alive and unchanged meanwhile).
        """
        return self.matches(ruleset_name, self.outcome(ruleset_name, facts, written=written))

    def outcome(
        self,
        ruleset_name: str,
        facts: Sequence[Mapping[str, Any]],
        *,
        written: MutableMapping[int, str] | None = None,
    ) -> Outcome:
        """What :meth:`evaluate` finds, by position in ``facts`` followed by the facts derived:
        plain data, which another process can send back and :meth:`matches` turns into
        matches over the same facts."""
        if self._closed:
            raise RuleError("the rule engine is closed")
        native = self._native.get(ruleset_name)
        if native is None:
            known = ", ".join(self._compiled)
            raise RuleError(f"unknown ruleset '{ruleset_name}'", suggestion=f"known: {known}")
        if isinstance(facts, Mapping | str) or not isinstance(facts, Sequence):
            raise RuleError("facts must be a list of mappings")
        if len(facts) > MAX_FACTS_PER_EVALUATION:
            raise RuleError(
                f"{len(facts)} facts in one evaluation; at most {MAX_FACTS_PER_EVALUATION} "
                "(durable_rules keeps about 8 KB per fact)"
            )
        fields = []
        for position, fact in enumerate(facts):
            text = None if written is None else written.get(id(fact))
            if text is None:
                try:
                    text = fact_fields(fact)
                except ValueProblem as exc:
                    raise RuleError(f"fact {position}: {exc}", key=f"facts[{position}]") from None
                if written is not None:
                    written[id(fact)] = text
            fields.append(text)
        evaluation = _Evaluation(native, facts, fields, self._max_derived)
        return _engine_thread.run(evaluation.run)

    def matches(self, ruleset_name: str, outcome: Outcome) -> list[Match]:
        """The matches an evaluation's outcome describes (its facts by position)."""
        native = self._native[ruleset_name]
        rules = native.compiled.rules
        everything = outcome.facts
        return [
            Match(
                rules[index].name,
                {
                    a.name: everything[p]
                    for a, p in zip(rules[index].positives, positions, strict=True)
                },
                tuple(cast(dict[str, Any], everything[p]) for p in made),
            )
            for index, positions, made in outcome.matches
        ]

    def close(self) -> None:
        """Free the C rulesets; evaluating afterwards raises RuleError."""
        if not self._closed:
            self._closed = True
            self._finalizer()

    def __enter__(self) -> RuleEngine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _create_native(compiled: Iterable[CompiledRuleset]) -> dict[str, _NativeRuleset]:
    created: dict[str, _NativeRuleset] = {}
    try:
        for ruleset in compiled:
            created[ruleset.name] = _NativeRuleset(ruleset)
    except BaseException:
        for native in created.values():
            native.delete()
        raise
    return created


def _release(natives: list[_NativeRuleset]) -> None:
    def delete() -> None:
        for native in natives:
            native.delete()

    _engine_thread.post(delete)
