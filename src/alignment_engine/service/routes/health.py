"""``/healthz`` (the process answers) and ``/readyz`` (it can decide: database and rules)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from alignment_engine.service.api import Health, Readiness
from alignment_engine.service.deps import StateDep, error_responses
from alignment_engine.service.errors import NotReadyError
from alignment_engine.service.readiness import readiness_checks

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> Health:
    """200 while the process serves requests. No token needed."""
    return Health(status="ok")


@router.get(
    "/readyz", response_model=Readiness, responses=error_responses(503), summary="Readiness"
)
async def readyz(state: StateDep) -> Readiness:
    """200 when the database answers with an up-to-date schema and the rule packs compile;
    503 (details: each check's outcome) otherwise. No token needed."""
    checks = await run_in_threadpool(readiness_checks, state)
    if any(outcome != "ok" for outcome in checks.values()):
        raise NotReadyError("the service is not ready", details=checks)
    return Readiness(status="ready", checks=checks)
