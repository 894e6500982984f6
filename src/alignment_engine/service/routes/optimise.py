"""``POST /v1/optimise``: a suggested reallocation of the plan's resources."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from alignment_engine import engine
from alignment_engine.service.api import OptimiseRequest, OptimiseResponse, engine_options
from alignment_engine.service.deps import OptimiseCaller, StateDep, error_responses
from alignment_engine.service.inputs import plan_of
from alignment_engine.service.runner import Decision, decide
from alignment_engine.storage import RunKind

router = APIRouter(tags=["decisions"])


@router.post(
    "/v1/optimise",
    response_model=OptimiseResponse,
    responses=error_responses(401, 403, 404, 413, 422, 503, 504),
    summary="Suggest a reallocation of resources",
)
async def optimise(
    body: OptimiseRequest, request: Request, caller: OptimiseCaller, state: StateDep
) -> Response:
    """What `alignment-engine optimise PLAN --format json` prints, plus `run_id`. Runs within the
    time limit (504 after it). Roles: admin, planner, service."""
    plan = await plan_of(state, body.plan, body.plan_id)
    chosen = body.options
    options = engine_options(chosen)
    decision = Decision(
        RunKind.OPTIMISE,
        compute=lambda _tables: engine.suggest_reallocation(plan, options),
        documents={"plan": plan},
        options=chosen.model_dump(),
    )
    return await decide(state, request, caller, decision)
