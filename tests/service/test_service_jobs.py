"""Batch jobs over HTTP: a quarter sent as files, run in the background by a real server,
fetched when done; persisted, so a job queued before a restart runs after it."""

from __future__ import annotations

import csv
import io
import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from service_harness import Server, assert_error, cli, serving
from service_samples import ACME, ROOT

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

PLAN_FILE = ACME / "plan.yaml"
POLICY_FILE = ROOT / "policies" / "annual-bonus-2026.yaml"
ACTUALS_FILE = ACME / "actuals-2026-q3.csv"
EMPLOYEES_FILE = ACME / "employees.csv"


def _request(period: str = "2026-Q3", **extra: Any) -> dict[str, Any]:
    return {
        "plan": yaml.safe_load(PLAN_FILE.read_text(encoding="utf-8")),
        "policy": yaml.safe_load(POLICY_FILE.read_text(encoding="utf-8")),
        "period": period,
        **extra,
    }


def _files(employees: bytes | None = None) -> dict[str, tuple[str, bytes, str]]:
    return {
        "actuals": ("actuals-2026-q3.csv", ACTUALS_FILE.read_bytes(), "text/csv"),
        "employees": ("employees.csv", employees or EMPLOYEES_FILE.read_bytes(), "text/csv"),
    }


def _token(server: Server, role: str, name: str) -> dict[str, str]:
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
    return {"Authorization": f"Bearer {made.stdout.strip().splitlines()[-1]}"}


def _submit(
    server: Server, headers: dict[str, str], request: dict[str, Any], files: Any
) -> httpx.Response:
    return httpx.post(
        f"{server.url}/v1/jobs/score",
        data={"request": json.dumps(request)},
        files=files,
        headers=headers,
        timeout=120,
    )


def _finished(server: Server, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 240  # a loaded 2-core machine: wait for the event, generously
    while time.monotonic() < deadline:
        status = httpx.get(f"{server.url}/v1/jobs/{job_id}", headers=headers, timeout=60)
        assert status.status_code == 200, status.text
        body: dict[str, Any] = status.json()
        if body["state"] in ("completed", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {body}")


def test_a_score_job_from_files_stores_the_run_the_cli_would(tmp_path: Path) -> None:
    with serving(tmp_path) as server:
        hr = _token(server, "hr", "payroll")
        answer = _submit(server, hr, _request(), _files())
        assert answer.status_code == 202, answer.text
        queued = answer.json()
        assert queued["state"] in ("queued", "running", "completed")
        assert answer.headers["Location"] == f"/v1/jobs/{queued['job_id']}"
        assert set(queued["inputs"]["tables"]) == {"actuals", "employees"}

        done = _finished(server, hr, queued["job_id"])
        assert done["state"] == "completed", done
        assert done["attempts"] == 1 and done["error"] is None
        run_id = done["run_id"]
        assert done["links"]["payouts"] == f"/v1/jobs/{queued['job_id']}/payouts"

        result = httpx.get(
            f"{server.url}/v1/jobs/{queued['job_id']}/result", headers=hr, timeout=60
        )
        assert result.status_code == 200
        document = result.json()
        assert document["run_id"] == run_id
        payouts = httpx.get(
            f"{server.url}/v1/jobs/{queued['job_id']}/payouts", headers=hr, timeout=60
        )
        assert payouts.status_code == 200
        assert payouts.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(payouts.text)))
        employees = list(csv.DictReader(io.StringIO(EMPLOYEES_FILE.read_text(encoding="utf-8"))))
        assert [r["employee_id"] for r in rows] == [e["employee_id"] for e in employees]
        paid = sum(Decimal(r["payout"]) for r in rows)  # to the cent, from the text
        assert paid == Decimal(str(document["totals"]["payout"])).quantize(Decimal("0.01"))
        assert all(Decimal(r["payout"]) * 100 == int(r["payout_units"]) for r in rows)

        # The CLI over the same files finds the job's run: same inputs, same run hash.
        scored = cli(
            "score", "--plan", str(PLAN_FILE), "--policy", str(POLICY_FILE),
            "--actuals", str(ACTUALS_FILE), "--employees", str(EMPLOYEES_FILE),
            "--period", "2026-Q3", "--db", server.db_url, "--format", "json",
            cwd=tmp_path,
        )  # fmt: skip
        assert scored.returncode == 0, scored.stderr
        assert json.loads(scored.stdout)["run_id"] == run_id


def test_a_bad_upload_is_refused_naming_the_file_row_and_column(tmp_path: Path) -> None:
    with serving(tmp_path) as server:
        hr = _token(server, "hr", "payroll")
        lines = EMPLOYEES_FILE.read_text(encoding="utf-8").splitlines()
        head, first, second, *rest = lines
        broken = second.split(",")
        broken[2] = "lots"  # target_bonus
        text = "\n".join([head, first, ",".join(broken), *rest]) + "\n"
        refused = _submit(server, hr, _request(), _files(text.encode()))
        error = assert_error(refused, 422)
        problem = error["details"][0]
        assert problem["file"] == "employees.csv" and problem["row"] == 3  # the file's line
        assert problem["key"] == "target_bonus"
        assert "target_bonus" in error["message"]

        missing = _submit(server, hr, _request(), {"employees": _files()["employees"]})
        assert "actuals" in assert_error(missing, 422)["message"]
        no_form = httpx.post(f"{server.url}/v1/jobs/score", json=_request(), headers=hr)
        assert "multipart" in assert_error(no_form, 422)["message"]
        unknown = _submit(server, hr, {**_request(), "perod": "x"}, _files())
        assert_error(unknown, 422)

        planner = _token(server, "planner", "strategy")  # planners do not see pay
        assert_error(_submit(server, planner, _request(), _files()), 403)
        assert_error(httpx.get(f"{server.url}/v1/jobs/nothing", headers=hr), 404)


def test_a_job_that_fails_says_why_and_has_no_result(tmp_path: Path) -> None:
    with serving(tmp_path) as server:
        hr = _token(server, "hr", "payroll")
        # The files hold 2026-Q3's results; the job asks for 2026-Q4.
        answer = _submit(server, hr, _request(period="2026-Q4"), _files())
        assert answer.status_code == 202, answer.text
        done = _finished(server, hr, answer.json()["job_id"])
        assert done["state"] == "failed"
        assert done["error"]["error"]["code"] == "invalid_input"
        assert "2026-Q4" in done["error"]["error"]["message"]
        result = httpx.get(f"{server.url}/v1/jobs/{done['job_id']}/result", headers=hr)
        assert_error(result, 409)


def test_a_job_queued_before_a_restart_runs_after_it(tmp_path: Path) -> None:
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    db_url = f"sqlite:///{tmp_path / 'shared.db'}"
    # The first server only queues (it runs no jobs) and is stopped with the job waiting.
    with serving(tmp_path / "first", db_url=db_url, env={"ALIGNMENT_JOB_THREADS": "0"}) as first:
        hr = _token(first, "hr", "payroll")
        answer = _submit(first, hr, _request(), _files())
        assert answer.status_code == 202, answer.text
        job_id = answer.json()["job_id"]
        waiting = httpx.get(f"{first.url}/v1/jobs/{job_id}", headers=hr).json()
        assert waiting["state"] == "queued"
        token = first.token
    with serving(tmp_path / "second", db_url=db_url, token=token) as second:
        done = _finished(second, hr, job_id)
        assert done["state"] == "completed", done
        assert done["attempts"] == 1
