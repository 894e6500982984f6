"""``POST /v1/plans``, ``POST /v1/policies`` and their listings: stored releases, deployed once
and named by requests (``plan_id: acme-plan@2026.2``) instead of sent with every call."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from alignment_engine.service.api import (
    PlanReleaseRequest,
    PolicyReleaseRequest,
    ReleaseResponse,
    ReleasesResponse,
)
from alignment_engine.service.auth import Caller
from alignment_engine.service.deps import (
    AnyCaller,
    PoliciesCaller,
    PushPlanCaller,
    PushPolicyCaller,
    StateDep,
    error_responses,
)
from alignment_engine.service.document_cache import DocumentRoute
from alignment_engine.service.state import ServiceState

router = APIRouter(tags=["releases"], route_class=DocumentRoute)


def _push(
    state: ServiceState, caller: Caller, kind: str, body: PlanReleaseRequest | PolicyReleaseRequest
) -> dict[str, Any]:
    document = body.plan if isinstance(body, PlanReleaseRequest) else body.policy
    release = state.store().push_release(
        kind,
        body.name,
        body.version,
        document,
        effective_from=body.effective_from,
        effective_to=body.effective_to,
        actor=caller.name,
    )
    return release.to_dict()


@router.post(
    "/v1/plans",
    status_code=201,
    response_model=ReleaseResponse,
    responses=error_responses(401, 403, 409, 413, 422, 503),
    summary="Deploy a plan version",
)
async def push_plan(body: PlanReleaseRequest, caller: PushPlanCaller, state: StateDep) -> Any:
    """Store the plan as `name@version` (content-addressed; versions never change: the same
    content again answers the same release, other content 409). Requests then give
    `plan_id: name@version`, or `name` for the version effective in their period.
    Roles: admin, hr, planner."""
    return JSONResponse(await run_in_threadpool(_push, state, caller, "plan", body), 201)


@router.post(
    "/v1/policies",
    status_code=201,
    response_model=ReleaseResponse,
    responses=error_responses(401, 403, 409, 413, 422, 503),
    summary="Deploy a policy version",
)
async def push_policy(body: PolicyReleaseRequest, caller: PushPolicyCaller, state: StateDep) -> Any:
    """As `POST /v1/plans`, for an incentive policy. Roles: admin, hr."""
    return JSONResponse(await run_in_threadpool(_push, state, caller, "policy", body), 201)


@router.get(
    "/v1/plans",
    response_model=ReleasesResponse,
    responses=error_responses(401, 403, 503),
    summary="Deployed plan versions",
)
async def list_plans(caller: AnyCaller, state: StateDep) -> Any:
    """Every plan release: name, version, effective dates, content hash. All roles."""
    releases = await run_in_threadpool(state.store().releases, "plan")
    return {"releases": [r.to_dict() for r in releases]}


@router.get(
    "/v1/policies",
    response_model=ReleasesResponse,
    responses=error_responses(401, 403, 503),
    summary="Deployed policy versions",
)
async def list_policies(caller: PoliciesCaller, state: StateDep) -> Any:
    """Every policy release. Roles: admin, hr, service."""
    releases = await run_in_threadpool(state.store().releases, "policy")
    return {"releases": [r.to_dict() for r in releases]}
