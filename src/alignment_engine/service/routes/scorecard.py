"""``POST /v1/scorecard``: the Balanced Scorecard of a period, as `alignment-engine scorecard`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from alignment_engine.pipeline import ScorecardRun
from alignment_engine.service.api import ScorecardRequest, ScorecardResponse
from alignment_engine.service.deps import ScorecardCaller, StateDep, error_responses
from alignment_engine.service.document_cache import DocumentRoute
from alignment_engine.service.inputs import plan_of, table_builder
from alignment_engine.service.runner import Decision, Tables, decide
from alignment_engine.storage import RunKind

router = APIRouter(tags=["decisions"], route_class=DocumentRoute)


@router.post(
    "/v1/scorecard",
    response_model=ScorecardResponse,
    responses=error_responses(401, 403, 404, 409, 413, 422, 503, 504),
    summary="The Balanced Scorecard of a period",
)
async def scorecard(
    body: ScorecardRequest, request: Request, caller: ScorecardCaller, state: StateDep
) -> Response:
    """What `alignment-engine scorecard PLAN --actuals F --period P [--department D]
    --format json` prints: KPI, objective, perspective and overall scores and statuses, with
    the trend against the preceding period's stored scorecard of the same plan and department.
    Roles: all (a scorecard holds no pay)."""
    plan = await plan_of(state, body.plan, body.plan_id, body.period)
    period, department = body.period, body.department
    # The trend's input is read before the decision, and recorded with it as the CLI does.
    previous = await run_in_threadpool(
        lambda: state.store().previous_scorecard(
            plan.id, department, period, actor=caller.readable_actor
        )
    )
    build = table_builder(body.actuals, None)

    def run(tables: Tables) -> ScorecardRun:
        return ScorecardRun(
            plan, tables["actuals"], period, department=department, previous=previous, compact=True
        )

    documents = {"plan": plan}
    decision = Decision(
        RunKind.SCORECARD,
        documents=documents,
        tables=build,
        period=period,
        options={"plan": plan.id, "department": department},
        run=run,
    )
    return await decide(state, request, caller, decision)
