"""The service as users run it: `python -m alignment_engine serve` on a free port, over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from service_harness import (
    SERVER_ENDPOINTS,
    Server,
    access_lines,
    assert_error,
    cli,
    pids_answering,
    serving,
)
from service_samples import ACME, acme_plan, check_body, score_body

from alignment_engine.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def test_health_and_readiness(server: Server) -> None:
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{server.url}/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "rules": "ok"}}


@pytest.mark.parametrize(("method", "path"), SERVER_ENDPOINTS)
def test_calls_without_a_token_are_refused(server: Server, method: str, path: str) -> None:
    response = httpx.request(method, f"{server.url}{path}", json=check_body())
    assert_error(response, 401, "unauthorized")


def test_bad_plan_gets_a_4xx_with_the_error_body(server: Server) -> None:
    body = check_body()
    body["plan"]["departments"][0]["kpis"][0]["weight"] = "heavy"
    response = httpx.post(f"{server.url}/v1/check", json=body, headers=server.headers())
    error = assert_error(response, 422, "invalid_input")
    assert error["details"][0]["path"] == "plan.departments[0].kpis[0].weight"


def test_openapi_and_docs_are_served(server: Server) -> None:
    document = httpx.get(f"{server.url}/openapi.json").json()
    assert {
        "/v1/check",
        "/v1/score",
        "/v1/optimise",
        "/v1/scenarios/run",
        "/v1/runs/{run_id}",
    } <= set(document["paths"])
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "swagger" in httpx.get(f"{server.url}/docs").text.lower()


def test_http_findings_equal_the_cli_findings(server: Server) -> None:
    plan_file = ACME / "plan.yaml"
    printed = cli("check", str(plan_file), "--format", "json", cwd=server.directory)
    assert printed.returncode in (0, 1), printed.stderr
    response = httpx.post(
        f"{server.url}/v1/check", json={"plan": acme_plan()}, headers=server.headers(), timeout=60
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["findings"] == json.loads(printed.stdout)["findings"]
    assert answer["findings"], "the example company has planted conflicts"
    run = httpx.get(f"{server.url}/v1/runs/{answer['run_id']}", headers=server.headers()).json()
    assert run["actor"] == "ops"
    assert run["result"] == answer


def test_concurrent_clients_get_the_same_answers_as_sequential_calls(server: Server) -> None:
    bodies: list[tuple[str, dict[str, Any]]] = []
    for index in range(32):
        if index % 2:
            body = check_body()
            body["plan"]["departments"][0]["kpis"][0]["target"] = 0.23 + index / 1000
            bodies.append(("/v1/check", body))
        else:
            body = score_body()
            body["actuals"][1]["actual"] = 0.2 + index / 1000
            bodies.append(("/v1/score", body))

    def answer(item: tuple[str, dict[str, Any]]) -> dict[str, Any]:
        path, body = item
        response = httpx.post(
            f"{server.url}{path}", json=body, headers=server.headers(), timeout=60
        )
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        found.pop("run_id")
        return found

    sequential = [answer(item) for item in bodies]
    with ThreadPoolExecutor(32) as pool:
        concurrent = list(pool.map(answer, bodies))
    assert concurrent == sequential


def _count(server: Server, prefix: str) -> float:
    text = httpx.get(f"{server.url}/metrics").text
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(prefix))


def test_metrics_count_every_workers_requests(server: Server) -> None:
    prefix = 'alignment_http_requests_total{method="GET",route="/readyz",status="200"}'
    before = _count(server, prefix)
    for _ in range(20):  # a new connection each, so both worker processes answer some
        assert httpx.get(f"{server.url}/readyz").status_code == 200
    assert _count(server, prefix) == before + 20
    checked = httpx.post(f"{server.url}/v1/check", json=check_body(), headers=server.headers())
    assert checked.status_code == 200, checked.text
    text = httpx.get(f"{server.url}/metrics").text
    assert "alignment_http_request_duration_seconds_bucket" in text
    assert 'alignment_decisions_total{kind="check",outcome="ok"}' in text


def test_a_burst_of_keep_alive_connections_is_shared_by_the_workers(server: Server) -> None:
    """A client's pool opening all its connections at once must not land on one worker (each
    worker has its own listening socket; the kernel spreads the connections)."""
    marker = f"burst-{time.monotonic_ns()}"
    clients = [httpx.Client(base_url=server.url) for _ in range(32)]
    try:
        for client in clients:  # every connection opened before any is reused
            assert client.get("/healthz", headers={"X-Request-ID": marker}).status_code == 200
    finally:
        for client in clients:
            client.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        mine = [line for line in access_lines(server) if line.get("request_id") == marker]
        if len(mine) == len(clients):
            break
        time.sleep(0.05)
    assert len(mine) == len(clients)
    assert len({line["pid"] for line in mine}) == 2


def test_a_worker_that_dies_is_replaced(tmp_path: Path) -> None:
    with serving(tmp_path, "--workers", "2") as running:
        before = pids_answering(running, "before", 24)
        assert len(before) == 2
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        after: set[int] = set()
        while time.monotonic() < deadline:
            after = pids_answering(running, f"after-{time.monotonic_ns()}", 24)
            if len(after) == 2:
                break
            time.sleep(0.5)
        assert len(after) == 2 and victim not in after
        assert (before - {victim}) <= after


def _log_lines(server: Server, logger: str) -> list[dict[str, Any]]:
    return [line for line in access_lines(server) if line.get("logger") == logger]


def test_requests_after_a_worker_dies_go_to_the_live_worker_not_its_dead_socket(
    tmp_path: Path,
) -> None:
    """Nothing waits on a dead worker's socket: it leaves the port at once, so while no
    replacement has started (the supervisor is held stopped here, so none can) every new
    connection is answered by the live worker. Before, a connection the kernel gave the dead
    worker's socket waited there until a replacement had imported and started."""
    with serving(tmp_path, "--workers", "2") as running:
        before = pids_answering(running, "before", 24)
        assert len(before) == 2
        victim = min(before)
        (survivor,) = before - {victim}
        supervisor = next(
            int(line["pid"])
            for line in _log_lines(running, "alignment_engine.service")
            if str(line.get("message", "")).startswith("serving on")
        )
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
            f"worker {victim} ended" in str(line.get("message", ""))
            for line in _log_lines(running, "alignment_engine.service")
        ):
            time.sleep(0.05)
        os.kill(supervisor, signal.SIGSTOP)  # no replacement can start meanwhile
        try:
            answered = pids_answering(running, "while-down", 24)
        finally:
            os.kill(supervisor, signal.SIGCONT)
        assert answered == {survivor}
        deadline = time.monotonic() + 60
        after: set[int] = set()
        while len(after) < 2 and time.monotonic() < deadline:
            after = pids_answering(running, f"replaced-{time.monotonic_ns()}", 24)
        assert len(after) == 2 and survivor in after and victim not in after


