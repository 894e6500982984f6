"""``/v1/jobs``: a quarter's scoring sent as files, run in the background, fetched when done.

``POST /v1/jobs/score`` takes a multipart form: a ``request`` part (JSON: the plan and policy,
inline or by id, the period and options) and one file part per table (``actuals``,
``employees``, ``adjustments``, ``fx``), or tables already stored, by hash. The files are
checked as the CLI checks them (errors name the uploaded file, row and column) and stored with
the job before the answer (202), so the job outlives the worker that took it. ``GET
/v1/jobs/{id}`` gives its state and progress; once completed, ``/result`` is the score run's
JSON and ``/payouts`` its payouts as CSV. Only the roles that see pay may use them.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path, PurePath
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from alignment_engine.errors import ConflictError, InputError, NotFoundError, Problem
from alignment_engine.jobs import JOB_TABLES
from alignment_engine.service.api import JobStatus, ScoreJobRequest
from alignment_engine.service.auth import Caller
from alignment_engine.service.deps import ScoreCaller, StateDep, error_responses
from alignment_engine.service.inputs import plan_of, policy_of
from alignment_engine.service.state import ServiceState
from alignment_engine.storage import Job, JobState

router = APIRouter(tags=["jobs"])

_SUFFIXES = (".csv", ".txt", ".parquet", ".xlsx", ".xlsm")
_MAX_PARTS = 8


def _links(job: Job) -> dict[str, str]:
    base = f"/v1/jobs/{job.id}"
    links = {"self": base}
    if job.state is JobState.COMPLETED:
        links |= {"result": f"{base}/result", "payouts": f"{base}/payouts"}
    return links


def _status(job: Job, code: int = 200) -> JSONResponse:
    body = {**job.to_dict(), "links": _links(job)}
    headers = {"Location": f"/v1/jobs/{job.id}"} if code == 202 else None
    return JSONResponse(body, status_code=code, headers=headers)


def _request_part(form: Any) -> ScoreJobRequest:
    part = form.get("request")
    if part is None:
        raise InputError(
            "the form has no 'request' part",
            file="request",
            key="request",
            suggestion="send the plan, policy and period as JSON in a part named 'request'",
        )
    text = part if isinstance(part, str) else None
    if text is None:
        raise InputError("the 'request' part must be a form field, not a file", key="request")
    try:
        data = json.loads(text)
    except ValueError as error:
        raise InputError(f"the 'request' part is not JSON: {error}", key="request") from None
    try:
        return ScoreJobRequest.model_validate(data)
    except ValidationError as error:
        located = [{**e, "loc": ("body", *e["loc"])} for e in error.errors()]
        raise RequestValidationError(located, body=data) from None


def _read_upload(role: str, name: str, data: bytes) -> Any:
    from alignment_engine import tables

    specs = {
        "actuals": tables.ACTUALS,
        "employees": tables.EMPLOYEES,
        "adjustments": tables.ADJUSTMENTS,
        "fx": tables.FX,
    }
    suffix = PurePath(name).suffix.lower()
    if suffix not in _SUFFIXES:
        raise InputError(
            f"cannot read {name!r} as a table",
            file=name,
            key=role,
            suggestion="send CSV (.csv), Parquet (.parquet) or Excel (.xlsx)",
        )
    with tempfile.TemporaryDirectory(prefix="alignment-upload-") as directory:
        path = Path(directory) / f"{role}{suffix}"
        path.write_bytes(data)
        return tables.read_table(path, specs[role], source=name)


def _stored_table(state: ServiceState, role: str, table_hash: str) -> Any:
    from alignment_engine import tables

    specs = {
        "actuals": tables.ACTUALS,
        "employees": tables.EMPLOYEES,
        "adjustments": tables.ADJUSTMENTS,
        "fx": tables.FX,
    }
    try:
        stored = state.store().table(table_hash)
    except NotFoundError:
        raise NotFoundError(f"no stored table {table_hash!r} (tables.{role})") from None
    return tables.table_from_text(stored.frame(), specs[role], f"stored table '{role}'")


@router.post(
    "/v1/jobs/score",
    status_code=202,
    response_model=JobStatus,
    responses=error_responses(401, 403, 404, 413, 422, 503),
    summary="Queue a period's scoring from uploaded tables",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["request"],
                        "properties": {
                            "request": {
                                "type": "string",
                                "description": "ScoreJobRequest as JSON",
                            },
                            **{role: {"type": "string", "format": "binary"} for role in JOB_TABLES},
                        },
                    }
                }
            },
        }
    },
)
async def submit_score_job(request: Request, caller: ScoreCaller, state: StateDep) -> Response:
    """Answers 202 with the job (state `queued`) and its `Location`. Roles: admin, hr, service."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise InputError(
            "a job is sent as a multipart form (a 'request' part and one file per table)",
            file="request",
            suggestion="curl -F request=@job.json -F actuals=@actuals.csv -F employees=@employees.csv",
        )
    async with request.form(max_files=_MAX_PARTS, max_fields=_MAX_PARTS) as form:
        body = _request_part(form)
        unknown = sorted(set(form.keys()) - {"request", *JOB_TABLES})
        if unknown:
            raise InputError(
                problems=[
                    Problem(
                        f"unknown part {name!r}",
                        "request",
                        key=name,
                        suggestion=f"parts: request, {', '.join(JOB_TABLES)}",
                    )
                    for name in unknown
                ]
            )
        uploads: dict[str, tuple[str, bytes]] = {}
        for role in JOB_TABLES:
            part = form.get(role)
            if part is None:
                continue
            if not isinstance(part, UploadFile):
                raise InputError(f"the {role!r} part must be a file", key=role)
            if role in body.tables:
                raise InputError(
                    f"{role} is given twice: as a file and in 'tables'", key=f"tables.{role}"
                )
            uploads[role] = (part.filename or role, await part.read())
    if "actuals" not in uploads and "actuals" not in body.tables:
        raise InputError(
            "scoring needs the period's actuals",
            key="actuals",
            suggestion="add a file part 'actuals'",
        )
    plan = await plan_of(state, body.plan, body.plan_id, body.period)
    policy = await policy_of(state, body.policy, body.policy_id, body.period)
    if policy is None:  # the request model requires one of policy and policy_id
        raise InputError("scoring needs a policy", file="request", key="policy")

    def submit() -> Job:
        frames = {role: _read_upload(role, name, data) for role, (name, data) in uploads.items()}
        for role, table_hash in body.tables.items():
            frames[role] = _stored_table(state, role, table_hash)
        ordered = {role: frames[role] for role in JOB_TABLES if role in frames}
        return state.store().submit_job(
            "score",
            period=body.period,
            documents={"plan": plan, "policy": policy},
            tables=ordered,
            options=body.options.model_dump(),
            actor=caller.name,
        )

    job = await run_in_threadpool(submit)
    worker = getattr(request.app.state, "job_worker", None)
    if worker is not None:
        worker.wake()
    return _status(job, 202)


