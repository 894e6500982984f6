"""``POST /v1/check``: alignment and conflict findings for a plan (and optionally a policy)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from alignment_engine import engine
from alignment_engine.service.api import CheckRequest, CheckResponse
from alignment_engine.service.deps import CheckCaller, StateDep, error_responses
from alignment_engine.service.inputs import plan_of, policy_of
from alignment_engine.service.runner import Decision, decide
from alignment_engine.storage import RunKind

router = APIRouter(tags=["decisions"])


@router.post(
    "/v1/check",
    response_model=CheckResponse,
    responses=error_responses(401, 403, 404, 413, 422, 503, 504),
    summary="Alignment and conflict findings",
)
async def check(
    body: CheckRequest, request: Request, caller: CheckCaller, state: StateDep
) -> Response:
    """The findings of `alignment-engine check PLAN [--policy POL] --format json`, with the
    server's rule folders added to the shipped rule packs. Roles: all."""
    plan = await plan_of(state, body.plan, body.plan_id)
    policy = await policy_of(state, body.policy, body.policy_id)
    rule_dirs = state.settings.rule_dirs
    documents = {"plan": plan, **({"policy": policy} if policy is not None else {})}
    decision = Decision(
        RunKind.CHECK,
        compute=lambda _tables: engine.check_plan(plan, policy, rule_dirs),
        documents=documents,
        options={"rule_dirs": list(rule_dirs)} if rule_dirs else {},
    )
    return await decide(state, request, caller, decision)
