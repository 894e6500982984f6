"""``POST /v1/score``: a period's KPI results, department scores and employee payouts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from alignment_engine.errors import InputError
from alignment_engine.pipeline import ScoreRun
from alignment_engine.service.api import ScoreRequest, ScoreResponse
from alignment_engine.service.deps import ScoreCaller, StateDep, error_responses
from alignment_engine.service.inputs import plan_of, policy_of, table_builder
from alignment_engine.service.runner import Decision, Tables, decide
from alignment_engine.storage import RunKind

router = APIRouter(tags=["decisions"])


@router.post(
    "/v1/score",
    response_model=ScoreResponse,
    responses=error_responses(401, 403, 404, 409, 413, 422, 503, 504),
    summary="Score a period into payouts",
)
async def score(
    body: ScoreRequest, request: Request, caller: ScoreCaller, state: StateDep
) -> Response:
    """What `alignment-engine score ... --format json` prints, plus `run_id`.
    Roles: admin, hr, service."""
    plan = await plan_of(state, body.plan, body.plan_id)
    policy = await policy_of(state, body.policy, body.policy_id)
    if policy is None:  # the request model requires one of policy and policy_id
        raise InputError("scoring needs a policy", file="request", key="policy")
    period = body.period
    explanations = body.options.explanations
    build = table_builder(body.actuals, body.employees)

    def run(tables: Tables) -> ScoreRun:
        return ScoreRun(
            plan,
            policy,
            tables["actuals"],
            tables.get("employees"),
            period,
            explanations=explanations,
            compact=True,
            accept_findings=body.options.accept_findings,
        )

    decision = Decision(
        RunKind.SCORE,
        documents={"plan": plan, "policy": policy},
        tables=build,
        period=period,
        options=body.options.model_dump(),
        run=run,
    )
    return await decide(state, request, caller, decision)
