"""``POST /v1/optimise``: a suggested reallocation of the plan's resources."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import Response

from alignment_engine.errors import ForbiddenError
from alignment_engine.pipeline import OptimiseRun
from alignment_engine.service.api import OptimiseRequest, OptimiseResponse, engine_options
from alignment_engine.service.deps import OptimiseCaller, StateDep, error_responses
from alignment_engine.service.document_cache import DocumentRoute
from alignment_engine.service.documents import employees_table, history_table
from alignment_engine.service.inputs import plan_of, policy_of
from alignment_engine.service.runner import Decision, decide
from alignment_engine.storage import RunKind
from alignment_engine.tables import history_tables

router = APIRouter(tags=["decisions"], route_class=DocumentRoute)


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
    if body.employees and not caller.sees_pay:
        raise ForbiddenError(
            f"role '{caller.role.value}' may not see pay, and 'employees' turn the bonus "
            "changes into money; leave them out (the answer still gives each department's "
            "payout factor today and proposed)"
        )
    plan = await plan_of(state, body.plan, body.plan_id)
    policy = await policy_of(state, body.policy, body.policy_id, body.period)
    chosen = body.options
    options = engine_options(chosen)
    history = body.history
    staff = body.employees

    def tables() -> dict[str, pd.DataFrame]:
        built: dict[str, pd.DataFrame] = {}
        if history:
            results, amounts = history_tables([history_table(history)])
            built = {"history_results": results, "history_allocations": amounts}
        if staff and policy is not None:
            built["employees"] = employees_table(staff)
        return built

    def run(given: Mapping[str, pd.DataFrame]) -> OptimiseRun:
        return OptimiseRun(
            plan,
            options,
            history_results=given.get("history_results"),
            history_allocations=given.get("history_allocations"),
            compact=True,
            run_id_first=True,
            policy=policy,
            period=body.period if policy is not None else None,
            employees=given.get("employees"),
            max_payout_loss=body.max_payout_loss,
        )

    documents: dict[str, Any] = {"plan": plan}
    if policy is not None:
        documents["policy"] = policy
    decision = Decision(
        RunKind.OPTIMISE,
        documents=documents,
        tables=tables,
        # Recorded as `optimise` records them, so `runs replay` reads either the same way.
        options={
            "resources": list(options.resources or ()),
            "shared_weight": options.shared_weight,
            "balance": options.balance,
            "keep_total": options.keep_total,
        },
        run=run,
    )
    return await decide(state, request, caller, decision)
