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

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from alignment_engine.errors import InputError
from alignment_engine.jsonio import dumps

__all__ = ["GuardedHttpToolsProtocol"]


@functools.cache
def _read_seconds() -> float:
    from alignment_engine.service.settings import ServiceSettings

    return ServiceSettings().request_read_seconds


def _error_body(msg: str) -> bytes:
    error = InputError(f"the request is not valid HTTP: {msg}", file="request")
    return dumps(error.to_dict(), compact=True).encode("utf-8")


class _ReadDeadline:
    """The deadline (a mixin over uvicorn's HTTP protocol: its loop, transport and cycle)."""

    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    cycle: Any
    _read_deadline: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        if self._read_deadline is None:
            self._read_deadline = self.loop.call_later(_read_seconds(), self._too_slow)

    def _disarm(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _waiting_for_request(self) -> bool:
        cycle = self.cycle
        return cycle is None or bool(cycle.response_complete) or bool(cycle.more_body)

    def _too_slow(self) -> None:
        self._read_deadline = None
        if self._waiting_for_request() and not self.transport.is_closing():
            self.transport.close()

    def _after_data(self) -> None:
        if self._waiting_for_request():
            self._arm()  # still reading: the clock started at connect or the last response
        else:
            self._disarm()  # the whole request is in: the decision's own time limit applies


class GuardedHttpToolsProtocol(_ReadDeadline, HttpToolsProtocol):
    """uvicorn's httptools protocol (the parser its "auto" chooses) with the read deadline, and
    malformed HTTP answered in the one error shape (uvicorn's own answer is text/plain)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._after_data()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        body = _error_body(msg)
        self.transport.write(
            b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n"
            + b"content-length: "
            + str(len(body)).encode()
            + b"\r\nconnection: close\r\n\r\n"
            + body
        )
        self.transport.close()
