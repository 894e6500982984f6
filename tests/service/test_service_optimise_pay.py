"""``POST /v1/optimise`` with a policy: each department's bonus today and proposed; the money
only for roles that see pay (a planner sends no employees, and reads a stored run without the
amounts); ``max_payout_loss`` bounds the moves as ``--max-payout-loss`` does."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import yaml
from service_harness import assert_error, running_service
from service_samples import ACME, ROOT

POLICY = yaml.safe_load((ROOT / "policies" / "annual-bonus-2026.yaml").read_text(encoding="utf-8"))
PLAN = yaml.safe_load((ACME / "plan.yaml").read_text(encoding="utf-8"))


def _employees() -> list[dict[str, Any]]:
    with (ACME / "employees.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[::20]
    return [{k: v for k, v in row.items() if v != ""} for row in rows]


def _body(**extra: Any) -> dict[str, Any]:
    return {
        "plan": PLAN,
        "policy": POLICY,
        "period": "2026",
        "options": {"keep_total": True},
        **extra,
    }


def test_optimise_reports_the_bonus_changes_and_keeps_money_from_planners(tmp_path: Path) -> None:
    with running_service(tmp_path) as service:
        paid = service.post(
            "/v1/optimise", _body(employees=_employees(), max_payout_loss=0.01), "service"
        )
        assert paid.status_code == 200, paid.text
        document = paid.json()
        assert document["status"] == "bounded"
        rows = document["incentives"]["departments"]
        assert all(isinstance(r["payout_today"], float) for r in rows)
        assert all(r["change"] >= -0.01 - 1e-9 for r in rows if r["change"] is not None)

        refused = service.post("/v1/optimise", _body(employees=_employees()), "planner")
        assert "may not see pay" in assert_error(refused, 403)["message"]

        planned = service.post("/v1/optimise", _body(), "planner")
        assert planned.status_code == 200, planned.text
        factors = planned.json()["incentives"]["departments"]
        assert all(r["payout_today"] is None and r["factor_today"] > 0 for r in factors)

        # The service's run, read by a planner: the amounts are removed, the factors stay.
        run_id = document["run_id"]
        read = service.client.get(f"/v1/runs/{run_id}", headers=service.headers("planner"))
        assert read.status_code == 200, read.text
        shown = read.json()["result"]["incentives"]["departments"][0]
        assert "payout_today" not in shown and "factor_today" in shown
        admin = service.client.get(f"/v1/runs/{run_id}", headers=service.headers("admin"))
        assert "payout_today" in admin.json()["result"]["incentives"]["departments"][0]


def test_pay_inputs_without_a_policy_are_refused(tmp_path: Path) -> None:
    with running_service(tmp_path) as service:
        body = {"plan": PLAN, "max_payout_loss": 0.05}
        assert (
            "go with 'policy'" in assert_error(service.post("/v1/optimise", body), 422)["message"]
        )
        no_period = {"plan": PLAN, "policy": POLICY}
        assert (
            "give 'period'" in assert_error(service.post("/v1/optimise", no_period), 422)["message"]
        )
