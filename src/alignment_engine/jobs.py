"""Background jobs: a quarter's scoring submitted once, run later by whichever process claims it.

A job's inputs are stored by content when it is submitted (:meth:`Store.submit_job`), so running
it needs the database alone; the run it makes is stored as the CLI's would be (the same run
definition, the same run hash: a job and ``alignment-engine score`` over the same files give the
same run). The worker reports progress through ``report``, which also says whether it still
holds the job: one that was taken over after a stall stops and stores nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from alignment_engine.errors import ConflictError, InputError
from alignment_engine.model import Plan, Policy
from alignment_engine.pipeline import ScoreRun
from alignment_engine.storage import Job, RunKind, Store, StoredTable

__all__ = ["JOB_TABLES", "JobLostError", "run_job"]

JOB_TABLES = ("actuals", "employees", "adjustments", "fx")
"""The tables a score job takes (``actuals`` required), as ``alignment-engine score`` does."""

Report = Callable[[Mapping[str, Any]], bool]


class JobLostError(ConflictError):
    """The job was taken over by another worker while this one ran it."""

    code = "job_lost"


def _typed(tables: Mapping[str, StoredTable], role: str) -> Any:
    from alignment_engine import tables as table_kinds  # late: pandas only for table work

    specs = {
        "actuals": table_kinds.ACTUALS,
        "employees": table_kinds.EMPLOYEES,
        "adjustments": table_kinds.ADJUSTMENTS,
        "fx": table_kinds.FX,
    }
    stored = tables.get(role)
    if stored is None:
        return None
    return table_kinds.table_from_text(stored.frame(), specs[role], f"uploaded table '{role}'")


def run_job(store: Store, job: Job, report: Report) -> str:
    """Compute the job's run and store it; returns the run id (an identical stored run's id
    when there is one, as for the CLI)."""
    if job.kind is not RunKind.SCORE:
        raise InputError(f"jobs run score runs, not {job.kind.value} runs")
    if job.period is None:
        raise InputError("a score job needs a period", key="period")

    def step(progress: Mapping[str, Any]) -> None:
        if not report(progress):
            raise JobLostError(f"job {job.id} was taken over by another worker")

    step({"stage": "reading inputs"})
    documents, tables = store.job_inputs(job)
    try:
        plan = Plan.model_validate(documents["plan"].content)
        policy = Policy.model_validate(documents["policy"].content)
    except ValidationError as error:  # submitted by a library caller without validating
        raise InputError(f"the job's plan or policy is not valid: {error}") from None
    lots = store.open_lots(job.period)
    run = ScoreRun(
        plan,
        policy,
        _typed(tables, "actuals"),
        _typed(tables, "employees"),
        job.period,
        explanations=job.options.get("explanations", "full"),
        accept_findings=bool(job.options.get("accept_findings", False)),
        adjustments=_typed(tables, "adjustments"),
        lots=lots if len(lots) else None,
        fx=_typed(tables, "fx"),
    )
    record = run.record(actor=job.actor)
    existing = store.existing_run(record)
    if existing is not None:
        return existing.id
    employees = 0 if run.employees is None else len(run.employees)
    step({"stage": "scoring", "employees": employees})
    result = run.compute()
    step({"stage": "storing", "employees": employees})
    output = run.output(result, record.run_id)
    stored = store.record_run(
        record,
        result_json=output.result_json,
        payouts=output.payouts,
        payout_decimals=output.payout_decimals,
        ledger=output.ledger,
    )
    return stored.id
