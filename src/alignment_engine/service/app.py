"""``create_app(settings)``: the FastAPI application of the HTTP decision service.

Layers, outermost first: metrics and access log -> body size limit -> FastAPI (errors rendered
by one set of handlers, see :mod:`.errors`) -> one router per resource. Decisions run in worker
threads (:mod:`.runner`); durable_rules is reached only through the ruleset adapter, which runs
every evaluation on its own engine thread, so concurrent requests are safe. For more throughput
run more worker processes (``serve --workers N``): each process holds its own app.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from alignment_engine import __version__
from alignment_engine.service.errors import install_error_handlers
from alignment_engine.service.isolation import preload
from alignment_engine.service.job_worker import JobWorker
from alignment_engine.service.limits import BodyLimitMiddleware
from alignment_engine.service.observability import ObservabilityMiddleware
from alignment_engine.service.readiness import readiness_checks
from alignment_engine.service.routes import (
    benchmark,
    check,
    estimate,
    health,
    jobs,
    metrics,
    optimise,
    releases,
    runs,
    scenarios,
    score,
    scorecard,
)
from alignment_engine.service.settings import ServiceSettings
from alignment_engine.service.state import ServiceState

__all__ = ["app_from_environment", "create_app"]

logger = logging.getLogger("alignment_engine.service")

DESCRIPTION = """\
Alignment checks, scoring, optimisation and what-if scenarios over HTTP. Request bodies hold the
documents as the files hold them; answers are the CLI's `--format json` shapes plus `run_id`.
Every `/v1` call needs `Authorization: Bearer TOKEN` (`alignment-engine tokens create`); every
error is `{"error": {"code", "message", "details"}}`.
"""


def create_app(
    settings: ServiceSettings | None = None, *, freeze_after_start: bool = False
) -> FastAPI:
    """The application. Without ``settings``, they are read from ``ALIGNMENT_*`` variables.

    ``freeze_after_start`` moves every object alive after start-up out of the garbage
    collector's reach (``gc.freeze``): right for a process that only serves (``serve`` sets it),
    not for an app embedded in a process that does other work."""
    chosen = settings if settings is not None else ServiceSettings()
    state = ServiceState(chosen)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Open the database and compile the rules now, so the first request does not wait;
        # a failure here is reported by /readyz rather than stopping the process.
        checks = await run_in_threadpool(readiness_checks, state)
        await run_in_threadpool(preload)  # before any decision is forked from this worker
        if any(outcome != "ok" for outcome in checks.values()):
            logger.warning("starting while not ready: %s", checks)
        if freeze_after_start:
            # Everything loaded so far (modules, the app, compiled rules) lives as long as the
            # process: keep it out of the collector's full passes, which would otherwise walk
            # it all every few hundred requests (measured: the no-op baseline's p99 went from
            # 91 ms to 18 ms at 16 clients).
            gc.collect()  # what is garbage now must not be frozen with the rest
            gc.freeze()
        job_worker = JobWorker(state)
        _app.state.job_worker = job_worker
        job_worker.start()
        try:
            yield
        finally:
            await run_in_threadpool(job_worker.stop)
            state.stop()

    app = FastAPI(
        title="alignment-engine",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served below from packaged assets: no CDN, so they work offline
        redoc_url=None,
        openapi_url="/openapi.json",
        # A trailing slash is an unknown path (404 in the error shape), not an empty 307 that
        # clients would follow with their token to another URL.
        redirect_slashes=False,
    )
    app.state.service = state
    if chosen.docs:
        _offline_docs(app)
    install_error_handlers(app)
    for module in (
        check,
        score,
        scorecard,
        optimise,
        scenarios,
        estimate,
        jobs,
        releases,
        runs,
        health,
        metrics,
    ):
        app.include_router(module.router)
    if chosen.benchmark_endpoints:
        app.include_router(benchmark.router)
    # Starlette wraps in reverse order of addition: the last added is the outermost.
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=chosen.max_body_bytes,
        upload_max_bytes=chosen.upload_max_bytes,
    )
    app.add_middleware(ObservabilityMiddleware, metrics=state.metrics)
    return app


DOCS_ASSETS = "/docs-assets"


def _offline_docs(app: FastAPI) -> None:
    """``/docs`` (Swagger UI) and ``/redoc`` with their scripts and styles served from the
    installed fastapi-offline package, not a CDN: on a closed network the pages still work."""
    from importlib.resources import files

    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    assets = files("fastapi_offline") / "static"
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(assets)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )


def app_from_environment() -> FastAPI:
    """The app with settings from the environment: the factory ``serve`` hands to uvicorn, so
    each worker process builds its own."""
    return create_app(ServiceSettings(), freeze_after_start=True)
