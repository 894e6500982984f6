"""A worker killed under load loses no answered call: every run id a client received is in the
database (a call is answered only once the transaction holding its run has committed)."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from service_harness import cli, pids_answering, serving
from service_samples import score_body

from alignment_engine.storage import Store

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

CLIENTS = 8
ANSWERS_BEFORE_KILL = 24
CALLS_AFTER_KILL = 3  # per client, answered by the surviving worker or the replacement


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_killing_a_worker_under_load_loses_no_answered_call(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    db_url = (
        f"sqlite:///{tmp_path / 'server.db'}"
        if backend == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    upgraded = cli("db", "upgrade", "--db", db_url, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    with serving(tmp_path, "--workers", "2", db_url=db_url) as server:
        workers = pids_answering(server, "before-load", 24)
        assert len(workers) == 2
        hr = cli(
            "tokens", "create", "--role", "hr", "--name", "payroll", "--db", db_url, cwd=tmp_path
        )
        assert hr.returncode == 0, hr.stderr
        headers = {"Authorization": f"Bearer {hr.stdout.strip().splitlines()[-1]}"}
        body = score_body()
        answered: list[str] = []
        lost: list[str] = []  # calls cut off by the kill: never answered, so never promised
        lock = threading.Lock()
        killed = threading.Event()

        def client(number: int) -> None:
            after_kill = 0
            call = 0
            http = httpx.Client(base_url=server.url, timeout=120, headers=headers)
            try:
                while after_kill < CALLS_AFTER_KILL:
                    call += 1
                    period = f"{2000 + call}-Q{1 + number % 4}"
                    sent = {
                        **body,
                        "period": period,
                        "actuals": [{**row, "period": period} for row in body["actuals"]],
                    }
                    was_killed = killed.is_set()
                    try:
                        answer = http.post("/v1/score", json=sent)
                    except httpx.TransportError as error:  # the worker died mid-call
                        with lock:
                            lost.append(type(error).__name__)
                        http.close()
                        http = httpx.Client(base_url=server.url, timeout=120, headers=headers)
                        continue
                    assert answer.status_code == 200, answer.text[:300]
                    with lock:
                        answered.append(answer.headers["X-Run-Id"])
                    if was_killed:
                        after_kill += 1
            finally:
                http.close()

        with ThreadPoolExecutor(CLIENTS) as pool:
            running = [pool.submit(client, n) for n in range(CLIENTS)]
            deadline = time.monotonic() + 300
            while len(answered) < ANSWERS_BEFORE_KILL and time.monotonic() < deadline:
                if any(future.done() for future in running):
                    break  # a client failed: its error is raised below
                time.sleep(0.01)
            os.kill(min(workers), signal.SIGKILL)  # while calls are in flight on both workers
            killed.set()
            for future in running:
                future.result(timeout=600)

        assert len(answered) >= ANSWERS_BEFORE_KILL + CLIENTS * CALLS_AFTER_KILL
        assert len(set(answered)) == len(answered)
        with Store.open(db_url) as store:
            stored = {run.id for run in store.list_runs(limit=None)}
        missing = [run_id for run_id in answered if run_id not in stored]
        assert not missing, f"answered but not stored: {missing[:5]} ({len(lost)} calls cut off)"
