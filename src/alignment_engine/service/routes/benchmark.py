"""``POST /v1/benchmark/baseline`` (only with ``benchmark_endpoints``): the same path through the
app as a decision (token check, JSON body parsed, JSON answer of a given size) without deciding
anything, so benchmarks/service.py can show what the decisions themselves cost."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from alignment_engine.service.deps import AnyCaller, error_responses

router = APIRouter(tags=["benchmark"])


@router.post(
    "/v1/benchmark/baseline",
    responses=error_responses(401, 413, 422),
    summary="A JSON answer of the size asked for (benchmark baseline)",
)
async def baseline(
    body: dict[str, Any],
    caller: AnyCaller,
    size: Annotated[int, Query(ge=0, le=10 * 1024 * 1024)] = 1024,
) -> Response:
    """Answers `{"keys": N, "padding": "xxx..."}`, `size` bytes long (at least ~30)."""
    head = f'{{"keys":{len(body)},"padding":"'
    text = head + "x" * max(0, size - len(head) - 2) + '"}'
    return Response(content=text.encode("utf-8"), media_type="application/json")
