"""Every 4xx and 5xx the service sends has one body: ``{"error": {code, message, details}}``.

Errors raised on purpose are :class:`~alignment_engine.errors.AlignmentError` and carry their HTTP
status; this module adds the few that only HTTP has (413, 405, 504, 503 not ready) and renders
them all through :func:`error_response`. FastAPI's request validation errors become
``invalid_input`` problems located by JSON path (``plan.departments[0].kpis[1].target``); an
unexpected exception becomes a 500 that says nothing about the code, the stack or the files.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from alignment_engine import did_you_mean
from alignment_engine.errors import (
    AlignmentError,
    AuthError,
    InputError,
    NotFoundError,
    Problem,
    StorageError,
)
from alignment_engine.service.documents import DOCUMENT_MODELS, document_problems, json_path

__all__ = [
    "MethodNotAllowedError",
    "NotReadyError",
    "PayloadTooLargeError",
    "TimeLimitError",
    "error_body",
    "error_response",
    "install_error_handlers",
    "problem_path",
]


class PayloadTooLargeError(AlignmentError):
    status = 413
    code = "payload_too_large"


class MethodNotAllowedError(AlignmentError):
    status = 405
    code = "method_not_allowed"


class TimeLimitError(AlignmentError):
    """A decision did not finish within ``time_limit_seconds``."""

    status = 504
    code = "time_limit_exceeded"


class NotReadyError(AlignmentError):
    """The database or the rule packs are not usable yet (``/readyz``)."""

    status = 503
    code = "not_ready"


logger = logging.getLogger("alignment_engine.service")

_MEMBERS = ("plan", "policy", "scenario")


def problem_path(problem: Problem) -> str | None:
    """Where in the request body a problem is, as a JSON path, from the problem's fields.

    Request members are validated with their name as the problem's ``file`` (``plan``,
    ``actuals``), a table row as its ``row`` (numbered from 1, as the table's JSON array is
    read) and the path inside the member, or the table column, as its ``key``; the request
    envelope's own problems have ``file`` ``request``.
    """
    file, key = problem.file, problem.key
    if file == "request":
        return key
    if file in ("actuals", "employees") and problem.row is not None:
        return f"{file}[{problem.row - 1}]" + (f".{key}" if key else "")
    if file is None:
        return None
    if file.startswith(tuple(m + c for m in _MEMBERS for c in ".[")):
        return file  # already a path inside a document, e.g. scenario.set[2]
    if file in DOCUMENT_MODELS or file in ("actuals", "employees"):
        return f"{file}.{key}" if key else file
    member = file[1:-1].partition(" ")[0] if file.startswith("<") and file.endswith(">") else ""
    if member in _MEMBERS:  # the engine names documents as "<policy annual-2026>"
        return f"{member}.{key}" if key else member
    return None


def error_body(error: AlignmentError) -> dict[str, Any]:
    """``error.to_dict()``; invalid-input problems also get their JSON ``path``. A storage
    failure's own message names the database (perhaps a file path), so it is logged, not sent."""
    if isinstance(error, StorageError):
        logger.error("storage error: %s", error.message)
        return StorageError("the database is not available; try again later").to_dict()
    body = error.to_dict()
    if isinstance(error, InputError):
        details = body["error"]["details"]
        if isinstance(details, list):
            for detail, problem in zip(details, error.problems, strict=False):
                if isinstance(detail, dict):
                    detail.setdefault("path", problem_path(problem))
    return body


def error_response(error: AlignmentError) -> JSONResponse:
    """The one rendering of an error: its ``to_dict()`` body with its ``status``."""
    headers = {}
    if isinstance(error, AuthError) and error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="alignment-engine"'
    return JSONResponse(error_body(error), status_code=error.status, headers=headers)


_ENVELOPE_KEYS = (
    "plan",
    "policy",
    "scenario",
    "actuals",
    "employees",
    "period",
    "options",
    "plan_id",
    "policy_id",
)
_PATTERN_MESSAGES = {
    "period": "not a period: use 2026, 2026-Q3 or 2026-07",
    "plan_id": "not a stored document id: 64 hexadecimal characters",
    "policy_id": "not a stored document id: 64 hexadecimal characters",
}


def _envelope_problem(loc: Sequence[Any], error: dict[str, Any]) -> Problem:
    where = json_path(loc[1:] if loc and loc[0] == "body" else loc)
    message = str(error.get("msg", "invalid value"))
    suggestion = None
    if error.get("type") == "missing" and loc:
        message = f"missing required key '{loc[-1]}'"
    elif error.get("type") == "extra_forbidden" and loc:
        message = f"unknown key '{loc[-1]}'"
        suggestion = did_you_mean(str(loc[-1]), _ENVELOPE_KEYS)
    elif error.get("type") == "string_pattern_mismatch" and loc and loc[-1] in _PATTERN_MESSAGES:
        message = f"{_PATTERN_MESSAGES[str(loc[-1])]}; got {error.get('input')!r}"
    elif error.get("type") == "json_invalid":
        message = f"the body is not valid JSON: {error.get('ctx', {}).get('error', message)}"
        where = ""
    elif message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    return Problem(message, "request", None, None, where or None, suggestion)


def problems_from_validation(exc: RequestValidationError) -> list[Problem]:
    """FastAPI's errors as located problems; documents are checked again by the file loader,
    so their problems read exactly as for files (suggestions, cross-references)."""
    problems: list[Problem] = []
    redone: set[str] = set()
    body = exc.body if isinstance(exc.body, dict) else {}
    for error in exc.errors():
        loc = tuple(error.get("loc", ()))
        member = loc[1] if len(loc) > 1 and loc[0] == "body" else None
        if isinstance(member, str) and member in DOCUMENT_MODELS and member in body:
            if member not in redone:
                redone.add(member)
                found = document_problems(member, body[member])
                if found:
                    problems += found
                    continue
            else:
                continue
        problems.append(_envelope_problem(loc, error))
    return problems or [Problem("the request is not valid", "request")]


def _internal_error() -> JSONResponse:
    return error_response(AlignmentError("internal error; the server log has the details"))


async def _alignment_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, AlignmentError):  # pragma: no cover - registered for it only
        return _internal_error()
    return error_response(exc)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):  # pragma: no cover
        return _internal_error()
    return error_response(InputError(problems=problems_from_validation(exc)))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, StarletteHTTPException):  # pragma: no cover
        return _internal_error()
    if exc.status_code == 404:
        return error_response(NotFoundError(f"no such endpoint: {request.url.path}"))
    if exc.status_code == 405:
        response = error_response(
            MethodNotAllowedError(f"{request.method} is not allowed on {request.url.path}")
        )
        if exc.headers and "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    if exc.status_code == 400:  # a body FastAPI cannot even decode (not UTF-8, broken form)
        problem = Problem(f"the body cannot be read: {exc.detail}", "request")
        return error_response(InputError(problems=[problem]))
    body = {
        "error": {"code": f"http_{exc.status_code}", "message": str(exc.detail), "details": None}
    }
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def _unexpected_error(_request: Request, _exc: Exception) -> JSONResponse:
    # Starlette re-raises the exception after this response is sent, so the server logs the
    # traceback once; the client learns nothing about the code, the stack or the files.
    return _internal_error()


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AlignmentError, _alignment_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
