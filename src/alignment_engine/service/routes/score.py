"""``POST /v1/score``: a period's KPI results, department scores and employee payouts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from alignment_engine.errors import InputError, NotFoundError
from alignment_engine.pipeline import ScoreRun
from alignment_engine.service.api import ScoreRequest, ScoreResponse
from alignment_engine.service.auth import Caller
from alignment_engine.service.deps import ScoreCaller, StateDep, error_responses
from alignment_engine.service.document_cache import DocumentRoute
from alignment_engine.service.inputs import plan_of, policy_of, table_builder
from alignment_engine.service.runner import Decision, Tables, decide
from alignment_engine.service.state import ServiceState
from alignment_engine.storage import RunKind

if TYPE_CHECKING:
    import pandas as pd

router = APIRouter(tags=["decisions"], route_class=DocumentRoute)


def _restated(
    state: ServiceState, caller: Caller, run_id: str, period: str
) -> tuple[str, pd.DataFrame]:
    """The final run a restatement restates, among the runs this caller may read."""
    try:
        return state.store().restatement_base(run_id, period, actor=caller.readable_actor)
    except NotFoundError as error:
        # The store's message names the database; ours only what was asked for.
        if "several" in error.message:
            raise NotFoundError(f"run id prefix {run_id!r} matches several runs") from None
        raise NotFoundError(f"no score run {run_id!r} to restate") from None


def _open_lots(state: ServiceState, period: str) -> pd.DataFrame | None:
    lots = state.store().open_lots(period)
    return lots if len(lots) else None


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
    plan = await plan_of(state, body.plan, body.plan_id, body.period)
    policy = await policy_of(state, body.policy, body.policy_id, body.period)
    if policy is None:  # the request model requires one of policy and policy_id
        raise InputError("scoring needs a policy", file="request", key="policy")
    period = body.period
    explanations = body.options.explanations
    build = table_builder(body.actuals, body.employees, body.adjustments, body.fx)
    restates = body.options.restates
    # The run a restatement restates, checked (and its payouts read) before the decision.
    restated = (
        None
        if restates is None
        else await run_in_threadpool(_restated, state, caller, restates, period)
    )
    # The deferrals, advances and recoveries the period settles (a restatement settles none).
    lots = None if restated is not None else await run_in_threadpool(_open_lots, state, period)

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
            restates=None if restated is None else restated[0],
            restated_payouts=None if restated is None else restated[1],
            adjustments=tables.get("adjustments"),
            lots=lots,
            fx=tables.get("fx"),
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
