"""Replicas: two ``serve`` processes on different ports sharing one (throwaway) PostgreSQL, with
concurrent clients on both: no errors, unique run ids, every answered call recorded; a token
revoked once is refused by both; a release pushed through one is used through the other."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from service_harness import cli, serving
from service_samples import score_body

from alignment_engine.storage import Store

CALLS_PER_CLIENT = 6
CLIENTS_PER_SERVER = 4


def test_two_servers_share_one_postgresql(tmp_path: Path, postgres_url: str) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    upgraded = cli("db", "upgrade", "--db", postgres_url, cwd=tmp_path)  # migrations run once
    assert upgraded.returncode == 0, upgraded.stderr
    with serving(tmp_path / "a", db_url=postgres_url) as first:  # noqa: SIM117 - the second needs the first's token
        with serving(tmp_path / "b", db_url=postgres_url, token=first.token) as second:
            hr = _token(tmp_path, postgres_url, "hr", "payroll")
            body = score_body()

            def client(number: int) -> list[str]:
                server = (first, second)[number % 2]
                ids = []
                with httpx.Client(base_url=server.url, timeout=120) as http:
                    for call in range(CALLS_PER_CLIENT):
                        request = {**body, "period": f"20{10 + call}-Q{1 + number % 4}"}
                        request["actuals"] = [
                            {**row, "period": request["period"]} for row in body["actuals"]
                        ]
                        answer = http.post(
                            "/v1/score", json=request, headers={"Authorization": f"Bearer {hr}"}
                        )
                        assert answer.status_code == 200, answer.text[:300]
                        ids.append(answer.json()["run_id"])
                return ids

            with ThreadPoolExecutor(2 * CLIENTS_PER_SERVER) as pool:
                answered = list(
                    itertools.chain.from_iterable(pool.map(client, range(2 * CLIENTS_PER_SERVER)))
                )
            assert len(answered) == 2 * CLIENTS_PER_SERVER * CALLS_PER_CLIENT
            assert len(set(answered)) == len(answered), "run ids are unique across replicas"
            with Store.open(postgres_url) as store:
                for run_id in answered:
                    assert store.get_run(run_id).id == run_id  # every answered call is stored

            # A release pushed through one replica is used through the other.
            pushed = httpx.post(
                f"{first.url}/v1/plans",
                json={"name": "shop", "version": "1", "plan": body["plan"]},
                headers={"Authorization": f"Bearer {hr}"},
            )
            assert pushed.status_code == 201, pushed.text
            named = {k: v for k, v in body.items() if k != "plan"}
            used = httpx.post(
                f"{second.url}/v1/score",
                json={**named, "plan_id": "shop@1"},
                headers={"Authorization": f"Bearer {hr}"},
                timeout=60,
            )
            assert used.status_code == 200, used.text[:300]

            # Revoked once, refused by both.
            revoked = cli("tokens", "revoke", "payroll", "--db", postgres_url, cwd=tmp_path)
            assert revoked.returncode == 0, revoked.stderr
            for server in (first, second):
                refused = httpx.post(
                    f"{server.url}/v1/score",
                    json=body,
                    headers={"Authorization": f"Bearer {hr}"},
                    timeout=60,
                )
                assert refused.status_code == 401


def _token(directory: Path, db_url: str, role: str, name: str) -> str:
    made = cli("tokens", "create", "--role", role, "--name", name, "--db", db_url, cwd=directory)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip().splitlines()[-1]
