"""Plans and policies sent inline are validated once per distinct content, per worker.

A payroll system sends the same plan and policy with every call; validating them again each time
cost most of a small call, and a new object per call also defeats everything remembered per
document object (:mod:`alignment_engine.memo`: the scoring catalogue, the payroll findings, the
canonical text and hash). The body limit middleware has already parsed the body (it checks for
repeated keys); :class:`DocumentRoute` hands FastAPI that parsed body with each ``plan`` and
``policy`` member replaced by the validated model of the same content, which request validation
then accepts as it is. Content is keyed by the sha256 of its canonical JSON (sorted keys), so
key order and spacing do not matter. A member that does not validate is left as sent: request
validation reports it exactly as before.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from alignment_engine import Plan, Policy

__all__ = ["PARSED_BODY", "DocumentCache", "DocumentRoute", "documents"]

PARSED_BODY = "alignment_engine.parsed_body"
"""The scope key under which the body limit middleware leaves the body it parsed."""

_MODELS: dict[str, type[BaseModel]] = {"plan": Plan, "policy": Policy}


class DocumentCache:
    """Validated documents by content hash, at most ``size`` (least recently used out)."""

    def __init__(self, size: int = 128) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[str, str], BaseModel] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def model(self, member: str, content: Any) -> BaseModel | None:
        """The validated model of ``content`` as the request's ``member``, or None when it
        does not validate (request validation then reports why)."""
        model = _MODELS[member]
        try:
            key = (
                member,
                hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest(),
            )
        except TypeError:  # not JSON data: leave it to request validation
            return None
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return found
        try:
            made = model.model_validate(content)
        except ValidationError:
            return None
        with self._lock:
            self.misses += 1
            self._entries[key] = made
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return made

    def stored(self, member: str, content_hash: str) -> BaseModel | None:
        """The validated model of a stored version, when this worker has made it."""
        with self._lock:
            found = self._entries.get((member, "stored:" + content_hash))
            if found is not None:
                self._entries.move_to_end((member, "stored:" + content_hash))
                self.hits += 1
            return found

    def remember_stored(self, member: str, content_hash: str, model: BaseModel) -> None:
        with self._lock:
            self.misses += 1
            self._entries[(member, "stored:" + content_hash)] = model
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def substitute(self, body: Any) -> Any:
        """``body`` with its ``plan`` and ``policy`` objects replaced by validated models."""
        if not isinstance(body, dict):
            return body
        replaced = None
        for member in _MODELS:
            content = body.get(member)
            if isinstance(content, dict):
                made = self.model(member, content)
                if made is not None:
                    replaced = dict(body) if replaced is None else replaced
                    replaced[member] = made
        return body if replaced is None else replaced


documents = DocumentCache()
"""This worker's cache."""


class _DocumentRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            parsed = self.scope.get(PARSED_BODY)
            body = parsed if parsed is not None else await super().json()
            self._json = documents.substitute(body)
        return self._json


class DocumentRoute(APIRoute):
    """A route whose JSON body reaches validation with cached plans and policies."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            return await handler(_DocumentRequest(request.scope, request.receive))

        return handle
