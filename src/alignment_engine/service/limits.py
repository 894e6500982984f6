"""The request body size limit: a larger body gets 413 before anything parses it.

A declared ``Content-Length`` over the limit is refused at once; otherwise the body is read up to
the limit (chunked uploads included) and handed on whole, so no route sees a partial body.

A JSON body that repeats a key in one object is refused with 422 here too: JSON parsers keep
the last value silently (``target_bonus: 100`` then ``1000000`` would pay on a million), while
the YAML files the CLI reads reject duplicates. The same input means the same answer at both
doors.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alignment_engine.errors import InputError, Problem
from alignment_engine.service.document_cache import PARSED_BODY
from alignment_engine.service.errors import PayloadTooLargeError, error_response

_IN_THREAD_FROM = 64 * 1024  # larger bodies are checked off the event loop
MAX_ECHOED = 80  # characters of a key quoted back


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKeyError(key)
        seen[key] = value
    return seen


MAX_NESTING = 64  # as for YAML files (loading.MAX_DEPTH): no document is deeper


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_OPEN = np.zeros(256, dtype=np.int8)
_OPEN[[ord("{"), ord("[")]] = 1
_OPEN[[ord("}"), ord("]")]] = -1


def _deeper_than(body: bytes, limit: int) -> bool:
    """Whether valid JSON ``body`` nests objects and arrays more than ``limit`` deep: the
    brackets outside string literals, counted in C (walking the parsed values in Python took
    a tenth of a small decision's time)."""
    structure = _STRING.sub(b"", body)
    if not structure:
        return False
    steps = _OPEN[np.frombuffer(structure, dtype=np.uint8)]
    return bool(np.cumsum(steps, dtype=np.int64).max() > limit)


def body_problem(body: bytes) -> InputError | None:
    """What makes a JSON body unacceptable before any route reads it: a key repeated within
    one object, or nesting deeper than any document (which failed later, as a 500, when the
    answer quoting it was serialised). None also for text that is not JSON: the route's own
    parsing reports that."""
    return parse_body(body)[1]


def parse_body(body: bytes) -> tuple[Any, InputError | None]:
    """The parsed JSON body (None when it is not JSON or not acceptable) and, when it is not
    acceptable, why (:func:`body_problem`). Parsed once: routes read this parse."""
    try:
        data = json.loads(body, object_pairs_hook=_pairs)
    except _DuplicateKeyError as found:
        return None, _duplicate_error(found.key)
    except RecursionError:
        return None, _nesting_error()
    except ValueError:
        return None, None
    if _deeper_than(body, MAX_NESTING):
        return None, _nesting_error()
    return data, None


def _nesting_error() -> InputError:
    return InputError(
        f"the JSON body is nested more than {MAX_NESTING} levels deep",
        file="request",
        suggestion="no plan, policy or scenario needs that many levels",
    )


def _duplicate_error(key: str) -> InputError:
    shown = key if len(key) <= MAX_ECHOED else key[:MAX_ECHOED] + "..."
    return InputError(
        problems=[
            Problem(
                f"the key {shown!r} appears twice in one object of the JSON body",
                file="request",
                key=shown,
                suggestion="give each key once (JSON parsers would silently keep the last)",
            )
        ]
    )


__all__ = ["BodyLimitMiddleware"]


UPLOAD_PATHS = "/v1/jobs"
"""Paths under this prefix take files (a quarter's tables): they have the upload limit."""


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int, upload_max_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_max_bytes = max_bytes if upload_max_bytes is None else upload_max_bytes

    @staticmethod
    def _refuse(limit: int) -> ASGIApp:
        mib = limit / (1024 * 1024)
        return error_response(
            PayloadTooLargeError(
                f"the request body is larger than the limit of {mib:g} MiB ({limit} bytes)"
            )
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        limit = (
            self.upload_max_bytes
            if path == UPLOAD_PATHS or path.startswith(UPLOAD_PATHS + "/")
            else self.max_bytes
        )
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(limit)(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(limit)(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if _is_json(scope) and body:
            parsed, problem = (
                await run_in_threadpool(parse_body, body)
                if len(body) > _IN_THREAD_FROM
                else parse_body(body)
            )
            if problem is not None:
                await error_response(problem)(scope, receive, send)
                return
            if parsed is not None:
                scope[PARSED_BODY] = parsed
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _is_json(scope: Scope) -> bool:
    headers = dict(scope.get("headers") or [])
    content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    return scope.get("method") in ("POST", "PUT", "PATCH") and (
        content_type in (b"", b"application/json") or content_type.endswith(b"+json")
    )
