"""Dependency aliases for the routes: the app's state and the caller allowed to do each action."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from alignment_engine.service.api import ErrorBody
from alignment_engine.service.auth import Action, Caller, authenticate, require
from alignment_engine.service.state import ServiceState

__all__ = [
    "CheckCaller",
    "EstimateCaller",
    "OptimiseCaller",
    "PoliciesCaller",
    "PushPlanCaller",
    "PushPolicyCaller",
    "RunsCaller",
    "ScenarioCaller",
    "ScoreCaller",
    "ScorecardCaller",
    "StateDep",
    "error_responses",
]


def _state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.service
    return state


StateDep = Annotated[ServiceState, Depends(_state)]
AnyCaller = Annotated[Caller, Depends(authenticate)]
CheckCaller = Annotated[Caller, Depends(require(Action.CHECK))]
ScoreCaller = Annotated[Caller, Depends(require(Action.SCORE))]
OptimiseCaller = Annotated[Caller, Depends(require(Action.OPTIMISE))]
ScenarioCaller = Annotated[Caller, Depends(require(Action.SCENARIO))]
ScorecardCaller = Annotated[Caller, Depends(require(Action.SCORECARD))]
RunsCaller = Annotated[Caller, Depends(require(Action.READ_RUNS))]
PushPlanCaller = Annotated[Caller, Depends(require(Action.PUSH_PLAN))]
PushPolicyCaller = Annotated[Caller, Depends(require(Action.PUSH_POLICY))]
PoliciesCaller = Annotated[Caller, Depends(require(Action.READ_POLICIES))]
EstimateCaller = Annotated[Caller, Depends(require(Action.ESTIMATE))]

_DESCRIPTIONS = {
    401: "No bearer token, or an unknown or revoked one",
    403: "The token's role may not do this",
    404: "A named run or stored document does not exist (or is not yours to read)",
    409: "The period already has a final run with different inputs",
    413: "The request body is larger than the limit",
    422: "The request or its documents are not valid; details locate each problem",
    500: "An internal error (the server log has the details)",
    503: "The database is not available",
    504: "The decision did not finish within the time limit",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers a route may give, all in the one error shape."""
    chosen = sorted({*statuses, 500})
    return {s: {"model": ErrorBody, "description": _DESCRIPTIONS[s]} for s in chosen}
