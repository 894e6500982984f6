"""Several worker processes on one port, each with its own listening socket (``SO_REUSEPORT``).

uvicorn's own ``--workers`` shares one listening socket between the processes, and an event loop
accepts every waiting connection at once: a burst of keep-alive connections (a client's
connection pool opening) all land in one worker while the others idle. With a socket per worker
in one ``SO_REUSEPORT`` group the kernel spreads new connections over the workers instead.

The parent opens the sockets, all listening before any worker starts (a connection the kernel
gives to a worker still starting waits in its socket's queue), and hands one to each worker; it
then only supervises: a worker that dies, or does not answer a ping within 10 s (stopped or
stuck), is replaced, and SIGINT or SIGTERM stops them all. A dead worker's socket is closed at
once (its queued connections are refused rather than left waiting, new ones go to the live
workers), and its replacement joins the port with a socket of its own that listens only once
the app has started. Elsewhere than on
Linux (see :func:`reuse_port_supported`), ``serve`` falls back to uvicorn's shared socket.

Why not uvicorn's own supervisor (``uvicorn.supervisors.Multiprocess``, read at 0.55): it hands
the same socket list to every worker it starts (``Process(self.config, self.sockets)`` in
``init_processes``, ``keep_subprocess_alive``, ``restart_all`` and ``handle_ttin``), so a socket
per worker means overriding four of its methods and building on its ``Process`` class and
``uvicorn._subprocess``, neither of which uvicorn documents as API. What would remain of it is
the signal loop, while this module also gives each worker ``PR_SET_PDEATHSIG`` (no worker
serves on after a SIGKILLed supervisor), pings all workers in parallel rather than one after
another, and backs off a worker that keeps dying young. The loop below is about 110 lines and
``tests/service`` kills, stops and starves its workers; a subclass would not be much smaller.
"""

from __future__ import annotations

import ctypes
import logging
import logging.config
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

__all__ = [
    "STARTUP_FAILURE",
    "WorkerOptions",
    "ensure_port_free",
    "open_sockets",
    "reuse_port_supported",
    "run_workers",
]

logger = logging.getLogger("alignment_engine.service")

RESTART_PAUSE_SECONDS = 1.0
STABLE_SECONDS = 10.0
HEALTH_INTERVAL_SECONDS = 5.0
HEALTH_TIMEOUT_SECONDS = 10.0
STARTUP_FAILURE = 3  # uvicorn's exit code when the app or the server cannot start
_PR_SET_PDEATHSIG = 1
STOP_GRACE_SECONDS = 15.0


