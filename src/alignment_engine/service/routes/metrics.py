"""``GET /metrics``: Prometheus metrics (requests, latency, decisions). No token needed."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from alignment_engine.service.deps import StateDep

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    summary="Prometheus metrics",
)
async def metrics(state: StateDep) -> Response:
    """The Prometheus text exposition format."""
    text, content_type = state.metrics.render()
    return Response(content=text, media_type=content_type)
