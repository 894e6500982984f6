"""``GET /v1/runs/{run_id}``: a recorded run, its inputs by content hash, and its exact result."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from alignment_engine.errors import NotFoundError
from alignment_engine.service.api import RunResponse
from alignment_engine.service.deps import RunsCaller, StateDep, error_responses
from alignment_engine.storage import StoredRun

router = APIRouter(tags=["runs"])

RunId = Annotated[
    str,
    Path(min_length=1, max_length=64, description="a run id, or a unique prefix of 4+ hex digits"),
]


@router.get(
    "/v1/runs/{run_id}",
    response_model=RunResponse,
    responses=error_responses(401, 403, 404, 503),
    summary="A recorded run",
)
async def get_run(run_id: RunId, request: Request, caller: RunsCaller, state: StateDep) -> Response:
    """Who asked, when, the inputs' content hashes by role, and `result`: the body the run
    answered with, byte for byte. Admins read every run; hr reads check and score runs;
    planners check, optimise and scenario runs; service tokens the runs they recorded."""

    def load() -> StoredRun:
        try:
            return state.store().get_run(run_id)
        except NotFoundError as error:
            # The store's message names the database; ours says only what was asked for,
            # except when a short prefix matched several runs.
            if "several" in error.message:
                raise NotFoundError(f"run id prefix {run_id!r} matches several runs") from None
            raise NotFoundError(f"no run {run_id!r}") from None

    stored = await run_in_threadpool(load)
    if not caller.may_read_run(stored.kind.value, stored.actor):
        raise NotFoundError(f"no run {run_id!r}")
    request.state.run_id = stored.id
    summary = json.dumps(stored.to_dict(), ensure_ascii=False, separators=(",", ":"))
    # The stored result is spliced in unchanged, so it is exactly what the run answered.
    text = summary[:-1] + ',"result":' + (stored.result_json or "null") + "}"
    return Response(content=text.encode("utf-8"), media_type="application/json")
