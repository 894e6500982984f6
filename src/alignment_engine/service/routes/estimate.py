"""``POST /v1/estimate``: what one employee (or a department's factor) would earn under a plan
and policy at hypothetical results: "what if I close this deal". Not a run (nothing to replay
or finalise), but pay: audited (token, time, the request's hash) and only for the roles that
see pay."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from fastapi import APIRouter
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from alignment_engine.engine import score_period
from alignment_engine.errors import InputError
from alignment_engine.jsonio import dumps
from alignment_engine.service.api import EstimateRequest
from alignment_engine.service.auth import Caller
from alignment_engine.service.deps import EstimateCaller, StateDep, error_responses
from alignment_engine.service.document_cache import DocumentRoute
from alignment_engine.service.documents import actuals_table, employees_table
from alignment_engine.service.inputs import plan_of, policy_of
from alignment_engine.service.state import ServiceState
from alignment_engine.storage.canonical import document_content

router = APIRouter(tags=["decisions"], route_class=DocumentRoute)


def _estimate(
    state: ServiceState, caller: Caller, body: EstimateRequest, plan: Any, policy: Any
) -> bytes:
    actuals = actuals_table(body.actuals)
    employee = body.employee
    employees = employees_table([employee]) if employee is not None else None
    result = score_period(
        plan, policy, actuals, employees, body.period, accept_findings=body.accept_findings
    )
    department = body.department or (employee.department if employee is not None else None)
    departments = {d.department: d for d in result.departments}
    if department is not None and department not in departments:
        raise InputError(f"'{department}' is not a department of the plan", key="department")
    decimals = result.settings.decimals
    answer: dict[str, Any] = {
        "period": result.period,
        "plan": result.plan_id,
        "policy": result.policy_id,
        "department": None if department is None else departments[department].to_dict(decimals),
        "employee": None,
        "currency": result.settings.currency,
    }
    if employee is not None:
        answer["employee"] = {
            "employee_id": employee.employee_id,
            "payout": result.employees.units[0] / 10**decimals,
            "payout_text": result.payout_texts()[0],
            "factor": float(result.employees.factor[0]),
            "explanation": result.explanation(0),
        }
    request_hash = hashlib.sha256(
        orjson.dumps(
            {
                "plan": document_content(plan),
                "policy": document_content(policy),
                "request": body.model_dump(mode="json", exclude={"plan", "policy"}),
            },
            option=orjson.OPT_SORT_KEYS,
        )
    ).hexdigest()
    answer["input_hash"] = request_hash
    state.commits().record_audit(
        caller.name, "estimate", employee.employee_id if employee else department,
        {"input_hash": request_hash, "period": result.period},
    )  # fmt: skip
    return dumps(answer, compact=True).encode("utf-8")


@router.post(
    "/v1/estimate",
    responses=error_responses(401, 403, 404, 413, 422, 503),
    summary="What one employee would earn at hypothetical results",
)
async def estimate(body: EstimateRequest, caller: EstimateCaller, state: StateDep) -> Response:
    """Scores the hypothetical `actuals` under the plan and policy (inline or stored, e.g.
    `plan_id: acme-plan`, `policy_id: bonus@2026`) for one `employee` (its row as in a score's
    employees) and answers their payout, factor and explanation, and their department's (or
    `department`'s) score and factor. Recorded as an audit entry (`estimate`: the token, the
    time, the request's hash), not as a run. Roles: admin, hr, service (it is pay)."""
    plan = await plan_of(state, body.plan, body.plan_id, body.period)
    policy = await policy_of(state, body.policy, body.policy_id, body.period)
    text = await run_in_threadpool(_estimate, state, caller, body, plan, policy)
    return Response(content=text, media_type="application/json")
