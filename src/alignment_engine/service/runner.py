"""Taking a decision for a request: in a worker thread, within the time limit, recorded as a run.

Every decision is stored as a run whose actor is the caller's token name, whatever its outcome:
``completed`` with the exact response body, or ``failed`` with the error body (bad input found by
the engine, time limit, internal error). Each call records a run of its own (storing is forced),
so two callers sending the same inputs are both on record; the one exception is a period whose
final run has the same inputs, which answers with that final run.

The time limit: the request stops waiting and answers 504. Python cannot kill a thread, so a
computation already running finishes in the background and is then discarded (not recorded as
completed); it keeps its worker thread meanwhile, so at most ``optimise_threads`` (or
``decision_threads``) computations ever run at once, and work still queued when its time is up
never starts.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd
from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from alignment_engine.engine import ScoreResult
from alignment_engine.errors import AlignmentError
from alignment_engine.jsonio import dumps
from alignment_engine.pipeline import RunDefinition, result_text
from alignment_engine.service.auth import Caller
from alignment_engine.service.errors import TimeLimitError, error_body
from alignment_engine.service.isolation import available, run_isolated
from alignment_engine.service.state import ServiceState
from alignment_engine.storage import RunKind, RunRecord, RunStatus, StoredRun

__all__ = ["Decision", "Result", "Tables", "decide"]

logger = logging.getLogger("alignment_engine.service")


class Result(Protocol):
    """What the engine's calls return: an object rendering its ``--format json`` shape (docs/cli.md)."""

    def to_dict(self) -> dict[str, Any]: ...


Render = Callable[[Result], dict[str, Any]]


def _plain(result: Result) -> dict[str, Any]:
    return result.to_dict()


def _json(body: Mapping[str, Any]) -> str:
    return dumps(body, compact=True)


Tables = Mapping[str, pd.DataFrame]


def _no_tables() -> Tables:
    return {}


@dataclass
class Decision:
    """One decision to take: its inputs as the run records them, and the engine call.

    ``tables`` builds the input tables from the request's rows and ``compute`` takes them; both
    run in the worker thread (building a table costs milliseconds of pandas, which would
    otherwise hold up every other request on the event loop).
    """

    kind: RunKind
    compute: Callable[[Tables], Result] | None = None
    documents: Mapping[str, BaseModel] = field(default_factory=dict)
    tables: Callable[[], Tables] = _no_tables
    period: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    render: Render = _plain
    run: Callable[[Tables], RunDefinition] | None = None
    """The run kind's definition (:mod:`alignment_engine.pipeline`), built from the tables: it
    records, computes and renders exactly as the CLI and ``runs replay`` do. ``compute`` and
    ``render`` are for the kinds without one (scenarios); ``documents``, ``period`` and
    ``options`` record a run that failed before its tables were built."""

    def definition(self, tables: Tables) -> RunDefinition | None:
        return None if self.run is None else self.run(tables)

    def result(self, tables: Tables, run: RunDefinition | None) -> Result:
        if run is not None:
            computed: Result = run.compute()
            return computed
        if self.compute is None:  # pragma: no cover - every route gives one of the two
            raise AlignmentError(f"the {self.kind.value} decision has nothing to compute")
        return self.compute(tables)

    def rendered(self, result: Result, run: RunDefinition | None) -> dict[str, Any]:
        return run.document(result) if run is not None else self.render(result)

    @property
    def heavy(self) -> bool:
        return self.kind in (RunKind.OPTIMISE, RunKind.SCENARIO)

    @property
    def isolated(self) -> bool:
        """Computed in a child process (see :mod:`.isolation`): the kinds whose cost grows
        with the plan, not with rows a vectorised path handles."""
        return self.kind in (RunKind.CHECK, RunKind.OPTIMISE, RunKind.SCENARIO)


