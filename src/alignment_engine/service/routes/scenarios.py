"""``POST /v1/scenarios/run``: a what-if run (overrides and sweeps) of a plan."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel

from alignment_engine import scenarios
from alignment_engine.errors import ForbiddenError
from alignment_engine.service.api import ScenarioRunRequest, ScenarioRunResponse, engine_options
from alignment_engine.service.deps import ScenarioCaller, StateDep, error_responses
from alignment_engine.service.document_cache import DocumentRoute
from alignment_engine.service.inputs import plan_of, policy_of, table_builder
from alignment_engine.service.runner import Decision, Result, Tables, decide
from alignment_engine.storage import RunKind

router = APIRouter(tags=["decisions"], route_class=DocumentRoute)


@router.post(
    "/v1/scenarios/run",
    response_model=ScenarioRunResponse,
    responses=error_responses(401, 403, 404, 413, 422, 503, 504),
    summary="Run a what-if scenario",
)
async def run_scenario(
    body: ScenarioRunRequest, request: Request, caller: ScenarioCaller, state: StateDep
) -> Response:
    """What `alignment-engine scenario run S --format json` prints, plus `run_id`. The scenario's
    `set` and `sweep` apply to the plan in the request (its file references are not read).
    Runs within the time limit (504 after it). Roles: admin, planner, service."""
    if body.employees and not caller.sees_pay:
        raise ForbiddenError(
            f"role '{caller.role.value}' may not see pay, and a scenario with employees "
            "computes each one's payout; leave out 'employees' (the scenario still shows "
            "scores, payout factors, findings and allocations)"
        )
    plan = await plan_of(state, body.plan, body.plan_id)
    policy = await policy_of(state, body.policy, body.policy_id)
    scenario = body.scenario
    overrides: tuple[scenarios.LocatedOverride, ...] = ()
    sweep = None
    sweep_values: tuple[Any, ...] = ()
    if scenario is not None:
        overrides = tuple(
            scenarios.LocatedOverride(o.path, o.value, file=f"scenario.set[{i}]")
            for i, o in enumerate(scenario.set)
        )
        if scenario.sweep is not None:
            sweep = scenarios.LocatedOverride(scenario.sweep.path, None, file="scenario.sweep")
            sweep_values = tuple(scenario.sweep.values)
    period = body.period or (scenario.period if scenario is not None else None)
    without_tables = scenarios.ScenarioInputs(
        id=scenario.id if scenario is not None else plan.id,
        name=scenario.name if scenario is not None else plan.name,
        plan=plan,
        overrides=overrides,
        sweep=sweep,
        sweep_values=sweep_values,
        policy=policy,
        period=period,
        is_scenario=scenario is not None,
    )
    chosen = body.options
    options = engine_options(chosen)
    documents: dict[str, BaseModel] = {"plan": plan}
    if policy is not None:
        documents["policy"] = policy
    if scenario is not None:
        documents["scenario"] = scenario

    def compute(tables: Tables) -> Result:
        inputs = replace(
            without_tables, actuals=tables.get("actuals"), employees=tables.get("employees")
        )
        return scenarios.run_inputs(
            inputs,
            rule_dirs=state.settings.rule_dirs,
            options=options,
            against_base=chosen.against_base,
        )

    decision = Decision(
        RunKind.SCENARIO,
        compute=compute,
        documents=documents,
        tables=table_builder(body.actuals, body.employees),
        period=period,
        options=chosen.model_dump(),
    )
    return await decide(state, request, caller, decision)
