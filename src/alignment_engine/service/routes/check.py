"""``POST /v1/check``: alignment and conflict findings for a plan (and optionally a policy)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from alignment_engine.errors import InputError
from alignment_engine.pipeline import CheckRun
from alignment_engine.rulepacks import LoadedPack, load_packs
from alignment_engine.service.api import CheckRequest, CheckResponse
from alignment_engine.service.deps import CheckCaller, StateDep, error_responses
from alignment_engine.service.document_cache import DocumentRoute
from alignment_engine.service.errors import NotReadyError
from alignment_engine.service.inputs import plan_of, policy_of
from alignment_engine.service.runner import Decision, decide
from alignment_engine.storage import RunKind

router = APIRouter(tags=["decisions"], route_class=DocumentRoute)
logger = logging.getLogger("alignment_engine.service")


def _server_packs(rule_dirs: Sequence[str]) -> list[LoadedPack]:
    """The server's rule packs. Their problems are the operator's, not the caller's: they are
    logged with their file names, and the caller gets 503 without them."""
    try:
        return load_packs(rule_dirs)
    except InputError as error:
        logger.error("the server's rule packs do not load: %s", error.message)
        raise NotReadyError("the server's rule packs do not load; its log says why") from None


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
    # The server's own packs are recorded by content (their folders are not the client's
    # business, and a pack edited later must not change what the run says it used), named as
    # `check --rules` names them, so `runs replay` recomputes either the same way.
    packs = tuple(await run_in_threadpool(_server_packs, rule_dirs)) if rule_dirs else ()
    run = CheckRun(plan, policy, packs, compact=True, run_id_first=True)
    documents: dict[str, BaseModel] = {"plan": plan}
    if policy is not None:
        documents["policy"] = policy
    documents.update({f"rules.{index}": loaded.pack for index, loaded in enumerate(packs)})
    decision = Decision(RunKind.CHECK, documents=documents, run=lambda _tables: run)
    return await decide(state, request, caller, decision)
