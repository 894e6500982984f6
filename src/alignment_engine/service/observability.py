"""Prometheus metrics and the JSON access log, from one ASGI middleware around the app.

Metrics (``GET /metrics``):

* ``alignment_http_requests_total{method,route,status}``: requests answered;
* ``alignment_http_request_duration_seconds{method,route}``: latency histogram;
* ``alignment_decisions_total{kind,outcome}``: check, score, optimise and scenario decisions by
  outcome (``ok``, ``rejected`` for 4xx, ``timeout``, ``error``).

``route`` is the path template (``/v1/runs/{run_id}``), or ``unmatched`` for unknown paths, so a
scan of random URLs cannot create unbounded label values. With several worker processes set
``PROMETHEUS_MULTIPROC_DIR`` (``serve --workers N`` does) and each worker reports the sum of all.
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alignment_engine.service.logs import ACCESS_LOGGER

__all__ = ["Metrics", "ObservabilityMiddleware"]

access_log = logging.getLogger(ACCESS_LOGGER)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


class Metrics:
    """One app's metrics, in a registry of its own (several apps may live in one process)."""

    def __init__(self) -> None:
        self.multiprocess = _multiprocess()
        # In multiprocess mode values live in files; the collector reads them at scrape time.
        registry = None if self.multiprocess else CollectorRegistry()
        self._registry = registry
        self.requests = Counter(
            "alignment_http_requests_total",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "alignment_http_request_duration_seconds",
            "Time from the request's arrival to the end of the response, by route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.decisions = Counter(
            "alignment_decisions_total",
            "Decisions taken, by kind (check, score, optimise, scenario) and outcome.",
            ["kind", "outcome"],
            registry=registry,
        )
        self.commit_batches = Histogram(
            "alignment_run_commit_batch_size",
            "Runs written per database transaction (group commit: concurrent calls share one).",
            buckets=(1, 2, 4, 8, 16, 32, 64),
            registry=registry,
        )

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        if self._registry is None:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self._registry), CONTENT_TYPE_LATEST


class ObservabilityMiddleware:
    """Times every HTTP request, counts it, logs one JSON line, and tags it with a request id
    (the client's ``X-Request-ID`` when it is a plain token, else a new one)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        status = 500
        sent = 0

        async def tagged_send(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, tagged_send)
        finally:
            self._record(scope, request_id, status, sent, time.perf_counter() - started)

    def _record(
        self, scope: Scope, request_id: str, status: int, sent: int, elapsed: float
    ) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        method = str(scope.get("method", ""))
        self.metrics.requests.labels(method, template, str(status)).inc()
        self.metrics.latency.labels(method, template).observe(elapsed)
        if not access_log.isEnabledFor(logging.INFO):
            return
        state: dict[str, Any] = scope.get("state") or {}
        client = scope.get("client")
        fields = {
            "event": "request",
            "method": method,
            "path": scope.get("path"),
            "route": template,
            "status": status,
            "duration_ms": round(elapsed * 1000, 3),
            "bytes": sent,
            "actor": state.get("actor"),
            "role": state.get("role"),
            "run_id": state.get("run_id"),
            "request_id": request_id,
            "client": client[0] if client else None,
        }
        access_log.info("request", extra={"fields": fields})
