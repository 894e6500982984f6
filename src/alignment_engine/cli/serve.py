"""``serve``: run the HTTP decision service under uvicorn."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import socket
import tempfile
from typing import Any

import click
from pydantic import ValidationError

from alignment_engine.errors import AlignmentError, InputError, Problem

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Worker processes (each serves requests on its own; metrics are summed over all).",
)
@click.option(
    "--db",
    "db_url",
    default=None,
    metavar="URL",
    help="Database URL (else ALIGNMENT_DB_URL, else ./alignment-engine.db).",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default=None,
    help="Level of the JSON logs on stderr (else ALIGNMENT_LOG_LEVEL, else info).",
)
def serve(host: str, port: int, workers: int, db_url: str | None, log_level: str | None) -> None:
    """Run the HTTP decision service: POST /v1/check, /v1/score, /v1/optimise,
    /v1/scenarios/run, GET /v1/runs/{id}, /healthz, /readyz, /metrics, /openapi.json, /docs.

    Every /v1 call needs a bearer token from `tokens create`. Settings come from ALIGNMENT_*
    environment variables (see docs/service.md); access logs are JSON lines on stderr.
    """
    import uvicorn

    from alignment_engine.service.logs import logging_config
    from alignment_engine.service.settings import ServiceSettings
    from alignment_engine.service.workers import (
        WorkerOptions,
        ensure_port_free,
        open_sockets,
        reuse_port_supported,
        run_workers,
    )

    if db_url is not None:
        os.environ["ALIGNMENT_DB_URL"] = db_url
    if log_level is not None:
        os.environ["ALIGNMENT_LOG_LEVEL"] = log_level
    try:
        # Read once here so a bad ALIGNMENT_* value is a usage error, not a crash per worker.
        settings = ServiceSettings()
    except ValidationError as exc:
        problems = [
            Problem(error["msg"], "environment", key="ALIGNMENT_" + str(error["loc"][0]).upper())
            for error in exc.errors(include_url=False)
        ]
        raise InputError(problems=problems) from None
    metrics_dir = None
    if workers > 1 and not os.environ.get(MULTIPROC_VARIABLE):
        # Each worker writes its metrics here; /metrics in any worker reports them all.
        metrics_dir = tempfile.mkdtemp(prefix="alignment-engine-metrics-")
        os.environ[MULTIPROC_VARIABLE] = metrics_dir
    app = "alignment_engine.service.app:app_from_environment"
    from alignment_engine.service.connections import GuardedHttpToolsProtocol

    _raise_descriptor_limit()
    common: dict[str, Any] = {
        "factory": True,
        # httptools (uvicorn's faster parser), closing connections that never deliver a whole
        # request and answering malformed HTTP in the error shape.
        "http": GuardedHttpToolsProtocol,
        "log_config": logging_config(settings.log_level),
        "access_log": False,
        "server_header": False,
    }
    own_sockets = workers > 1 and reuse_port_supported()
    try:
        try:
            if own_sockets:
                sockets = open_sockets(host, port, workers)
            else:
                ensure_port_free(host, port)  # uvicorn would only say so after starting the app
        except OSError as error:
            # An address that does not resolve or is not this machine's is the host's fault.
            wrong_host = isinstance(error, socket.gaierror) or error.errno == errno.EADDRNOTAVAIL
            raise InputError(
                f"cannot listen on {host}:{port}: {error.strerror}",
                file="--host" if wrong_host else "--port",
            ) from None
        if own_sockets:
            if run_workers(WorkerOptions(app, host, port, common), sockets):
                # Not the caller's input: the service itself is broken (the log says how).
                raise AlignmentError("a worker process could not start; the log above says why")
        else:
            uvicorn.run(app, host=host, port=port, workers=workers, **common)
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _raise_descriptor_limit() -> None:
    """Open-file limit up to the hard limit (often 1,024 soft against 1,048,576 hard): each
    connection holds a descriptor, and the workers inherit the limit."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65_536)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


COMMANDS = [serve]
