"""The job queue in the database: claimed once, in order, taken over when its worker stops
reporting, failed after too many takeovers, and run to the same run as the CLI's."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest

from alignment_engine import tables
from alignment_engine.errors import NotFoundError
from alignment_engine.jobs import JobLostError, run_job
from alignment_engine.loading import plan_from_yaml, policy_from_yaml
from alignment_engine.storage import JobState, Store

ROOT = Path(__file__).resolve().parent.parent.parent
ACME = ROOT / "scenarios" / "acme"


def employees() -> pd.DataFrame:
    return tables.read_table(ACME / "employees.csv", tables.EMPLOYEES)


def _submit(store: Store, period: str = "2026-Q3") -> str:
    job = store.submit_job(
        "score",
        period=period,
        documents={
            "plan": plan_from_yaml(ACME / "plan.yaml"),
            "policy": policy_from_yaml(ROOT / "policies" / "annual-bonus-2026.yaml"),
        },
        tables={
            "actuals": tables.read_table(ACME / "actuals-2026-q3.csv", tables.ACTUALS),
            "employees": employees(),
        },
        options={"explanations": "full"},
        actor="payroll",
    )
    assert job.state is JobState.QUEUED and job.attempts == 0
    return job.id


def test_jobs_are_claimed_once_each_oldest_first(store: Store) -> None:
    first, second = _submit(store), _submit(store, "2026-Q4")
    claimed = store.claim_job("w1", stale_after=60)
    assert claimed is not None and claimed.id == first
    assert claimed.state is JobState.RUNNING and claimed.claimed_by == "w1"
    again = store.claim_job("w2", stale_after=60)
    assert again is not None and again.id == second
    assert store.claim_job("w3", stale_after=60) is None  # both held, neither stale


def test_a_job_whose_worker_stops_reporting_is_taken_over(store: Store) -> None:
    job_id = _submit(store)
    held = store.claim_job("dead-worker", stale_after=60)
    assert held is not None
    time.sleep(0.05)  # its last heartbeat is now older than the stale time below
    taken = store.claim_job("w2", stale_after=0.01)
    assert taken is not None and taken.id == job_id
    assert taken.attempts == 2 and taken.claimed_by == "w2"
    # The old holder hears it no longer holds the job, and cannot finish it.
    assert store.job_heartbeat(job_id, "dead-worker", {"stage": "scoring"}) is False
    assert store.finish_job(job_id, "dead-worker", run_id="x") is False
    assert store.job_heartbeat(job_id, "w2", {"stage": "scoring"}) is True
    assert store.get_job(job_id).progress == {"stage": "scoring"}
    actions = [e.action for e in store.audit_log(limit=None) if e.subject == job_id]
    assert "job.taken_over" in actions


def test_a_job_that_kills_its_workers_fails_after_three_attempts(store: Store) -> None:
    job_id = _submit(store)
    for attempt in range(3):
        assert store.claim_job(f"w{attempt}", stale_after=0.01) is not None
        time.sleep(0.05)
    assert store.claim_job("w3", stale_after=0.01) is None
    failed = store.get_job(job_id)
    assert failed.state is JobState.FAILED and failed.attempts == 3
    assert failed.error is not None and "stopped 3 times" in failed.error["message"]


def test_running_a_job_stores_a_score_run(store: Store) -> None:
    job_id = _submit(store)
    job = store.claim_job("w1", stale_after=60)
    assert job is not None
    stages: list[str] = []

    def report(progress: object) -> bool:
        assert isinstance(progress, dict)
        stages.append(progress["stage"])
        return store.job_heartbeat(job_id, "w1", progress)

    run_id = run_job(store, job, report)
    assert stages == ["reading inputs", "scoring", "storing"]
    assert store.finish_job(job_id, "w1", run_id=run_id)
    done = store.get_job(job_id)
    assert done.state is JobState.COMPLETED and done.run_id == run_id
    assert len(store.payouts(run_id)) == len(employees())
    run = store.get_run(run_id)
    assert run.actor == "payroll" and run.tables == done.inputs["tables"]


def test_a_worker_that_lost_its_job_stores_nothing(store: Store) -> None:
    _submit(store)
    job = store.claim_job("w1", stale_after=60)
    assert job is not None
    with pytest.raises(JobLostError):
        run_job(store, job, lambda progress: False)
    assert store.list_runs() == []
    with pytest.raises(NotFoundError):
        store.get_job("nothing")


def test_concurrent_workers_never_claim_the_same_job(store: Store) -> None:
    from concurrent.futures import ThreadPoolExecutor

    submitted = {_submit(store, f"2026-Q{1 + n % 4}") for n in range(6)}

    def claim(number: int) -> str | None:
        job = store.claim_job(f"worker-{number}", stale_after=60)
        return None if job is None else job.id

    with ThreadPoolExecutor(8) as pool:
        claimed = [job_id for job_id in pool.map(claim, range(8)) if job_id is not None]
    assert sorted(claimed) == sorted(submitted)  # each job once; two workers found nothing
