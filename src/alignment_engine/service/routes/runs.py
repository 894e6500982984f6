"""``GET /v1/runs/{run_id}``: a recorded run, its inputs by content hash, and its exact result."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from alignment_engine.errors import ForbiddenError, NotFoundError
from alignment_engine.jsonio import dumps
from alignment_engine.service.api import RunResponse
from alignment_engine.service.auth import Caller
from alignment_engine.service.deps import RunsCaller, StateDep, error_responses
from alignment_engine.service.redaction import without_pay
from alignment_engine.service.state import ServiceState
from alignment_engine.storage import StoredRun

router = APIRouter(tags=["runs"])

RunId = Annotated[
    str,
    Path(min_length=1, max_length=64, description="a run id, or a unique prefix of 4+ hex digits"),
]


@router.get(
    "/v1/runs/{run_id}",
    response_model=RunResponse,
    responses=error_responses(401, 403, 404, 503),
    summary="A recorded run",
)
async def get_run(run_id: RunId, request: Request, caller: RunsCaller, state: StateDep) -> Response:
    """Who asked, when, the inputs' content hashes by role, and `result`: the body the run
    answered with, byte for byte. Admins read every run; hr reads check and score runs;
    planners check, optimise and scenario runs, without pay (employees' payouts and pay
    amounts are removed, and `result.redacted` says so); service tokens the runs they
    recorded. A prefix of 4+ hex digits finds a run only among those the caller may read."""
    stored = await run_in_threadpool(_find, state, caller, run_id)
    request.state.run_id = stored.id
    summary = json.dumps(stored.to_dict(), ensure_ascii=False, separators=(",", ":"))
    result = stored.result_json or "null"
    if not caller.sees_pay and stored.result_json:
        result = without_pay(stored.result_json)
    # The stored result is spliced in unchanged (unless pay is removed for this caller), so it
    # is exactly what the run answered.
    text = summary[:-1] + ',"result":' + result + "}"
    return Response(content=text.encode("utf-8"), media_type="application/json")


def _summary(stored: StoredRun) -> Response:
    return Response(
        content=json.dumps(stored.to_dict(), ensure_ascii=False, separators=(",", ":")).encode(),
        media_type="application/json",
    )


def _decide(state: ServiceState, caller: Caller, run_id: str, step: str) -> StoredRun:
    """Approve or finalise a run this caller may read, as the token's name."""
    stored = _find(state, caller, run_id)
    if not caller.may_approve(stored.kind.value):
        raise ForbiddenError(f"role '{caller.role.value}' may not {step} {stored.kind.value} runs")
    store = state.store()
    if step == "approve":
        return store.approve(stored.id, caller.name)
    return store.finalise(stored.id, caller.name)


@router.post(
    "/v1/runs/{run_id}/approve",
    responses=error_responses(401, 403, 404, 409, 503),
    summary="Approve a run for finalising (maker-checker)",
)
async def approve(run_id: RunId, request: Request, caller: RunsCaller, state: StateDep) -> Response:
    """Approve a completed run of a period, as this token's name, which must not be the run's
    maker (409 otherwise). Roles: score runs admin and hr; check and scorecard runs admin, hr
    and planner; optimise and scenario runs admin and planner. Answers the run's summary."""
    stored = await run_in_threadpool(_decide, state, caller, run_id, "approve")
    request.state.run_id = stored.id
    return _summary(stored)


@router.post(
    "/v1/runs/{run_id}/finalise",
    responses=error_responses(401, 403, 404, 409, 503),
    summary="Make a run its period's final run",
)
async def finalise(
    run_id: RunId, request: Request, caller: RunsCaller, state: StateDep
) -> Response:
    """As `runs finalise ID`, by this token's name: an approved run where the database requires
    approval (409 otherwise), the roles as for approving. Answers the run's summary."""
    stored = await run_in_threadpool(_decide, state, caller, run_id, "finalise")
    request.state.run_id = stored.id
    return _summary(stored)


EmployeeId = Annotated[str, Path(min_length=1, max_length=200, description="an employee id")]


@router.get(
    "/v1/runs/{run_id}/explanations/{employee_id}",
    responses=error_responses(401, 403, 404, 422, 503),
    summary="How one payout of a stored score run was computed",
)
async def explain(
    run_id: RunId, employee_id: EmployeeId, request: Request, caller: RunsCaller, state: StateDep
) -> Response:
    """The employee's payout chain (KPI actuals, curve segments, weights, gates, caps,
    proration, pool scale, rounding), derived on demand from the run's stored inputs and
    checked against the stored payout to the cent; what `runs show ID --explain E` prints.
    For the roles that see pay (admin, hr)."""
    from alignment_engine.replay import explain_payout

    if not caller.sees_pay:
        raise ForbiddenError(f"role '{caller.role.value}' may not see pay (allowed: admin, hr)")
    stored = await run_in_threadpool(_find, state, caller, run_id)
    request.state.run_id = stored.id
    explanation = await run_in_threadpool(explain_payout, state.store(), stored.id, employee_id)
    return Response(content=dumps(explanation, compact=True), media_type="application/json")


@router.get(
    "/v1/runs/{run_id}/statements/{employee_id}",
    responses=error_responses(401, 403, 404, 422, 503),
    summary="One employee's printable payee statement of a stored score run",
    response_class=HTMLResponse,
)
async def statement(
    run_id: RunId, employee_id: EmployeeId, request: Request, caller: RunsCaller, state: StateDep
) -> Response:
    """The page `alignment-engine statements RUN_ID --employee E` writes: the payout and the
    KPI results, curves, gates, caps, proration, pool and adjustments behind it, derived from
    the run's stored inputs and checked against the stored payout to the cent. For the roles
    that see pay (admin, hr)."""
    from alignment_engine.replay import payee_statement

    if not caller.sees_pay:
        raise ForbiddenError(f"role '{caller.role.value}' may not see pay (allowed: admin, hr)")
    stored = await run_in_threadpool(_find, state, caller, run_id)
    request.state.run_id = stored.id
    page = await run_in_threadpool(payee_statement, state.store(), stored.id, employee_id)
    return HTMLResponse(content=page)


def _find(state: ServiceState, caller: Caller, run_id: str) -> StoredRun:
    """The run, if this caller may read it."""

    def load() -> StoredRun:
        try:
            # Only among the runs this caller may read: others are not found, and never make
            # a prefix ambiguous, so ids of runs one may not read cannot be probed.
            return state.store().get_run(
                run_id, kinds=caller.readable_kinds, actor=caller.readable_actor
            )
        except NotFoundError as error:
            # The store's message names the database; ours says only what was asked for,
            # except when a short prefix matched several runs.
            if "several" in error.message:
                raise NotFoundError(f"run id prefix {run_id!r} matches several runs") from None
            raise NotFoundError(f"no run {run_id!r}") from None

    stored = load()
    if not caller.may_read_run(stored.kind.value, stored.actor):
        raise NotFoundError(f"no run {run_id!r}")  # pragma: no cover - filtered in the store
    return stored
