"""Pay is shown only to roles that may see it, against the real server: a planner reads scenario
runs without anyone's payout, may not run a scenario with employees, and cannot find runs it
may not read by an id prefix."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import httpx
from service_harness import Server, cli
from service_samples import ACTUALS, EMPLOYEES, plan, policy, scenario_body


def _token(server: Server, role: str, name: str) -> str:
    made = cli(
        "tokens",
        "create",
        "--role",
        role,
        "--name",
        name,
        "--db",
        server.db_url,
        cwd=server.directory,
    )
    assert made.returncode == 0, made.stderr
    return made.stdout.strip().splitlines()[-1]


def _paid_scenario() -> dict[str, object]:
    body = scenario_body()
    body.update(
        policy=policy(),
        actuals=copy.deepcopy(ACTUALS),
        employees=copy.deepcopy(EMPLOYEES),
        period="2026-Q3",
    )
    return body


def _get(server: Server, path: str, token: str) -> httpx.Response:
    return httpx.get(f"{server.url}{path}", headers=server.headers(token), timeout=60.0)


def test_a_planner_reads_a_scenario_run_without_pay(server: Server, tmp_path: Path) -> None:
    planner = _token(server, "planner", "pay-planner")
    made = httpx.post(
        f"{server.url}/v1/scenarios/run",
        json=_paid_scenario(),
        headers=server.headers(),
        timeout=120.0,
    )
    assert made.status_code == 200, made.text
    run_id = made.json()["run_id"]
    assert '"employee_id"' in made.text and '"payout"' in made.text  # the admin sees pay

    as_admin = _get(server, f"/v1/runs/{run_id}", server.token)
    assert '"employee_id"' in as_admin.text
    as_planner = _get(server, f"/v1/runs/{run_id}", planner)
    assert as_planner.status_code == 200, as_planner.text
    body = json.dumps(as_planner.json()["result"], ensure_ascii=False)
    for key in ('"employee_id"', '"pool', '"target_bonus"', '"totals"', '"employees'):
        assert key not in body, key
    assert not re.search(r'"payout(?!_factor)', body)
    assert '"payout_factor"' in body  # factors are results, not pay
    result = as_planner.json()["result"]
    assert "pay" in result["redacted"]
    assert (
        result["variants"][0]["check"]["findings"]
        == as_admin.json()["result"]["variants"][0]["check"]["findings"]
    )  # what is not pay is all there


def test_a_planner_may_not_run_a_scenario_with_employees(server: Server) -> None:
    planner = _token(server, "planner", "pay-planner-2")
    refused = httpx.post(
        f"{server.url}/v1/scenarios/run",
        json=_paid_scenario(),
        headers=server.headers(planner),
        timeout=60.0,
    )
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "forbidden"
    assert "may not see pay" in error["message"] and "leave out 'employees'" in error["message"]
    without = _paid_scenario()
    del without["employees"]
    allowed = httpx.post(
        f"{server.url}/v1/scenarios/run",
        json=without,
        headers=server.headers(planner),
        timeout=120.0,
    )
    assert allowed.status_code == 200, allowed.text


def test_a_prefix_finds_only_runs_the_caller_may_read(server: Server) -> None:
    planner = _token(server, "planner", "pay-planner-3")
    score = httpx.post(
        f"{server.url}/v1/score",
        json={
            "plan": plan(),
            "policy": policy(),
            "actuals": copy.deepcopy(ACTUALS),
            "employees": copy.deepcopy(EMPLOYEES),
            "period": "2026-Q3",
        },
        headers=server.headers(),
        timeout=120.0,
    )
    assert score.status_code == 200, score.text
    run_id = score.json()["run_id"]
    for prefix in (run_id[:4], run_id[:8], run_id):
        answer = _get(server, f"/v1/runs/{prefix}", planner)
        if answer.status_code == 200:  # another run, one a planner may read, shares the prefix
            assert answer.json()["id"] != run_id and answer.json()["kind"] != "score"
            continue
        assert answer.status_code == 404
        assert answer.json()["error"]["message"] == f"no run {prefix!r}"
    assert _get(server, f"/v1/runs/{run_id[:8]}", server.token).json()["id"] == run_id


def test_hr_reads_one_payout_explained_and_a_planner_may_not(server: Server) -> None:
    """`GET /v1/runs/{id}/explanations/{employee}` derives the chain from the stored run: the
    same payout the run answered with; planners get 403, an unknown employee 422."""
    answer = httpx.post(
        f"{server.url}/v1/score", json=_score_body(), headers=server.headers(), timeout=60.0
    )
    assert answer.status_code == 200, answer.text
    scored = answer.json()
    employee = scored["employees"][0]
    hr = _token(server, "hr", "hr-explains")
    path = f"/v1/runs/{scored['run_id']}/explanations/{employee['employee_id']}"
    explained = _get(server, path, hr)
    assert explained.status_code == 200, explained.text
    body = explained.json()
    assert body["payout"] == employee["payout"] and body["run_id"] == scored["run_id"]
    assert body["components"] == employee["explanation"]["components"]
    planner = _token(server, "planner", "planner-explains")
    refused = _get(server, path, planner)
    assert refused.status_code == 403
    assert set(refused.json()["error"]) == {"code", "message", "details"}
    unknown = _get(server, f"/v1/runs/{scored['run_id']}/explanations/nobody", hr)
    assert unknown.status_code == 422
    assert "no employee 'nobody'" in unknown.json()["error"]["message"]


def _score_body() -> dict[str, object]:
    from service_samples import score_body

    return score_body()
