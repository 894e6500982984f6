"""The service under test: in process (TestClient over a SQLite file, a token per role) or as
a real server (``python -m alignment_engine serve`` in a subprocess on a free port, with an
admin token made by ``tokens create``)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from service_samples import ROLES

with warnings.catch_warnings():
    # Starlette 1.x asks for the httpx2 package for its test client; httpx works the same.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from alignment_engine.service import ServiceSettings, create_app
from alignment_engine.storage import Store


@dataclass
class Service:
    client: TestClient
    tokens: dict[str, str]  # role -> token; the token's name is "<role>-user"
    db_url: str

    def headers(self, role: str | None) -> dict[str, str]:
        return {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}

    def post(self, path: str, body: Any, role: str | None = "admin") -> httpx.Response:
        return self.client.post(path, json=body, headers=self.headers(role))


@contextmanager
def running_service(directory: Path, **settings: Any) -> Iterator[Service]:
    db_url = f"sqlite:///{directory / 'service.db'}"
    with Store.open(db_url) as store:
        tokens = {role: store.create_token(f"{role}-user", role) for role in ROLES}
    # In process, decisions run in the worker thread (some tests count the engine calls they
    # make); the real server's tests run them in their own processes, as `serve` does.
    settings.setdefault("isolate_decisions", False)
    app = create_app(ServiceSettings(db_url=db_url, **settings))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Service(client, tokens, db_url)


# ---------------------------------------------------------------------------------------------
# A real server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    db_url: str
    token: str  # an admin token made through the CLI
    log: Path
    directory: Path

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alignment_engine", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@contextmanager
def serving(
    directory: Path,
    *extra: str,
    env: dict[str, str] | None = None,
    db_url: str | None = None,
    token: str | None = None,
) -> Iterator[Server]:
    """A real ``serve`` process on a free port: on its own SQLite file, or on ``db_url``
    (replicas share one database; the second is given the first's ``token``)."""
    db_url = db_url or f"sqlite:///{directory / 'server.db'}"
    if token is None:
        created = cli(
            "tokens", "create", "--role", "admin", "--name", "ops", "--db", db_url, cwd=directory
        )
        assert created.returncode == 0, created.stderr
        token = created.stdout.strip().splitlines()[-1]
    port = free_port()
    log = directory / "server.log"
    environment = {**os.environ, **(env or {})}
    environment.pop("ALIGNMENT_DB_URL", None)
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "alignment_engine",
                "serve",
                "--port",
                str(port),
                "--db",
                db_url,
                *extra,
            ],
            cwd=directory,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=environment,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited: {log.read_text(errors='replace')}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the server did not answer /healthz: {log.read_text(errors='replace')}"
                )
            time.sleep(0.1)
        yield Server(url, db_url, token, log, directory)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


SERVER_ENDPOINTS = [
    ("POST", "/v1/check"),
    ("POST", "/v1/score"),
    ("POST", "/v1/optimise"),
    ("POST", "/v1/scenarios/run"),
    ("GET", "/v1/runs/0123456789abcdef"),
]
LEAKS = ("Traceback", 'File "', ".py", "/work", "/tmp", "sqlite:", "site-packages")


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The one error shape, with nothing of the server's internals in it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code
    for leak in LEAKS:
        assert leak not in response.text, f"{leak!r} in {response.text}"
    return dict(error)


def access_lines(server: Server) -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")
    ]


def pids_answering(server: Server, marker: str, calls: int) -> set[int]:
    for _ in range(calls):  # a new connection each
        # A connection the kernel queued on a dead worker's socket is answered once its
        # replacement has started (seconds of imports on a busy machine): wait for that.
        response = httpx.get(
            f"{server.url}/healthz", headers={"X-Request-ID": marker}, timeout=60.0
        )
        assert response.status_code == 200
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        mine = [line for line in access_lines(server) if line.get("request_id") == marker]
        if len(mine) == calls:
            break
        time.sleep(0.05)
    return {int(line["pid"]) for line in mine}
