"""Group commit: concurrent callers' runs written in one transaction, each caller answered when
the transaction holding its run has committed.

The leader/follower scheme databases use for their own log: a caller queues its run; if no
write is under way it becomes the leader, takes everything queued (up to ``max_batch``) and
writes it in one transaction; callers arriving meanwhile wait, and when the leader is done one
of them leads the next batch with whatever has queued by then. Alone, a caller writes its run at
once (a batch of one, no added wait); under load, one commit (and, on PostgreSQL, one flush of
the write-ahead log) serves many calls. Nothing is answered before it is durable, so a process
killed at any moment has lost only calls it never answered.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from alignment_engine.errors import AlignmentError
from alignment_engine.storage.records import RunRecord, StoredRun
from alignment_engine.storage.store import PendingAudit, PendingRun, Store

__all__ = ["GroupCommit"]

MAX_BATCH = 64


@dataclass(eq=False)  # by identity: two callers may queue equal entries (the same estimate)
class _Queued:
    pending: PendingRun | None  # None: an audit entry alone
    audit: PendingAudit | None = None
    outcome: StoredRun | AlignmentError | None = None
    failure: BaseException | None = None
    done: bool = field(default=False)


class GroupCommit:
    """Writes runs through ``store`` in batches; thread-safe, one per store per process.

    ``on_batch`` (optional) is told each committed batch's size (for metrics).
    """

    def __init__(
        self,
        store: Store,
        *,
        max_batch: int = MAX_BATCH,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.store = store
        self.max_batch = max_batch
        self._on_batch = on_batch
        self._changed = threading.Condition()
        self._queue: list[_Queued] = []
        self._writing = False

    @property
    def waiting(self) -> int:
        """Runs queued behind the transaction under way."""
        with self._changed:
            return len(self._queue)

    def record_run(
        self, record: RunRecord, *, result_json: str | bytes, **options: Any
    ) -> StoredRun:
        """:meth:`Store.record_run`, with the transaction shared with concurrent callers."""
        pending = self.store.prepare_run(record, result_json=result_json, **options)
        outcome = self._commit(_Queued(pending))
        assert outcome is not None
        return outcome

    def record_audit(
        self, actor: str, action: str, subject: str | None, details: dict[str, Any]
    ) -> None:
        """:meth:`Store.record_audit` (an estimate's entry), sharing the runs' transaction:
        returns once the entry has committed."""
        self._commit(_Queued(None, PendingAudit(actor, action, subject, details)))

    def _commit(self, mine: _Queued) -> StoredRun | None:
        with self._changed:
            self._queue.append(mine)
            while self._writing and not mine.done:
                self._changed.wait()
            if mine.done:
                return _answer(mine)
            self._writing = True
            self._queue.remove(mine)  # the leader's own run is always in the batch it writes
            batch = [mine, *self._queue[: self.max_batch - 1]]
            del self._queue[: self.max_batch - 1]
        try:
            self._write(batch)
        finally:
            with self._changed:
                self._writing = False
                self._changed.notify_all()
        return _answer(mine)

    def _write(self, batch: list[_Queued]) -> None:
        runs = [queued for queued in batch if queued.pending is not None]
        audits = [queued.audit for queued in batch if queued.audit is not None]
        try:
            outcomes = self.store.record_runs([q.pending for q in runs if q.pending], audits)
        except BaseException as failure:  # the database is down, say: every caller hears it
            for queued in batch:
                queued.failure, queued.done = failure, True
            raise
        for queued, outcome in zip(runs, outcomes, strict=True):
            queued.outcome = outcome
        for queued in batch:
            queued.done = True
        if self._on_batch is not None:
            self._on_batch(len(batch))


def _answer(queued: _Queued) -> StoredRun | None:
    if queued.failure is not None:
        raise queued.failure
    outcome = queued.outcome
    if isinstance(outcome, AlignmentError):
        raise outcome
    assert outcome is not None or queued.pending is None
    return outcome
