"""Connections that must deliver their request in time.

uvicorn arms its keep-alive timer only after a response: a connection that sends nothing, or
sends its request a byte at a time, is kept open forever, and a few hundred of them use up the
worker's file descriptors until ``/healthz`` fails. This protocol closes a connection that has
not delivered a whole request (headers and body) within ``request_read_seconds`` of connecting
or of the previous response. Malformed HTTP is answered in the service's one error shape.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from alignment_engine.errors import InputError
from alignment_engine.jsonio import dumps

__all__ = ["GuardedH11Protocol"]


@functools.cache
def _read_seconds() -> float:
    from alignment_engine.service.settings import ServiceSettings

    return ServiceSettings().request_read_seconds


class GuardedH11Protocol(H11Protocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_deadline: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        if self._read_deadline is None:
            self._read_deadline = self.loop.call_later(_read_seconds(), self._too_slow)

    def _disarm(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _waiting_for_request(self) -> bool:
        cycle = self.cycle
        return cycle is None or cycle.response_complete or cycle.more_body

    def _too_slow(self) -> None:
        self._read_deadline = None
        if self._waiting_for_request() and not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._waiting_for_request():
            self._arm()  # still reading: the clock started at connect or the last response
        else:
            self._disarm()  # the whole request is in: the decision's own time limit applies

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._disarm()  # keep-alive: uvicorn's own idle timer runs until the next request

    def send_400_response(self, msg: str) -> None:
        """Malformed HTTP gets the one error shape (uvicorn's own answer is text/plain)."""
        body = dumps(
            InputError(f"the request is not valid HTTP: {msg}", file="request").to_dict(),
            compact=True,
        ).encode("utf-8")
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        for event in (
            h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