async def _job(state: ServiceState, caller: Caller, job_id: str) -> Job:
    try:
        job = await run_in_threadpool(lambda: state.store().get_job(job_id))
    except NotFoundError:
        raise NotFoundError(f"no job {job_id!r}") from None
    if caller.readable_actor is not None and job.actor != caller.readable_actor:
        raise NotFoundError(f"no job {job_id!r}")  # not theirs: as if it did not exist
    return job


def _completed(job: Job) -> str:
    if job.state is not JobState.COMPLETED or job.run_id is None:
        raise ConflictError(
            f"job {job.id} is {job.state.value}; its result is there once it has completed",
            details=[{"state": job.state.value, "error": job.error}],
        )
    return job.run_id


@router.get(
    "/v1/jobs/{job_id}",
    response_model=JobStatus,
    responses=error_responses(401, 403, 404, 503),
    summary="A job's state and progress",
)
async def get_job(job_id: str, caller: ScoreCaller, state: StateDep) -> Response:
    """Roles: admin, hr, service (a service token sees its own jobs)."""
    return _status(await _job(state, caller, job_id))


@router.get(
    "/v1/jobs/{job_id}/result",
    responses=error_responses(401, 403, 404, 409, 503),
    summary="A completed job's score run (JSON)",
)
async def get_job_result(job_id: str, caller: ScoreCaller, state: StateDep) -> Response:
    """The run's result as `GET /v1/runs/{run_id}` gives it; 409 until the job has completed."""
    run_id = _completed(await _job(state, caller, job_id))
    stored = await run_in_threadpool(lambda: state.store().get_run(run_id))
    return Response(
        stored.result_bytes,
        media_type="application/json",
        headers={"X-Run-Id": run_id},
    )


@router.get(
    "/v1/jobs/{job_id}/payouts",
    responses=error_responses(401, 403, 404, 409, 503),
    summary="A completed job's payouts (CSV)",
)
async def get_job_payouts(job_id: str, caller: ScoreCaller, state: StateDep) -> Response:
    """`employee_id, department, payout_units, payout, factor`, one row per employee, in the
    run's order (`payout_units`: integer cents, or the policy's smallest unit)."""
    run_id = _completed(await _job(state, caller, job_id))

    def csv_text() -> bytes:
        frame = state.store().payouts(run_id)
        decimals = int(frame.attrs.get("decimals", 0))
        # Written to the cent from the integer units (a float's own repr could show noise).
        frame["payout"] = frame["payout"].map(f"{{:.{decimals}f}}".format)
        return frame.to_csv(index=False).encode("utf-8")

    data = await run_in_threadpool(csv_text)
    return StreamingResponse(
        iter([data]),
        media_type="text/csv",
        headers={
            "X-Run-Id": run_id,
            "Content-Disposition": f'attachment; filename="payouts-{run_id}.csv"',
        },
    )