def test_a_worker_that_stops_answering_is_replaced(tmp_path: Path) -> None:
    with serving(tmp_path, "--workers", "2") as running:
        before = pids_answering(running, "healthy", 24)
        assert len(before) == 2
        stuck = min(before)
        os.kill(stuck, signal.SIGSTOP)  # alive, but answers nothing: only a ping finds it
        try:
            deadline = time.monotonic() + 90
            while _alive(stuck) and time.monotonic() < deadline:
                time.sleep(0.5)
            assert not _alive(stuck)
        finally:
            if _alive(stuck):
                os.kill(stuck, signal.SIGKILL)
        deadline = time.monotonic() + 60
        after: set[int] = set()
        while len(after) < 2 and time.monotonic() < deadline:
            after = pids_answering(running, f"replaced-{time.monotonic_ns()}", 24)
        assert len(after) == 2 and stuck not in after


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_workers_end_with_their_supervisor_even_when_it_is_killed(tmp_path: Path) -> None:
    metrics = tmp_path / "metrics"  # serve cannot clean up its own after SIGKILL
    metrics.mkdir()
    environment = {"PROMETHEUS_MULTIPROC_DIR": str(metrics)}
    with serving(tmp_path, "--workers", "2", env=environment) as running:
        workers = pids_answering(running, "orphans", 24)
        assert len(workers) == 2
        supervisor = int(
            Path(f"/proc/{min(workers)}/stat").read_text().rsplit(")", 1)[1].split()[1]
        )
        os.kill(supervisor, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in workers)


WORKERS_THAT_CANNOT_START = """
from alignment_engine.service.logs import logging_config
from alignment_engine.service.workers import WorkerOptions, open_sockets, run_workers

if __name__ == "__main__":
    options = WorkerOptions(
        "no_such_module:app", "127.0.0.1", 0, {"log_config": logging_config("warning")}
    )
    raise SystemExit(run_workers(options, open_sockets("127.0.0.1", 0, 2)))
"""


