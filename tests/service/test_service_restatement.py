"""``POST /v1/score`` with ``options.restates``: the HTTP face of restating a final period."""

from __future__ import annotations

import copy

from service_harness import Service, assert_error
from service_samples import score_body

from alignment_engine.storage import RunStatus, Store


def test_a_final_period_is_restated_over_http(service: Service) -> None:
    body = score_body()
    body["period"] = "2025-Q4"
    for row in body["actuals"]:
        row["period"] = "2025-Q4"
    first = service.post("/v1/score", body, role="hr")
    assert first.status_code == 200, first.text
    run_id = first.json()["run_id"]
    with Store.open(service.db_url) as store:
        store.finalise(run_id, actor="hr-user")
    late = copy.deepcopy(body)
    late["actuals"][1]["actual"] = 0.2  # sales.market_share corrected downwards
    refused = service.post("/v1/score", late, role="hr")
    assert f"--restates {run_id}" in assert_error(refused, 409)["message"]

    restating = copy.deepcopy(late)
    restating["options"] = {"restates": run_id}
    # A service token reads only the runs it recorded: HR's final run is not there for it.
    assert_error(service.post("/v1/score", restating, role="service"), 404)
    answer = service.post("/v1/score", restating, role="hr")
    assert answer.status_code == 200, answer.text
    restated = answer.json()
    assert restated["restates"] == run_id
    before = {e["employee_id"]: e["payout"] for e in first.json()["employees"]}
    after = {e["employee_id"]: e["payout"] for e in restated["employees"]}
    for adjustment in restated["adjustments"]:
        employee = adjustment["employee_id"]
        assert adjustment["previous"] == before[employee]
        assert adjustment["restated"] == after[employee]
        assert round((after[employee] - before[employee]) * 100) == round(
            adjustment["adjustment"] * 100
        )
    assert restated["adjustments"], "the corrected share changes sales payouts"
    with Store.open(service.db_url) as store:
        assert store.get_run(run_id).status is RunStatus.FINAL


def test_manual_adjustments_over_http(service: Service) -> None:
    body = score_body()
    employee = body["employees"][0]["employee_id"]
    body["adjustments"] = [
        {"employee_id": employee, "amount": "250.10", "reason": "SPOT"},
        {"employee_id": employee, "amount": -0.1, "reason": "ROUNDING", "note": "float sent"},
    ]
    answer = service.post("/v1/score", body, role="hr")
    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert document["totals"]["manual_adjustment_text"] == "250.00"
    assert [a["amount_text"] for a in document["manual_adjustments"]] == ["250.10", "-0.10"]
    body["adjustments"] = [{"employee_id": "nobody", "amount": "1", "reason": "X"}]
    refused = service.post("/v1/score", body, role="hr")
    assert "'nobody' is not an employee" in assert_error(refused, 422)["message"]


def test_a_payee_statement_over_http(service: Service) -> None:
    body = score_body()
    body["employees"][0]["name"] = "李雷"
    made = service.post("/v1/score", body, role="hr")
    assert made.status_code == 200, made.text
    run_id = made.json()["run_id"]
    employee = made.json()["employees"][0]
    answer = service.client.get(
        f"/v1/runs/{run_id}/statements/{employee['employee_id']}", headers=service.headers("hr")
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert "李雷" in answer.text and f"{employee['payout']:.2f} CNY" in answer.text
    planner = service.client.get(
        f"/v1/runs/{run_id}/statements/{employee['employee_id']}",
        headers=service.headers("planner"),
    )
    assert_error(planner, 403)
    missing = service.client.get(
        f"/v1/runs/{run_id}/statements/nobody", headers=service.headers("hr")
    )
    assert "no employee 'nobody'" in assert_error(missing, 422)["message"]


def test_a_deferral_is_released_over_http_from_the_ledger_of_final_runs(service: Service) -> None:
    def quarter(label: str) -> dict[str, object]:
        body = score_body()
        body["policy"] = {**body["policy"], "deferral": {"share": 0.5, "periods": 1}}
        body["period"] = label
        for row in body["actuals"]:
            row["period"] = label
        return body

    first = service.post("/v1/score", quarter("2025-Q1"), role="hr")
    assert first.status_code == 200, first.text
    earned = {e["employee_id"]: round(e["payout"] * 100) for e in first.json()["employees"]}
    paid = {e["employee_id"]: round(e["paid"] * 100) for e in first.json()["employees"]}
    assert any(earned.values())
    assert all(paid[e] == units - round(units * 0.5 + 1e-9) for e, units in earned.items())
    draft = service.post("/v1/score", quarter("2025-Q2"), role="hr").json()
    assert draft["totals"]["ledger"]["released"]["amount"] == 0  # Q1 is not final yet
    with Store.open(service.db_url) as store:
        store.finalise(first.json()["run_id"], actor="hr-user")
    second = service.post("/v1/score", quarter("2025-Q2"), role="hr").json()
    released = {
        e["employee_id"]: round(e["explanation"]["ledger"]["released"] * 100)
        for e in second["employees"]
    }
    assert released == {e: units - paid[e] for e, units in earned.items()}
    answer = service.post(f"/v1/runs/{draft['run_id']}/finalise", {}, role="hr")
    assert "score the period again" in assert_error(answer, 409)["message"]


def test_a_target_bonus_as_a_percentage_of_salary_over_http(service: Service) -> None:
    body = score_body()
    amounts = copy.deepcopy(body)
    first = body["employees"][0]
    bonus = first.pop("target_bonus")
    first["salary"] = bonus * 10
    first["target_bonus_percent"] = 10
    answer = service.post("/v1/score", body, role="hr")
    assert answer.status_code == 200, answer.text
    same = service.post("/v1/score", amounts, role="hr").json()
    assert [e["payout"] for e in answer.json()["employees"]] == [
        e["payout"] for e in same["employees"]
    ]
    basis = answer.json()["employees"][0]["explanation"]["target_bonus_basis"]
    assert basis == {"salary": bonus * 10, "percent": 10.0}
    planner = service.client.get(
        f"/v1/runs/{answer.json()['run_id']}", headers=service.headers("planner")
    )
    assert str(bonus * 10) not in planner.text, "a planner sees no salary"


def test_pay_in_another_currency_over_http(service: Service) -> None:
    body = score_body()
    body["employees"][0]["currency"] = "USD"
    refused = service.post("/v1/score", body, role="hr")
    assert "score --fx" in str(assert_error(refused, 422))
    body["fx"] = [{"period": "2026-Q3", "currency": "USD", "rate": 0.5}]
    answer = service.post("/v1/score", body, role="hr")
    assert answer.status_code == 200, answer.text
    first = answer.json()["employees"][0]
    assert first["pay_currency"] == "USD"
    # What is paid now (releases of earlier tests' deferrals included), at half, halves up.
    cents = round(first.get("paid", first["payout"]) * 100)
    assert round(first["pay_amount"] * 100) == (cents + 1) // 2
