"""Group commit: concurrent callers' runs share transactions, and each caller gets its own
outcome (its stored run, or the error its run alone would have raised)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from sqlalchemy import text
from storage_samples import payouts_for, score_output, score_record

from alignment_engine.errors import ConflictError
from alignment_engine.storage import GroupCommit, RunStatus, Store, StoredRun
from alignment_engine.storage.connection import engine_for_url, write_transaction

CALLERS = 12


def _record_through(commits: GroupCommit, period: str, market_share: float) -> StoredRun:
    record = score_record(period=period, market_share=market_share)
    payouts = payouts_for(record)
    return commits.record_run(
        record, result_json=score_output(record, payouts), payouts=payouts, force=True
    )


@contextmanager
def _writes_held(store: Store) -> Iterator[None]:
    """Another writer holding the database, so the first transaction waits (and callers arriving
    meanwhile queue behind it) until the block ends."""
    engine = engine_for_url(store.url)
    try:
        with write_transaction(engine) as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("LOCK TABLE runs, audit_log IN EXCLUSIVE MODE"))
            yield
    finally:
        engine.dispose()


def test_concurrent_callers_share_transactions_and_each_gets_its_run(store: Store) -> None:
    batches: list[int] = []
    commits = GroupCommit(store, on_batch=batches.append)

    def caller(number: int) -> StoredRun:
        return _record_through(commits, f"2026-Q{1 + number % 4}", 0.2 + number / 100)

    with ThreadPoolExecutor(CALLERS) as pool:
        with _writes_held(store):
            answers = [pool.submit(caller, n) for n in range(CALLERS)]
            deadline = time.monotonic() + 120  # one caller writes, the others queue behind it
            while commits.waiting < CALLERS - 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert commits.waiting == CALLERS - 1
            assert not any(answer.done() for answer in answers)  # nothing answered yet
        stored = [answer.result(timeout=120) for answer in answers]
    assert len({run.id for run in stored}) == CALLERS
    assert batches == [1, CALLERS - 1]  # the first alone, then everyone who queued meanwhile
    for run in stored:  # each answer is the run as stored, payouts and audit included
        again = store.get_run(run.id)
        assert again.result_json == run.result_json
        assert json.loads(again.result_json)["run_id"] == run.id
        assert len(store.payouts(run.id)) == 5
    created = store.audit_log(action="run.created", limit=None)
    assert {entry.subject for entry in created} == {run.id for run in stored}


def test_a_refused_run_does_not_stop_the_rest_of_its_batch(store: Store) -> None:
    final = _record_through(GroupCommit(store), "2026-Q1", 0.25)
    store.finalise(final.id)
    refused = score_record(period="2026-Q1", market_share=0.3)
    accepted = score_record(period="2026-Q2", market_share=0.3)
    batch = [
        store.prepare_run(r, result_json=score_output(r, payouts_for(r)), force=True)
        for r in (refused, accepted)
    ]
    outcomes = store.record_runs(batch)
    assert isinstance(outcomes[0], ConflictError)
    assert "is final for period 2026-Q1" in outcomes[0].message
    assert isinstance(outcomes[1], StoredRun)
    assert store.get_run(accepted.run_id).status is RunStatus.COMPLETED
    assert [run.id for run in store.list_runs()].count(refused.run_id) == 0


def test_the_same_record_twice_in_one_batch_is_stored_once(store: Store) -> None:
    record = score_record()
    text = score_output(record, payouts_for(record))
    pending = store.prepare_run(record, result_json=text, force=True)
    first, second = store.record_runs([pending, pending])
    assert isinstance(first, StoredRun) and isinstance(second, StoredRun)
    assert first.id == second.id == record.run_id
    assert len(store.list_runs()) == 1
    assert len(store.audit_log(action="run.created", limit=None)) == 1


def test_a_caller_hears_the_error_its_own_run_raises(store: Store) -> None:
    commits = GroupCommit(store)
    final = _record_through(commits, "2026-Q3", 0.25)
    store.finalise(final.id)
    with pytest.raises(ConflictError, match="is final"):
        _record_through(commits, "2026-Q3", 0.31)
    assert _record_through(commits, "2026-Q4", 0.31).status is RunStatus.COMPLETED


def test_estimates_audit_entries_share_the_runs_transactions(store: Store) -> None:
    # An estimate is answered once its audit entry has committed; under load the entries
    # join the runs' batches instead of each taking a transaction of its own.
    batches: list[int] = []
    commits = GroupCommit(store, on_batch=batches.append)

    def caller(number: int) -> StoredRun | None:
        if number % 2:  # the same estimate asked by several callers: an entry for each
            commits.record_audit("hr", "estimate", "E001", {"input_hash": "same"})
            return None
        return _record_through(commits, f"2026-Q{1 + number % 4}", 0.2 + number / 100)

    with ThreadPoolExecutor(CALLERS) as pool:
        with _writes_held(store):
            answers = [pool.submit(caller, n) for n in range(CALLERS)]
            deadline = time.monotonic() + 120
            while commits.waiting < CALLERS - 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert commits.waiting == CALLERS - 1
            assert not any(answer.done() for answer in answers)  # no estimate answered early
        outcomes = [answer.result(timeout=120) for answer in answers]
    assert batches == [1, CALLERS - 1]
    estimates = store.audit_log(action="estimate", limit=None)
    assert [(e.subject, e.details) for e in estimates] == [("E001", {"input_hash": "same"})] * (
        CALLERS // 2
    )
    runs = [run for run in outcomes if run is not None]
    assert len({run.id for run in runs}) == CALLERS // 2


def test_an_audit_entry_alone_is_committed_at_once(store: Store) -> None:
    GroupCommit(store).record_audit("svc", "estimate", None, {"input_hash": "abc"})
    (entry,) = store.audit_log(action="estimate", limit=None)
    assert (entry.actor, entry.subject, entry.details) == ("svc", None, {"input_hash": "abc"})