def test_workers_that_cannot_start_stop_the_supervisor(tmp_path: Path) -> None:
    """No restart loop: a worker that fails at start-up would fail again."""
    script = tmp_path / "supervise.py"
    script.write_text(WORKERS_THAT_CANNOT_START, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 3, result.stderr
    assert "could not start; stopping" in result.stderr
    assert "starting another" not in result.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_refuses_a_port_another_server_listens_on(server: Server, workers: str) -> None:
    """Even another `serve` (whose sockets allow port sharing) keeps its port to itself."""
    port = server.url.rsplit(":", 1)[1]
    result = cli(
        "serve", "--port", port, "--workers", workers, "--db", server.db_url, cwd=server.directory
    )
    assert result.returncode == 2, result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_access_log_is_json_lines_with_the_actor(server: Server) -> None:
    response = httpx.post(
        f"{server.url}/v1/check",
        json={"plan": "not a plan"},
        headers={**server.headers(), "X-Request-ID": "trace-42"},
    )
    assert response.headers["x-request-id"] == "trace-42"
    # The line is written just after the answer is sent: wait for it.
    deadline = time.monotonic() + 10
    while "trace-42" not in server.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = [
        json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")
    ]
    mine = [line for line in lines if line.get("request_id") == "trace-42"]
    assert len(mine) == 1
    assert mine[0]["logger"] == "alignment_engine.access"
    assert mine[0]["actor"] == "ops"
    assert mine[0]["status"] == 422
    assert mine[0]["route"] == "/v1/check"


def test_serve_refuses_a_bad_setting() -> None:
    result = CliRunner().invoke(main, ["serve"], env={"ALIGNMENT_TIME_LIMIT_SECONDS": "soon"})
    assert result.exit_code == 2
    assert "ALIGNMENT_TIME_LIMIT_SECONDS" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("host", ["10.255.255.1", "no-such-host.invalid"])
def test_serve_names_a_host_it_cannot_listen_on(host: str, tmp_path: Path) -> None:
    result = cli("serve", "--host", host, "--db", f"sqlite:///{tmp_path / 'x.db'}", cwd=tmp_path)
    assert result.returncode == 2
    assert f"--host: cannot listen on {host}:8000" in result.stderr
    assert "Traceback" not in result.stderr


def _heavy_plan() -> dict[str, Any]:
    """A plan whose check takes tens of seconds: 200 metrics, each reaching nearly every other
    within five influences, and 500 KPIs pushing them both ways (tens of thousands of root
    causes)."""
    import random

    rng = random.Random(3)
    links: set[tuple[int, int]] = set()
    while len(links) < 1_000:
        a, b = rng.randrange(200), rng.randrange(200)
        if a != b:
            links.add((a, b))
    return {
        "id": "heavy",
        "objectives": [{"id": "F1", "perspective": "financial"}],
        "metrics": [{"id": f"m{i}"} for i in range(200)],
        "influences": [
            {"from": f"m{a}", "to": f"m{b}", "sign": rng.choice(["+", "-"])}
            for a, b in sorted(links)
        ],
        "departments": [
            {
                "id": f"d{d}",
                "kpis": [
                    {
                        "id": f"d{d}.k{k}",
                        "metric": f"m{rng.randrange(200)}",
                        "direction": rng.choice(["increase", "decrease"]),
                        "target": 1.0,
                        "weight": 0.2,
                        "objectives": ["F1"],
                    }
                    for k in range(5)
                ],
            }
            for d in range(100)
        ],
    }


def test_a_runaway_check_is_stopped_and_the_worker_keeps_answering(tmp_path: Path) -> None:
    env = {"ALIGNMENT_TIME_LIMIT_SECONDS": "3"}
    with serving(tmp_path, env=env) as running:
        before = pids_answering(running, "before-heavy", 4)
        with ThreadPoolExecutor(1) as pool:
            started = time.monotonic()
            heavy = pool.submit(
                httpx.post,
                f"{running.url}/v1/check",
                json={"plan": _heavy_plan()},
                headers=running.headers(),
                timeout=120.0,
            )
            # While it runs, the same worker answers at once: the check is not in its process.
            while not heavy.done():
                probe = time.monotonic()
                assert httpx.get(f"{running.url}/healthz", timeout=60.0).status_code == 200
                assert time.monotonic() - probe < 2.0
                time.sleep(0.2)
            answer = heavy.result()
            took = time.monotonic() - started
        assert answer.status_code == 504, answer.text
        assert answer.json()["error"]["code"] == "time_limit_exceeded"
        assert took < 60
        assert pids_answering(running, "after-heavy", 4) == before  # no worker was replaced
        small = httpx.post(
            f"{running.url}/v1/check",
            json=check_body(),
            headers=running.headers(),
            timeout=60.0,
        )
        assert small.status_code == 200, small.text


def test_a_check_over_its_memory_budget_is_refused_and_the_worker_stays(tmp_path: Path) -> None:
    env = {"ALIGNMENT_DECISION_MEMORY_MB": "64", "ALIGNMENT_TIME_LIMIT_SECONDS": "120"}
    with serving(tmp_path, env=env) as running:
        before = pids_answering(running, "before-big", 4)
        answer = httpx.post(
            f"{running.url}/v1/check",
            json={"plan": _heavy_plan()},
            headers=running.headers(),
            timeout=180.0,
        )
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert error["code"] == "over_budget"
        assert "64 MiB" in error["message"]
        assert pids_answering(running, "after-big", 4) == before