class _Attempt:
    """A decision under way: its run record (made once, in whichever thread needs it first)
    and whether the request gave up waiting for it."""

    def __init__(self, decision: Decision, caller: Caller, state: ServiceState) -> None:
        self.decision = decision
        self.caller = caller
        self.state = state
        self.abandoned = threading.Event()
        self.deadline = time.monotonic() + state.settings.time_limit_seconds
        self._lock = threading.Lock()
        self._record: RunRecord | None = None
        self._tables: Tables = {}
        self._run: RunDefinition | None = None

    def record(self) -> RunRecord:
        """The run record; made once, with the tables built so far (none if the request ran
        out of time before its turn came)."""
        with self._lock:
            if self._record is None and self._run is not None:
                self._record = self._run.record(actor=self.caller.name)
            if self._record is None:
                decision = self.decision
                self._record = RunRecord.create(
                    decision.kind,
                    period=decision.period,
                    documents=dict(decision.documents),
                    tables=dict(self._tables),
                    options=dict(decision.options),
                    actor=self.caller.name,
                )
            return self._record

    def store_failure(self, error: AlignmentError) -> None:
        """Record the failed attempt; best effort, so the caller still gets the real error
        when the database is the thing that failed."""
        try:
            self.state.commits().record_run(
                self.record(),
                result_json=_json(error_body(error)),
                status=RunStatus.FAILED,
                force=True,
            )
        except AlignmentError as failure:
            logger.warning("could not record the failed %s run: %s", self.decision.kind, failure)

    def _isolated(self, tables: Tables, run: RunDefinition | None) -> dict[str, Any]:
        decision = self.decision
        try:
            rendered: dict[str, Any] = run_isolated(
                lambda: decision.rendered(decision.result(tables, run), run),
                deadline=self.deadline,
                abandoned=self.abandoned,
                memory_bytes=self.state.settings.decision_memory_mb * 1024 * 1024,
                what=decision.kind.value,
            )
        except TimeoutError:
            self.abandoned.set()  # the request answers 504; the child is already killed
            raise TimeLimitError(
                f"the {decision.kind.value} was stopped at the time limit"
            ) from None
        return rendered

    def run(self) -> StoredRun | None:
        """The worker thread's part: compute, render, store. None if abandoned meanwhile."""
        if self.abandoned.is_set():
            return None
        # Bad rows are request validation (422), not a failed run: nothing is recorded.
        tables = self.decision.tables()
        run = self.decision.definition(tables)
        with self._lock:
            self._tables = tables
            self._run = run
        record = self.record()
        try:
            result: Result | None = None
            if self.decision.isolated and self.state.settings.isolate_decisions and available():
                rendered = self._isolated(tables, run)
            else:
                result = self.decision.result(tables, run)
                rendered = self.decision.rendered(result, run)
            text = result_text(rendered, record.run_id, compact=True)
        except AlignmentError as error:
            if not self.abandoned.is_set():
                self.store_failure(error)
            raise
        except Exception:
            if not self.abandoned.is_set():
                self.store_failure(AlignmentError("internal error"))
            raise
        if self.abandoned.is_set():
            return None
        extras: dict[str, Any] = {}
        if result is not None and isinstance(result, ScoreResult):
            extras = {
                "payouts": result.employees_frame(),
                "payout_decimals": result.settings.decimals,
                "ledger": None if result.ledger is None else result.ledger.entries,
            }
        # Answered only once its transaction has committed (shared with concurrent calls).
        return self.state.commits().record_run(record, result_json=text, force=True, **extras)


async def decide(
    state: ServiceState, request: Request, caller: Caller, decision: Decision
) -> Response:
    """Take ``decision`` for ``caller`` and answer with the recorded run's exact result text."""
    attempt = _Attempt(decision, caller, state)
    limit = state.settings.time_limit_seconds
    outcome = "error"
    try:
        future = state.executor(decision.heavy).submit(attempt.run)
        try:
            stored = await asyncio.wait_for(asyncio.wrap_future(future), timeout=limit)
        except TimeoutError:
            attempt.abandoned.set()
            future.cancel()  # still queued: it never starts
            error = TimeLimitError(
                f"the {decision.kind.value} did not finish within {limit:g} seconds",
                details=[{"time_limit_seconds": limit}],
            )
            await run_in_threadpool(attempt.store_failure, error)
            outcome = "timeout"
            raise error from None
        except AlignmentError as error:
            outcome = "rejected" if error.status < 500 else "error"
            raise
        if stored is None:  # pragma: no cover - only when abandoned, which raised above
            raise TimeLimitError(f"the {decision.kind.value} was abandoned")
        outcome = "ok"
    finally:
        state.metrics.decisions.labels(decision.kind.value, outcome).inc()
    request.state.run_id = stored.id
    return Response(
        content=stored.result_bytes,
        media_type="application/json",
        headers={"X-Run-Id": stored.id},
    )