def reuse_port_supported() -> bool:
    """Linux only: there the kernel balances a ``SO_REUSEPORT`` group's connections (elsewhere,
    macOS for one, the socket bound last takes them all)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


@dataclass(frozen=True)
class WorkerOptions:
    """What every worker needs to build its uvicorn server (picklable: workers are spawned)."""

    app: str
    host: str
    port: int
    uvicorn: dict[str, Any]


def _bound_socket(host: str, port: int) -> socket.socket:
    """A socket of the port's ``SO_REUSEPORT`` group that takes no connection until it listens
    (asyncio's server calls ``listen()`` once the app has started)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _listening_socket(host: str, port: int) -> socket.socket:
    sock = _bound_socket(host, port)
    try:
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def ensure_port_free(host: str, port: int) -> None:
    """Raise OSError if anything listens on ``host:port`` already: a plain bind fails next to
    any listener, where a ``SO_REUSEPORT`` bind would quietly join another server's group (a
    second ``serve`` on the same port would take half its requests)."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def _die_with_parent(parent: int) -> None:  # pragma: no cover - a child
    """Ask Linux to end this worker when the supervisor dies, even by SIGKILL (no orphans
    serving on after their parent)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def _answer_pings(channel: Connection) -> None:  # pragma: no cover - a child
    """Answer the supervisor's health checks while the process can run Python at all."""
    try:
        while True:
            channel.recv()
            channel.send(True)
    except (EOFError, OSError):
        return


def _worker(  # pragma: no cover - runs in a child process
    options: WorkerOptions,
    sock: socket.socket | None,
    port: int,
    parent: int,
    channel: Connection,
) -> None:
    """One worker. A replacement (``sock`` None) joins the port's group with a socket of its
    own that listens only once the app has started: no connection waits on a worker still
    importing (seconds on a loaded machine) while the live workers could answer it."""
    _die_with_parent(parent)
    threading.Thread(target=_answer_pings, args=(channel,), daemon=True).start()
    import uvicorn

    if sock is None:
        try:
            sock = _bound_socket(options.host, port)
        except OSError as error:
            logger.error("a replacement worker cannot bind port %d: %s", port, error)
            sys.exit(STARTUP_FAILURE)
    config = uvicorn.Config(options.app, host=options.host, port=port, **options.uvicorn)
    uvicorn.Server(config).run(sockets=[sock])


def open_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` listening sockets on one port in one ``SO_REUSEPORT`` group (OSError if the
    port is taken or the address is not this machine's)."""
    ensure_port_free(host, port)
    sockets: list[socket.socket] = []
    try:
        first = _listening_socket(host, port)
        sockets.append(first)
        port = first.getsockname()[1]  # port 0: the others join the port the first one got
        sockets += [_listening_socket(host, port) for _ in range(count - 1)]
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def run_workers(options: WorkerOptions, sockets: list[socket.socket]) -> int:
    """Serve with one worker process per socket until SIGINT or SIGTERM. Returns 0, or
    :data:`STARTUP_FAILURE` when a worker could not start (it would fail again: no restart
    loop)."""
    logging.config.dictConfig(options.uvicorn.get("log_config") or {"version": 1})
    held: list[socket.socket | None] = list(sockets)
    try:
        return _supervise(options, held)
    finally:
        for sock in held:
            if sock is not None:
                sock.close()


def _supervise(options: WorkerOptions, sockets: list[socket.socket | None]) -> int:
    context = multiprocessing.get_context("spawn")
    first = sockets[0]
    assert first is not None
    port = int(first.getsockname()[1])  # port 0 asked: the one the kernel gave
    stopping = threading.Event()

    def stop(_signal: int, _frame: object) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    started: dict[int, float] = {}
    channels: dict[int, Connection] = {}

    def start(position: int) -> BaseProcess:
        ours, theirs = context.Pipe()
        process = context.Process(
            target=_worker,
            args=(options, sockets[position], port, os.getpid(), theirs),
            name="alignment-worker",
        )
        process.start()
        theirs.close()
        if position in channels:
            channels[position].close()
        channels[position] = ours
        started[position] = time.monotonic()
        return process

    last_check = time.monotonic()

    def check_health() -> None:
        """Kill a worker that does not answer a ping in time (stopped, or stuck without
        releasing the interpreter): the loop below then replaces it like any dead worker."""
        pinged = []
        for position in range(len(workers)):
            try:
                channels[position].send(b"ping")
                pinged.append(position)
            except OSError:
                continue
        deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
        for position in pinged:
            channel = channels[position]
            answered = channel.poll(max(0.0, deadline - time.monotonic()))
            if answered:
                try:
                    channel.recv()
                    continue
                except (EOFError, OSError):
                    pass
            process = workers[position]
            if process.is_alive():
                logger.error("worker %s does not answer; killing it", process.pid)
                process.kill()
                process.join(STOP_GRACE_SECONDS)

    workers = [start(position) for position in range(len(sockets))]
    address = first.getsockname()
    logger.info(
        "serving on %s port %d with %d worker processes", address[0], address[1], len(workers)
    )
    pause = RESTART_PAUSE_SECONDS
    outcome = 0
    try:
        while not stopping.is_set():
            # Woken at once by a worker's death (its sentinel), else twice a second.
            multiprocessing.connection.wait([p.sentinel for p in workers], timeout=0.5)
            if stopping.is_set():
                break
            if time.monotonic() - last_check >= HEALTH_INTERVAL_SECONDS:
                check_health()
                last_check = time.monotonic()
            for position, process in enumerate(workers):
                if process.is_alive():
                    continue
                gone = sockets[position]
                if gone is not None:
                    # Out of the port's group now: new connections go to the live workers,
                    # and those queued on it are refused at once instead of waiting seconds
                    # for a replacement (which listens on a socket of its own once started).
                    gone.close()
                    sockets[position] = None
                if process.exitcode == STARTUP_FAILURE:
                    logger.error("worker %s could not start; stopping", process.pid)
                    outcome = STARTUP_FAILURE
                    stopping.set()
                    break
                lived = time.monotonic() - started[position]
                # A worker that keeps dying young waits longer each time (up to a limit).
                pause = RESTART_PAUSE_SECONDS if lived > STABLE_SECONDS else min(pause * 2, 30.0)
                logger.warning(
                    "worker %s ended (exit code %s) after %.0f s; starting another in %.0f s",
                    process.pid,
                    process.exitcode,
                    lived,
                    pause,
                )
                if stopping.wait(pause):
                    break
                workers[position] = start(position)
    finally:
        for process in workers:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests under way
        for process in workers:
            process.join(STOP_GRACE_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()
        for channel in channels.values():
            channel.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return outcome
